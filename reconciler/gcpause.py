"""Garbage collection kept out of the hot phases of a run."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def quiet_gc() -> Iterator[None]:
    """Garbage collection kept out of a hot phase (parsing files; reading and diffing records).

    What exists is frozen (later collections never traverse it again) and no collection runs
    inside: the phase makes tens of thousands of records, each freed by reference counting, and
    without this the collector traversed all of them again and again (12 full collections for a
    50,000-record plan).
    """
    enabled = gc.isenabled()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def sweep() -> None:
    """Collect the garbage made since the last freeze, then freeze what survives.

    A read inside `quiet_gc` makes cyclic garbage with every request (an httpx response and its
    stream refer to each other; so do tenacity's retry objects), each holding a page of JSON:
    without a collection, a 50,000-record read kept all 500 pages. Freezing the survivors keeps
    each sweep's cost to what was made since the last one.
    """
    gc.collect()
    gc.freeze()
