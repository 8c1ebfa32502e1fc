"""The quota memory end to end, against the sandbox over HTTP: a run that was told the quota is
low leaves the figure beside the live cache, and the next plan, saved-plan check or drift refuses
before its first request a read the figure cannot cover; a stale, void, corrupted or foreign
figure is never trusted (the run reads), and the file never holds the key."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from reconciler.cache_options import make_cache
from reconciler.client import ApiClient, ClientSettings
from reconciler.errors import ExitCode
from reconciler.quota import Figure, dump
from reconciler.sandbox import SandboxConfig

from .conftest import World, record

OLD = "2025-06-01T00:00:00.000Z"
AT = r"(?:\d{4}-\d\d-\d\d )?\d\d:\d\d"  # a time of day, with its date when not today's


def seeded(make_world: Any, n: int, config: SandboxConfig | None = None) -> World:
    live = [record(i, value=i, updatedAt=OLD) for i in range(1, n + 1)]
    desired = [record(i, value=i) for i in range(1, n + 1)]
    world: World = make_world(live, desired, config)
    return world


def quota_file(world: World) -> Path:
    (path,) = (world.state.parent / "cache").glob("quota-*.json")
    return path


def rewrite(path: Path, **fields: Any) -> None:
    data = orjson.loads(path.read_bytes())
    data.update(fields)
    path.write_bytes(orjson.dumps(data))


def iso(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).isoformat()


def low_quota(make_world: Any, n: int = 450) -> World:
    """A world whose last run was told 2 of 3 requests remain (it was refused in flight)."""
    world = seeded(make_world, n)
    world.sandbox.set_limits(rate_per_day=3)
    code, _, err = world.plan("--refresh", "full")
    assert code == ExitCode.ERROR and "needs about 4 more requests" in err  # today's guard
    assert "nothing more was read (1 request spent)" in err  # it says what it spent
    world.sandbox.clear_log()
    return world


def test_plan_refuses_before_its_first_request_with_the_numbers(make_world: Any) -> None:
    world = low_quota(make_world)
    code, out, err = world.plan()
    assert code == ExitCode.ERROR
    assert world.sandbox.requests() == []  # before: one request, then the in-flight refusal
    assert out == ""
    first = err.splitlines()[0]
    assert re.fullmatch(
        r"Error: plan needs about 5 requests to read 450 records in full; the API said 2 of 3 "
        rf"remain \(at {AT} UTC, a rolling 24-hour quota\); nothing was read",
        first,
    ), err
    assert "retry once the quota has recovered (from " in err
    assert "--target" in err and "read incrementally" in err and str(quota_file(world)) in err


def test_a_figure_the_read_fits_in_does_not_refuse(make_world: Any) -> None:
    world = low_quota(make_world)
    code, _, err = world.plan("--target", "7", "--target", "8")  # page 1 holds both: 1 request
    assert code == ExitCode.OK, err
    assert len(world.sandbox.requests()) == 1


def test_a_stale_figure_is_not_trusted_the_run_reads(make_world: Any) -> None:
    world = low_quota(make_world)
    world.sandbox.set_limits(rate_per_day=5000)  # the quota recovered meanwhile
    # past the rolling trust window, on both clocks
    rewrite(quota_file(world), seen_at=iso(-timedelta(minutes=11)), server_date=None)
    code, out, err = world.plan()
    assert code == ExitCode.OK, err
    assert len(world.sandbox.requests()) == 5
    # and the figure it was told (and shows: the last answer's) is remembered
    said = re.search(r"\((\d+) remaining today", out)
    assert said is not None and 4995 <= int(said.group(1)) < 5000
    assert orjson.loads(quota_file(world).read_bytes())["remaining"] == int(said.group(1))


def test_the_earlier_clock_decides_when_a_figure_is_stale(make_world: Any) -> None:
    """This machine saw the answer a minute ago, but the server's Date says 11 minutes (a cache
    restored on a machine whose clock runs late, or ours ahead): the figure is doubtful."""
    world = low_quota(make_world)
    world.sandbox.set_limits(rate_per_day=5000)
    rewrite(quota_file(world), server_date=iso(-timedelta(minutes=11)))
    code, _, err = world.plan()
    assert code == ExitCode.OK, err


def test_a_reset_time_in_the_past_voids_the_figure(make_world: Any) -> None:
    world = low_quota(make_world)
    world.sandbox.set_limits(rate_per_day=5000)
    rewrite(quota_file(world), reset_at=iso(-timedelta(seconds=30)))
    code, _, err = world.plan()
    assert code == ExitCode.OK, err


def test_a_reset_time_ahead_is_trusted_until_then_and_said(make_world: Any) -> None:
    world = low_quota(make_world)
    # told an hour ago, resetting in an hour: past the rolling window, but a fixed window holds
    rewrite(
        quota_file(world),
        seen_at=iso(-timedelta(hours=1)),
        server_date=iso(-timedelta(hours=1)),
        reset_at=iso(timedelta(hours=1)),
    )
    code, _, err = world.plan()
    assert code == ExitCode.ERROR
    assert world.sandbox.requests() == []
    assert re.search(rf"the API said 2 of 3 remain \(at {AT} UTC, resets {AT} UTC\)", err)
    assert "retry after the reset" in err


def test_a_reset_ahead_by_the_servers_clock_but_past_by_ours_voids(make_world: Any) -> None:
    """The server's clock ran 2 hours behind ours at the answer: its reset, an hour ahead on its
    clock, is already past on ours. Whichever clock passes the reset first decides."""
    world = low_quota(make_world)
    world.sandbox.set_limits(rate_per_day=5000)
    rewrite(
        quota_file(world),
        server_date=iso(-timedelta(hours=2)),
        reset_at=iso(-timedelta(hours=1)),
    )
    assert world.plan()[0] == ExitCode.OK


@pytest.mark.parametrize(
    ("how", "why"),
    [
        ("truncated", "not valid JSON"),
        ("garbage", "not valid JSON"),
        ("foreign", "not a reconciler quota memory"),
        ("other-url", "written for another API URL"),
        ("other-version", "another format version"),
        ("extra-field", "other fields"),
        ("negative", "not a count"),
        ("bool", "not a count"),
        ("bad-time", "not a timestamp"),
        ("future", "observed later than this machine's clock"),
        ("directory", "it is a directory, not a regular file"),
    ],
)
def test_an_untrustworthy_quota_file_is_ignored_with_one_line(
    make_world: Any, how: str, why: str
) -> None:
    world = low_quota(make_world)
    world.sandbox.set_limits(rate_per_day=5000)
    path = quota_file(world)
    data = orjson.loads(path.read_bytes())
    if how == "truncated":
        path.write_bytes(path.read_bytes()[:20])
    elif how == "garbage":
        path.write_bytes(b"\x00\xffnot json")
    elif how == "foreign":
        path.write_text(json.dumps({"remaining": 0}))
    elif how == "other-url":
        rewrite(path, api_url="https://example.invalid/v1")
    elif how == "other-version":
        rewrite(path, format_version="0")
    elif how == "extra-field":
        rewrite(path, note="hi")
    elif how == "negative":
        rewrite(path, remaining=-1)
    elif how == "bool":
        rewrite(path, remaining=False)
    elif how == "bad-time":
        rewrite(path, seen_at="yesterday")
    elif how == "future":
        rewrite(path, seen_at=iso(timedelta(hours=3)))
    elif how == "directory":
        path.unlink()
        path.mkdir()
    assert data["remaining"] == 2
    code, _, err = world.plan()
    assert code == ExitCode.OK, err  # read, never refused on it
    notices = [line for line in err.splitlines() if "Quota memory" in line and "ignored" in line]
    assert len(notices) == 1 and why in notices[0], err


def test_a_missing_quota_file_says_nothing(make_world: Any) -> None:
    world = seeded(make_world, 3)
    code, _, err = world.plan()
    assert code == ExitCode.OK and "Quota memory" not in err


def test_the_saved_plan_check_is_refused_before_its_first_request(
    make_world: Any, tmp_path: Path
) -> None:
    world = seeded(make_world, 5)
    world.write(record(4, value=400))
    out = tmp_path / "plan.json"
    assert world.plan("--out", str(out))[0] == ExitCode.OK
    world.sandbox.set_limits(rate_per_day=1)
    code, _, err = world.run("drift", "--dir", str(world.dir), "--state", str(world.state))
    assert code == ExitCode.OK, err
    world.sandbox.clear_log()  # drift was told 0 of 1 remain
    code, stdout, err = world.run(
        "apply", str(out), "--dir", str(world.dir), "--state", str(world.state), "--auto-approve"
    )
    assert code == ExitCode.ERROR and "PATCH" not in stdout
    assert world.sandbox.requests() == []
    assert re.search(
        r"the check of the saved plan needs about 1 request to read the changes since "
        r"\S+Z; the API said 0 of 1 remain \(at ",
        err,
    ), err
    stored = world.sandbox.record(4)
    assert stored is not None and stored["value"] == 4


def test_drift_is_refused_before_its_first_request(make_world: Any) -> None:
    world = seeded(make_world, 5)
    world.sandbox.set_limits(rate_per_day=1)
    assert world.plan()[0] == ExitCode.OK  # one page: told 0 of 1 remain
    world.sandbox.clear_log()
    code, _, err = world.run("drift", "--dir", str(world.dir), "--state", str(world.state))
    assert code == ExitCode.ERROR
    assert world.sandbox.requests() == []
    assert "drift needs about 1 request to read the changes since " in err
    assert "read incrementally" not in err  # it did: no such advice


def test_a_plan_with_new_files_is_refused_too(make_world: Any) -> None:
    """New files (no id) make the plan bypass the snapshot for one listing: the same check."""
    world = low_quota(make_world)
    world.write({"title": "A new deal", "address": ["9 Elm St"], "trades": ["Solar"]}, "new.yaml")
    code, _, err = world.plan()
    assert code == ExitCode.ERROR
    assert world.sandbox.requests() == []
    assert "plan needs about 5 requests to read 450 records and check 1 new files" in err


def test_a_429_with_nothing_left_is_remembered(make_world: Any) -> None:
    world = seeded(make_world, 5)
    world.sandbox.set_limits(rate_per_day=1)
    world.live(1)  # another client spends the quota: this machine was told nothing
    code, _, err = world.plan()  # the first request answers 429: quota spent
    assert code == ExitCode.ERROR and "Rate limited" in err
    data = orjson.loads(quota_file(world).read_bytes())
    assert (data["remaining"], data["limit"]) == (0, 1)
    world.sandbox.clear_log()
    code, _, err = world.plan()
    assert world.sandbox.requests() == [] and "the API said 0 of 1 remain" in err


def test_adopt_and_import_remember_and_say_what_remains(make_world: Any) -> None:
    world = seeded(make_world, 3)
    imported = str(world.dir.parent / "imported")
    code, out, err = world.run(
        "import", "--id", "2", "--dir", imported, "--state", str(world.state)
    )
    assert code == ExitCode.OK, err
    assert "Requests: 1 spent (4999 remaining today for this key)." in out
    assert orjson.loads(quota_file(world).read_bytes())["remaining"] == 4999
    world.edit_live(1, {"value": 11})  # 4998
    code, out, err = world.run("adopt", "--dir", str(world.dir), "--state", str(world.state))
    assert code == ExitCode.OK, err
    # before: "(3 files checked; 1 request spent)." and nothing on what remains
    assert "checked; 1 request spent, 4997 remaining today for this key)." in out
    assert orjson.loads(quota_file(world).read_bytes())["remaining"] == 4997


KEY = "sbx_Zq8vK2pLw9XmT4rN7bYc"
OTHER_KEY = "sbx_Hj3dF6gQ1sV5uE0oA8iW"


def test_the_quota_file_never_holds_the_key(make_world: Any, monkeypatch: Any) -> None:
    world = seeded(make_world, 3, SandboxConfig(api_key=KEY, extra_api_keys=(OTHER_KEY,)))
    assert world.plan()[0] == ExitCode.OK
    first = quota_file(world).read_bytes()
    monkeypatch.setenv("COPERNIQ_API_KEY", OTHER_KEY)
    world.sandbox.set_limits(rate_per_day=5000)  # both keys at the same count
    assert world.plan()[0] == ExitCode.OK
    second = quota_file(world).read_bytes()
    for raw, key in ((first, KEY), (second, OTHER_KEY)):
        text = raw.decode()
        assert set(orjson.loads(raw)) == {
            "format_version",
            "kind",
            "api_url",
            "remaining",
            "limit",
            "seen_at",
            "server_date",
            "reset_at",
        }
        windows = {key[i : i + 6] for i in range(len(key) - 5)}
        assert not any(w in text for w in windows)  # no part of the key
        for digest in (hashlib.sha256(key.encode()), hashlib.md5(key.encode())):
            assert digest.hexdigest()[:8] not in text
    # nothing in it depends on the key: the two keys' files differ only in the times
    strip = {"seen_at": None, "server_date": None}
    assert orjson.loads(first) | strip == orjson.loads(second) | strip


def test_once_this_run_was_told_the_quota_the_memory_no_longer_decides(make_world: Any) -> None:
    """A second read in one run (a prefetch's unforeseen ids) is judged on what this run was
    told, not on the older remembered figure."""
    world = seeded(make_world, 5)
    cache = make_cache(world.sandbox.base_url, world.state, None, "auto", timedelta(hours=24))
    assert cache.quota is not None
    cache.quota.path.parent.mkdir(parents=True)
    now = datetime.now(UTC)
    cache.quota.path.write_bytes(dump(cache.quota.api_url, Figure(1, 5000, now, now, None)))
    settings = ClientSettings(base_url=world.sandbox.base_url, api_key=world.sandbox.api_key)

    async def go() -> int:
        async with ApiClient(settings) as client:
            await cache.read(client, [1], known_total=5)  # 1 request: fits, and told 4999
            await cache.read(client, [1, 2, 3, 4, 5], known_total=5)  # needs 2 (estimated)
            return client.requests_sent

    assert asyncio.run(go()) == 2  # the page of changes held the other four


def test_import_is_refused_before_its_first_request_too(make_world: Any) -> None:
    world = seeded(make_world, 450)
    assert world.apply()[0] == ExitCode.OK  # a full read: the state knows 450 live records
    rewrite(quota_file(world), remaining=3)  # as if the last answer had said 3 remain
    world.sandbox.clear_log()
    imported = str(world.dir.parent / "imported")
    code, _, err = world.run("import", "--all", "--dir", imported, "--state", str(world.state))
    assert code == ExitCode.ERROR
    assert world.sandbox.requests() == []
    assert (
        "import needs about 5 requests to read every live record (450 at the last count); "
        "the API said 3 of 5,000 remain (at "
    ) in err
    rewrite(quota_file(world), remaining=2)
    code, _, err = world.run(
        "import",
        *("--id", "7", "--id", "250", "--id", "449"),
        "--dir",
        imported,
        "--state",
        str(world.state),
    )
    assert code == ExitCode.ERROR and world.sandbox.requests() == []
    assert "import needs about 3 requests to read 3 records; " in err
    code, _, err = world.run("import", "--id", "7", "--dir", imported, "--state", str(world.state))
    assert code == ExitCode.OK, err  # one GET: covered
