"""The diff, by exact equality: each rule of the field model, one case at a time."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.diff import FieldChange, RecordDiff, diff_record, field_still_equal

LIVE: dict[str, Any] = {
    "id": 7,
    "title": "Ramirez Solar",
    "address": ["12 Oak St, Austin, TX 78701"],
    "trades": ["Solar", "Battery Storage"],
    "description": None,
    "value": 1000,
    "size": 8.4,
    "confidence": 60,
    "primaryEmail": "ana@example.com",
    "custom": {"financing_type": "Loan", "hoa_approval": "no", "panel_brands": ["REC", "Qcells"]},
    "updatedAt": "2026-11-01T10:00:00Z",
    "city": "Austin",
}


def diff(desired: dict[str, Any], applied: dict[str, Any] | None = None, **kw: Any) -> RecordDiff:
    return diff_record({"id": 7, **desired}, LIVE, applied or {}, **kw)


def test_equal_values_give_no_change() -> None:
    assert diff({"title": "Ramirez Solar", "address": ["12 Oak St, Austin, TX 78701"]}) == (
        RecordDiff((), {})
    )


@pytest.mark.parametrize("value", [1000, 1000.0])
def test_numbers_compare_numerically(value: float) -> None:
    assert diff({"value": value}).changes == ()


def test_a_changed_number_is_patched_alone() -> None:
    result = diff({"value": 1250.5, "title": "Ramirez Solar"})
    assert result == RecordDiff((FieldChange("value", 1000, 1250.5),), {"value": 1250.5})


def test_trades_compare_as_a_set() -> None:
    assert diff({"trades": ["Battery Storage", "Solar"]}).changes == ()
    result = diff({"trades": ["Solar", "EV Charger"]})
    assert result.patch == {"trades": ["Solar", "EV Charger"]}


def test_absent_fields_are_unmanaged() -> None:
    # The live record has a description, confidence, email... the file declares none of them.
    assert diff({}) == RecordDiff((), {})


def test_explicit_null_clears_and_null_equals_null() -> None:
    assert diff({"description": None}).changes == ()
    result = diff({"size": 8.4, "description": "Roof first"})
    assert result.patch == {"description": "Roof first"}
    live_with_description = {**LIVE, "description": "old"}
    cleared = diff_record({"id": 7, "description": None}, live_with_description, {})
    assert cleared.patch == {"description": None}
    assert cleared.changes == (FieldChange("description", "old", None),)


def test_custom_is_patched_key_by_key() -> None:
    result = diff({"custom": {"financing_type": "Cash", "hoa_approval": "no"}})
    assert result == RecordDiff(
        (FieldChange("custom.financing_type", "Loan", "Cash"),),
        {"custom": {"financing_type": "Cash"}},
    )


def test_custom_null_clears_a_key_and_absent_key_equals_null() -> None:
    assert diff({"custom": {"roof_type": None}}).changes == ()
    result = diff({"custom": {"hoa_approval": None}})
    assert result.patch == {"custom": {"hoa_approval": None}}


def test_custom_multiselect_ignores_order_and_numbers_ignore_type() -> None:
    live = {**LIVE, "custom": {"panel_brands": ["REC", "Qcells"], "system_size_kw": 8}}
    desired = {"id": 7, "custom": {"panel_brands": ["Qcells", "REC"], "system_size_kw": 8.0}}
    assert diff_record(desired, live, {}).changes == ()


def test_bool_is_not_a_number() -> None:
    live = {**LIVE, "custom": {"flag": 1}}
    result = diff_record({"id": 7, "custom": {"flag": True}}, live, {})
    assert result.patch == {"custom": {"flag": True}}


def test_write_only_without_history_is_planned_as_unknown() -> None:
    result = diff({"status": "ACTIVE", "contacts": [501, 502]})
    assert result.changes == (
        FieldChange("status", None, "ACTIVE", before_known=False),
        FieldChange("contacts", None, [501, 502], before_known=False),
    )
    assert result.patch == {"status": "ACTIVE", "contacts": [501, 502]}


def test_write_only_compares_with_what_was_last_applied() -> None:
    applied = {"status": "ACTIVE", "contacts": [502, 501]}
    assert diff({"status": "ACTIVE", "contacts": [501, 502]}, applied).changes == ()
    result = diff({"status": "ON_HOLD"}, applied)
    assert result.changes == (FieldChange("status", "ACTIVE", "ON_HOLD"),)


def test_write_only_live_value_wins_when_the_server_returns_it() -> None:
    live = {**LIVE, "status": "CANCELLED"}
    result = diff_record({"id": 7, "status": "ACTIVE"}, live, {"status": "ACTIVE"})
    assert result.changes == (FieldChange("status", "CANCELLED", "ACTIVE"),)


def test_send_required_adds_title_address_trades_to_a_changed_record_only() -> None:
    desired = {"title": "Ramirez Solar", "address": LIVE["address"], "trades": ["Solar"]}
    assert diff(desired, send_required=True).patch == {"trades": ["Solar"]} | {
        "title": "Ramirez Solar",
        "address": LIVE["address"],
    }
    unchanged = {"title": "Ramirez Solar", "address": LIVE["address"]}
    assert diff(unchanged, send_required=True).patch == {}


def test_patch_keys_follow_the_canonical_field_order() -> None:
    result = diff({"custom": {"financing_type": "Cash"}, "value": 5, "title": "New"})
    assert list(result.patch) == ["title", "value", "custom"]


@pytest.mark.parametrize(
    ("field", "expected", "same"),
    [
        ("value", 1000.0, True),
        ("value", 999, False),
        ("trades", ["Battery Storage", "Solar"], True),
        ("custom.financing_type", "Loan", True),
        ("custom.financing_type", "Cash", False),
        ("custom.roof_type", None, True),
    ],
)
def test_field_still_equal(field: str, expected: Any, same: bool) -> None:
    assert field_still_equal(field, expected, LIVE) is same
