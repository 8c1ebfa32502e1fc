"""Per-key rate limits: a sliding one-second window and a rolling 24-hour quota.

Each key keeps the arrival times of its admitted requests in two deques; a request is admitted
when both windows have room, and only admitted requests are recorded, so a client that keeps
hammering after a 429 does not extend its own ban. The clock is injectable so that the rolling
day can be tested without waiting a day.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

DAY = 86_400.0


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    limit: int  # the daily quota, for X-RateLimit-Limit
    remaining: int  # what is left of the daily quota after this request, for X-RateLimit-Remaining


class _Windows:
    __slots__ = ("day", "second")

    def __init__(self) -> None:
        self.second: deque[float] = deque()
        self.day: deque[float] = deque()


class RateLimiter:
    def __init__(
        self, per_second: int, per_day: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._per_second = per_second
        self._per_day = per_day
        self._keys: dict[str, _Windows] = {}

    @property
    def per_second(self) -> int:
        return self._per_second

    @property
    def per_day(self) -> int:
        return self._per_day

    def set_limits(self, per_second: int | None = None, per_day: int | None = None) -> None:
        """Change the limits and forget every key's history (a fresh day)."""
        with self._lock:
            if per_second is not None:
                self._per_second = per_second
            if per_day is not None:
                self._per_day = per_day
            self._keys.clear()

    def reset(self) -> None:
        with self._lock:
            self._keys.clear()

    def check(self, key: str, *, record: bool = True) -> Decision:
        """Admit (and, with `record`, count) one request for `key`, or refuse it."""
        now = self._clock()
        with self._lock:
            windows = self._keys.setdefault(key, _Windows())
            while windows.second and windows.second[0] <= now - 1.0:
                windows.second.popleft()
            while windows.day and windows.day[0] <= now - DAY:
                windows.day.popleft()
            allowed = len(windows.second) < self._per_second and len(windows.day) < self._per_day
            if allowed and record:
                windows.second.append(now)
                windows.day.append(now)
            remaining = max(0, self._per_day - len(windows.day))
            return Decision(allowed, self._per_day, remaining)
