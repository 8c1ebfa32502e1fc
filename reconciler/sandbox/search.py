"""`GET /opportunities/search`: up to two `prop/op/value` conditions joined by `logic`.

Conditions are parsed once (unknown property, operator or malformed value is a 400 naming the
parameter) and then tested against each record's full form, so the write-only `status` is
searchable as the published examples show. A property is a standard field (with the documented
aliases `name` for `title` and `clientId` for `accountId`) or a custom keyName. Comparisons follow
the published prose: `contains` ignores case; numbers compare numerically when the value reads
as a number, and as text otherwise; timestamps compare as instants.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reconciler.sandbox.errors import invalid
from reconciler.sandbox.records import parse_instant
from reconciler.sandbox.reference import Reference

OPERATORS = ("eq", "neq", "gt", "gte", "lt", "lte", "contains", "in", "nin", "between")
STANDARD = (
    "id", "number", "title", "description", "address", "isActive", "primaryEmail",
    "primaryPhone", "trades", "value", "size", "confidence", "workflowId", "workflowName",
    "accountId", "phaseId", "city", "state", "street", "zipcode", "status", "createdAt",
    "updatedAt", "lastActivity",
)  # fmt: skip
ALIASES = {"name": "title", "clientId": "accountId"}
TIMESTAMPS = frozenset({"createdAt", "updatedAt", "lastActivity"})


@dataclass(frozen=True, slots=True)
class Condition:
    prop: str
    custom: bool
    op: str
    values: tuple[str, ...]

    def matches(self, record: dict[str, Any]) -> bool:
        value = record.get("custom", {}).get(self.prop) if self.custom else record.get(self.prop)
        if self.op == "neq":
            return not _any(value, lambda v: _compare(self.prop, v, self.values[0]) == 0)
        if self.op == "nin":
            return not any(self._equals(value, w) for w in self.values)
        if value is None:
            return False
        if self.op == "contains":
            needle = self.values[0].casefold()
            return _any(value, lambda v: needle in _text(v).casefold())
        if self.op == "in":
            return any(self._equals(value, w) for w in self.values)
        if self.op == "between":
            return _any(value, self._between)
        wanted = {"eq": (0,), "gt": (1,), "gte": (0, 1), "lt": (-1,), "lte": (-1, 0)}[self.op]
        return _any(value, lambda v: _compare(self.prop, v, self.values[0]) in wanted)

    def _equals(self, value: Any, wanted: str) -> bool:
        return _any(value, lambda v: _compare(self.prop, v, wanted) == 0)

    def _between(self, value: Any) -> bool:
        low = _compare(self.prop, value, self.values[0])
        high = _compare(self.prop, value, self.values[1])
        return low is not None and high is not None and low >= 0 and high <= 0


def _any(value: Any, test: Callable[[Any], bool]) -> bool:
    # A list field (trades, a multi-select) matches when one of its items does.
    if isinstance(value, list):
        return any(test(v) for v in value)
    return value is not None and test(value)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _number(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _instant(text: str) -> datetime | None:
    try:
        return parse_instant(text)
    except ValueError:
        return None


def _sign(a: Any, b: Any) -> int:
    return int(a > b) - int(a < b)


def _compare(prop: str, value: Any, wanted: str) -> int | None:
    """-1, 0 or 1 comparing a stored value with a query value; None when they cannot compare."""
    if value is None:
        return None
    if isinstance(value, bool):
        return 0 if _text(value) == wanted.strip().lower() else None
    if isinstance(value, int | float):
        number = _number(wanted)
        if number is not None:
            return _sign(value, number)
    if prop in TIMESTAMPS and isinstance(value, str):
        left, right = _instant(value), _instant(wanted)
        if left is not None and right is not None:
            return _sign(left, right)
    return _sign(_text(value), wanted)


def _split(text: str, name: str) -> tuple[str, ...]:
    if text.lstrip().startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError:
            raise invalid(name, f"{name}: not a JSON array: {text!r}") from None
        if not isinstance(items, list) or any(isinstance(i, list | dict) for i in items):
            raise invalid(name, f"{name}: a JSON array of plain values is expected")
        return tuple(_text(i) for i in items)
    return _csv(text)


def _csv(text: str) -> tuple[str, ...]:
    """Split one CSV line: commas separate, a field in double quotes may hold commas ("" is a
    quote), unquoted fields are trimmed. Any other character, a newline included, is literal."""
    fields: list[str] = []
    current: list[str] = []
    quoted = in_quotes = False
    i = 0
    while i < len(text):
        c = text[i]
        if in_quotes:
            if c == '"' and text[i + 1 : i + 2] == '"':
                current.append('"')
                i += 1
            elif c == '"':
                in_quotes = False
            else:
                current.append(c)
        elif c == '"' and not "".join(current).strip():
            current, quoted, in_quotes = [], True, True
        elif c == ",":
            field = "".join(current)
            fields.append(field if quoted else field.strip())
            current, quoted = [], False
        else:
            current.append(c)
        i += 1
    field = "".join(current)
    fields.append(field if quoted else field.strip())
    return tuple(fields)


def parse_condition(
    n: int, prop: str | None, op: str | None, value: str | None, ref: Reference
) -> Condition:
    names = (f"prop{n}", f"op{n}", f"value{n}")
    for name, given in zip(names, (prop, op, value), strict=True):
        if given is None:
            raise invalid(name, f"{name} is required")
    assert prop is not None and op is not None and value is not None
    prop = ALIASES.get(prop, prop)
    custom = prop not in STANDARD
    if custom and ref.custom_property(prop) is None:
        raise invalid(names[0], f"{names[0]}: unknown property {prop!r}")
    if op not in OPERATORS:
        raise invalid(names[1], f"{names[1]} must be one of {', '.join(OPERATORS)}, got {op!r}")
    if op in ("in", "nin"):
        values = _split(value, names[2])
    elif op == "between":
        values = _split(value, names[2])
        if len(values) != 2:
            raise invalid(names[2], f"{names[2]}: between takes 'from,to', got {value!r}")
    else:
        values = (value,)
    return Condition(prop, custom, op, values)
