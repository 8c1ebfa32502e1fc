"""Which values the API can hold: the rules a file's values (`loader`) and a live record's values
(`importer`) are both held to, split from `loader` for size.

The API stores JSON numbers as doubles and cannot hold control characters other than tab and
newline faithfully: an integer beyond +-(2^53-1), a number whose digits a double does not keep,
or such a character would read back as something else, and show as a change on every plan.
Pure.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

MAX_SAFE_INTEGER = 2**53 - 1
"""The largest integer a double holds exactly: the API stores JSON numbers as doubles."""

# Control characters other than tab and newline (C0, CR included; DEL; C1): the API cannot
# hold them faithfully, and every output would have to show them escaped.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def control_problem(value: str, at: int, *, key: bool) -> str:
    what = "key" if key else "text"
    return (
        f"the {what} holds the control character U+{ord(value[at]):04X} at character {at + 1}; "
        "the API cannot hold control characters other than tab and newline: remove it"
    )


def unholdable(value: Any) -> str | None:
    """Why a value (as read from the API) cannot be written to a file; None when it can.

    The same rules as loading a file: no control character but tab and newline in a string or
    key, no integer beyond +-(2^53-1).
    """
    if isinstance(value, str):
        bad = CONTROL.search(value)
        return None if bad is None else control_problem(value, bad.start(), key=False)
    if isinstance(value, int) and not isinstance(value, bool):
        return None if abs(value) <= MAX_SAFE_INTEGER else integer_problem(str(value))
    if isinstance(value, list):
        return next((p for p in map(unholdable, value) if p), None)
    if isinstance(value, dict):
        for key, item in value.items():
            bad = CONTROL.search(key) if isinstance(key, str) else None
            if bad is not None:
                return control_problem(key, bad.start(), key=True)
            problem = unholdable(item)
            if problem:
                return problem
    return None


def integer_problem(value: str) -> str:
    return (
        f"the integer {value} is beyond +-(2^53-1) = {MAX_SAFE_INTEGER}: the API stores numbers "
        "as doubles and would not keep it exactly (quote it if it is text)"
    )


def loses_digits(text: str, number: float) -> bool:
    # A double keeps 15-17 significant digits; shorter numbers (most of them) always survive.
    digits = len(text.lstrip("+-").split("e")[0].split("E")[0].replace(".", "").lstrip("0"))
    if digits <= 15 and number != 0.0:
        return False
    return Decimal(text) != Decimal(repr(number))


def precision_problem(value: str, number: float) -> str:
    return (
        f"the number {value} has more digits than the API keeps (it stores numbers as doubles): "
        f"it would read back as {number!r}; write {number!r} (quote it if it is text)"
    )
