"""The state file belongs to one API, and its content is checked before any of it is used."""

from __future__ import annotations

import json
from typing import Any

import pytest

from reconciler.errors import ExitCode
from reconciler.state import api_identity

from .conftest import record


def test_write_only_values_recorded_through_another_api_are_not_used(make_world: Any) -> None:
    desired = [record(1, status="ACTIVE", contacts=[501]), record(2, status="ACTIVE")]
    staging = make_world([record(1), record(2)], desired)
    assert staging.apply()[0] == ExitCode.OK
    state = json.loads(staging.state.read_text())
    assert state["api_url"] == api_identity(staging.sandbox.base_url)

    # Same folder, same state file, now pointed at production (another server).
    production = make_world([record(1), record(2)])
    assert production.dir == staging.dir and production.state == staging.state
    code, out, _ = production.plan("--detailed-exitcode")
    assert code == ExitCode.CHANGES, out
    unknown = [line for line in out.splitlines() if "cannot be read" in line and " -> " in line]
    assert len(unknown) == 3, out  # status x2, contacts
    assert out.count(staging.sandbox.base_url) == 1  # the plan says why, once
    assert "not used" in out
    plan = production.plan_json()
    assert len(plan["notes"]) == 1

    assert production.apply()[0] == ExitCode.OK
    assert production.sandbox.record(1)["status"] == "ACTIVE"
    assert production.sandbox.record(1)["contacts"] == [501]
    state = json.loads(production.state.read_text())
    assert state["api_url"] == api_identity(production.sandbox.base_url)
    assert production.plan("--detailed-exitcode")[0] == ExitCode.OK


@pytest.mark.parametrize(
    ("entry", "named"),
    [
        ({"status": "DELETED"}, "record 1: status: 'DELETED' is not one of"),
        ({"contacts": "501"}, "record 1: contacts: '501' is not of type 'array'"),
        ({"contacts": [501, "x"]}, "record 1: contacts[1]: 'x' is not of type 'integer'"),
        ({"title": "x"}, "record 1: Additional properties are not allowed ('title'"),
    ],
)
def test_state_content_is_checked_against_its_schema_naming_the_record(
    make_world: Any, entry: dict[str, Any], named: str
) -> None:
    world = make_world([record(1)], [record(1, status="ACTIVE", contacts=[501])])
    world.state.write_text(json.dumps({"format_version": "1", "records": {"1": entry}}))
    code, out, err = world.plan()
    assert code == ExitCode.ERROR
    assert named in err and str(world.state) in err
    assert "DELETED" not in out and "->" not in out  # never a value in a diff
    assert world.sandbox.requests() == []


@pytest.mark.parametrize(
    "content",
    [b"\xff\xfe\x00garbage", b"\x89PNG\r\n\x1a\n\x00\x00", b'"just a string"', b'{"a": 1}'],
)
def test_a_file_that_is_no_state_file_says_so(make_world: Any, content: bytes) -> None:
    world = make_world([record(1)], [record(1, value=2)])
    world.state.write_bytes(content)
    code, _, err = world.plan()
    assert code == ExitCode.ERROR
    assert "is not a reconciler state file" in err
    assert "permission" not in err


def test_the_api_identity_is_scheme_host_port_and_path_only() -> None:
    assert api_identity("HTTPS://API.Example.com:443/v1/") == "https://api.example.com/v1"
    assert api_identity("https://user:secret@api.example.com/v1?token=abc#x") == (
        "https://api.example.com/v1"
    )
    assert api_identity("http://127.0.0.1:8080") == "http://127.0.0.1:8080"
    assert api_identity("http://[::1]:9000/v1") == "http://[::1]:9000/v1"
