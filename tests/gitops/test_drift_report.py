"""The drift report value (pure) and its text, JSON and Markdown views."""

from __future__ import annotations

import html
import json
import os
from pathlib import Path
from typing import Any

import pytest

from reconciler.diff import FieldChange
from reconciler.drift import (
    Absence,
    AbsentRecord,
    DriftReport,
    Editor,
    editor_of,
    find_drift,
)
from reconciler.plan import DesiredRecord
from reconciler.render.drift import LIMIT, MARKER, TITLE, render_markdown, render_text

GOLDEN = Path(__file__).parent / "golden"


def desired(id: int, **data: Any) -> DesiredRecord:
    return DesiredRecord(id, f"opportunities/{id}.yaml", {"id": id, **data}, f"digest{id}")


JANE = {"id": 7, "firstName": "Jane", "lastName": "Doe", "email": "jane.doe@example.com"}


def test_only_managed_fields_that_really_differ_are_drift() -> None:
    files = [
        desired(
            1,
            title="Ramirez Solar",
            value=1000,
            trades=["Solar", "Roofing"],
            primaryEmail="ana@example.com",
            custom={"financing_type": "Loan", "hoa_approval": "no"},
        )
    ]
    live = {
        1: {
            "id": 1,
            "title": "Ramirez Solar (edited)",
            "value": 1000.0,  # equal numerically
            "trades": ["Roofing", "Solar"],  # equal as a set
            "primaryEmail": "ana@example.com",
            "description": "not in the file: unmanaged",
            "custom": {"financing_type": "Cash", "hoa_approval": "no", "roof_type": "Metal"},
            "updatedAt": "2026-03-01T10:00:00.000Z",
            "updatedBy": JANE,
        }
    }
    report = find_drift(files, live)
    assert report.has_drift
    (record,) = report.drifted
    assert record.fields == (
        FieldChange("title", "Ramirez Solar (edited)", "Ramirez Solar"),
        FieldChange("custom.financing_type", "Cash", "Loan"),
    )
    assert record.updated_at == "2026-03-01T10:00:00.000Z"
    assert record.updated_by == Editor(7, "Jane Doe", "jane.doe@example.com")
    assert report.summary() == {
        "drifted": 1,
        "missing": 0,
        "archived": 0,
        "file_removed": 0,
        "in_sync": 0,
    }


def test_newest_edit_first_whatever_the_zone_and_unknown_times_last() -> None:
    files = [desired(i, title="git") for i in range(1, 6)]
    live = {
        1: {"id": 1, "title": "x", "updatedAt": "2026-03-01T10:00:00Z"},
        2: {"id": 2, "title": "x", "updatedAt": "2026-03-01T11:30:00+02:00"},  # 09:30Z
        3: {"id": 3, "title": "x", "updatedAt": "2026-03-02T00:00:00.000Z"},
        4: {"id": 4, "title": "x"},
        5: {"id": 5, "title": "x", "updatedAt": "not a time"},
    }
    assert [d.id for d in find_drift(files, live).drifted] == [3, 1, 2, 4, 5]


def test_missing_and_archived_records_are_drift_but_not_field_drift() -> None:
    files = [desired(1, title="a"), desired(2, title="b"), desired(3, title="c")]
    live = {2: {"id": 2, "title": "b", "isActive": False}, 3: {"id": 3, "title": "c"}}
    report = find_drift(files, live)
    assert report.drifted == ()
    assert report.absent == (
        AbsentRecord(1, "opportunities/1.yaml", Absence.MISSING),
        AbsentRecord(2, "opportunities/2.yaml", Absence.ARCHIVED),
    )
    assert report.in_sync == 1
    assert report.has_drift
    assert report.summary() == {
        "drifted": 0,
        "missing": 1,
        "archived": 1,
        "file_removed": 0,
        "in_sync": 1,
    }


def test_write_only_fields_are_listed_as_not_detectable_unless_the_record_carries_them() -> None:
    files = [
        desired(1, title="a", status="ACTIVE", contacts=[501]),
        desired(2, title="b", status="ACTIVE"),
        desired(3, title="c", status="ACTIVE"),
    ]
    live = {
        1: {"id": 1, "title": "a"},
        2: {"id": 2, "title": "b"},
        3: {"id": 3, "title": "c", "status": "ON_HOLD"},  # CONTRACT 4.2: then it is compared
    }
    report = find_drift(files, live)
    assert [(u.field, u.ids) for u in report.undetectable] == [
        ("status", (1, 2)),
        ("contacts", (1,)),
    ]
    assert [(d.id, d.fields) for d in report.drifted] == [
        (3, (FieldChange("status", "ON_HOLD", "ACTIVE"),))
    ]
    assert report.in_sync == 2


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ({}, None),
        (JANE, Editor(7, "Jane Doe", "jane.doe@example.com")),
        ({"id": 9, "firstName": None, "lastName": "  "}, Editor(9, None, None)),
        ("Automation", Editor(None, "Automation", None)),
        ({"id": True, "email": "a@b.co"}, Editor(None, None, "a@b.co")),
    ],
)
def test_updated_by(value: object, expected: Editor | None) -> None:
    assert editor_of(value) == expected


REPORT = DriftReport(
    drifted=(
        find_drift(
            [desired(1001, title="Ramirez | Solar", primaryEmail="maria.ramirez@example.com")],
            {
                1001: {
                    "id": 1001,
                    "title": "Ramirez </details> Solar",
                    "primaryEmail": "m.ramirez@example.com",
                    "updatedAt": "2026-03-01T10:00:00.000Z",
                    "updatedBy": JANE,
                }
            },
        ).drifted[0],
    ),
    absent=(AbsentRecord(1002, "opportunities/1002.yaml", Absence.ARCHIVED),),
    in_sync=3,
    undetectable=find_drift(
        [desired(1003, title="x", status="ACTIVE")], {1003: {"id": 1003, "title": "x"}}
    ).undetectable,
    requests=1,
    remaining=4990,
    checked_at="2026-03-02T06:00:00Z",
)


def test_json_form_is_stable() -> None:
    assert json.loads(REPORT.to_json()) == {
        "format_version": "1",
        "checked_at": "2026-03-02T06:00:00Z",
        "drifted": [
            {
                "id": 1001,
                "file": "opportunities/1001.yaml",
                "title": "Ramirez | Solar",
                "live_updated_at": "2026-03-01T10:00:00.000Z",
                "live_updated_by": {"id": 7, "name": "Jane Doe", "email": "jane.doe@example.com"},
                "fields": [
                    {
                        "field": "title",
                        "git": "Ramirez | Solar",
                        "live": "Ramirez </details> Solar",
                    },
                    {
                        "field": "primaryEmail",
                        "git": "maria.ramirez@example.com",
                        "live": "m.ramirez@example.com",
                    },
                ],
            }
        ],
        "absent": [{"id": 1002, "file": "opportunities/1002.yaml", "kind": "archived"}],
        "not_detectable": [{"field": "status", "ids": [1003]}],
        "summary": {"drifted": 1, "missing": 0, "archived": 1, "file_removed": 0, "in_sync": 3},
        "requests": {"spent": 1, "remaining": 4990, "read": None},
    }


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_text_view() -> None:
    _golden("drift.txt", render_text(REPORT))


def test_markdown_view_masks_contact_data_and_escapes_html() -> None:
    md = render_markdown(REPORT)
    _golden("drift.md", md)
    assert md.splitlines()[:2] == [MARKER, f"## {TITLE}"]
    assert "maria.ramirez@example.com" not in md and "jane.doe@example.com" not in md
    assert "</details> Solar" not in md and "&lt;/details&gt; Solar" in md
    unmasked = html.unescape(render_markdown(REPORT, masked=False))
    assert "maria.ramirez@example.com" in unmasked and "m.ramirez@example.com" in unmasked


def test_markdown_of_a_clean_report_keeps_the_title() -> None:
    clean = DriftReport(drifted=(), absent=(), in_sync=5, checked_at="2026-03-02T06:00:00Z")
    md = render_markdown(clean)
    assert md.splitlines()[:2] == [MARKER, f"## {TITLE}"]
    assert "No drift" in md
    assert not clean.has_drift


def test_markdown_stays_under_the_limit_and_says_what_it_left_out() -> None:
    files = [desired(i, title="T" * 300, value=i) for i in range(1, 3001)]
    live = {i: {"id": i, "title": "L" * 300, "value": i + 0.5} for i in range(1, 3001)}
    absent = tuple(
        AbsentRecord(i, f"opportunities/{i}.yaml", Absence.MISSING) for i in range(5000, 6000)
    )
    report = DriftReport(find_drift(files, live).drifted, absent, 0)
    md = render_markdown(report)
    assert len(md) <= LIMIT
    assert "drifted records are left out" in md
    assert "more (run `reconciler drift` for the list)" in md
    shown = md.count("<details>")
    assert f"**{3000 - shown} of 3000 drifted records are left out**" in md
    assert md.rstrip().endswith("remaining today for this key).")


def test_drift_is_the_plan_seen_from_the_other_side() -> None:
    # One diff pass: the records and fields drift reports are exactly those a plan (with nothing
    # applied) would change, values swapped, and its missing/archived errors are the absent ones.
    from reconciler.plan import diff_all

    files = [
        desired(1, title="a", value=10),
        desired(2, title="b", status="ACTIVE"),
        desired(3, title="c"),
        desired(4, title="d"),
        desired(5, title="e"),
    ]
    live = {
        1: {"id": 1, "title": "a (edited)", "value": 12.5, "updatedAt": "2026-01-01T00:00:00Z"},
        2: {"id": 2, "title": "b"},
        3: {"id": 3, "title": "c", "isActive": False},
        5: {"id": 5, "title": "e"},
    }
    changes, errors, unchanged = diff_all(files, live, {})
    report = find_drift(files, live)
    assert [(d.id, d.fields) for d in report.drifted] == [
        (c.id, tuple(f for f in c.fields if f.before_known)) for c in changes if c.id == 1
    ]
    assert [(a.id, a.kind.value) for a in report.absent] == [(e.id, e.kind.value) for e in errors]
    assert report.in_sync == unchanged + 1  # record 2: only a write-only field, unreadable
