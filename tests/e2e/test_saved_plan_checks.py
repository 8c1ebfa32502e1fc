"""A saved plan is data to check: every PATCH is rebuilt from the verified files and the live
records; an interrupted apply resumes ("already applied"); a blind write-only change is refused
when the record moved; a plan applies from any working folder; a spent daily quota stops the
apply. All over real HTTP against the sandbox."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.apply import Status
from reconciler.client import ApiClient, ClientSettings
from reconciler.engine import ApplyOptions, compute_plan, run_apply
from reconciler.errors import ExitCode
from reconciler.plan import Plan
from reconciler.state import State

from .conftest import record


def saved_plan(world: Any) -> Path:
    planfile = world.dir.parent / "plan.json"
    code, _, err = world.plan("--out", str(planfile))
    assert code == ExitCode.OK, err
    return planfile


def apply_saved(world: Any, planfile: Path, *extra: str) -> tuple[int, str, str]:
    return world.run(
        "apply", str(planfile), "--dir", str(world.dir), "--state", str(world.state),
        "--auto-approve", *extra,
    )  # fmt: skip


def tamper(planfile: Path, edit: Any) -> None:
    """Edit a plan file as an attacker would: change it, then recompute its checksum."""
    data = json.loads(planfile.read_text())
    edit(data)
    data.pop("checksum")
    data["checksum"] = Plan.from_dict(data).checksum()
    planfile.write_text(json.dumps(data))


def test_an_edited_patch_is_refused_by_name_even_with_a_recomputed_checksum(
    make_world: Any,
) -> None:
    world = make_world(
        [record(1, value=1), record(2, value=1), record(3, value=1)],
        [record(1, value=2), record(2, value=2)],
    )
    planfile = saved_plan(world)

    def edit(data: dict[str, Any]) -> None:
        first = data["changes"][0]
        first["sends"]["body"] = {"value": 2, "primaryEmail": "attacker@example.com"}
        # A record no file declares, with a PATCH of the attacker's choosing.
        extra = json.loads(json.dumps(first)) | {
            "id": 3,
            "sends": {"method": "PATCH", "body": {"value": 666}},
        }
        data["changes"].append(extra)

    tamper(planfile, edit)
    world.sandbox.clear_log()
    code, out, err = apply_saved(world, planfile)
    assert code == ExitCode.ERROR, out + err
    assert [(p.path, p.body) for p in world.patches()] == [("/opportunities/2", {"value": 2})]
    assert "1 (" in out and "REFUSED" in out and "primaryEmail" in out
    assert "3 (" in out and "no file under --dir declares it" in out
    assert world.live(1).get("primaryEmail") != "attacker@example.com"
    assert world.live(3)["value"] == 1


def test_a_plan_applies_from_any_working_folder(
    make_world: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    world = make_world([record(i, value=1) for i in range(1, 4)], [])
    (world.dir / "sub").mkdir()
    for i in range(1, 4):
        world.write(record(i, value=2), name=f"sub/{i}.yaml")
    monkeypatch.chdir(world.dir.parent)
    planfile = Path("plan.json")
    assert world.run("plan", "--dir", "opportunities", "--out", str(planfile))[0] == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, out, err = world.run(
        "apply", str(world.dir.parent / "plan.json"), "--dir", str(world.dir),
        "--state", str(world.state), "--auto-approve",
    )  # fmt: skip
    assert code == ExitCode.OK, out + err
    assert len(world.patches()) == 3
    files = json.loads((world.dir.parent / "plan.json").read_text())["files"]
    assert sorted(files) == ["sub/1.yaml", "sub/2.yaml", "sub/3.yaml"]  # relative to --dir


def test_resuming_after_an_interrupted_apply_reports_already_applied(make_world: Any) -> None:
    world = make_world(
        [record(1, value=1), record(2, value=1)],
        [record(1, value=2, status="ACTIVE"), record(2, value=2)],
    )
    planfile = saved_plan(world)
    # The apply that was interrupted got through record 1 (its status is in the state file).
    assert world.apply("--target", "1")[0] == ExitCode.OK
    world.sandbox.clear_log()

    code, out, err = apply_saved(world, planfile)
    assert code == ExitCode.OK, out + err
    assert "1 (" in out and "already applied" in out
    assert [p.path for p in world.patches()] == ["/opportunities/2"]
    assert "1 applied, 1 already applied, 0 failed" in out


def test_a_blind_write_only_change_is_stale_once_the_record_moved(make_world: Any) -> None:
    world = make_world(
        [record(1, value=1), record(2, value=1)],
        [record(1, status="COMPLETED"), record(2, value=2)],
    )
    planfile = saved_plan(world)
    world.edit_live(1, {"status": "CANCELLED"})  # a hand edit no read can see
    world.sandbox.clear_log()

    code, out, _ = apply_saved(world, planfile)
    assert code == ExitCode.ERROR
    assert "1 (" in out and "stale" in out and "updatedAt" in out
    assert [p.path for p in world.patches()] == ["/opportunities/2"]
    assert world.sandbox.record(1)["status"] == "CANCELLED"


def test_a_spent_daily_quota_stops_sending_and_saves_the_state(
    make_world: Any, tmp_path: Path
) -> None:
    n = 6
    world = make_world(
        [record(i, value=0) for i in range(1, n + 1)],
        [record(i, value=i, status="ACTIVE") for i in range(1, n + 1)],
    )
    from reconciler.cli.common import load_records

    records, _ = load_records(world.dir)
    settings = ClientSettings(base_url=world.sandbox.base_url, api_key=world.sandbox.api_key)
    state = State.load(tmp_path / "quota-state.json")

    async def go() -> Any:
        async with ApiClient(settings) as client:
            run = await compute_plan(client, records, state, files={})
            # Another user of the key spends it meanwhile: 2 requests are left today.
            world.sandbox.set_limits(rate_per_day=2)
            world.sandbox.clear_log()
            return await run_apply(
                client, run.plan, state, ApplyOptions(force=True, concurrency=1),
                live=run.live.records, stop=asyncio.Event(),
            )  # fmt: skip

    report = asyncio.run(go())
    statuses = [o.status for o in report.outcomes]
    assert statuses == [Status.APPLIED] * 2 + [Status.FAILED] + [Status.NOT_SENT] * 3
    assert all(o.message == "daily quota exhausted" for o in report.outcomes[3:])
    assert not report.ok
    assert len(world.patches()) == 3  # the one that met the 429, and no further
    saved = json.loads((tmp_path / "quota-state.json").read_text())
    assert sorted(saved["records"]) == ["1", "2"]


def test_a_plan_made_with_send_required_is_rebuilt_the_same_way(make_world: Any) -> None:
    world = make_world([record(1, value=1)], [record(1, value=2)])
    planfile = world.dir.parent / "plan.json"
    assert world.plan("--send-required", "--out", str(planfile))[0] == ExitCode.OK
    world.sandbox.clear_log()
    code, out, err = apply_saved(world, planfile)
    assert code == ExitCode.OK, out + err
    (patch,) = world.patches()
    assert set(patch.body) == {"value", "title", "address", "trades"}


def test_a_record_planned_twice_is_refused(make_world: Any) -> None:
    world = make_world([record(1, value=1)], [record(1, value=2)])
    planfile = saved_plan(world)
    tamper(planfile, lambda data: data["changes"].append(data["changes"][0]))
    world.sandbox.clear_log()
    code, out, _ = apply_saved(world, planfile)
    assert code == ExitCode.ERROR
    assert "changes opportunity 1 2 times" in out
    assert world.patches() == []


def test_a_plan_applies_only_to_the_api_it_was_made_against(make_world: Any) -> None:
    staging = make_world([record(1, value=1)], [record(1, value=2)])
    planfile = saved_plan(staging)
    assert json.loads(planfile.read_text())["api_url"] == staging.sandbox.base_url
    production = make_world([record(1, value=1)])  # same folder, another server
    code, _, err = apply_saved(production, planfile)
    assert code == ExitCode.ERROR
    assert f"planned against {staging.sandbox.base_url}" in err
    assert production.sandbox.requests() == [] and staging.patches() == []


def test_a_spent_daily_quota_also_holds_back_the_creates(make_world: Any, tmp_path: Path) -> None:
    from reconciler.cli.common import load_all
    from reconciler.engine import Lifecycle

    world = make_world([record(1, value=0), record(2, value=0)])
    world.write(record(1, value=1))
    world.write(record(2, value=2))
    for name in ("new-a", "new-b"):
        data = record(0, title=f"New {name}")
        del data["id"]
        world.write(data, name=f"{name}.yaml")
    loaded = load_all(world.dir)
    assert len(loaded.new) == 2
    settings = ClientSettings(base_url=world.sandbox.base_url, api_key=world.sandbox.api_key)
    state = State.load(tmp_path / "quota-state.json")
    life = Lifecycle(loaded.new, "title", False, str(world.dir))

    async def go() -> Any:
        async with ApiClient(settings) as client:
            run = await compute_plan(client, loaded.records, state, files={}, life=life)
            assert len(run.plan.creates) == 2 and len(run.plan.changes) == 2
            world.sandbox.set_limits(rate_per_day=1)  # another job spends the key meanwhile
            world.sandbox.clear_log()
            return await run_apply(
                client, run.plan, state, ApplyOptions(force=True, concurrency=1),
                live=run.live.records, stop=asyncio.Event(), new=loaded.new,
            )  # fmt: skip

    report = asyncio.run(go())
    by_status = [(o.status, o.message) for o in report.outcomes]
    assert by_status.count((Status.NOT_SENT, "daily quota exhausted")) == 2, by_status
    assert [r.method for r in world.sandbox.requests()] == ["PATCH", "PATCH"]  # no POST
    assert not report.ok
