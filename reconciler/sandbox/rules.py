"""Validation of opportunity bodies (PATCH, POST, seed records) before anything is written.

`check_body` reads a decoded JSON body against the field model of CONTRACT.md section 2 and the
company's reference data, and returns a normalised `Change`, or raises a 400 naming the first
offending field. Nothing here writes: the caller applies the change only once the whole body has
passed, which is what makes a PATCH atomic. New dropdown options (`allow_new_options`) are
collected, not added, for the same reason.

The field rules here are a second encoding of `reconciler/fields.py`, on purpose: written from
CONTRACT.md, not imported, because an emulator that shares the code under test shares its bugs
(tests/test_layers.py keeps the sandbox from importing the core).
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from email_validator import EmailNotValidError, validate_email

from reconciler.sandbox.errors import invalid
from reconciler.sandbox.records import (
    DEFAULTS,
    DERIVED,
    READ_ONLY,
    SERVER_FIELDS,
    WRITABLE,
    format_ms,
    parse_instant,
    to_ms,
)
from reconciler.sandbox.reference import TRADES, Reference

STATUSES = ("ACTIVE", "ON_HOLD", "CANCELLED", "COMPLETED")
REQUIRED = ("title", "address", "trades")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class Mode(enum.Enum):
    PATCH = "patch"  # partial; `id` and read-only fields refused
    CREATE = "create"  # POST: title, address, trades required
    SEED = "seed"  # a seed record: `id` required, server fields allowed


@dataclass(frozen=True, slots=True)
class Change:
    fields: dict[str, Any]  # top-level writes, normalised (custom excluded)
    custom: dict[str, Any] | None  # custom keys to merge; None value clears the key
    new_options: tuple[tuple[str, str], ...] = ()  # (keyName, value) to add to the catalogue
    server: dict[str, Any] = field(default_factory=dict)  # SEED only: id, number, timestamps...


def _is_number(value: object) -> bool:
    return (
        not isinstance(value, bool)
        and isinstance(value, int | float)
        and (isinstance(value, int) or math.isfinite(value))
    )


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


class _Checker:
    def __init__(self, ref: Reference, allow_new_options: bool) -> None:
        self.ref = ref
        self.allow_new = allow_new_options
        self.new_options: list[tuple[str, str]] = []

    # --- dropdown options ------------------------------------------------------------------------

    def option(self, key: str, name: str, value: object) -> str:
        if not isinstance(value, str) or not value.strip():
            raise invalid(
                name, f"{name}: each value must be a non-empty string, got {describe(value)}"
            )
        if value not in self.ref.options(key) and (key, value) not in self.new_options:
            if not self.allow_new:
                known = ", ".join(self.ref.options(key)) or "none"
                raise invalid(
                    name,
                    f"{name}: {value!r} is not an existing option (options: {known}); "
                    "send allow_new_options=true to create it",
                )
            self.new_options.append((key, value))
        return value

    # --- top-level fields -----------------------------------------------------------------------

    def title(self, value: object) -> str:
        if not isinstance(value, str):
            raise invalid("title", f"title must be a string, got {describe(value)}")
        return value

    def address(self, value: object) -> list[str]:
        if (
            not isinstance(value, list)
            or len(value) != 1
            or not isinstance(value[0], str)
            or not value[0].strip()
        ):
            raise invalid(
                "address", "address must be an array holding exactly one non-empty string"
            )
        return [value[0]]

    def trades(self, value: object) -> list[str]:
        if not isinstance(value, list):
            raise invalid("trades", f"trades must be an array of strings, got {describe(value)}")
        out: list[str] = []
        for item in value:
            item = self.option(TRADES, "trades", item)
            if item not in out:
                out.append(item)
        return out

    def description(self, value: object) -> str | None:
        if value is not None and not isinstance(value, str):
            raise invalid(
                "description", f"description must be a string or null, got {describe(value)}"
            )
        return value

    def _reference(self, name: str, value: object, known: Mapping[int, object]) -> int | None:
        if value is None:
            return None
        if not is_int(value):
            raise invalid(name, f"{name} must be an integer or null, got {describe(value)}")
        assert isinstance(value, int)
        if value not in known:
            raise invalid(name, f"{name}: no {name.removesuffix('Id')} with id {value}")
        return value

    def accountId(self, value: object) -> int | None:
        return self._reference("accountId", value, self.ref.accounts)

    def workflowId(self, value: object) -> int | None:
        return self._reference("workflowId", value, self.ref.workflows)

    def phaseId(self, value: object) -> int | None:
        return self._reference("phaseId", value, self.ref.phases)

    def _number(self, name: str, value: object) -> float | int:
        if not _is_number(value):
            raise invalid(name, f"{name} must be a number (not null), got {describe(value)}")
        assert isinstance(value, int | float)
        return value

    def value(self, value: object) -> float | int:
        return self._number("value", value)

    def size(self, value: object) -> float | int:
        return self._number("size", value)

    def confidence(self, value: object) -> float | int:
        number = self._number("confidence", value)
        if not 0 <= number <= 100:
            raise invalid("confidence", f"confidence must be between 0 and 100, got {number}")
        return number

    def status(self, value: object) -> str:
        if value not in STATUSES:
            raise invalid("status", f"status must be one of {', '.join(STATUSES)}, got {value!r}")
        assert isinstance(value, str)
        return value

    def primaryEmail(self, value: object) -> str:
        if not isinstance(value, str):
            raise invalid("primaryEmail", f"primaryEmail must be a string, got {describe(value)}")
        try:
            validate_email(value, check_deliverability=False, test_environment=True)
        except EmailNotValidError as e:
            raise invalid(
                "primaryEmail", f"primaryEmail {value!r} is not a valid email: {e}"
            ) from None
        return value

    def primaryPhone(self, value: object) -> str:
        if not isinstance(value, str):
            raise invalid("primaryPhone", f"primaryPhone must be a string, got {describe(value)}")
        return value

    def contacts(self, value: object) -> list[int]:
        if not isinstance(value, list) or not all(is_int(v) for v in value):
            raise invalid("contacts", "contacts must be an array of contact ids (integers)")
        out: list[int] = []
        for contact_id in value:
            if contact_id not in self.ref.contacts:
                raise invalid(
                    "contacts", f"contacts: no contact with id {contact_id}; create it first"
                )
            if contact_id not in out:
                out.append(contact_id)
        return out

    # --- custom ---------------------------------------------------------------------------------

    def custom(self, value: object) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise invalid("custom", f"custom must be an object, got {describe(value)}")
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = f"custom.{key}"
            prop = self.ref.custom_property(key)
            if prop is None:
                raise invalid(name, f"{name}: unknown custom property {key!r}")
            out[key] = None if item is None else self.custom_value(name, key, prop, item)
        return out

    def custom_value(self, name: str, key: str, prop: Mapping[str, Any], value: object) -> Any:
        kind = str(prop.get("type", "")).upper()
        if kind == "NUMERIC":
            if not _is_number(value):
                raise invalid(name, f"{name} must be a number, got {describe(value)}")
            return value
        if kind == "TEXT":
            if not isinstance(value, str):
                raise invalid(name, f"{name} must be a string, got {describe(value)}")
            return value
        if kind == "DATE":
            if not isinstance(value, str) or not _DATE.match(value):
                raise invalid(name, f"{name} must be a date string YYYY-MM-DD, got {value!r}")
            try:
                date.fromisoformat(value)
            except ValueError:
                raise invalid(name, f"{name}: {value!r} is not a calendar date") from None
            return value
        if kind == "DROPDOWN":
            if prop.get("isMultiple"):
                if not isinstance(value, list):
                    raise invalid(name, f"{name} takes a list of options, got {describe(value)}")
                out: list[str] = []
                for item in value:
                    option = self.option(key, name, item)
                    if option not in out:
                        out.append(option)
                return out
            return self.option(key, name, value)
        return value  # a type the sandbox does not model: any non-null JSON value


_FIELD_CHECKS: dict[str, Callable[[_Checker, object], Any]] = {
    name: getattr(_Checker, name) for name in WRITABLE
}


def _server_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in SERVER_FIELDS:
        if name not in body:
            continue
        value = body[name]
        if name in ("id", "number"):
            if not is_int(value) or value < 1:
                raise invalid(name, f"{name} must be a positive integer, got {value!r}")
        elif name == "isActive":
            if not isinstance(value, bool):
                raise invalid(name, f"isActive must be true or false, got {value!r}")
        elif name in ("createdAt", "updatedAt"):
            if not isinstance(value, str):
                raise invalid(name, f"{name} must be an ISO 8601 date-time string")
            try:
                value = format_ms(to_ms(parse_instant(value)))
            except ValueError as e:
                raise invalid(name, f"{name}: {e}") from None
        elif name in ("imageUrl", "streetViewUrl", "lastActivity"):
            if value is not None and not isinstance(value, str):
                raise invalid(name, f"{name} must be a string or null")
        elif value is not None and not isinstance(value, dict):
            raise invalid(name, f"{name} must be an object or null")
        out[name] = value
    return out


def check_body(
    body: object,
    ref: Reference,
    mode: Mode,
    *,
    allow_new_options: bool = False,
    require_full: bool = False,
) -> Change:
    """Validate a whole body; raise a 400 naming the first offending field."""
    if not isinstance(body, dict):
        raise invalid(None, f"the request body must be a JSON object, got {describe(body)}")
    if mode is not Mode.PATCH or require_full:
        for name in REQUIRED:
            if name not in body:
                why = {
                    Mode.PATCH: "on every PATCH by this server",
                    Mode.CREATE: "to create an opportunity",
                    Mode.SEED: "in every seed opportunity",
                }[mode]
                raise invalid(name, f"{name} is required {why}")
    checker = _Checker(ref, allow_new_options)
    fields: dict[str, Any] = {}
    custom: dict[str, Any] | None = None
    for name, value in body.items():
        if name in _FIELD_CHECKS:
            checked = _FIELD_CHECKS[name](checker, value)
            if name == "custom":
                custom = checked
            else:
                fields[name] = checked
        elif mode is Mode.SEED and name in SERVER_FIELDS:
            continue
        elif name == "id":
            where = "taken from the path" if mode is Mode.PATCH else "assigned by the server"
            raise invalid("id", f"id is {where}; remove it from the body")
        elif name in DERIVED:
            raise invalid(name, f"{name} is read-only: the server derives it")
        elif name in READ_ONLY:
            raise invalid(name, f"{name} is read-only")
        else:
            raise invalid(name, f"unknown field {name!r}")
    server = _server_fields(body) if mode is Mode.SEED else {}
    if mode is Mode.SEED and "id" not in server:
        raise invalid("id", "every seed opportunity needs an integer id")
    return Change(fields, custom, tuple(checker.new_options), server)


def new_record(change: Change, *, record_id: int, number: int, now: str) -> dict[str, Any]:
    """A stored record built from a validated create or seed body, defaults filled in."""
    record: dict[str, Any] = {
        k: (list(v) if isinstance(v, list) else v) for k, v in DEFAULTS.items()
    }
    record["custom"] = {}
    record.update(change.fields)
    record["custom"] = {k: v for k, v in (change.custom or {}).items() if v is not None}
    record.update({"id": record_id, "number": number, "createdAt": now, "updatedAt": now})
    record.update(change.server)
    return record
