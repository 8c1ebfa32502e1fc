"""Building a plan from desired and live values, its dict form, its checksum and its views."""

from __future__ import annotations

import dataclasses
import html
import json
import os
from pathlib import Path
from typing import Any

import pytest

from reconciler.catalogue import Catalogue, NewOption
from reconciler.errors import ReconcilerError
from reconciler.plan import (
    DesiredRecord,
    ErrorKind,
    Plan,
    RequestCounts,
    assemble,
    check_catalogue,
    diff_all,
)
from reconciler.render.markdown import render_markdown
from reconciler.render.text import render_text

GOLDEN = Path(__file__).parent / "golden"

CATALOGUE = Catalogue.from_api(
    [
        {"keyName": "trades", "type": "DROPDOWN", "isMultiple": True, "isCustom": False,
         "options": ["Solar", "Roofing", "Battery Storage"]},
        {"keyName": "financing_type", "type": "DROPDOWN", "isCustom": True,
         "options": ["Cash", "Loan"]},
        {"keyName": "utility_company", "type": "TEXT", "isCustom": True, "options": []},
    ]
)  # fmt: skip

LIVE: dict[int, dict[str, Any]] = {
    1: {"id": 1, "title": "Ramirez Solar", "trades": ["Solar"], "value": 1000,
        "primaryEmail": "ana.ramirez@example.com", "updatedAt": "2026-11-01T10:00:00Z",
        "custom": {"financing_type": "Loan"}},
    2: {"id": 2, "title": "Chen Roof", "trades": ["Roofing"], "value": 5},
    3: {"id": 3, "title": "Archived", "isActive": False},
    5: {"id": 5, "title": "Oakridge", "custom": {}},
}  # fmt: skip


def record(id: int, **data: Any) -> DesiredRecord:
    return DesiredRecord(id, f"opportunities/{id}.yaml", {"id": id, **data}, f"digest{id}")


DESIRED = [
    record(1, title="Ramirez Solar", value=1000.0, trades=["Solar", "EV Charger"],
           primaryEmail="ana@example.com", status="ACTIVE",
           custom={"financing_type": "Lease", "utility_company": "Austin Energy"}),
    record(2, title="Chen Roof", value=5),
    record(3, title="Archived"),
    record(4, title="Missing"),
    record(5, title="Oakridge", custom={"no_such_key": "x"}),
]  # fmt: skip


def build() -> Plan:
    changes, errors, unchanged = diff_all(DESIRED, LIVE, {})
    by_id = {r.id: r for r in DESIRED}
    changes, more = check_catalogue(changes, by_id, CATALOGUE)
    files = {r.file: r.digest for r in DESIRED}
    return assemble(
        changes, errors + more, unchanged, requests=RequestCounts(1, 0, 4990), files=files
    )


def test_plan_lists_changes_errors_and_counts() -> None:
    plan = build()
    assert [c.id for c in plan.changes] == [1]
    assert plan.unchanged == 1
    assert [(e.id, e.kind) for e in plan.errors] == [
        (3, ErrorKind.ARCHIVED),
        (4, ErrorKind.MISSING),
        (5, ErrorKind.UNKNOWN_CUSTOM_KEY),
    ]
    change = plan.changes[0]
    assert change.patch == {
        "trades": ["Solar", "EV Charger"],
        "status": "ACTIVE",
        "primaryEmail": "ana@example.com",
        "custom": {"financing_type": "Lease", "utility_company": "Austin Energy"},
    }
    assert change.new_options == (
        NewOption("trades", "EV Charger"),
        NewOption("custom.financing_type", "Lease"),
    )
    assert plan.requests == RequestCounts(1, 1, 4990)
    assert plan.summary() == {
        "create": 0,
        "update": 1,
        "delete": 0,
        "unmanage": 0,
        "unchanged": 1,
        "errors": 3,
    }


def test_dict_form_round_trips_and_the_checksum_is_stable() -> None:
    plan = build()
    text = plan.to_json()
    again = Plan.from_dict(json.loads(text))
    assert again == plan
    assert again.checksum() == plan.checksum()
    assert json.loads(text)["changes"][0]["fields"][0] == {
        "field": "trades",
        "before": ["Solar"],
        "after": ["Solar", "EV Charger"],
        "before_known": True,
    }


def test_an_edited_plan_file_is_refused() -> None:
    data = json.loads(build().to_json())
    data["changes"][0]["sends"]["body"]["value"] = 1
    with pytest.raises(ReconcilerError, match="edited after planning"):
        Plan.from_dict(data, source="plan.json")


@pytest.mark.parametrize("data", [{"format_version": "2"}, {"format_version": "2", "options": {}}])
def test_not_a_plan_is_refused_with_a_clear_message(data: Any) -> None:
    with pytest.raises(ReconcilerError, match="not a valid reconciler plan"):
        Plan.from_dict(data, source="x.json")


@pytest.mark.parametrize("data", [[], {"format_version": "9"}, {"format_version": "1"}, {}])
def test_a_plan_of_another_format_version_is_refused_saying_so(data: Any) -> None:
    with pytest.raises(ReconcilerError, match="this reconciler reads format_version '2' only"):
        Plan.from_dict(data, source="x.json")


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    assert text == path.read_text()


def test_text_view_golden() -> None:
    check_golden("plan.txt", render_text(build()))


def test_text_view_colours_only_when_asked() -> None:
    assert "\x1b[" not in render_text(build())
    assert "\x1b[33m~\x1b[0m" in render_text(build(), color=True)


def test_markdown_view_golden_masks_contact_data() -> None:
    text = render_markdown(build())
    check_golden("plan.md", text)
    assert "ana@example.com" not in text
    shown = html.unescape(text)  # as GitHub renders it
    assert "a*********z@example.com" in shown  # ana.ramirez
    assert "a*a@example.com" in shown
    assert "ana@example.com" in html.unescape(render_markdown(build(), masked=False))


def test_markdown_escapes_html_and_pipes() -> None:
    desired = [record(2, title="Chen </details> | <b>x</b>", value=6)]
    changes, errors, unchanged = diff_all(desired, LIVE, {})
    plan = assemble(changes, errors, unchanged, requests=RequestCounts(1, 0, None), files={})
    text = render_markdown(plan)
    assert "</details> |" not in text
    assert "&lt;/details&gt; &#124; &lt;b&gt;" in text


def test_markdown_is_cut_under_the_limit_and_says_so() -> None:
    live = {i: {"id": i, "title": f"Deal {i}", "description": "x"} for i in range(1, 2001)}
    desired = [record(i, title=f"Deal {i}", description="y" * 40) for i in range(1, 2001)]
    changes, errors, unchanged = diff_all(desired, live, {})
    plan = assemble(changes, errors, unchanged, requests=RequestCounts(20, 0, 10), files={})
    text = render_markdown(plan)
    assert len(text) <= 65_000
    assert "changed records are left out" in text
    left = int(text.split("**")[1].split(" of ")[0])
    assert text.count("<details>") == 2000 - left


def test_thousands_of_removals_keep_the_markdown_under_the_limit() -> None:
    from reconciler.plan import Action, Removal
    from reconciler.render.markdown import LIMIT

    long = "x" * 200
    removals = tuple(
        Removal(i, f"opportunities/{i}-{long}.yaml", long, action)
        for i, action in zip(range(1, 6001), [Action.DELETE, Action.UNMANAGE] * 3000, strict=True)
    )
    plan = dataclasses.replace(build(), removals=removals, prune=True)
    text = render_markdown(plan)
    assert len(text) < LIMIT
    shown = text.count("**delete** ")
    assert 0 < shown <= 100
    assert f"- ... and {3000 - shown} more (the full list is in the JSON plan artifact)" in text
