"""The drift report as terminal text or as Markdown for one rolling GitHub issue.

Pure functions of a `DriftReport` (its JSON form is `DriftReport.to_json`). The Markdown opens
with a marker comment and a title line that never changes, so that a workflow can find and update
the same issue run after run; it stays under `limit` characters (GitHub refuses issue bodies over
65,536), cutting at a record boundary and saying how much it left out; every value is
HTML-escaped, and emails and phones are masked unless `masked=False`.
"""

from __future__ import annotations

from reconciler.diff import FieldChange
from reconciler.drift import Absence, AbsentRecord, DriftedRecord, DriftReport
from reconciler.escape import terminal
from reconciler.render import (
    cell,
    code,
    fit,
    format_value,
    plural,
    prose,
    remaining,
    shown,
    styler,
)

LIMIT = 65_000
MARKER = "<!-- reconciler-drift -->"
TITLE = "Drift: live Coperniq opportunities differ from git"
"""The issue title the drift workflow uses, and the Markdown's heading: it never changes."""

_ABSENT = {
    Absence.MISSING: "missing in Coperniq: deleted, or this API key cannot see it",
    Absence.ARCHIVED: "archived in Coperniq",
    Absence.FILE_REMOVED: "managed, but its file was removed: `reconciler apply` stops managing it "
    "(`apply --prune` deletes it), or restore the file",
}


def summary_line(report: DriftReport) -> str:
    s = report.summary()
    parts = [f"{s['drifted']} drifted"]
    parts += [f"{s[k]} {k}" for k in ("missing", "archived") if s[k]]
    if s["file_removed"]:
        parts.append(f"{s['file_removed']} with their file removed")
    parts.append(f"{s['in_sync']} in sync")
    return f"Drift: {', '.join(parts)} ({plural(report.checked, 'file')} checked)."


def requests_line(report: DriftReport) -> str:
    left = remaining(report.remaining)
    read = f" reading ({report.read})" if report.read else ""
    return f"Requests: {report.requests} spent{read} ({left} remaining today for this key)."


def undetectable_line(report: DriftReport) -> str | None:
    if not report.undetectable:
        return None
    listed = ", ".join(f"{u.field} ({plural(len(u.ids), 'file')})" for u in report.undetectable)
    return (
        f"Not detectable by reading: {listed}: write-only fields, which the API does not "
        "return; drift in them cannot be seen."
    )


def next_steps(report: DriftReport) -> list[str]:
    """What to do about the drift, as commands."""
    steps = []
    if report.drifted:
        ids = " ".join(str(d.id) for d in report.drifted[:10])
        more = " ..." if len(report.drifted) > 10 else ""
        steps += [
            f"keep the live values: `reconciler adopt {ids}{more}` writes them into the files "
            "(commit and merge them)",
            "restore the values in git: `reconciler apply`",
        ]
    if any(a.kind is not Absence.FILE_REMOVED for a in report.absent):
        steps.append("missing or archived records: restore them in Coperniq, or delete their files")
    if report.count(Absence.FILE_REMOVED):
        steps.append(
            "records whose file was removed: `reconciler apply` stops managing them, "
            "`reconciler apply --prune` deletes them"
        )
    return steps


def _absent_groups(report: DriftReport) -> list[tuple[str, list[AbsentRecord]]]:
    """Records the files name that are not live; then managed records whose file is gone."""
    gone = [a for a in report.absent if a.kind is not Absence.FILE_REMOVED]
    orphans = [a for a in report.absent if a.kind is Absence.FILE_REMOVED]
    groups = [("These files name records that are not live:", gone)] if gone else []
    if orphans:
        groups.append(
            ("These managed records lost their file (git no longer declares them):", orphans)
        )
    return groups


# --- text ----------------------------------------------------------------------------------------


def _edited(record: DriftedRecord) -> str | None:
    if record.updated_at is None and record.updated_by is None:
        return None
    when = terminal(record.updated_at) if record.updated_at else "at an unknown time"
    who = f" by {terminal(record.updated_by.label)}" if record.updated_by else ""
    return f"last edited {when}{who}"


def _field_text(f: FieldChange) -> str:
    return f"      {terminal(f.field)}: git {format_value(f.after)}, live {format_value(f.before)}"


def render_text(report: DriftReport, *, color: bool = False) -> str:
    style = styler(color)
    lines: list[str] = []
    if report.drifted:
        lines += ["These opportunities differ from git (newest edit first):", ""]
        for d in report.drifted:
            head = f"  {style('~', 'drift')} {d.id} {style(format_value(d.title), 'bold')}"
            lines.append(f"{head} ({terminal(d.file)})")
            edited = _edited(d)
            if edited:
                lines.append(f"      {style(edited, 'dim')}")
            lines += [_field_text(f) for f in d.fields]
            lines.append("")
    for heading, items in _absent_groups(report):
        lines += [heading, ""]
        lines += [
            f"  {style('!', 'error')} {a.id} ({terminal(a.file)}): {_ABSENT[a.kind]}" for a in items
        ]
        lines.append("")
    if not report.has_drift:
        lines += ["No drift: the live opportunities match the files.", ""]
    note = undetectable_line(report)
    if note:
        lines += [note, ""]
    lines += [summary_line(report), requests_line(report)]
    lines += [f"To fix: {step}." for step in next_steps(report)]
    return "\n".join(lines) + "\n"


# --- markdown ------------------------------------------------------------------------------------


def _edited_cell(record: DriftedRecord) -> tuple[str, str]:
    when = cell(record.updated_at) if record.updated_at else "?"
    who = cell(record.updated_by.label) if record.updated_by else ""
    return when, who


def _row(record: DriftedRecord) -> str:
    fields = ", ".join(f"<code>{cell(f.field)}</code>" for f in record.fields)
    when, who = _edited_cell(record)
    file = f"<code>{cell(record.file)}</code>"
    return f"| {record.id} | {cell(record.title)} | {file} | {fields} | {when} | {who} |"


def _details(record: DriftedRecord, masked: bool) -> str:
    rows = [
        f"| <code>{cell(f.field)}</code> | {code(shown(f.field, f.after, masked=masked))} "
        f"| {code(shown(f.field, f.before, masked=masked))} |"
        for f in record.fields
    ]
    lines = [
        "<details>",
        f"<summary>{record.id} {cell(record.title)}: {plural(len(record.fields), 'field')}"
        "</summary>",
        "",
        f"File: <code>{cell(record.file)}</code>",
        "",
        "| field | git | live |",
        "| --- | --- | --- |",
        *rows,
        "",
        "</details>",
        "",
    ]
    return "\n".join(lines)


def _absent_item(a: AbsentRecord) -> str:
    return f"- {a.id} <code>{cell(a.file)}</code>: {prose(_ABSENT[a.kind])}"


def render_markdown(report: DriftReport, *, masked: bool = True, limit: int = LIMIT) -> str:
    checked = f" Checked {cell(report.checked_at)}." if report.checked_at else ""
    head = [MARKER, f"## {TITLE}", "", f"**{prose(summary_line(report))}**{checked}", ""]
    tail: list[str] = []
    note = undetectable_line(report)
    if note:
        tail += ["", prose(note)]
    steps = next_steps(report)
    if steps:
        tail += ["", "**What to do:**", ""]
        tail += [f"- {prose(s)}" for s in steps]
    tail += ["", prose(requests_line(report)), ""]
    if not report.has_drift:
        body = [*head, "No drift: the live opportunities match the files."]
        return "\n".join(body + tail)

    notice_room = 400  # for the cut notices
    budget = limit - len("\n".join(head + tail)) - notice_room
    table = [
        "| id | title | file | drifted fields | last edited | by |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    budget -= len("\n".join(table)) + 1
    pairs = [(_row(d), _details(d, masked)) for d in report.drifted]
    rows, details, left_drifted = fit(pairs, budget)
    budget -= sum(len(r) + len(d) + 2 for r, d in zip(rows, details, strict=True))
    body = [*head]
    if report.drifted:
        body += [*table, *rows, "", *details]
    if left_drifted:
        body.append(
            f"**{left_drifted} of {len(report.drifted)} drifted records are left out** to keep "
            f"this under {limit:,} characters; run `reconciler drift` for the full report."
        )
    for heading, group in _absent_groups(report):
        items, _, left_absent = fit([(_absent_item(a), "") for a in group], budget - 60)
        budget -= sum(len(i) + 1 for i in items)
        title = heading.rstrip(":").replace("These files name", "Files that name")
        body += ["", f"**{prose(title)}:**", "", *items]
        if left_absent:
            body.append(f"- ... and {left_absent} more (run `reconciler drift` for the list)")
    return "\n".join(body + tail)
