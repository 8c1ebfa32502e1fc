"""Deciding, request by request, which fault (if any) the sandbox injects.

The injector holds the current `Faults` and one seeded random stream. Every targeted request
draws the same four numbers whatever happens to it (delay, outcome, error status, drop), so the
sequence of faults a sequential client meets depends only on the seed and on how many targeted
requests came before: reproducible in a test, realistic in a demo.
"""

from __future__ import annotations

import enum
import random
import threading
from dataclasses import dataclass

from reconciler.sandbox.config import Faults

ERROR_STATUSES = (500, 502, 503)


class Outcome(enum.Enum):
    HANDLE = "handle"  # the request reaches the API
    ERROR = "error"  # answered 500/502/503 before handling: nothing written
    THROTTLE = "throttle"  # answered 429 before handling: nothing written, nothing counted


@dataclass(frozen=True, slots=True)
class FaultPlan:
    delay: float
    outcome: Outcome
    error_status: int
    drop: bool  # handled, then the connection is cut before the answer is complete


NO_FAULT = FaultPlan(0.0, Outcome.HANDLE, 0, False)


class FaultInjector:
    def __init__(self, faults: Faults) -> None:
        self._lock = threading.Lock()
        self._faults = faults
        self._rng = random.Random(faults.seed)

    @property
    def faults(self) -> Faults:
        return self._faults

    def set(self, faults: Faults) -> None:
        """Replace the faults and restart the random stream from their seed."""
        with self._lock:
            self._faults = faults
            self._rng = random.Random(faults.seed)

    def reseed(self) -> None:
        with self._lock:
            self._rng = random.Random(self._faults.seed)

    def plan(self, method: str) -> FaultPlan:
        with self._lock:
            faults = self._faults
            if not faults.active or not faults.targets(method):
                return NO_FAULT
            u_delay, u_outcome, u_status, u_drop = (self._rng.random() for _ in range(4))
        delay = faults.latency + faults.jitter * u_delay
        if u_outcome < faults.error_rate:
            outcome = Outcome.ERROR
        elif u_outcome < faults.error_rate + faults.throttle_rate:
            outcome = Outcome.THROTTLE
        else:
            outcome = Outcome.HANDLE
        status = ERROR_STATUSES[min(int(u_status * len(ERROR_STATUSES)), len(ERROR_STATUSES) - 1)]
        drop = outcome is Outcome.HANDLE and u_drop < faults.drop_rate
        return FaultPlan(delay, outcome, status, drop)
