"""Apply under 429 and 5xx storms, dropped connections, Ctrl-C; and the key never shown."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from reconciler.client import ApiClient, ClientSettings
from reconciler.engine import ApplyOptions, compute_plan, run_apply
from reconciler.errors import ExitCode
from reconciler.plan import DesiredRecord
from reconciler.sandbox import Faults
from reconciler.state import State

from .conftest import record


def desired_records(world: Any) -> list[DesiredRecord]:
    from reconciler.cli.common import load_records

    records, _ = load_records(world.dir)
    return records


def test_storms_of_429_5xx_and_dropped_answers_converge(make_world: Any, tmp_path: Path) -> None:
    n = 40
    world = make_world(
        [record(i, value=0) for i in range(1, n + 1)],
        [record(i, value=i, status="ACTIVE") for i in range(1, n + 1)],
    )
    world.sandbox.set_faults(Faults(error_rate=0.25, throttle_rate=0.2, drop_rate=0.2, seed=7))
    settings = ClientSettings(
        base_url=world.sandbox.base_url,
        api_key=world.sandbox.api_key,
        backoff_base=0.005,
        backoff_max=0.05,
        max_attempts=12,
    )
    records = desired_records(world)
    state = State.load(tmp_path / "storm-state.json")

    async def go() -> Any:
        async with ApiClient(settings) as client:
            run = await compute_plan(client, records, state, files={})
            return await run_apply(
                client, run.plan, state, ApplyOptions(force=True),
                live=run.live.records, stop=asyncio.Event(),
            )  # fmt: skip

    report = asyncio.run(go())
    assert report.ok, [o for o in report.outcomes if o.message]
    log = world.sandbox.requests()
    assert any(r.status == 429 for r in log) and any(r.status >= 500 for r in log)
    assert any(r.dropped for r in log)
    # Nothing applied twice over a value: after the first PATCH a record acknowledged, none other.
    for i in range(1, n + 1):
        mine = [r for r in log if r.method == "PATCH" and r.path == f"/opportunities/{i}"]
        acknowledged = [k for k, r in enumerate(mine) if r.status == 200 and not r.dropped]
        assert acknowledged == [len(mine) - 1]
        assert world.sandbox.record(i)["value"] == i
        assert world.sandbox.record(i)["status"] == "ACTIVE"
    world.sandbox.set_faults(Faults())
    assert world.plan("--state", str(tmp_path / "storm-state.json"), "--detailed-exitcode")[0] == 0


def test_ctrl_c_mid_apply_finishes_in_flight_reports_and_a_rerun_converges(
    make_world: Any,
) -> None:
    n = 30
    world = make_world(
        [record(i, value=0) for i in range(1, n + 1)],
        [record(i, value=i, status="ON_HOLD") for i in range(1, n + 1)],
    )
    world.sandbox.set_faults(Faults(latency=0.15, methods=frozenset({"PATCH"})))
    env = os.environ | {"COPERNIQ_API_URL": world.sandbox.base_url}
    cmd = [
        sys.executable, "-m", "reconciler", "apply", "--dir", str(world.dir),
        "--state", str(world.state), "--auto-approve", "--force", "--concurrency", "2",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while len(world.patches()) < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == ExitCode.INTERRUPTED, out + err
    assert "Interrupted" in err
    applied = out.count(": applied")
    not_sent = out.count(": not sent")
    assert applied >= 4 and not_sent >= 1 and applied + not_sent == n
    # Every PATCH the server answered was reported as applied, and saved in the state file.
    answered = [p for p in world.patches() if p.status == 200]
    assert len(answered) == applied
    state = json.loads(world.state.read_text())
    assert len(state["records"]) == applied

    world.sandbox.set_faults(Faults())
    code, out, _ = world.apply("--force")
    assert code == ExitCode.OK
    assert f"{n - applied} applied" in out
    assert world.plan("--detailed-exitcode")[0] == ExitCode.OK


def test_the_key_never_appears_in_any_output(make_world: Any, tmp_path: Path) -> None:
    world = make_world(
        [record(1, value=1), record(2)],
        [record(1, value=2, status="ACTIVE"), record(2, contacts=[424242])],
    )
    key = world.sandbox.api_key
    env = os.environ | {"COPERNIQ_API_URL": world.sandbox.base_url, "COPERNIQ_API_KEY": key}
    planfile = tmp_path / "plan.json"
    base = [sys.executable, "-m", "reconciler", "--debug"]
    common = ["--dir", str(world.dir), "--state", str(world.state)]
    runs = [
        [*base, "plan", *common, "--out", str(planfile)],
        [*base, "plan", *common, "--format", "markdown", "--no-mask"],
        [*base, "apply", str(planfile), *common, "--auto-approve"],
        [*base, "apply", *common, "--auto-approve"],
    ]
    outputs = []
    for cmd in runs:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
        outputs += [proc.stdout, proc.stderr]
    # A wrong key: the 401 message must not echo it either.
    wrong = "sbx_wrong_key_0123456789"
    proc = subprocess.run(
        [*base, "plan", *common], env=env | {"COPERNIQ_API_KEY": wrong},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == ExitCode.ERROR
    assert "401" in proc.stderr or "rejected" in proc.stderr.lower()
    assert wrong not in proc.stdout + proc.stderr
    outputs += [planfile.read_text(), world.state.read_text()]
    assert all(key not in text for text in outputs)
    assert "contacts" in "".join(outputs)  # the failing record was reported


def test_client_debug_logging_does_not_carry_the_key(
    make_world: Any, caplog: pytest.LogCaptureFixture
) -> None:
    world = make_world([record(1, value=1)], [record(1, value=2)])
    with caplog.at_level(logging.DEBUG):
        assert world.apply()[0] == ExitCode.OK
    assert caplog.records  # httpx/httpcore did log at DEBUG
    assert world.sandbox.api_key not in caplog.text
