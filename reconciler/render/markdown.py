"""The plan as Markdown for a pull-request comment: a summary, a table, collapsed details.

GitHub refuses comments over 65,536 characters, so the output is cut to `limit` characters at a
record boundary and says how many records it left out. Every value is HTML-escaped (a value may
hold `</details>` or a pipe), and emails and phones are masked unless `masked=False`.
"""

from __future__ import annotations

from reconciler.diff import FieldChange
from reconciler.plan import Change, Create, Plan, Removal
from reconciler.render import UNKNOWN, cell, code, fit, no_changes, plural, prose, shown
from reconciler.render.text import requests_line, summary_line

LIMIT = 65_000
MARKER = "<!-- reconciler-plan -->"


def _field_row(f: FieldChange, masked: bool) -> str:
    before = code(shown(f.field, f.before, masked=masked)) if f.before_known else prose(UNKNOWN)
    after = code(shown(f.field, f.after, masked=masked))
    return f"| <code>{cell(f.field)}</code> | {before} | {after} |"


def _details(change: Change, masked: bool) -> str:
    lines = [
        "<details>",
        f"<summary>~ {change.id} {cell(change.title)}: "
        f"{plural(len(change.fields), 'field')}</summary>",
        "",
        f"File: <code>{cell(change.file)}</code>",
        "",
        "| field | live | desired |",
        "| --- | --- | --- |",
        *[_field_row(f, masked) for f in change.fields],
    ]
    if change.new_options:
        why = (
            "allowed by the file's `allow_new_options`"
            if change.allow_new_options
            else "created only with `--allow-new-options`"
        )
        lines += ["", f"New dropdown options ({why}):", ""]
        lines += [f"- <code>{cell(o.field)}</code>: {code(o.value)}" for o in change.new_options]
    return "\n".join([*lines, "", "</details>", ""])


def _row(change: Change) -> str:
    fields = ", ".join(f"<code>{cell(f.field)}</code>" for f in change.fields)
    file = f"<code>{cell(change.file)}</code>"
    return f"| ~ | {change.id} | {cell(change.title)} | {file} | {fields} |"


def _create_row(create: Create) -> str:
    file = f"<code>{cell(create.file)}</code>"
    what = f"bind {create.bind_id}" if create.bind_id is not None else "create"
    fields = ", ".join(f"<code>{cell(name)}</code>" for name in create.body)
    return f"| + | {what} | {cell(create.title)} | {file} | {fields} |"


def _create_details(create: Create, masked: bool) -> str:
    if create.bind_id is not None:
        return ""
    lines = [
        "<details>",
        f"<summary>+ create {cell(create.title)}: {plural(len(create.body), 'field')}</summary>",
        "",
        f"File: <code>{cell(create.file)}</code>",
        "",
        "| field | value |",
        "| --- | --- |",
        *[
            f"| <code>{cell(name)}</code> | {code(shown(name, value, masked=masked))} |"
            for name, value in create.body.items()
        ],
    ]
    if create.new_options:
        lines += ["", "New dropdown options (created only with `--allow-new-options`):", ""]
        lines += [f"- <code>{cell(o.field)}</code>: {code(o.value)}" for o in create.new_options]
    return "\n".join([*lines, "", "</details>", ""])


def _removal_item(removal: Removal) -> str:
    verb = "**delete**" if removal.action.value == "delete" else "no longer managed"
    return (
        f"- {verb} {removal.id} {cell(removal.title)} ({prose(removal.reason)}): "
        f"<code>{cell(removal.file)}</code>"
    )


REMOVALS_SHOWN = 100
REMOVALS_BUDGET = LIMIT // 4
"""At most this many deletions (and, separately, unmanaged records), in at most this many
characters, are listed in a comment; the rest are counted, so that thousands of removed files
cannot push the comment past GitHub's size limit."""


def _removal_items(removals: tuple[Removal, ...]) -> list[str]:
    shown = removals[:REMOVALS_SHOWN]
    items, _, _ = fit([(_removal_item(r), "") for r in shown], REMOVALS_BUDGET)
    if len(items) < len(removals):
        left = len(removals) - len(items)
        items.append(f"- ... and {left} more (the full list is in the JSON plan artifact)")
    return items


def _lifecycle_head(plan: Plan) -> list[str]:
    lines: list[str] = []
    if plan.deletes:
        lines += ["**Deletions** (`--prune`: these files were removed):", ""]
        lines += _removal_items(plan.deletes)
        lines.append("")
    return lines


def _lifecycle_tail(plan: Plan) -> list[str]:
    if not plan.unmanaged:
        return []
    lines = ["", "**No longer managed** (their files were removed; nothing is sent):", ""]
    return lines + _removal_items(plan.unmanaged)


def render_markdown(plan: Plan, *, masked: bool = True, limit: int = LIMIT) -> str:
    head = [MARKER, f"### {prose(summary_line(plan))}", ""]
    head += [line for note in plan.notes for line in (f"> **Note:** {cell(note)}", "")]
    head += _lifecycle_head(plan)
    tail = ["", prose(requests_line(plan)), "", f"Checksum: <code>{plan.checksum()}</code>", ""]
    tail = _lifecycle_tail(plan) + tail
    if plan.errors:
        errors = ["", "**Records that cannot be planned:**", ""]
        errors += [
            f"- {e.label} <code>{cell(e.file)}</code>: {cell(e.message)}" for e in plan.errors
        ]
        tail = errors + tail
    if not plan.changes and not plan.creates:
        if plan.has_changes:
            return "\n".join([*head, *tail])
        return "\n".join([*head, prose(no_changes(plan.unchanged, len(plan.errors))), *tail])

    table = ["| | id | title | file | changed fields |", "| --- | --- | --- | --- | --- |"]
    budget = limit - len("\n".join(head + table + tail)) - 300  # room for the cut notice
    entries = [(_create_row(c), _create_details(c, masked)) for c in plan.creates]
    entries += [(_row(c), _details(c, masked)) for c in plan.changes]
    rows, details, left_out = fit(entries, budget)
    body = [*head, *table, *rows, "", *details]
    if left_out:
        body += [
            f"**{left_out} of {len(entries)} changed records are left out** to keep this "
            f"comment under {limit:,} characters; the full plan is in the JSON plan artifact.",
        ]
    return "\n".join(body + tail)
