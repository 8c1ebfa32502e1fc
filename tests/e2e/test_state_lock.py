"""One writer at a time: apply, adopt and import hold an OS-level lock on the state file.

The other writer is a real second process that takes the lock and waits on its stdin: every
step is ordered by its "locked" line and by killing it, so nothing depends on timing.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.errors import ExitCode
from reconciler.lock import state_lock
from reconciler.state import State

from .conftest import record

_HOLDER = """
import sys
from reconciler.lock import state_lock
with state_lock(sys.argv[1], command="apply"):
    print("locked", flush=True)
    sys.stdin.read()
"""


@pytest.fixture
def holder() -> Iterator[Any]:
    procs: list[subprocess.Popen[str]] = []

    def start(state: Path) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-c", _HOLDER, str(state)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        procs.append(proc)
        assert proc.stdout is not None
        assert proc.stdout.readline() == "locked\n"  # EOF (a crash) ends the wait too
        return proc

    yield start
    for proc in procs:
        proc.kill()
        proc.communicate(timeout=10)  # reaps it and closes its pipes


def test_a_second_apply_fails_at_once_naming_the_holder_and_runs_once_it_died(
    make_world: Any, holder: Any
) -> None:
    world = make_world([record(1, value=1)], [record(1, value=2)])
    proc = holder(world.state)

    started = time.monotonic()
    code, out, err = world.apply()
    assert code == ExitCode.ERROR
    assert time.monotonic() - started < 5  # at once, not after waiting for the holder
    assert f"pid {proc.pid}" in err and "since 20" in err and "`apply`" in err
    assert str(world.state) in err
    assert world.sandbox.requests() == []  # nothing read, nothing sent

    proc.kill()  # kill -9: the kernel releases the lock with the process
    proc.communicate(timeout=10)
    code, out, err = world.apply()
    assert code == ExitCode.OK, out + err
    assert len(world.patches()) == 1


@pytest.mark.parametrize(
    "command",
    [
        ["adopt"],
        ["import", "--id", "1"],
    ],
)
def test_adopt_and_import_take_the_lock_too(
    make_world: Any, holder: Any, command: list[str]
) -> None:
    world = make_world([record(1, value=1)], [record(1, value=2)])
    proc = holder(world.state)
    code, _, err = world.run(*command, "--dir", str(world.dir), "--state", str(world.state))
    assert code == ExitCode.ERROR
    assert f"pid {proc.pid}" in err
    assert world.sandbox.requests() == []


def test_plan_and_drift_do_not_wait_for_the_lock(make_world: Any, holder: Any) -> None:
    world = make_world([record(1, value=1)], [record(1, value=2)])
    holder(world.state)
    assert world.plan()[0] == ExitCode.OK


def test_saving_keeps_the_entries_another_process_wrote(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    first, second = State.load(path), State.load(path)  # two runs that loaded the same file
    first.record_applied(1, {"status": "ACTIVE"})
    first.live_total = 50
    first.save()
    second.record_applied(2, {"contacts": [7]})
    second.record_applied(1, {"contacts": [3]})
    second.save()

    merged = State.load(path)
    assert dict(merged.applied(1)) == {"status": "ACTIVE", "contacts": [3]}
    assert dict(merged.applied(2)) == {"contacts": [7]}
    assert merged.live_total == 50  # `second` never learnt a count: the other's is kept


def test_the_lock_is_reentrant_within_a_process_and_exclusive_across(
    tmp_path: Path, holder: Any
) -> None:
    path = tmp_path / "state.json"
    with state_lock(path), state_lock(path):
        State(path, {1: {"status": "ACTIVE"}}).save()  # save takes it once more: no deadlock
    proc = holder(path)
    state = State.load(path)
    state.record_applied(2, {"status": "ACTIVE"})
    with pytest.raises(Exception, match=f"pid {proc.pid}"):
        state.save()  # another process holds it: never written behind its back


@pytest.mark.parametrize("special", ["/dev/null", "/dev/zero"])
def test_a_device_as_state_file_is_refused_and_gets_no_lock_file_beside_it(
    make_world: Any, special: str
) -> None:
    world = make_world([record(1, value=1)], [record(1, value=2)])
    lock = Path(special).with_name(f".{Path(special).name}.lock")
    code, _, err = world.run("apply", "--dir", str(world.dir), "--state", special, "--auto-approve")
    assert code == ExitCode.ERROR
    assert "not a reconciler state file" in err
    assert not lock.exists()
    assert world.patches() == []


def test_two_applies_on_one_folder_patch_each_record_once_and_keep_every_value(
    make_world: Any,
) -> None:
    import os

    from reconciler.sandbox import Faults

    n = 6
    world = make_world(
        [record(i, value=0) for i in range(1, n + 1)],
        [record(i, value=i, status="ON_HOLD") for i in range(1, n + 1)],
    )
    # Slow PATCHes keep the first apply busy for at least n x 0.5 s after it has read live: time
    # enough for the second run to meet the lock even on a loaded machine.
    world.sandbox.set_faults(Faults(latency=0.5, methods=frozenset({"PATCH"})))
    env = os.environ | {"COPERNIQ_API_URL": world.sandbox.base_url}
    cmd = [
        sys.executable, "-m", "reconciler", "apply", "--dir", str(world.dir),
        "--state", str(world.state), "--auto-approve", "--concurrency", "1",
    ]  # fmt: skip
    first = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 30
        while not world.sandbox.requests() and time.monotonic() < deadline:
            time.sleep(0.02)  # the first run has read live: it holds the lock
        code, _, err = world.apply()
        assert code == ExitCode.ERROR
        assert f"pid {first.pid}" in err
    finally:
        out, err = first.communicate(timeout=60)
    assert first.returncode == ExitCode.OK, out + err
    paths = sorted(p.path for p in world.patches())
    assert paths == sorted(f"/opportunities/{i}" for i in range(1, n + 1))  # once each
    state = json.loads(world.state.read_text())
    assert sorted(state["records"]) == sorted(str(i) for i in range(1, n + 1))
