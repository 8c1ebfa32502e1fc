"""The property that makes the live cache safe: after any sequence of live edits, file edits
and applies, a plan read incrementally equals a cold plan (fresh cache, --refresh full), change
for change. Bounded: a handful of short sequences against one sandbox, reset between examples."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import World, record

IDS = (1, 2, 3, 4, 5)
TRADES = ("Solar", "Roofing", "HVAC")


def hours_ago(i: int) -> str:
    return f"2025-06-0{i}T12:00:00.000Z"


LIVE = [record(i, value=i * 10, updatedAt=hours_ago(i)) for i in IDS]

steps = st.one_of(
    st.tuples(st.just("live_edit"), st.sampled_from(IDS), st.integers(0, 3)),
    st.tuples(st.just("live_trades"), st.sampled_from(IDS), st.sampled_from(TRADES)),
    st.tuples(st.just("live_create"), st.integers(0, 3)),
    st.tuples(st.just("file_edit"), st.sampled_from(IDS), st.integers(0, 3)),
    st.tuples(st.just("file_remove"), st.sampled_from(IDS), st.just(0)),
    st.tuples(st.just("file_add_created"), st.integers(0, 3)),
    st.tuples(st.just("file_add_missing"), st.integers(900, 901)),
    st.tuples(
        st.just("apply"),
    ),
)


def comparable(plan: dict[str, Any]) -> dict[str, Any]:
    return {k: plan[k] for k in ("changes", "errors", "summary")}


class Runner:
    def __init__(self, world: World, tmp: Path) -> None:
        self.world = world
        self.tmp = tmp
        self.created: list[int] = []
        self.http = httpx.Client(
            base_url=world.sandbox.base_url, headers={"x-api-key": world.sandbox.api_key}
        )

    def reset(self) -> None:
        self.world.sandbox.reset()
        shutil.rmtree(self.world.dir, ignore_errors=True)
        self.world.dir.mkdir()
        for name in ("cache", "cold"):
            shutil.rmtree(self.tmp / name, ignore_errors=True)
        self.world.state.unlink(missing_ok=True)
        self.created = []
        for r in LIVE:
            self.world.write({k: v for k, v in r.items() if k != "updatedAt"})

    def step(self, action: tuple[Any, ...]) -> None:
        kind = action[0]
        w = self.world
        if kind == "live_edit":
            w.edit_live(action[1], {"value": action[2] * 7 + 1})
        elif kind == "live_trades":
            w.edit_live(action[1], {"trades": [action[2]]})
        elif kind == "live_create":
            n = len(self.created)
            body = record(0, title=f"Created {n}", value=action[1])
            del body["id"]
            answer = self.http.post("/opportunities", json=body)
            answer.raise_for_status()
            self.created.append(int(answer.json()["id"]))
        elif kind == "file_edit":
            w.write(record(action[1], value=action[2] * 7 + 1))
        elif kind == "file_remove":
            (w.dir / f"{action[1]}.yaml").unlink(missing_ok=True)
        elif kind == "file_add_created":
            if self.created:
                rid = self.created[action[1] % len(self.created)]
                w.write(record(rid, title=f"Created file {rid}", value=action[1]))
        elif kind == "file_add_missing":
            w.write(record(action[1]))
        elif kind == "apply":
            w.apply("--force")

    def check(self) -> None:
        incremental = self.world.plan_json()
        cold = self.world.plan_json("--refresh", "full", "--cache-dir", str(self.tmp / "cold"))
        shutil.rmtree(self.tmp / "cold", ignore_errors=True)
        assert comparable(incremental) == comparable(cold)
        return None


@pytest.fixture
def runner(make_world: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runner]:
    # No overlap: the incremental read must be right from the mark alone, not because the
    # overlap happens to re-read everything the test just wrote.
    monkeypatch.setattr("reconciler.snapshot.DEFAULT_OVERLAP", timedelta(0))
    it = Runner(make_world(LIVE), tmp_path)
    yield it
    it.http.close()


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(actions=st.lists(steps, min_size=1, max_size=6))
def test_incremental_plan_equals_cold_plan(runner: Runner, actions: list[tuple[Any, ...]]) -> None:
    runner.reset()
    runner.check()  # the first plan reads in full and fills the cache
    for action in actions:
        runner.step(action)
        runner.check()
    read = runner.world.plan_json()["requests"]["read"]
    assert read.startswith("changes since ")
