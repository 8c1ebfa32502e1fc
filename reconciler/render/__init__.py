"""Views of a plan or a drift report: terminal text, JSON, Markdown. Pure functions of values.

The human text and the JSON come from the same data (`Plan`); nothing here computes a diff,
reads a file or prints. Shared value formatting and the masking of contact data live here.
"""

from __future__ import annotations

import json
import re
from typing import Any

from reconciler.fields import FIELDS
from reconciler.render import escape

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
