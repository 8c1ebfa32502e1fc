"""The plan as terminal text, Terraform-like: `~ id "title" (file)` then `field: old -> new`."""

from __future__ import annotations

from reconciler.diff import FieldChange
from reconciler.escape import terminal
from reconciler.plan import Change, Plan, RecordError
from reconciler.render import UNKNOWN, Style, format_value, no_changes, plural, remaining, styler


def _field_line(f: FieldChange) -> str:
    before = format_value(f.before) if f.before_known else UNKNOWN
    return f"      {terminal(f.field)}: {before} -> {format_value(f.after)}"


def _change_lines(change: Change, style: Style) -> list[str]:
    head = f"  {style('~', 'update')} {change.id} {style(format_value(change.title), 'bold')}"
    lines = [f"{head} ({terminal(change.file)})"]
    lines += [_field_line(f) for f in change.fields]
    allowed = " (the file allows it)" if change.allow_new_options else ""
    lines += [
        f"      {style('+', 'new')} new dropdown option {terminal(o.field)}: "
        f"{format_value(o.value)}{allowed}"
        for o in change.new_options
    ]
    return lines


def _error_lines(error: RecordError, style: Style) -> list[str]:
    where = f"{error.id} ({terminal(error.file)})"
    return [f"  {style('!', 'error')} {where}: {terminal(error.message)}"]


def summary_line(plan: Plan) -> str:
    s = plan.summary()
    line = f"Plan: {s['update']} to update, {s['unchanged']} unchanged"
    return line + (f", {s['errors']} with errors." if s["errors"] else ".")


def requests_line(plan: Plan) -> str:
    r = plan.requests
    return (
        f"Requests: {r.spent} spent reading, {r.apply} to apply "
        f"({remaining(r.remaining)} remaining today for this key)."
    )


def render_text(plan: Plan, *, color: bool = False) -> str:
    style = styler(color)
    lines: list[str] = []
    if plan.changes:
        lines += ["reconciler will update these opportunities:", ""]
        for change in plan.changes:
            lines += [*_change_lines(change, style), ""]
    else:
        lines += [no_changes(plan.unchanged, len(plan.errors)), ""]
    if plan.errors:
        lines += ["These records cannot be planned:", ""]
        for error in plan.errors:
            lines += _error_lines(error, style)
        lines.append("")
    unapproved = len(plan.unapproved_options)
    if unapproved:
        lines += [
            f"{plural(unapproved, 'new dropdown option')} would be created: "
            "apply needs --allow-new-options.",
            "",
        ]
    if len(plan.new_options) > unapproved:
        lines += [
            f"{plural(len(plan.new_options) - unapproved, 'new dropdown option')} would be "
            "created as "
            "the files allow (allow_new_options).",
            "",
        ]
    lines += [f"Note: {terminal(note)}" for note in plan.notes]
    lines += [summary_line(plan), requests_line(plan), style(f"Checksum: {plan.checksum()}", "dim")]
    return "\n".join(lines) + "\n"
