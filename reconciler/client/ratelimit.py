"""A client-side rate limiter, so that a burst of requests never provokes a 429 in the first place.

The API counts a key's requests in a sliding one-second window, stamped when each request reaches
it. The client cannot see that moment, only that it lies between sending and receiving the
answer; a limiter that stamps at sending undercounts whenever the server is slow to pick requests
up (a burst on fresh connections is enough). So `RateLimiter` counts a request from the moment it
is sent until `window` seconds after its answer came back: at most `rate` such requests at any
time, in flight or recently answered. Whatever the latency, the server's window then never holds
more than `rate` of ours; the price is a little throughput, `rate / (window + latency)` per second.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager


class RateLimiter:
    """At most `rate` requests in flight or answered within the last `window` seconds.

    One instance is shared by every task of a client. Waiters queue on a lock, so they are served
    in arrival order and none starves.
    """

    def __init__(
        self, rate: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._rate = rate
        self._window = window
        self._clock = clock
        self._answered: deque[float] = deque()  # when each recent request finished, oldest first
        self._in_flight = 0
        self._finished = asyncio.Event()
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one request's place: wait for room, send inside the block."""
        await self._acquire()
        try:
            yield
        finally:
            # An attempt that failed or was cancelled may still have reached the server: it
            # counts like any other.
            self._in_flight -= 1
            self._answered.append(self._clock())
            self._finished.set()

    def _busy(self, now: float) -> int:
        while self._answered and self._answered[0] <= now - self._window:
            self._answered.popleft()
        return self._in_flight + len(self._answered)

    async def _acquire(self) -> None:
        async with self._lock:
            while True:
                now = self._clock()
                if self._busy(now) < self._rate:
                    self._in_flight += 1
                    return
                self._finished.clear()
                if self._answered:
                    # Room comes back when the oldest answer leaves the window.
                    await asyncio.sleep(self._answered[0] + self._window - now)
                else:
                    # Every place is held by a request in flight: wait for one to finish.
                    await self._finished.wait()
