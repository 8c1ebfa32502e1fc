"""The plan as Markdown for a pull-request comment: a summary, a table, collapsed details.

GitHub refuses comments over 65,536 characters, so the output is cut to `limit` characters at a
record boundary and says how many records it left out. Every value is HTML-escaped (a value may
hold `</details>` or a pipe), and emails and phones are masked unless `masked=False`.
"""

from __future__ import annotations

from reconciler.diff import FieldChange
from reconciler.plan import Change, Plan
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


def render_markdown(plan: Plan, *, masked: bool = True, limit: int = LIMIT) -> str:
    head = [MARKER, f"### {prose(summary_line(plan))}", ""]
    head += [line for note in plan.notes for line in (f"> **Note:** {cell(note)}", "")]
    tail = ["", prose(requests_line(plan)), "", f"Checksum: <code>{plan.checksum()}</code>", ""]
    if plan.errors:
        errors = ["", "**Records that cannot be planned:**", ""]
        errors += [f"- {e.id} <code>{cell(e.file)}</code>: {cell(e.message)}" for e in plan.errors]
        tail = errors + tail
    if not plan.changes:
        return "\n".join([*head, prose(no_changes(plan.unchanged, len(plan.errors))), *tail])

    table = ["| | id | title | file | changed fields |", "| --- | --- | --- | --- | --- |"]
    budget = limit - len("\n".join(head + table + tail)) - 300  # room for the cut notice
    rows, details, left_out = fit([(_row(c), _details(c, masked)) for c in plan.changes], budget)
    body = [*head, *table, *rows, "", *details]
    if left_out:
        body += [
            f"**{left_out} of {len(plan.changes)} changed records are left out** to keep this "
            f"comment under {limit:,} characters; the full plan is in the JSON plan artifact.",
        ]
    return "\n".join(body + tail)
