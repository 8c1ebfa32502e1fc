"""`render(value, fmt, *, masked, color)`: the one way a command turns a value into output.

Plan, drift report, shown plan and apply report all go through it, and JSON is a view like the
others: a command never holds its own if-chain of formats. Pure.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Final

from reconciler.apply import ApplyReport
from reconciler.drift import DriftReport
from reconciler.escape import json_text
from reconciler.plan import Plan
from reconciler.render import drift as drift_views
from reconciler.render.apply_report import render_apply_markdown, report_lines
from reconciler.render.markdown import render_markdown
from reconciler.render.text import render_text

FORMATS: Final = ("text", "json", "markdown")


@dataclass(frozen=True, slots=True)
class Applied:
    """An apply to show: the plan that was applied and its report (None: nothing to apply)."""

    plan: Plan
    report: ApplyReport | None


def render(
    value: Plan | DriftReport | Applied, fmt: str, *, masked: bool = True, color: bool = False
) -> str:
    """`value` in `fmt` (text, json or markdown). `masked` hides contact data in Markdown;
    `color` adds ANSI styles to text. Raises ValueError for any other format."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")
    if isinstance(value, Plan):
        if fmt == "json":
            return json_text(value.to_json())
        if fmt == "markdown":
            return render_markdown(value, masked=masked)
        return render_text(value, color=color)
    if isinstance(value, DriftReport):
        if fmt == "json":
            return json_text(value.to_json())
        if fmt == "markdown":
            return drift_views.render_markdown(value, masked=masked)
        return drift_views.render_text(value, color=color)
    if fmt == "markdown":
        return render_apply_markdown(value.plan, value.report)
    if fmt == "json":
        return _applied_json(value)
    return "\n".join(report_lines(value.report)) + "\n" if value.report is not None else ""


def _applied_json(value: Applied) -> str:
    report = value.report
    data = {
        "checksum": value.plan.checksum(),
        "outcomes": [
            {
                "id": o.id,
                "file": o.file,
                "status": o.status.value,
                "message": o.message,
                "warnings": [
                    {"field": w.field, "sent": w.sent, "stored": w.stored} for w in o.warnings
                ],
                "errors": list(o.errors),
            }
            for o in (report.outcomes if report is not None else ())
        ],
        "requests": {
            "spent": report.requests if report is not None else 0,
            "remaining": report.remaining if report is not None else None,
        },
        "interrupted": report.interrupted if report is not None else False,
    }
    return json_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
