"""The request log: what each API request asked for and how the sandbox answered.

Tests read it to assert what a client actually sent (how many GETs, which PATCH bodies, whether a
retried PATCH arrived twice). Control routes under /_sandbox/ are not logged. The log is bounded
(oldest entries go first) so that a long-running `reconciler sandbox` does not grow without end.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    method: str
    path: str  # as requested, prefix and alias included: "/v1/requests/7"
    query: dict[str, str]  # the last value of each query parameter
    body: Any | None  # decoded JSON; the raw text when it was not JSON; None when empty
    status: int  # the status the sandbox answered (or would have, when `dropped`)
    dropped: bool  # the connection was cut before the answer was complete

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "query": dict(self.query),
            "body": self.body,
            "status": self.status,
            "dropped": self.dropped,
        }


class RequestLog:
    def __init__(self, limit: int) -> None:
        self._lock = threading.Lock()
        self._entries: deque[LoggedRequest] = deque(maxlen=limit)

    def append(self, entry: LoggedRequest) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[LoggedRequest]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
