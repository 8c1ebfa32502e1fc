"""Views of a plan, a drift report or an apply: terminal text, JSON, Markdown. Pure functions.

The human text and the JSON come from the same data (`Plan`, `DriftReport`, `ApplyReport`);
nothing here computes a diff, reads a file or prints. `render.dispatch.render(value, fmt, ...)`
picks the view. This module holds what the views share, written once: value formatting, the
masking of contact data, Markdown cells, ANSI styles, plurals, the "remaining today" wording,
fitting records under a size limit, and the wording of facts the core returns (`Rewritten`).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from reconciler import escape
from reconciler.fields import FIELDS

if TYPE_CHECKING:
    from reconciler.apply import Rewritten

UNKNOWN = "(current value cannot be read)"


def format_value(value: Any) -> str:
    """A value as the user wrote it in YAML terms, unambiguous: JSON, non-ASCII kept.

    Inert on a terminal: JSON escapes C0 controls and `escape.terminal` the rest.
    """
    return escape.terminal(json.dumps(value, ensure_ascii=False, sort_keys=True))


def is_personal(field: str) -> bool:
    spec = FIELDS.get(field)
    return spec is not None and spec.personal


_DIGIT = re.compile(r"\d")


def mask(value: Any) -> Any:
    """Hide contact data in shared reports: `j*****e@example.com`, `***-***-**67`."""
    if not isinstance(value, str) or not value:
        return value
    if "@" in value:
        # First and last character with the length kept, so that a change stays visible.
        local, _, domain = value.partition("@")
        hidden = local[:1] + "*" * max(len(local) - 2, 1) + (local[-1:] if len(local) > 2 else "")
        return f"{hidden}@{domain}"
    digits = len(_DIGIT.findall(value))
    seen = 0

    def hide(match: re.Match[str]) -> str:
        nonlocal seen
        seen += 1
        return match.group(0) if seen > digits - 2 else "*"

    return _DIGIT.sub(hide, value)


def shown(field: str, value: Any, *, masked: bool) -> Any:
    return mask(value) if masked and is_personal(field) else value


# --- Markdown -------------------------------------------------------------------------------------


def cell(text: str) -> str:
    """Untrusted text (record data, file names, messages) inert in a table cell or HTML."""
    return escape.markdown(text)


def prose(text: str) -> str:
    """reconciler's own sentences: HTML-escaped, their `code` spans kept."""
    return html.escape(text).replace("|", "&#124;").replace("\n", " ")


def code(value: Any) -> str:
    return f"<code>{cell(format_value(value))}</code>"


def fit(blocks: Sequence[tuple[str, str]], budget: int) -> tuple[list[str], list[str], int]:
    """As many (row, block) pairs as fit in `budget` characters; and how many did not."""
    rows: list[str] = []
    kept: list[str] = []
    for row, block in blocks:
        cost = len(row) + len(block) + 2
        if cost > budget:
            break
        rows.append(row)
        kept.append(block)
        budget -= cost
    return rows, kept, len(blocks) - len(rows)


# --- terminal text --------------------------------------------------------------------------------

_STYLES = {
    "update": "33",
    "drift": "33",
    "error": "31",
    "new": "32",
    "delete": "31",
    "bold": "1",
    "dim": "2",
}

Style = Callable[[str, str], str]


def styler(color: bool) -> Style:
    """`style(text, kind)`: ANSI-coloured when `color`, else the text as it is."""

    def style(text: str, kind: str) -> str:
        return f"\x1b[{_STYLES[kind]}m{text}\x1b[0m" if color else text

    return style


# --- wording --------------------------------------------------------------------------------------


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def no_changes(unchanged: int, errors: int) -> str:
    """The line that says there is nothing to apply, never claiming more than was planned."""
    if not errors:
        return "No changes: the live opportunities match the files."
    return (
        f"No changes to the {plural(unchanged, 'record')} that could be planned; "
        f"{plural(errors, 'record')} could not be (below)."
    )


def remaining(value: int | None) -> str:
    """The requests left today as shown: a number, or `unknown` before any answer carried it."""
    return "unknown" if value is None else str(value)


def rewritten_text(w: Rewritten) -> str:
    return (
        f"opportunity {w.id} ({w.file}): {w.field}: the server stored {format_value(w.stored)} "
        f"instead of {format_value(w.sent)}; write the stored value into the file, or every "
        "plan will show this field as a change"
    )
