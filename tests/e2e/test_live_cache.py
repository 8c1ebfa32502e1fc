"""The live snapshot cache end to end: incremental reads, when a full read is forced, the saved
plan's stale check made incrementally, and a cache that cannot be trusted."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from reconciler.errors import ExitCode

from .conftest import World, record


def cache_files(world: World) -> list[Path]:
    return sorted((world.state.parent / "cache").glob("live-*.json"))


def listing_requests(world: World) -> list[Any]:
    return [r for r in world.sandbox.requests() if r.method == "GET"]


OLD = "2026-01-01T00:00:00.000Z"


def old(i: int) -> str:
    """Seeded records last changed long ago, an hour apart: outside the overlap but the last."""
    return f"2025-{1 + i // 600 % 12:02d}-{1 + i // 24 % 25:02d}T{i % 24:02d}:00:00.000Z"


def seeded(make_world: Any, n: int = 250) -> World:
    live = [record(i, value=i, updatedAt=old(i)) for i in range(1, n + 1)]
    desired = [record(i, value=i) for i in range(1, n + 1)]
    world: World = make_world(live, desired)
    return world


def test_second_plan_reads_only_the_changes(make_world: Any) -> None:
    world = seeded(make_world)
    first = world.plan_json()
    assert first["requests"]["spent"] == 3  # 250 records: pages 1-3
    assert first["requests"]["read"] == "full read: no usable snapshot"
    (path,) = cache_files(world)
    text = path.read_text()
    assert world.sandbox.api_key not in text

    world.sandbox.clear_log()
    second = world.plan_json()
    assert second["requests"]["spent"] == 1
    assert second["requests"]["read"].startswith("changes since ")
    assert re.search(r"; last full read \d+ s ago$", second["requests"]["read"])
    (get,) = listing_requests(world)
    assert get.query["updated_after"] and get.query["include_archived"] == "true"
    assert get.query["order_by"] == "asc" and get.query["page_size"] == "100"
    assert second["changes"] == first["changes"] == []

    code, out, _ = world.plan()
    assert code == ExitCode.OK
    assert "Requests: 1 spent reading (changes since " in out


def test_live_edits_and_file_edits_show_up_incrementally(make_world: Any) -> None:
    world = seeded(make_world)
    world.plan_json()
    world.edit_live(7, {"value": 700})
    world.write(record(9, value=900))
    plan = world.plan_json()
    assert plan["requests"]["spent"] == 1
    changed = {c["id"]: c["fields"] for c in plan["changes"]}
    assert changed[7] == [{"field": "value", "before": 700, "after": 7, "before_known": True}]
    assert changed[9] == [{"field": "value", "before": 9, "after": 900, "before_known": True}]


def test_a_new_file_for_an_id_the_snapshot_lacks_is_read_by_id(make_world: Any) -> None:
    world = make_world([record(i, updatedAt=OLD) for i in range(1, 4)], [record(1)])
    world.plan_json("--target", "1")  # snapshot: record 1 only
    world.write(record(3, value=5))
    world.write(record(99))  # does not exist
    plan = world.plan_json()
    assert plan["requests"]["read"].startswith("changes since ")
    assert [c["id"] for c in plan["changes"]] == [3]
    assert [(e["id"], e["kind"]) for e in plan["errors"]] == [(99, "missing")]


def test_refresh_full_and_max_age_force_a_full_read(make_world: Any) -> None:
    world = seeded(make_world)
    world.plan_json()
    assert world.plan_json("--refresh", "full")["requests"]["read"] == "full read: --refresh full"
    stale = world.plan_json("--max-snapshot-age", "0s")["requests"]["read"]
    assert stale.startswith("full read: last full read ") and stale.endswith("over 0 s")
    assert world.plan_json("--refresh", "incremental", "--max-snapshot-age", "0s")["requests"][
        "read"
    ].startswith("changes since ")


def test_another_api_url_has_its_own_snapshot(make_world: Any, tmp_path: Path) -> None:
    world = seeded(make_world, 5)
    world.plan_json()
    other = make_world([record(i, value=i + 1, updatedAt=OLD) for i in range(1, 6)])
    plan = world.plan_json("--api-url", other.sandbox.base_url)
    # a second sandbox with other values: its plan is read in full and sees its own values
    assert plan["requests"]["read"] == "full read: no usable snapshot"
    assert len(plan["changes"]) == 5
    assert len(cache_files(world)) == 2


def _corrupt(path: Path, how: str, url: str) -> None:
    data = orjson.loads(path.read_bytes())
    if how == "truncated":
        path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    elif how == "garbage":
        path.write_bytes(b"\x00\xffnot json at all")
    elif how == "foreign":
        path.write_text(json.dumps({"hello": "world"}))
    elif how == "other-url":
        data["api_url"] = "https://example.invalid/v1"
        path.write_bytes(orjson.dumps(data))
    elif how == "other-version":
        data["format_version"] = "0"
        path.write_bytes(orjson.dumps(data))
    elif how == "future":
        data["full_read_at"] = "2999-01-01T00:00:00+00:00"
        path.write_bytes(orjson.dumps(data))
    elif how == "tampered-record":
        data["records"][0]["apiKey"] = "x"
        path.write_bytes(orjson.dumps(data))
    elif how == "no-mark":
        data["mark"] = None
        path.write_bytes(orjson.dumps(data))
    elif how == "directory":
        path.unlink()
        path.mkdir()


@pytest.mark.parametrize(
    "how",
    [
        "truncated",
        "garbage",
        "foreign",
        "other-url",
        "other-version",
        "future",
        "tampered-record",
        "no-mark",
        "directory",
    ],
)
def test_an_untrustworthy_cache_is_ignored_with_one_line(make_world: Any, how: str) -> None:
    world = seeded(make_world, 120)
    world.plan_json()
    (path,) = cache_files(world)
    # A lie planted in the snapshot: if it were trusted, the plan would show a change for 3.
    data = orjson.loads(path.read_bytes())
    for r in data["records"]:
        if r["id"] == 3:
            r["value"] = 12345
    path.write_bytes(orjson.dumps(data))
    _corrupt(path, how, world.sandbox.base_url)
    world.edit_live(5, {"value": 55})

    code, out, err = world.plan("--format", "json")
    assert code == ExitCode.OK or code == ExitCode.CHANGES, err
    plan = json.loads(out)
    notices = [line for line in err.splitlines() if "Live cache" in line]
    assert len(notices) == (1 if how != "directory" else 2), err
    assert "ignored" in notices[0] and "reading in full" in notices[0]
    assert plan["requests"]["read"] == "full read: no usable snapshot"
    assert [c["id"] for c in plan["changes"]] == [5]  # never the planted lie about 3


def test_the_planted_lie_is_believed_when_the_cache_is_sound(make_world: Any) -> None:
    """The control for the test above: the planted value is read when the file is trusted."""
    world = seeded(make_world, 120)
    world.plan_json()
    (path,) = cache_files(world)
    data = orjson.loads(path.read_bytes())
    for r in data["records"]:
        if r["id"] == 3:
            r["value"] = 12345
    path.write_bytes(orjson.dumps(data))
    assert [c["id"] for c in world.plan_json()["changes"]] == [3]


def test_saved_plan_stale_check_made_incrementally_refuses_live_changes(
    make_world: Any, tmp_path: Path
) -> None:
    world = seeded(make_world, 150)
    for i in (2, 4, 6, 8):
        world.write(record(i, value=i * 100))
    out = tmp_path / "plan.json"
    code, _, err = world.plan("--out", str(out))
    assert code == ExitCode.OK, err
    for i in (2, 6):  # live edits after the plan: one to a planned field, one elsewhere
        world.edit_live(i, {"value": 1})
    world.edit_live(4, {"description": "edited live"})
    world.sandbox.clear_log()
    code, stdout, err = world.run(
        "apply", str(out), "--dir", str(world.dir), "--state", str(world.state), "--auto-approve"
    )
    gets = listing_requests(world)
    assert len(gets) == 1 and "updated_after" in gets[0].query  # one incremental read
    assert "2 (" in stdout and "stale" in stdout
    patched = sorted(int(p.path.rsplit("/", 1)[1]) for p in world.patches())
    assert 2 not in patched and 6 not in patched
    assert 8 in patched


def test_deleted_records_are_seen_by_the_next_full_read(make_world: Any) -> None:
    """A deletion is invisible to updated_after (documented): the snapshot keeps the record
    until the next full read, which reports it missing."""
    world = seeded(make_world, 5)
    world.plan_json()
    httpx.delete(
        f"{world.sandbox.base_url}/opportunities/3",
        headers={"x-api-key": world.sandbox.api_key},
    ).raise_for_status()
    assert world.plan_json()["errors"] == []  # incremental: the deletion cannot be seen
    full = world.plan_json("--refresh", "full")
    assert [(e["id"], e["kind"]) for e in full["errors"]] == [(3, "missing")]


def test_quota_too_low_refuses_the_read_with_the_numbers(make_world: Any) -> None:
    world = seeded(make_world, 450)
    world.sandbox.set_limits(rate_per_day=3)
    code, _, err = world.plan("--refresh", "full")
    assert code == ExitCode.ERROR
    assert "needs about 4 more requests" in err and "has 2 left today" in err
    assert len(listing_requests(world)) == 1


def test_drift_reads_incrementally_and_says_so(make_world: Any) -> None:
    world = seeded(make_world, 150)
    world.run("drift", "--dir", str(world.dir), "--state", str(world.state))
    world.edit_live(3, {"value": 33})
    world.sandbox.clear_log()
    code, out, _ = world.run(
        "drift", "--dir", str(world.dir), "--state", str(world.state), "--detailed-exitcode"
    )
    assert code == ExitCode.CHANGES
    assert len(world.sandbox.requests()) == 1
    assert "Requests: 1 spent reading (changes since " in out


def test_a_record_deleted_since_the_snapshot_fails_cleanly_at_apply(make_world: Any) -> None:
    world = seeded(make_world, 5)
    world.plan_json()
    httpx.delete(
        f"{world.sandbox.base_url}/opportunities/3",
        headers={"x-api-key": world.sandbox.api_key},
    ).raise_for_status()
    world.write(record(3, value=333))
    world.write(record(4, value=444))
    code, out, err = world.apply("--force")
    assert code == ExitCode.ERROR
    assert "Traceback" not in out + err
    assert "3 (" in out and "FAILED: Record 3: not found" in out
    assert "1 applied, 1 failed" in out
    assert world.live(4)["value"] == 444
    # the failed record is dropped from the snapshot: the next plan reads it by id
    plan = world.plan_json()
    assert plan["requests"]["read"].startswith("changes since ")
    assert [(e["id"], e["kind"]) for e in plan["errors"]] == [(3, "missing")]


def test_an_incremental_read_that_brings_nothing_new_leaves_the_snapshot_unwritten(
    make_world: Any,
) -> None:
    world = seeded(make_world)
    world.edit_live(5, {"value": 50})  # inside the overlap window: read again by every run
    world.plan_json()
    (path,) = cache_files(world)
    written = path.stat()
    world.plan_json()
    again = path.stat()
    assert (again.st_ino, again.st_mtime_ns) == (written.st_ino, written.st_mtime_ns)
    world.edit_live(6, {"value": 60})
    plan = world.plan_json()
    assert {c["id"] for c in plan["changes"]} == {5, 6}
    assert path.stat().st_ino != written.st_ino  # rewritten (atomically: a new file)


@pytest.mark.parametrize("name", ["files.json", "live", "quota"])
def test_a_cache_file_replaced_by_a_fifo_is_ignored_not_opened(make_world: Any, name: str) -> None:
    """Opening a FIFO blocks until a writer comes: forever, in CI. Each cache file is looked at
    first, and one that is not a regular file is ignored with one line, never opened."""
    world = seeded(make_world, 20)
    world.plan_json()  # writes the caches
    folder = world.state.parent / "cache"
    (path,) = [p for p in folder.iterdir() if p.name.startswith(name)]
    path.unlink()
    os.mkfifo(path)
    code, out, err = world.plan("--format", "json")
    assert code == ExitCode.OK, err
    assert json.loads(out)["changes"] == []
    ignored = f"{path} ignored: it is a FIFO (named pipe), not a regular file"
    assert len([line for line in err.splitlines() if ignored in line]) == 1, err
