"""Unit tests of the pure pieces: address parts, instants, and the server's notion of a change."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from reconciler.sandbox.records import apply, geolocation, parse_instant, same, split_address


@pytest.mark.parametrize(
    ("address", "parts"),
    [
        ("123 Main St, Austin, TX 78701", ("123 Main St", "Austin", "TX", "78701")),
        (
            "1 Pine Rd, Apt 2, Tucson, AZ 85701-1234",
            ("1 Pine Rd, Apt 2", "Tucson", "AZ", "85701-1234"),
        ),
        ("9 Elm Ct, Phoenix, az, 85001, USA", ("9 Elm Ct", "Phoenix", "AZ", "85001")),
        ("500 Ocean Blvd, Miami, FL", ("500 Ocean Blvd", "Miami", "FL", "")),
        ("Somewhere rural", ("Somewhere rural", "", "", "")),
    ],
)
def test_split_address(address: str, parts: tuple[str, str, str, str]) -> None:
    assert split_address(address) == parts


def test_geolocation_is_stable_and_ignores_case_and_spacing() -> None:
    assert geolocation("123 Main St, Austin") == geolocation("123  main st, AUSTIN")
    assert geolocation("123 Main St, Austin") != geolocation("124 Main St, Austin")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-02T03:04:05Z", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2026-01-02T03:04:05.123456789+02:00", datetime(2026, 1, 2, 1, 4, 5, 123456, tzinfo=UTC)),
        ("2026-01-02", datetime(2026, 1, 2, tzinfo=UTC)),
        ("2026-01-02 03:04", datetime(2026, 1, 2, 3, 4, tzinfo=UTC)),
        ("2016-12-31T23:59:60Z", datetime(2016, 12, 31, 23, 59, 59, tzinfo=UTC)),
        ("0000-01-01T00:00:00Z", datetime(1, 1, 1, tzinfo=UTC)),
        ("9999-12-31T23:59:59-05:00", datetime.max.replace(tzinfo=UTC)),
    ],
)
def test_parse_instant(text: str, expected: datetime) -> None:
    assert parse_instant(text) == expected


@pytest.mark.parametrize("text", ["yesterday", "2026-13-01", "2026-01-02T25:00:00Z", ""])
def test_parse_instant_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_instant(text)


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [
        (1000, 1000.0, True),
        (1, True, False),
        (0, False, False),
        (["Solar", "HVAC"], ["HVAC", "Solar"], True),
        (["Solar"], ["Solar", "HVAC"], False),
        ({"a": 1}, {"a": 1.0}, True),
        ("1", 1, False),
        (None, 0, False),
    ],
)
def test_same(a: Any, b: Any, equal: bool) -> None:
    assert same(a, b) is equal


def test_apply_keeps_the_stored_form_when_nothing_changes() -> None:
    stored = {"value": 1000, "custom": {"k": 1}}
    new, changed = apply(stored, {"value": 1000.0}, {"k": 1.0, "gone": None})
    assert not changed and new == stored and isinstance(new["value"], int)
    new, changed = apply(stored, {}, {"k": None})
    assert changed and new["custom"] == {}
