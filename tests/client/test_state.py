"""The state file: write-only values per record, atomic saves, clear errors on a corrupt file."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from reconciler.errors import ConfigError
from reconciler.state import State


def test_a_missing_file_is_an_empty_state(tmp_path: Path) -> None:
    state = State.load(tmp_path / "nope" / "state.json")
    assert dict(state.applied(7)) == {}
    assert state.live_total is None


def test_only_write_only_fields_are_kept_and_round_trip(tmp_path: Path) -> None:
    path = tmp_path / ".reconciler" / "state.json"
    state = State.load(path)
    state.record_applied(12, {"status": "ON_HOLD", "contacts": [3, 1], "title": "x", "value": 5})
    state.record_applied(12, {"status": "ACTIVE"})  # contacts stay as last applied
    state.record_applied(13, {"title": "only readable fields"})
    state.live_total = 10_000
    state.save()

    on_disk = json.loads(path.read_text())
    assert on_disk == {
        "format_version": "1",
        "records": {"12": {"status": "ACTIVE", "contacts": [3, 1]}},
        "live_total": 10_000,
    }
    again = State.load(path)
    assert dict(again.applied(12)) == {"status": "ACTIVE", "contacts": [3, 1]}
    assert dict(again.applied(13)) == {}
    assert again.live_total == 10_000


def test_applied_is_a_copy_that_cannot_change_the_state(tmp_path: Path) -> None:
    state = State(tmp_path / "s.json")
    contacts = [1, 2]
    state.record_applied(1, {"contacts": contacts})
    contacts.append(3)
    got = state.applied(1)
    assert got["contacts"] == [1, 2]
    got["contacts"].append(4)
    assert state.applied(1)["contacts"] == [1, 2]
    with pytest.raises(TypeError):
        got["status"] = "ACTIVE"  # type: ignore[index]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"format_version": "1", "records": {', "state.json:1:"),
        ("[]", "not a reconciler state file"),
        ('{"format_version": "9", "records": {}}', "format_version '9'"),
        ('{"format_version": "1", "records": []}', '"records" must be an object'),
        ('{"format_version": "1", "records": {"abc": {}}}', "'abc' is not a record id"),
        ('{"format_version": "1", "records": {"1": 5}}', '"records"."1" must be an object'),
        ('{"format_version": "1", "records": {}, "live_total": -1}', '"live_total"'),
        ('{"format_version": "1", "records": {}, "live_total": true}', '"live_total"'),
    ],
)
def test_a_corrupt_file_is_a_config_error_naming_the_file_and_the_way_out(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "state.json"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        State.load(path)
    message = str(info.value)
    assert str(path) in message
    assert expected in message
    assert "delete" in message  # what to do


def test_save_replaces_atomically_and_leaves_no_temp_files(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    state = State.load(path)
    for i in range(20):
        state.record_applied(i, {"status": "ACTIVE"})
        state.save()
    # The lock file (reconciler.lock) stays: deleting it would let two runs lock two inodes.
    assert sorted(p.name for p in tmp_path.iterdir()) == [".state.json.lock", "state.json"]
    assert len(json.loads(path.read_text())["records"]) == 20


def test_save_failure_is_a_config_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    state = State(blocker / "state.json")  # its "directory" is a file
    state.record_applied(1, {"status": "ACTIVE"})
    with pytest.raises(ConfigError, match="Cannot write the state file"):
        state.save()


def test_concurrent_record_and_save_from_threads_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    state = State.load(path)

    def apply(start: int) -> None:
        for i in range(start, start + 10):
            state.record_applied(i, {"contacts": [i + 1]})
            state.save()

    threads = [threading.Thread(target=apply, args=(n * 100,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    saved = State.load(path)
    for n in range(4):
        for i in range(n * 100, n * 100 + 10):
            assert saved.applied(i)["contacts"] == [i + 1]
