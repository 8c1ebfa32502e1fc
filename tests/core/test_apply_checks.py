"""The pure checks around a PATCH: guards, stale fields, and what the response says."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.apply import Rewritten, check_guards, check_response, stale_fields
from reconciler.catalogue import NewOption
from reconciler.diff import FieldChange
from reconciler.errors import Refused
from reconciler.plan import Change, Plan
from reconciler.render import rewritten_text

CHANGE = Change(
    id=7,
    file="opportunities/7.yaml",
    title="Deal",
    fields=(
        FieldChange("primaryPhone", "5125550101", "+1 512-555-0101"),
        FieldChange("status", None, "ACTIVE", before_known=False),
        FieldChange("custom.financing_type", "Loan", "Cash"),
    ),
    patch={
        "primaryPhone": "+1 512-555-0101",
        "status": "ACTIVE",
        "custom": {"financing_type": "Cash"},
    },
)
BEFORE: dict[str, Any] = {
    "primaryPhone": "5125550101",
    "custom": {"financing_type": "Loan", "utility_company": "Austin Energy", "roof_type": None},
}


def test_a_faithful_response_gives_no_warning() -> None:
    after = {
        "primaryPhone": "+1 512-555-0101",
        "custom": {**BEFORE["custom"], "financing_type": "Cash"},
    }
    assert check_response(CHANGE, BEFORE, after) == ((), ())


def test_a_rewritten_value_is_a_warning_naming_file_and_field() -> None:
    after = {
        "primaryPhone": "+15125550101",
        "custom": {**BEFORE["custom"], "financing_type": "Cash"},
    }
    warnings, errors = check_response(CHANGE, BEFORE, after)
    assert errors == ()
    # The core returns the fact; the view words it.
    assert warnings == (
        Rewritten(7, "opportunities/7.yaml", "primaryPhone", "+1 512-555-0101", "+15125550101"),
    )
    assert rewritten_text(warnings[0]) == (
        'opportunity 7 (opportunities/7.yaml): primaryPhone: the server stored "+15125550101" '
        'instead of "+1 512-555-0101"; write the stored value into the file, or every plan will '
        "show this field as a change"
    )


def test_custom_keys_that_vanished_are_an_error() -> None:
    after = {"primaryPhone": "+1 512-555-0101", "custom": {"financing_type": "Cash"}}
    warnings, errors = check_response(CHANGE, BEFORE, after)
    assert warnings == ()
    assert len(errors) == 1
    assert "custom keys utility_company vanished" in errors[0]


def test_stale_fields_ignore_unreadable_write_only_values() -> None:
    live = {"primaryPhone": "5125550101", "custom": {"financing_type": "Loan"}}
    assert stale_fields(CHANGE, live) == []
    moved = {"primaryPhone": "5125550199", "custom": {"financing_type": "PPA"}}
    assert stale_fields(CHANGE, moved) == ["primaryPhone", "custom.financing_type"]
    assert stale_fields(CHANGE, None) == ["(record no longer exists)"]
    assert stale_fields(CHANGE, {**live, "isActive": False}) == ["(record was archived)"]


def plan_of(changes: int, unchanged: int, options: tuple[NewOption, ...] = ()) -> Plan:
    made = tuple(
        Change(i, f"{i}.yaml", "t", (FieldChange("value", 1, 2),), {"value": 2}, options)
        for i in range(changes)
    )
    return Plan(changes=made, unchanged=unchanged)


@pytest.mark.parametrize(
    ("changes", "unchanged", "refused"),
    [(10, 0, False), (11, 0, True), (20, 180, False), (21, 180, True)],
)
def test_default_max_changes_is_ten_percent_at_least_ten(
    changes: int, unchanged: int, refused: bool
) -> None:
    plan = plan_of(changes, unchanged)
    kwargs: dict[str, Any] = {"max_changes": None, "allow_new_options": False, "remaining": None}
    if refused:
        with pytest.raises(Refused, match="more than the limit"):
            check_guards(plan, force=False, **kwargs)
        check_guards(plan, force=True, **kwargs)
    else:
        check_guards(plan, force=False, **kwargs)


def test_guards_refuse_new_options_and_a_short_quota() -> None:
    plan = plan_of(2, 0, (NewOption("trades", "Geothermal"),))
    with pytest.raises(Refused, match='trades="Geothermal"'):
        check_guards(plan, max_changes=None, force=False, allow_new_options=False, remaining=None)
    with pytest.raises(Refused, match="needs 2 requests but the API key has 1 left"):
        check_guards(plan, max_changes=None, force=False, allow_new_options=True, remaining=1)
