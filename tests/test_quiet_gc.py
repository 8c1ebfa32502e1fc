"""Garbage collection is kept out of the hot phases (parsing, reading, diffing)."""

from __future__ import annotations

import gc

from reconciler.gcpause import quiet_gc


def collections() -> list[int]:
    return [s["collections"] for s in gc.get_stats()]


def test_no_collection_runs_inside_and_the_collector_comes_back() -> None:
    assert gc.isenabled()
    before = collections()
    with quiet_gc():
        junk = [[i, {"k": i}] for i in range(300_000)]  # would trigger many collections
        inside = collections()
    assert inside == before
    assert gc.isenabled()
    del junk
    gc.unfreeze()


def test_a_collector_disabled_by_the_caller_stays_disabled() -> None:
    gc.disable()
    try:
        with quiet_gc():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
        gc.unfreeze()
