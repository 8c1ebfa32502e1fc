"""plan and apply end to end, over real HTTP against the sandbox."""

from __future__ import annotations

import json
from typing import Any

from reconciler.errors import ExitCode
from reconciler.sandbox import SandboxConfig

from .conftest import record


def test_apply_sends_only_the_changed_fields_and_converges(make_world: Any) -> None:
    live = [
        record(1, value=1000, description="old", custom={"financing_type": "Loan"}),
        record(2, value=5),
    ]
    desired = [
        record(1, value=1200, description="old", custom={"financing_type": "Cash"}),
        record(2, value=5.0),
    ]
    world = make_world(live, desired)
    code, out, _ = world.plan("--detailed-exitcode")
    assert code == ExitCode.CHANGES
    assert "~ 1 " in out and "value: 1000 -> 1200" in out
    assert "custom.financing_type" in out
    assert "Plan: 1 to update, 1 unchanged." in out

    code, out, err = world.apply()
    assert code == ExitCode.OK, out + err
    patches = world.patches()
    assert [(p.path, p.body) for p in patches] == [
        ("/opportunities/1", {"value": 1200, "custom": {"financing_type": "Cash"}})
    ]
    assert "1 applied, 0 failed" in out

    assert world.plan("--detailed-exitcode")[0] == ExitCode.OK
    assert len(world.patches()) == 1  # the second plan sent nothing


def test_json_plan_shape(make_world: Any) -> None:
    world = make_world([record(1, value=1)], [record(1, value=2)])
    plan = world.plan_json()
    assert plan["format_version"] == "2"
    assert plan["options"] == {"prune": False, "match_by": "title"}
    assert plan["summary"] == {
        "create": 0, "update": 1, "delete": 0, "unmanage": 0, "unchanged": 0, "errors": 0
    }  # fmt: skip
    (change,) = plan["changes"]
    assert change["id"] == 1 and change["action"] == "update"
    assert change["fields"] == [{"field": "value", "before": 1, "after": 2, "before_known": True}]
    assert change["sends"] == {"method": "PATCH", "body": {"value": 2}}
    assert change["new_options"] == []
    assert change["live_updated_at"]
    assert plan["requests"]["apply"] == 1
    assert plan["requests"]["spent"] >= 1
    assert isinstance(plan["requests"]["remaining"], int)
    assert plan["checksum"].startswith("sha256:")


def test_trades_order_and_integer_float_are_not_changes(make_world: Any) -> None:
    live = [record(1, trades=["Solar", "Battery Storage"], value=1000, size=8)]
    desired = [record(1, trades=["Battery Storage", "Solar"], value=1000.0, size=8.0)]
    world = make_world(live, desired)
    assert world.plan("--detailed-exitcode")[0] == ExitCode.OK


def test_custom_is_merged_key_by_key(make_world: Any) -> None:
    live = [record(1, custom={"financing_type": "Loan", "utility_company": "Austin Energy"})]
    desired = [record(1, custom={"financing_type": "PPA"})]
    world = make_world(live, desired)
    assert world.apply()[0] == ExitCode.OK
    assert world.patches()[0].body == {"custom": {"financing_type": "PPA"}}
    custom = world.live(1)["custom"]
    assert custom["utility_company"] == "Austin Energy"  # unmanaged key kept
    assert custom["financing_type"] == "PPA"


def test_null_clears_a_custom_key_and_a_nullable_field(make_world: Any) -> None:
    live = [record(1, description="x", custom={"financing_type": "Loan"})]
    desired = [record(1, description=None, custom={"financing_type": None})]
    world = make_world(live, desired)
    assert world.apply()[0] == ExitCode.OK
    assert world.patches()[0].body == {"description": None, "custom": {"financing_type": None}}
    assert world.plan("--detailed-exitcode")[0] == ExitCode.OK


def test_write_only_fields_use_the_state_file(make_world: Any) -> None:
    world = make_world([record(1, status="ON_HOLD")], [record(1, status="ACTIVE", contacts=[501])])
    _code, out, _ = world.plan()
    assert 'status: (current value cannot be read) -> "ACTIVE"' in out
    assert world.apply()[0] == ExitCode.OK
    assert world.sandbox.record(1)["status"] == "ACTIVE"
    state = json.loads(world.state.read_text())
    assert state["records"]["1"] == {"status": "ACTIVE", "contacts": [501]}
    assert world.plan("--detailed-exitcode")[0] == ExitCode.OK
    world.write(record(1, status="COMPLETED", contacts=[501]))
    plan = world.plan_json()
    assert plan["changes"][0]["fields"] == [
        {"field": "status", "before": "ACTIVE", "after": "COMPLETED", "before_known": True}
    ]


def test_a_record_missing_or_archived_live_is_an_error_for_that_record(make_world: Any) -> None:
    live = [record(1, value=1), record(2, isActive=False)]
    desired = [record(1, value=2), record(2, value=3), record(3)]
    world = make_world(live, desired)
    code, out, _ = world.plan()
    assert code == ExitCode.ERROR
    assert "2 (" in out and "archived" in out
    assert "3 (" in out and "does not exist" in out
    code, out, _ = world.apply()
    assert code == ExitCode.ERROR
    assert [p.path for p in world.patches()] == ["/opportunities/1"]


def test_saved_plan_applies_exactly_and_refuses_stale_records(make_world: Any) -> None:
    live = [record(1, value=1), record(2, value=1)]
    desired = [record(1, value=2), record(2, value=2)]
    world = make_world(live, desired)
    planfile = world.dir.parent / "plan.json"
    assert world.plan("--out", str(planfile))[0] == ExitCode.OK
    world.edit_live(2, {"value": 7})  # someone edits record 2 by hand after the review
    world.sandbox.clear_log()
    code, out, _ = world.run(
        "apply", str(planfile), "--dir", str(world.dir), "--state", str(world.state),
        "--auto-approve",
    )  # fmt: skip
    assert code == ExitCode.ERROR
    assert "2 (" in out and "stale" in out and "value" in out
    assert [p.path for p in world.patches()] == ["/opportunities/1"]
    assert world.live(2)["value"] == 7


def test_saved_plan_is_refused_when_the_files_changed(make_world: Any) -> None:
    world = make_world([record(1, value=1)], [record(1, value=2)])
    planfile = world.dir.parent / "plan.json"
    world.plan("--out", str(planfile))
    world.write(record(1, value=3))
    code, _, err = world.run(
        "apply", str(planfile), "--dir", str(world.dir), "--state", str(world.state),
        "--auto-approve",
    )  # fmt: skip
    assert code == ExitCode.ERROR
    assert "files changed since" in err
    assert world.patches() == []


def test_new_dropdown_options_need_allow_new_options(make_world: Any) -> None:
    world = make_world([record(1)], [record(1, trades=["Solar", "Geothermal"])])
    code, out, _ = world.plan()
    assert 'new dropdown option trades: "Geothermal"' in out
    code, _, err = world.apply()
    assert code == ExitCode.ERROR and "--allow-new-options" in err
    assert world.patches() == []
    assert world.apply("--allow-new-options")[0] == ExitCode.OK
    assert world.patches()[0].query.get("allow_new_options") == "true"


def test_unknown_custom_key_is_caught_at_plan_time(make_world: Any) -> None:
    world = make_world([record(1)], [record(1, custom={"no_such_key": "x"})])
    code, out, _ = world.plan()
    assert code == ExitCode.ERROR
    assert "custom.no_such_key: no such custom property" in out


def test_max_changes_guard(make_world: Any) -> None:
    n = 12
    world = make_world(
        [record(i) for i in range(1, n + 1)], [record(i, value=i) for i in range(1, n + 1)]
    )
    code, _, err = world.apply("--max-changes", "5")
    assert code == ExitCode.ERROR and "more than the limit of 5" in err
    assert world.patches() == []
    assert world.apply("--max-changes", "5", "--force")[0] == ExitCode.OK
    assert len(world.patches()) == n


def test_apply_stops_before_starting_when_the_quota_is_short(make_world: Any) -> None:
    n = 10
    world = make_world(
        [record(i) for i in range(1, n + 1)],
        [record(i, value=i) for i in range(1, n + 1)],
        SandboxConfig(rate_per_day=10),
    )
    code, _, err = world.apply()
    assert code == ExitCode.ERROR
    assert "needs 10 requests but the API key has" in err
    assert world.patches() == []


def test_target_reads_only_the_named_records(make_world: Any) -> None:
    n = 300
    world = make_world(
        [record(i) for i in range(1, n + 1)], [record(i, value=i) for i in range(1, n + 1)]
    )
    plan = world.plan_json("--target", "7", "--target", "290")
    assert [c["id"] for c in plan["changes"]] == [7, 290]
    reads = [r for r in world.sandbox.requests() if r.method == "GET"]
    assert len(reads) <= 2  # never the three pages a listing up to id 290 would cost
    assert plan["requests"]["spent"] == len(reads)


def test_send_required_against_a_strict_server(make_world: Any) -> None:
    world = make_world(
        [record(1, value=1)], [record(1, value=2)], SandboxConfig(require_full_patch=True)
    )
    code, _out, _ = world.apply()
    assert code == ExitCode.ERROR  # the strict server refuses a partial body
    assert world.apply("--send-required")[0] == ExitCode.OK
    assert world.patches()[-1].body == {
        "title": "Deal 1", "address": ["1 Main St, Austin, TX 78701"], "trades": ["Solar"],
        "value": 2,
    }  # fmt: skip


def test_requests_alias_base_path(make_world: Any) -> None:
    world = make_world([record(1, value=1)], [record(1, value=2)])
    assert world.apply("--base-path", "/requests")[0] == ExitCode.OK
    assert {r.path.split("/")[1] for r in world.sandbox.requests()} == {"requests"}


def test_apply_without_a_terminal_refuses_without_auto_approve(make_world: Any) -> None:
    world = make_world([record(1, value=1)], [record(1, value=2)])
    code, _, err = world.run("apply", "--dir", str(world.dir), "--state", str(world.state))
    assert code == ExitCode.ERROR and "--auto-approve" in err
    assert world.patches() == []


def test_failed_patch_is_reported_with_the_api_message_and_the_rest_proceed(
    make_world: Any,
) -> None:
    world = make_world([record(1), record(2)], [record(1, value=5), record(2, contacts=[99999])])
    code, out, _ = world.apply()
    assert code == ExitCode.ERROR
    assert "1 applied, 1 failed" in out
    assert "contacts" in out
    assert world.live(1)["value"] == 5


def test_a_server_that_rewrites_a_value_gives_a_warning_naming_file_and_field(
    make_world: Any,
) -> None:
    world = make_world(
        [record(1, primaryPhone="+15125550100")],
        [record(1, primaryPhone="512-555-0142")],
        SandboxConfig(normalize_phones=True),
    )
    code, out, _ = world.apply()
    assert code == ExitCode.OK  # applied; the rewrite is a warning, not a failure
    assert (
        "warning: opportunity 1 (" in out
        and 'primaryPhone: the server stored "+15125550142" instead of "512-555-0142"' in out
    )
    # Until the file says what the server stores, every plan shows the field as a change.
    assert world.plan("--detailed-exitcode")[0] == ExitCode.CHANGES
    world.write(record(1, primaryPhone="+15125550142"))
    assert world.plan("--detailed-exitcode")[0] == ExitCode.OK


def test_a_server_that_replaces_custom_instead_of_merging_is_an_error(make_world: Any) -> None:
    world = make_world(
        [record(1, custom={"financing_type": "Loan", "utility_company": "Austin Energy"})],
        [record(1, custom={"financing_type": "Cash"})],
        SandboxConfig(replace_custom=True),
    )
    code, out, _ = world.apply()
    assert code == ExitCode.ERROR
    assert "custom keys utility_company vanished after the PATCH" in out


def test_an_unwritable_state_file_stops_apply_before_any_patch(make_world: Any) -> None:
    world = make_world([record(1)], [record(1, status="ACTIVE")])
    # Readable as "no state yet", not writable even by root: /proc takes no new folders.
    state = "/proc/reconciler-test/state.json"
    code, _, err = world.run("apply", "--dir", str(world.dir), "--state", state, "--auto-approve")
    assert code == ExitCode.ERROR
    assert "Cannot write the state file" in err
    assert world.patches() == []
