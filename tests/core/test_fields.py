"""The field model: `FieldPath` and the facts about a live record, read from the table."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.fields import (
    FIELDS,
    MERGED,
    WRITE_ONLY,
    Compare,
    FieldPath,
    is_archived,
    is_write_only,
    shown_title,
    updated_at,
)


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("title", FieldPath("title")),
        ("custom.hoa_approval", FieldPath("custom", "hoa_approval")),
        ("custom.a.b", FieldPath("custom", "a.b")),  # only the first dot separates
        ("custom", FieldPath("custom")),
        ("title.x", FieldPath("title.x")),  # not a merged field: one (unknown) name
        ("nosuch", FieldPath("nosuch")),
    ],
)
def test_a_path_parses_and_prints_itself(name: str, path: FieldPath) -> None:
    assert FieldPath.parse(name) == path
    assert str(path) == name


def test_a_path_reads_and_writes_a_record() -> None:
    record: dict[str, Any] = {"title": "T", "custom": {"k": 1}}
    assert FieldPath.parse("title").read(record) == "T"
    assert FieldPath.parse("custom.k").read(record) == 1
    assert FieldPath.parse("custom.other").read(record) is None
    assert FieldPath.parse("custom.k").read({"custom": None}) is None
    FieldPath.parse("custom.new").write(record, "v")
    FieldPath.parse("value").write(record, 3)
    assert record == {"title": "T", "custom": {"k": 1, "new": "v"}, "value": 3}
    empty: dict[str, Any] = {}
    FieldPath.parse("custom.k").write(empty, 2)
    assert empty == {"custom": {"k": 2}}


def test_how_a_path_compares_comes_from_the_table() -> None:
    assert FieldPath.parse("value").compare is Compare.NUMERIC
    assert FieldPath.parse("trades").compare is Compare.SET
    assert FieldPath.parse("custom").compare is Compare.MERGE
    assert FieldPath.parse("custom.k").compare is FIELDS["custom"].key_compare
    assert FieldPath.parse("nosuch").compare is Compare.EXACT


def test_write_only_is_read_from_the_table() -> None:
    assert {"status", "contacts"} == WRITE_ONLY
    assert is_write_only("status") and is_write_only("contacts")
    assert not is_write_only("custom.status")  # a custom key named like a write-only field
    assert not is_write_only("title")
    assert MERGED == ("custom",)


@pytest.mark.parametrize(
    ("live", "archived"),
    [
        ({"isActive": False}, True),
        ({"isActive": True}, False),
        ({}, False),
        ({"isActive": 0}, False),
    ],
)
def test_archived_means_is_active_false_exactly(live: dict[str, Any], archived: bool) -> None:
    assert is_archived(live) is archived


def test_the_shown_title_falls_back_to_the_live_one() -> None:
    assert shown_title({"title": "Git"}, {"title": "Live"}) == "Git"
    assert shown_title({}, {"title": "Live"}) == "Live"
    assert shown_title({"title": ""}, None) == ""
    assert shown_title({}, {}) == ""


def test_updated_at_is_a_string_or_nothing() -> None:
    assert updated_at({"updatedAt": "2026-01-01T00:00:00Z"}) == "2026-01-01T00:00:00Z"
    assert updated_at({"updatedAt": 17}) is None
    assert updated_at({}) is None


def test_help_texts_list_the_fields_from_the_table() -> None:
    from click.testing import CliRunner

    from reconciler.cli import drift, plan
    from reconciler.fields import REQUIRED_ON_PATCH

    for command in (plan.command, drift.command):
        text = " ".join(CliRunner().invoke(command, ["--help"], terminal_width=200).output.split())
        assert f"Write-only fields ({', '.join(sorted(WRITE_ONLY, key=list(FIELDS).index))})" in (
            text.replace("write-only", "Write-only")
        )
        assert "(status, contacts)" in text
    text = " ".join(CliRunner().invoke(plan.command, ["--help"], terminal_width=200).output.split())
    assert f"Add {', '.join(REQUIRED_ON_PATCH[:-1])} and {REQUIRED_ON_PATCH[-1]} to every" in text
