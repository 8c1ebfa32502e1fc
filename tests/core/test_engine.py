"""The engine in process: plan and apply driven through `ApiClient` over `httpx.ASGITransport`
on the sandbox's ASGI app. No server, no subprocess, no sleep: stop-on-error, Ctrl-C, the quota
stop, state saving and the saved-plan checks, deterministically (concurrency 1 where order
matters)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.apply import QUOTA_EXHAUSTED, ApplyReport, Outcome, Status
from reconciler.client import ApiClient, ClientSettings
from reconciler.engine import ApplyOptions, PlanRun, compute_plan, run_apply
from reconciler.errors import ReconcilerError
from reconciler.plan import DesiredRecord, Plan
from reconciler.sandbox import Sandbox, SandboxConfig, generate, in_process_sandbox
from reconciler.state import State

SEED = generate(40)
ACTIVE = [r for r in SEED["opportunities"] if r["isActive"]][:6]


@dataclasses.dataclass
class World:
    sandbox: Sandbox
    app: Any
    tmp: Path

    def client(self, **overrides: Any) -> ApiClient:
        settings = ClientSettings(
            base_url="http://127.0.0.1/v1",  # any loopback URL: the transport routes to the app
            api_key=self.sandbox.api_key,
            backoff_base=0.001,
            backoff_max=0.001,
            **overrides,
        )
        return ApiClient(settings, transport=httpx.ASGITransport(app=self.app))

    def state(self) -> State:
        return State.load(self.tmp / "state.json")

    def patches(self) -> list[int]:
        return [
            int(r.path.rsplit("/", 1)[1]) for r in self.sandbox.requests() if r.method == "PATCH"
        ]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    config = SandboxConfig(rate_per_second=10_000, rate_per_day=100_000)
    with in_process_sandbox(SEED, config) as (sandbox, app):
        yield World(sandbox, app, tmp_path)


def desired(**extra: dict[str, Any]) -> list[DesiredRecord]:
    """Each active record with a new title and status; `extra` overrides fields by id (as str)."""
    out = []
    for r in ACTIVE:
        data = {"id": r["id"], "title": f"{r['title']} (git)", "status": "COMPLETED"}
        data.update(extra.get(str(r["id"]), {}))
        out.append(DesiredRecord(r["id"], f"opportunities/{r['id']}.yaml", data, "sha"))
    return out


def plan_and_apply(
    world: World,
    records: list[DesiredRecord],
    *,
    stop_after: int | None = None,
    saved: Plan | None = None,
    **options: Any,
) -> tuple[Plan, ApplyReport]:
    async def go() -> tuple[Plan, ApplyReport]:
        stop = asyncio.Event()
        seen: list[Outcome] = []

        def on_outcome(o: Outcome) -> None:
            seen.append(o)
            if stop_after is not None and len(seen) >= stop_after:
                stop.set()  # what the first Ctrl-C does

        state = world.state()
        async with world.client(concurrency=options.get("concurrency", 8)) as client:
            if saved is not None:
                plan, live = saved, None
            else:
                run: PlanRun = await compute_plan(client, records, state, files={})
                plan, live = run.plan, run.live.records
            report = await run_apply(
                client,
                plan,
                state,
                ApplyOptions(force=True, **options),
                live=live,
                stop=stop,
                desired=records,
                on_outcome=on_outcome,
            )
        return plan, report

    return asyncio.run(go())


def test_apply_sends_one_patch_per_change_and_keeps_the_write_only_values(world: World) -> None:
    plan, report = plan_and_apply(world, desired())
    assert [o.status for o in report.outcomes] == [Status.APPLIED] * len(ACTIVE)
    assert sorted(world.patches()) == [r["id"] for r in ACTIVE]
    for r in ACTIVE:
        stored = world.sandbox.record(r["id"])
        assert stored is not None and stored["title"] == f"{r['title']} (git)"
        assert world.state().applied(r["id"]) == {"status": "COMPLETED"}
    assert report.ok and not report.interrupted
    assert report.requests == plan.requests.spent + len(ACTIVE)


def test_a_rejected_patch_fails_its_record_and_the_others_are_applied(world: World) -> None:
    bad = ACTIVE[2]["id"]
    _, report = plan_and_apply(world, desired(**{str(bad): {"accountId": 999_999}}))
    by_id = {o.id: o for o in report.outcomes}
    assert by_id[bad].status is Status.FAILED
    assert f"Record {bad}" in by_id[bad].message and "accountId" in by_id[bad].message
    assert all(o.status is Status.APPLIED for i, o in by_id.items() if i != bad)
    assert world.state().applied(bad) == {}  # nothing applied, nothing remembered
    assert not report.ok


def test_a_state_file_that_cannot_be_written_stops_before_any_patch(world: World) -> None:
    records = desired()

    async def go() -> None:
        state = world.state()
        async with world.client() as client:
            run = await compute_plan(client, records, state, files={})
            (world.tmp / "state.json").mkdir()  # the state file's place is taken meanwhile
            await run_apply(
                client,
                run.plan,
                state,
                ApplyOptions(force=True),
                live=run.live.records,
                stop=asyncio.Event(),
            )

    with pytest.raises(ReconcilerError, match="state file"):
        asyncio.run(go())
    assert world.patches() == []


def test_ctrl_c_lets_the_request_in_flight_finish_and_sends_nothing_more(world: World) -> None:
    _, report = plan_and_apply(world, desired(), stop_after=1, concurrency=1)
    statuses = [o.status for o in report.outcomes]
    assert statuses == [Status.APPLIED] + [Status.NOT_SENT] * (len(ACTIVE) - 1)
    assert report.outcomes[1].message == "interrupted before sending"
    assert report.interrupted and not report.ok
    assert world.patches() == [ACTIVE[0]["id"]]
    # What did go through is in the state file: a rerun converges.
    assert world.state().applied(ACTIVE[0]["id"]) == {"status": "COMPLETED"}


def test_a_spent_daily_quota_stops_every_further_patch(world: World) -> None:
    records = desired()

    async def go() -> ApplyReport:
        state = world.state()
        async with world.client(concurrency=1) as client:
            run = await compute_plan(client, records, state, files={})
            # The key's quota runs out during the apply (another job spends it): two left.
            world.sandbox.set_limits(rate_per_day=2)
            return await run_apply(
                client,
                run.plan,
                state,
                ApplyOptions(force=True, concurrency=1),
                live=run.live.records,
                stop=asyncio.Event(),
            )

    report = asyncio.run(go())
    statuses = [o.status for o in report.outcomes]
    assert statuses[:3] == [Status.APPLIED, Status.APPLIED, Status.FAILED]
    assert "remaining today: 0" in report.outcomes[2].message
    rest = report.outcomes[3:]
    assert [o.status for o in rest] == [Status.NOT_SENT] * (len(ACTIVE) - 3)
    assert all(o.message == QUOTA_EXHAUSTED for o in rest)
    assert world.patches() == [r["id"] for r in ACTIVE[:3]]  # nothing sent after the refusal


def saved_copy(plan: Plan) -> Plan:
    """The plan as `plan --out` writes it and `apply PLANFILE` reads it back."""
    return Plan.from_dict(json.loads(plan.to_json()))


def test_a_saved_plan_skips_a_record_changed_live_since_and_applies_the_rest(
    world: World,
) -> None:
    records = desired()

    async def plan_then_edit() -> Plan:
        async with world.client() as client:
            plan = (await compute_plan(client, records, world.state(), files={})).plan
            await client.patch(ACTIVE[1]["id"], {"title": "Edited by hand in Coperniq"})
            return plan

    saved = saved_copy(asyncio.run(plan_then_edit()))
    world.sandbox.clear_log()
    _, report = plan_and_apply(world, records, saved=saved)
    by_id = {o.id: o for o in report.outcomes}
    assert by_id[ACTIVE[1]["id"]].status is Status.STALE
    assert "title" in by_id[ACTIVE[1]["id"]].message
    assert ACTIVE[1]["id"] not in world.patches()
    assert all(o.status is Status.APPLIED for i, o in by_id.items() if i != ACTIVE[1]["id"])


def test_a_saved_plan_applied_twice_resumes_as_already_applied(world: World) -> None:
    records = desired()

    async def plan() -> Plan:
        async with world.client() as client:
            return (await compute_plan(client, records, world.state(), files={})).plan

    saved = saved_copy(asyncio.run(plan()))
    _, first = plan_and_apply(world, records, saved=saved, stop_after=2, concurrency=1)
    assert [o.status for o in first.outcomes][:2] == [Status.APPLIED, Status.APPLIED]
    world.sandbox.clear_log()
    _, second = plan_and_apply(world, records, saved=saved)
    statuses = [o.status for o in second.outcomes]
    assert statuses[:2] == [Status.ALREADY_APPLIED, Status.ALREADY_APPLIED]
    assert statuses[2:] == [Status.APPLIED] * (len(ACTIVE) - 2)
    assert sorted(world.patches()) == [r["id"] for r in ACTIVE[2:]]


def test_a_saved_plan_whose_patch_was_edited_is_refused(world: World) -> None:
    records = desired()

    async def plan() -> Plan:
        async with world.client() as client:
            return (await compute_plan(client, records, world.state(), files={})).plan

    data = json.loads(asyncio.run(plan()).to_json())
    data["changes"][0]["sends"]["body"]["title"] = "Something the reviewer never saw"
    del data["checksum"]  # a careful forger recomputes it; the rebuilt PATCH still differs
    forged = Plan.from_dict(data)
    world.sandbox.clear_log()
    _, report = plan_and_apply(world, records, saved=forged)
    assert report.outcomes[0].status is Status.REFUSED
    assert ACTIVE[0]["id"] not in world.patches()
    assert all(o.status is Status.APPLIED for o in report.outcomes[1:])
