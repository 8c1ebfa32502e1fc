"""The plan as terminal text, Terraform-like: `~ id "title" (file)` then `field: old -> new`.

Deletions come first, in their own section (they are the one irreversible action), then creates
(`+ create "title" (file)` with the body the POST sends), updates, and the records no longer
managed (`- id "title" no longer managed (file removed)`, nothing sent).
"""

from __future__ import annotations

from collections.abc import Iterable

from reconciler.catalogue import NewOption
from reconciler.diff import FieldChange
from reconciler.escape import terminal
from reconciler.plan import Change, Create, Plan, RecordError, Removal
from reconciler.render import UNKNOWN, Style, format_value, no_changes, plural, remaining, styler


def _field_line(f: FieldChange) -> str:
    before = format_value(f.before) if f.before_known else UNKNOWN
    return f"      {terminal(f.field)}: {before} -> {format_value(f.after)}"


def _change_lines(change: Change, style: Style) -> list[str]:
    head = f"  {style('~', 'update')} {change.id} {style(format_value(change.title), 'bold')}"
    lines = [f"{head} ({terminal(change.file)})"]
    lines += [_field_line(f) for f in change.fields]
    allowed = " (the file allows it)" if change.allow_new_options else ""
    return lines + _new_option_lines(change.new_options, style, allowed)


def _new_option_lines(options: Iterable[NewOption], style: Style, allowed: str = "") -> list[str]:
    return [
        f"      {style('+', 'new')} new dropdown option {terminal(o.field)}: "
        f"{format_value(o.value)}{allowed}"
        for o in options
    ]


def _create_lines(create: Create, style: Style) -> list[str]:
    title = style(format_value(create.title), "bold")
    if create.bind_id is not None:
        return [
            f"  {style('+', 'new')} bind {create.bind_id} {title} ({terminal(create.file)})",
            "      created by an earlier apply that was interrupted before writing its id: "
            "apply writes the id into the file and sends nothing",
        ]
    lines = [f"  {style('+', 'new')} create {title} ({terminal(create.file)})"]
    lines += [
        f"      {terminal(name)}: {format_value(value)}" for name, value in create.body.items()
    ]
    return lines + _new_option_lines(create.new_options, style)


def _delete_line(removal: Removal, style: Style) -> list[str]:
    title = style(format_value(removal.title), "bold")
    return [
        f"  {style('-', 'delete')} delete {removal.id} {title} ({removal.reason})",
        f"      file: {terminal(removal.file)}",
    ]


def _unmanage_line(removal: Removal, style: Style) -> list[str]:
    title = style(format_value(removal.title), "bold")
    return [
        f"  {style('-', 'dim')} {removal.id} {title} no longer managed ({removal.reason})",
        f"      file: {terminal(removal.file)}",
    ]


def _error_lines(error: RecordError, style: Style) -> list[str]:
    where = f"{error.label} ({terminal(error.file)})"
    return [f"  {style('!', 'error')} {where}: {terminal(error.message)}"]


def summary_line(plan: Plan) -> str:
    s = plan.summary()
    parts = [f"{s['create']} to create"] if s["create"] else []
    parts.append(f"{s['update']} to update")
    if s["delete"]:
        parts.append(f"{s['delete']} to delete")
    if s["unmanage"]:
        parts.append(f"{s['unmanage']} no longer managed")
    parts.append(f"{s['unchanged']} unchanged")
    line = "Plan: " + ", ".join(parts)
    return line + (f", {s['errors']} with errors." if s["errors"] else ".")


def requests_line(plan: Plan) -> str:
    r = plan.requests
    read = f" ({r.read})" if r.read else ""
    return (
        f"Requests: {r.spent} spent reading{read}, {r.apply} to apply "
        f"({remaining(r.remaining)} remaining today for this key)."
    )


def render_text(plan: Plan, *, color: bool = False) -> str:
    style = styler(color)
    lines: list[str] = []
    if plan.deletes:
        lines += [
            style(
                "reconciler will DELETE these opportunities (--prune; their files were removed):",
                "delete",
            ),
            "",
        ]
        for removal in plan.deletes:
            lines += [*_delete_line(removal, style), ""]
    if plan.creates:
        lines += ["reconciler will create these opportunities:", ""]
        for create in plan.creates:
            lines += [*_create_lines(create, style), ""]
    if plan.changes:
        lines += ["reconciler will update these opportunities:", ""]
        for change in plan.changes:
            lines += [*_change_lines(change, style), ""]
    if plan.unmanaged:
        lines += [
            "reconciler will stop managing these opportunities (nothing is sent; to delete "
            "them instead, plan with --prune):",
            "",
        ]
        for removal in plan.unmanaged:
            lines += [*_unmanage_line(removal, style), ""]
    if not plan.has_changes:
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
