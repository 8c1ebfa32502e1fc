"""The one mapping table from a catalogue property `type` to the values it takes.

Pure code. The published spec does not enumerate the `type` strings of `GET /properties`
(CONTRACT open question 5); the emulator reports `TEXT`, `NUMERIC`, `DATE` and `DROPDOWN`, and the
issue names text, number, date, dropdown, multi-select and boolean. `KINDS` maps the spellings we
have reason to expect (compared case-insensitively, ignoring `-`, `_` and spaces) to one `Kind`
each; a `type` not in the table is `None`, and every caller treats it as unchecked: reconciler
never refuses a value over a type it cannot judge. The offline checks in `validate`
(`reconciler.catalogue_check`) and the generated editor schema (`reconciler.company_schema`) both
read this table, so they cannot disagree. A null value is always accepted: it clears the key.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any


class Kind(enum.Enum):
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    DROPDOWN = "dropdown"  # one option, or a list of options when the property `isMultiple`
    MULTI_SELECT = "multi-select"  # always a list of options
    BOOLEAN = "boolean"


KINDS: Mapping[str, Kind] = {
    "TEXT": Kind.TEXT,
    "STRING": Kind.TEXT,
    "NUMERIC": Kind.NUMBER,
    "NUMBER": Kind.NUMBER,
    "DATE": Kind.DATE,
    "DROPDOWN": Kind.DROPDOWN,
    "SELECT": Kind.DROPDOWN,
    "MULTISELECT": Kind.MULTI_SELECT,
    "BOOLEAN": Kind.BOOLEAN,
    "CHECKBOX": Kind.BOOLEAN,
}
"""Normalised catalogue `type` -> kind. Anything else is unchecked."""

_NOISE = re.compile(r"[\s_-]+")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}").fullmatch
DATE_PATTERN = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def kind_of(type_name: str) -> Kind | None:
    """The kind of a catalogue `type` string, or None when reconciler cannot judge it."""
    return KINDS.get(_NOISE.sub("", type_name).upper())


def takes_list(kind: Kind, multiple: bool) -> bool:
    """Whether a value of this property is a list of options (a multi-select)."""
    return kind is Kind.MULTI_SELECT or (kind is Kind.DROPDOWN and multiple)


def has_options(kind: Kind | None) -> bool:
    return kind is Kind.DROPDOWN or kind is Kind.MULTI_SELECT


@dataclass(frozen=True, slots=True)
class Mismatch:
    """A value of the wrong shape: what was expected, to tell the user."""

    expected: str


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_date(value: object) -> bool:
    if not isinstance(value, str) or not _DATE(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def check_value(kind: Kind, multiple: bool, value: Any) -> Mismatch | None:
    """Whether a non-null value fits the kind; option membership is checked by the caller."""
    if kind is Kind.TEXT:
        return None if isinstance(value, str) else Mismatch("text (a string; quote it)")
    if kind is Kind.NUMBER:
        return None if _is_number(value) else Mismatch("a number (unquoted, e.g. 7.6)")
    if kind is Kind.DATE:
        ok = is_date(value)
        return None if ok else Mismatch("a calendar date, YYYY-MM-DD (e.g. 2026-02-03)")
    if kind is Kind.BOOLEAN:
        return None if isinstance(value, bool) else Mismatch("true or false")
    if takes_list(kind, multiple):
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return None
        return Mismatch("a list of options")
    return None if isinstance(value, str) else Mismatch("one option (a string)")


def json_schema(kind: Kind | None, multiple: bool, options: list[str]) -> dict[str, Any]:
    """The JSON Schema of a custom value of this kind (null always allowed: it clears the key)."""
    if kind is None:  # unchecked: what the base schema accepts for any custom value
        return {
            "type": ["string", "number", "boolean", "null", "array"],
            "items": {"type": "string"},
        }
    if kind is Kind.TEXT:
        return {"type": ["string", "null"]}
    if kind is Kind.NUMBER:
        return {"type": ["number", "null"]}
    if kind is Kind.DATE:
        return {"type": ["string", "null"], "pattern": DATE_PATTERN, "format": "date"}
    if kind is Kind.BOOLEAN:
        return {"type": ["boolean", "null"]}
    item: dict[str, Any] = {"type": "string", "enum": options} if options else {"type": "string"}
    if takes_list(kind, multiple):
        return {"type": ["array", "null"], "uniqueItems": True, "items": item}
    if not options:
        return {"type": ["string", "null"]}
    return {"type": ["string", "null"], "enum": [*options, None]}
