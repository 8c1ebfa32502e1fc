"""The live records are read while the files are checked (issue 11, cold runs).

The parallel check runs only in a process with no other thread, so the runs that exercise it are
child processes (the sandbox serves from a thread of this one). The rest is pinned in-process:
the quick id scan, which ids a check knows early, and a prefetch that did not foresee an id.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from reconciler import checking
from reconciler.checking import scan_id
from reconciler.client import ApiClient, ClientSettings
from reconciler.errors import ExitCode
from reconciler.live import LiveSnapshot
from reconciler.reading import Prefetch
from reconciler.sandbox import Faults, SandboxConfig
from reconciler.state import State
from tests.e2e.conftest import World, record

MANY = checking.PARALLEL_FROM  # the smallest folder checked by worker processes


def child(world: World, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {
        "COPERNIQ_API_URL": world.sandbox.base_url,
        "COPERNIQ_API_KEY": world.sandbox.api_key,
        "NO_COLOR": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *args, "--dir", str(world.dir),
         "--state", str(world.state), "--cache-dir", str(world.dir.parent / "cache")],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def many_records() -> list[dict[str, Any]]:
    return [record(i, value=float(i)) for i in range(1, MANY + 1)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b"id: 12\ntitle: x\n", 12),
        (b"title: x\nid: 7   # the deal from the show\r\n", 7),
        (b"title: x\n", None),
        (b'"id": 12\n', None),  # not the line reconciler writes: the full check decides
        (b"id: 0012\n", None),
        (b"id: 1\nid: 2\n", None),  # a duplicate key: the file will not load
        (b"nested:\n  id: 5\n", None),
        (b"description: |\n  id: 5\n", None),
    ],
)
def test_scan_id(text: bytes, expected: int | None) -> None:
    assert scan_id(text) == expected


def test_ids_are_known_early_only_when_every_file_gives_one(tmp_path: Path) -> None:
    for i in (1, 2):
        (tmp_path / f"{i}.yaml").write_text(f"id: {i}\ntitle: T{i}\n", encoding="utf-8")
    files = sorted(tmp_path.glob("*.yaml"))
    assert checking.begin(files).ids == {1, 2}
    (tmp_path / "new.yaml").write_text("title: New\n", encoding="utf-8")
    assert checking.begin(sorted(tmp_path.glob("*.yaml"))).ids is None


def test_parallel_plan_reads_while_checking_and_equals_the_serial_plan(make_world: Any) -> None:
    live = many_records()
    world = make_world(live, live)
    for i in (3, 500, MANY):  # live edits and file edits the plan must show
        world.edit_live(i, {"value": 1.5})
    world.write(record(42, value=99.0))
    proc = child(world, "plan", "--format", "json")
    assert proc.returncode == ExitCode.OK, proc.stderr
    parallel = json.loads(proc.stdout)
    code, out, err = world.plan("--format", "json", "--cache-dir", str(world.dir.parent / "c2"))
    assert code == ExitCode.OK, err
    serial = json.loads(out)
    assert [(c["id"], c["fields"]) for c in parallel["changes"]] == [
        (c["id"], c["fields"]) for c in serial["changes"]
    ]
    assert {c["id"] for c in parallel["changes"]} == {3, 42, 500, MANY}


def test_a_problem_found_by_the_check_stops_the_read(make_world: Any) -> None:
    live = many_records()
    # Every answer takes a while, so the read is still going when the first chunk of files,
    # which holds the invalid file, is checked.
    world = make_world(live, live, SandboxConfig(faults=Faults(latency=0.3)))
    (world.dir / "1.yaml").unlink()  # now declared, with a problem, by the first file of all
    (world.dir / "0-first.yaml").write_text(
        "id: 1\ntitle: Deal 1\naddress: [x]\ntrades: 5\n", encoding="utf-8"
    )
    proc = child(world, "plan")
    assert proc.returncode == ExitCode.ERROR
    assert "0-first.yaml:4:" in proc.stderr and "trades" in proc.stderr
    # The client counts a request cut off in flight as spent; the sandbox logs it only if it
    # answered it before the cut. Either way, the read stopped far short of a full one.
    said = re.search(r"stopped after (\d+) request", proc.stderr)
    spent = 0 if said is None else int(said.group(1))
    if said is None:
        assert "nothing was read from or sent to the API" in proc.stderr, proc.stderr
    assert len(world.sandbox.requests()) <= spent < MANY // 100 + 1, proc.stderr
    assert world.patches() == []


def test_a_prefetch_reads_the_ids_it_did_not_foresee(make_world: Any) -> None:
    world = make_world([record(1), record(2), record(3)])
    settings = ClientSettings(base_url=world.sandbox.base_url, api_key=world.sandbox.api_key)
    state = State.load(world.state)

    async def go() -> LiveSnapshot:
        async with ApiClient(settings) as client:
            prefetch = Prefetch(client, [1, 9], state, None)
            return await prefetch.snapshot(client, [1, 3, 4])

    snapshot = asyncio.run(go())
    assert set(snapshot.records) == {1, 3}
    assert snapshot.missing == {4}
    assert snapshot.requests == len(world.sandbox.requests())


def test_workers_scan_the_ids_before_they_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(1, 31):
        (tmp_path / f"{i:02}.yaml").write_text(f"id: {i}\ntitle: T{i}\n", encoding="utf-8")
    monkeypatch.setattr(checking, "PARALLEL_FROM", 10)
    files = sorted(tmp_path.glob("*.yaml"))
    pending = checking.begin(files)
    try:
        assert pending._pool is not None or threading.active_count() > 1  # the workers ran
        assert pending.ids == frozenset(range(1, 31))
        checked = pending.wait()
    finally:
        pending.close()
    assert [d.data["id"] for d, _, _ in checked if d is not None] == list(range(1, 31))
    (tmp_path / "new.yaml").write_text("title: New\n", encoding="utf-8")
    pending = checking.begin(sorted(tmp_path.glob("*.yaml")))
    try:
        assert pending.ids is None
    finally:
        pending.close()
