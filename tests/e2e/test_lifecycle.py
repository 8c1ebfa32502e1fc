"""Issue 10 end to end, over real HTTP against the sandbox: create from a file without id, stop
managing or delete when a file goes, and the saved-plan format 2 that carries those actions."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from reconciler.errors import ExitCode
from reconciler.sandbox import Faults

from .conftest import World, record

NEW_FILE = """\
# A deal from the trade show: no id yet, apply creates it.
title: "Nguyen Heat Pump"   # the customer's name
address:
  - 18 Willow Ln, Houston, TX 77002
trades: [HVAC]
status: ON_HOLD
custom:
  roof_type: 'Metal'
"""


def write_new(world: World, text: str = NEW_FILE, name: str = "new.yaml") -> Path:
    path = world.dir / name
    path.write_text(text, encoding="utf-8")
    return path


def posts(world: World) -> list[Any]:
    return [r for r in world.sandbox.requests() if r.method == "POST"]


def state(world: World) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(world.state.read_text(encoding="utf-8"))
    return data


def api(world: World, method: str, path: str, **kwargs: Any) -> httpx.Response:
    return httpx.request(
        method,
        f"{world.sandbox.base_url}{path}",
        headers={"x-api-key": world.sandbox.api_key},
        **kwargs,
    )


def test_create_writes_the_id_into_the_file_and_the_next_plan_has_no_changes(
    make_world: Any,
) -> None:
    world = make_world([record(1)], [record(1)])
    path = write_new(world)
    code, out, err = world.plan("--detailed-exitcode")
    assert code == ExitCode.CHANGES, out + err
    assert f'+ create "Nguyen Heat Pump" ({path})' in out
    assert '      status: "ON_HOLD"' in out  # write-only fields are sent on create, and shown
    assert '      custom: {"roof_type": "Metal"}' in out
    assert "Plan: 1 to create, 0 to update, 1 unchanged." in out

    code, out, err = world.apply()
    assert code == ExitCode.OK, out + err
    (post,) = posts(world)
    assert post.path == "/opportunities"
    assert post.query["match_by"] == "title" and post.query["match_found_strategy"] == "skip"
    assert post.body["status"] == "ON_HOLD" and "id" not in post.body
    new_id = world.sandbox.count()
    assert f"  {new_id} ({path}): created" in out or "1 created" in out
    # The id is the first key; the comments, the order and the quoting are kept.
    assert path.read_text(encoding="utf-8") == NEW_FILE.replace(
        'title: "Nguyen', f'id: {new_id}\ntitle: "Nguyen'
    )
    saved = state(world)
    assert saved["records"][str(new_id)] == {"status": "ON_HOLD"}
    assert saved["managed"] == {"1": str(world.dir / "1.yaml"), str(new_id): str(path)}
    assert "pending_creates" not in saved

    code, out, err = world.plan("--detailed-exitcode")
    assert code == ExitCode.OK, out + err
    assert "No changes" in out
    assert len(posts(world)) == 1


def test_a_live_record_with_the_title_is_refused_at_plan_time_archived_included(
    make_world: Any,
) -> None:
    world = make_world([record(1), record(2, title="Old Deal", isActive=False)], [record(1)])
    write_new(world, NEW_FILE.replace("Nguyen Heat Pump", "Deal 1"), "a.yaml")
    write_new(world, NEW_FILE.replace("Nguyen Heat Pump", "Old Deal"), "b.yaml")
    code, out, _ = world.plan()
    assert code == ExitCode.ERROR
    assert (
        '1 "Deal 1" already exists: add "id: 1" to this file to manage it, or change its title'
    ) in out
    assert '2 "Old Deal" (archived) already exists: add "id: 2"' in out
    code, out, _err = world.apply()
    assert code == ExitCode.ERROR
    assert posts(world) == []


def test_a_match_on_another_field_names_it(make_world: Any) -> None:
    world = make_world([record(1, primaryEmail="ana@example.com")], [record(1)])
    text = NEW_FILE + "primaryEmail: ana@example.com\n"
    write_new(world, text)
    code, out, _ = world.plan("--match-by", "primaryEmail")
    assert code == ExitCode.ERROR
    assert 'add "id: 1" to this file to manage it, or change its primaryEmail' in out
    assert world.plan()[0] == ExitCode.OK  # by title, it matches nothing


def test_two_new_files_with_one_title_are_a_validate_error_naming_each_other(
    make_world: Any,
) -> None:
    world = make_world([record(1)], [record(1)])
    a = write_new(world, name="a.yaml")
    b = write_new(world, name="b.yaml")
    code, out, err = world.run("validate", str(world.dir))
    assert code == ExitCode.ERROR
    assert f"{a}:2:1: title: {b}:2 also declares a new opportunity with title " in out
    assert f"{b}:2:1: title: {a}:2 also declares" in out
    code, _, err = world.plan()
    assert code == ExitCode.ERROR and "nothing was read from or sent to the API" in err
    assert world.sandbox.requests() == []


def test_a_record_created_between_plan_and_apply_is_reported_as_a_match_not_bound(
    make_world: Any, tmp_path: Path
) -> None:
    world = make_world([record(1)], [record(1)])
    path = write_new(world)
    plan_file = tmp_path / "plan.json"
    assert world.plan("--out", str(plan_file))[0] == ExitCode.OK
    # Someone else creates the same title, with another address, before the apply.
    theirs = api(
        world,
        "POST",
        "/opportunities",
        json={"title": "Nguyen Heat Pump", "address": ["1 Elm St, Austin, TX"], "trades": ["HVAC"]},
    ).json()
    code, out, err = world.run(
        "apply", str(plan_file), "--dir", str(world.dir), "--state", str(world.state),
        "--auto-approve",
    )  # fmt: skip
    assert code == ExitCode.ERROR, out + err
    assert f"  {theirs['id']} ({path}): NOT CREATED: not created: the API matched " in out
    assert "differs in address" in out
    assert "1 matched an existing record (not created)" in out
    assert "id:" not in path.read_text(encoding="utf-8")  # nothing bound
    assert str(theirs["id"]) not in state(world).get("managed", {})
    assert world.live(theirs["id"])["address"] == ["1 Elm St, Austin, TX"]  # untouched
    assert world.sandbox.count() == 2


def test_unmanage_by_default_delete_only_with_prune(make_world: Any) -> None:
    world = make_world([record(1), record(2), record(3)], [record(1), record(2), record(3)])
    assert world.apply()[0] == ExitCode.OK  # nothing to change: the managed ids are recorded
    assert set(state(world)["managed"]) == {"1", "2", "3"}
    (world.dir / "2.yaml").unlink()
    code, out, err = world.plan("--detailed-exitcode")
    assert code == ExitCode.CHANGES, out + err
    assert '- 2 "Deal 2" no longer managed (file removed)' in out
    assert "Plan: 0 to update, 1 no longer managed, 2 unchanged." in out
    code, out, err = world.apply()
    assert code == ExitCode.OK, out + err
    assert set(state(world)["managed"]) == {"1", "3"}
    assert world.live(2)["title"] == "Deal 2"  # nothing was sent
    assert [r.method for r in world.sandbox.requests() if r.method != "GET"] == []
    assert world.plan("--detailed-exitcode")[0] == ExitCode.OK

    (world.dir / "3.yaml").unlink()
    code, out, _ = world.plan("--prune")
    lines = out.splitlines()
    assert lines[0].startswith("reconciler will DELETE these opportunities")
    assert '  - delete 3 "Deal 3" (file removed)' in lines
    plan = world.plan_json("--prune")
    assert plan["options"]["prune"] is True
    assert plan["changes"][0] == {
        "action": "delete", "id": 3, "file": str(world.dir / "3.yaml"), "title": "Deal 3",
        "reason": "file removed", "live_updated_at": world.live(3)["updatedAt"],
        "sends": {"method": "DELETE"},
    }  # fmt: skip
    code, out, err = world.apply("--prune")
    assert code == ExitCode.OK, out + err
    assert "1 deleted" in out
    assert api(world, "GET", "/opportunities/3").status_code == 404
    assert set(state(world)["managed"]) == {"1"}


def test_a_moved_or_renamed_file_keeping_its_id_is_not_a_removal(make_world: Any) -> None:
    world = make_world([record(1), record(2)], [record(1), record(2)])
    assert world.apply()[0] == ExitCode.OK
    (world.dir / "sub").mkdir()
    (world.dir / "2.yaml").rename(world.dir / "sub" / "deal-two.yaml")
    code, out, err = world.plan("--prune", "--detailed-exitcode")
    assert code == ExitCode.OK, out + err
    assert world.apply("--prune")[0] == ExitCode.OK
    assert state(world)["managed"]["2"] == str(world.dir / "sub" / "deal-two.yaml")


def test_without_a_state_file_nothing_is_pruned(make_world: Any) -> None:
    world = make_world([record(1), record(2)], [record(1)])
    code, out, _ = world.plan("--prune", "--detailed-exitcode")
    assert code == ExitCode.OK and "delete" not in out


def test_a_delete_edited_live_since_the_plan_is_refused_as_stale(
    make_world: Any, tmp_path: Path
) -> None:
    world = make_world([record(1), record(2)], [record(1), record(2)])
    assert world.apply()[0] == ExitCode.OK
    (world.dir / "2.yaml").unlink()
    plan_file = tmp_path / "plan.json"
    assert world.plan("--prune", "--out", str(plan_file))[0] == ExitCode.OK
    world.edit_live(2, {"description": "edited by a colleague after the plan"})
    code, out, err = world.run(
        "apply", str(plan_file), "--dir", str(world.dir), "--state", str(world.state),
        "--auto-approve",
    )  # fmt: skip
    assert code == ExitCode.ERROR, out + err
    assert "2 (" in out and "stale, skipped: edited in Coperniq since the plan was made" in out
    assert world.live(2)["description"] == "edited by a colleague after the plan"
    assert "2" in state(world)["managed"]  # still managed: a new plan decides again


def test_deletes_and_creates_count_toward_max_changes(make_world: Any) -> None:
    world = make_world([record(1), record(2)], [record(1), record(2)])
    assert world.apply()[0] == ExitCode.OK
    (world.dir / "2.yaml").unlink()
    write_new(world)
    code, _, err = world.apply("--prune", "--max-changes", "1")
    assert code == ExitCode.ERROR
    assert "the plan changes 2 records (creates, updates and deletes)" in err
    assert world.live(2)["title"] == "Deal 2" and posts(world) == []


def test_prune_is_recorded_in_the_saved_plan(make_world: Any, tmp_path: Path) -> None:
    world = make_world([record(1), record(2)], [record(1), record(2)])
    assert world.apply()[0] == ExitCode.OK
    (world.dir / "2.yaml").unlink()
    plan_file = tmp_path / "plan.json"
    assert world.plan("--out", str(plan_file))[0] == ExitCode.OK  # without --prune
    code, _, err = world.run(
        "apply", str(plan_file), "--prune", "--dir", str(world.dir), "--state", str(world.state),
        "--auto-approve",
    )  # fmt: skip
    assert code == ExitCode.USAGE and "was planned without --prune" in err
    assert world.live(2)["title"] == "Deal 2"


def test_a_plan_file_of_format_version_1_is_refused_saying_so(
    make_world: Any, tmp_path: Path
) -> None:
    world = make_world([record(1)], [record(1)])
    plan_file = tmp_path / "old.json"
    plan_file.write_text(json.dumps({"format_version": "1", "changes": []}), encoding="utf-8")
    code, _, err = world.run(
        "apply", str(plan_file), "--dir", str(world.dir), "--state", str(world.state),
        "--auto-approve",
    )  # fmt: skip
    assert code == ExitCode.ERROR
    assert "is a plan of format_version '1'; this reconciler reads format_version '2' only" in err


def test_a_saved_plan_edited_to_delete_or_create_something_else_is_refused(
    make_world: Any, tmp_path: Path
) -> None:
    world = make_world([record(1), record(2), record(3)], [record(1), record(2), record(3)])
    assert world.apply()[0] == ExitCode.OK
    (world.dir / "2.yaml").unlink()
    write_new(world)
    plan_file = tmp_path / "plan.json"
    assert world.plan("--prune", "--out", str(plan_file))[0] == ExitCode.OK
    data = json.loads(plan_file.read_text(encoding="utf-8"))
    delete = next(c for c in data["changes"] if c["action"] == "delete")
    delete["id"] = 3  # a record a file still declares
    create = next(c for c in data["changes"] if c["action"] == "create")
    create["sends"]["body"]["title"] = "Something Else"
    data.pop("checksum")  # as an attacker would recompute it
    plan_file.write_text(json.dumps(data), encoding="utf-8")
    code, out, err = world.run(
        "apply", str(plan_file), "--dir", str(world.dir), "--state", str(world.state),
        "--auto-approve",
    )  # fmt: skip
    assert code == ExitCode.ERROR, out + err
    assert "REFUSED: the saved plan removes 3, which is not a managed record" in out
    assert "REFUSED: the saved plan's POST body is not the one its file declares" in out
    assert [r.method for r in world.sandbox.requests() if r.method in ("POST", "DELETE")] == []
    assert world.live(3)["title"] == "Deal 3"


def test_a_state_file_of_another_api_prunes_nothing(make_world: Any) -> None:
    world = make_world([record(1), record(2)], [record(1)])
    world.state.write_text(
        json.dumps(
            {
                "format_version": "1",
                "api_url": "https://other.example.com/v1",
                "records": {},
                "live_total": 2,
                "managed": {"1": str(world.dir / "1.yaml"), "2": str(world.dir / "2.yaml")},
            }
        ),
        encoding="utf-8",
    )
    code, out, err = world.plan("--prune", "--detailed-exitcode")
    assert code == ExitCode.OK, out + err
    assert "delete" not in out and "no longer managed" not in out


def test_kill_9_between_the_post_and_the_id_write_then_a_rerun_binds_without_a_duplicate(
    make_world: Any,
) -> None:
    world = make_world([record(1)], [record(1)])
    path = write_new(world)
    # Every POST is handled (the record is created), then its answer is cut: the apply process
    # has made the record but cannot know its id; it retries, and is killed meanwhile.
    world.sandbox.set_faults(Faults(drop_rate=1.0, methods=frozenset({"POST"})))
    env = {
        **os.environ,
        "COPERNIQ_API_URL": world.sandbox.base_url,
        "COPERNIQ_API_KEY": world.sandbox.api_key,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "apply", "--dir", str(world.dir),
         "--state", str(world.state), "--auto-approve"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while world.sandbox.count() < 2:
            assert proc.poll() is None, "apply ended before its POST was handled"
            assert time.monotonic() < deadline, "the POST never reached the sandbox"
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    assert "id:" not in path.read_text(encoding="utf-8")  # killed before the id write
    assert str(path) in state(world)["pending_creates"]
    created = world.sandbox.count()

    world.sandbox.set_faults(Faults())
    world.sandbox.clear_log()
    code, out, err = world.plan()
    assert f"+ bind {created} " in out, out + err
    code, out, err = world.apply()
    assert code == ExitCode.OK, out + err
    assert posts(world) == []  # nothing created twice
    assert world.sandbox.count() == created
    first, second = path.read_text(encoding="utf-8").splitlines()[:2]
    assert first.startswith("# A deal from the trade show") and second == f"id: {created}"
    saved = state(world)
    assert "pending_creates" not in saved and saved["managed"][str(created)] == str(path)
    assert saved["records"][str(created)] == {"status": "ON_HOLD"}
    assert world.plan("--detailed-exitcode")[0] == ExitCode.OK


def test_drift_reports_a_managed_record_whose_file_is_gone(make_world: Any) -> None:
    world = make_world([record(1), record(2)], [record(1), record(2)])
    assert world.apply()[0] == ExitCode.OK
    (world.dir / "2.yaml").unlink()
    args = ("drift", "--dir", str(world.dir), "--state", str(world.state))
    code, out, _ = world.run(*args, "--detailed-exitcode")
    assert code == ExitCode.CHANGES
    assert "These managed records lost their file (git no longer declares them):" in out
    assert f"  ! 2 ({world.dir / '2.yaml'}): managed, but its file was removed" in out
    assert "Drift: 0 drifted, 1 with their file removed, 1 in sync (1 file checked)." in out
    report = json.loads(world.run(*args, "--format", "json")[1])
    assert report["absent"] == [
        {"id": 2, "file": str(world.dir / "2.yaml"), "kind": "file_removed"}
    ]
    assert report["summary"]["file_removed"] == 1
