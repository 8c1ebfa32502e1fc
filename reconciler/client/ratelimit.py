"""A client-side rate limiter, so that a burst of requests never provokes a 429 in the first place.

The API counts requests per key in a sliding one-second window (100/s). `RateLimiter` keeps the
send times of the last `rate` requests and makes a caller wait until the oldest leaves the window.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable


class RateLimiter:
    """At most `rate` acquisitions in any rolling `window` seconds (a sliding-window log).

    One instance is shared by every task of a client. Waiters queue on a lock, so they are served
    in arrival order and none starves.
    """

    def __init__(
        self, rate: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._rate = rate
        self._window = window
        self._clock = clock
        self._stamps: deque[float] = deque()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = self._clock()
                while self._stamps and self._stamps[0] <= now - self._window:
                    self._stamps.popleft()
                if len(self._stamps) < self._rate:
                    self._stamps.append(now)
                    return
                await asyncio.sleep(self._stamps[0] + self._window - now)
