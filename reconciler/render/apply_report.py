"""The outcome of an apply: terminal lines, and Markdown for a CI job summary (`--report`).

Pure: functions of the plan that was applied and the `ApplyReport` (None when there was nothing
to apply). The terminal view is one line per record, then warnings, errors and the summary. In
Markdown, one table row per record with its outcome and the fields it changed, then the
warnings and errors found after the PATCHes, the records that could not be planned, and the
request count. Values are not shown (field names only), so no contact data reaches the summary.
"""

from __future__ import annotations

from reconciler.apply import QUOTA_EXHAUSTED, ApplyReport, Outcome, Status
from reconciler.escape import terminal, terminal_block
from reconciler.plan import Plan
from reconciler.render import cell, plural, prose, remaining, rewritten_text

MARKER = "<!-- reconciler-apply -->"

_OUTCOME = {
    Status.APPLIED: "applied",
    Status.CREATED: "created",
    Status.DELETED: "**deleted**",
    Status.UNMANAGED: "no longer managed",
    Status.MATCHED: "**not created: matched an existing record**",
    Status.FAILED: "**failed**",
    Status.STALE: "skipped: changed in Coperniq since the plan",
    Status.NOT_SENT: "not sent",
    Status.ALREADY_APPLIED: "already applied",
    Status.REFUSED: "**refused**: the plan file was edited",
}


_MARK = {
    Status.APPLIED: "applied",
    Status.CREATED: "created",
    Status.DELETED: "deleted",
    Status.UNMANAGED: "no longer managed",
    Status.MATCHED: "NOT CREATED",
    Status.FAILED: "FAILED",
    Status.STALE: "stale, skipped",
    Status.NOT_SENT: "not sent",
    Status.ALREADY_APPLIED: "already applied",
    Status.REFUSED: "REFUSED",
}


def outcome_line(o: Outcome) -> str:
    line = f"  {'new' if o.id is None else o.id} ({terminal(o.file)}): {_MARK[o.status]}"
    message = o.message
    if o.status is Status.ALREADY_APPLIED and message.startswith("already applied"):
        message = message.removeprefix("already applied").lstrip(": ")
    return f"{line}: {terminal_block(message)}" if message else line


def report_lines(report: ApplyReport) -> list[str]:
    """The apply report as terminal lines: one per record, warnings, errors, the summary."""
    lines = [outcome_line(o) for o in report.outcomes]
    lines += [
        f"  warning: {terminal(rewritten_text(w))}" for o in report.outcomes for w in o.warnings
    ]
    lines += [f"  error: {terminal(e)}" for o in report.outcomes for e in o.errors]
    resumed = ""
    if report.count(Status.ALREADY_APPLIED):
        resumed = f"{report.count(Status.ALREADY_APPLIED)} already applied, "
    refused = ""
    if report.count(Status.REFUSED):
        refused = f"{report.count(Status.REFUSED)} refused (plan file edited), "
    lines.append(
        f"Apply: {created(report)}{report.count(Status.APPLIED)} applied, {resumed}"
        f"{lifecycle(report)}{report.count(Status.FAILED)} failed, {refused}"
        f"{report.count(Status.STALE)} skipped as stale, "
        f"{report.count(Status.NOT_SENT)} not sent. "
        f"Requests: {report.requests} spent ({remaining(report.remaining)} remaining today for "
        "this key)."
    )
    if any(o.message == QUOTA_EXHAUSTED for o in report.outcomes):
        lines.append(
            "The API key's daily quota is exhausted: no further PATCH was sent. Rerun once it "
            "recovers (a rolling 24 hours); the rerun sends only what is still different."
        )
    return lines


def headline(report: ApplyReport | None, plan: Plan) -> str:
    if report is None:
        if plan.errors:
            return f"Apply: nothing applied; {plural(len(plan.errors), 'record')} cannot be planned"
        return "Apply: nothing to do, the live opportunities match the files"
    return (
        f"Apply: {created(report)}{report.count(Status.APPLIED)} applied, {lifecycle(report)}"
        f"{report.count(Status.FAILED)} failed, "
        f"{report.count(Status.STALE)} skipped as stale, {report.count(Status.NOT_SENT)} not sent"
        + (
            f", {report.count(Status.ALREADY_APPLIED)} already applied"
            if report.count(Status.ALREADY_APPLIED)
            else ""
        )
        + (f", {report.count(Status.REFUSED)} refused" if report.count(Status.REFUSED) else "")
        + (" (interrupted)" if report.interrupted else "")
    )


def created(report: ApplyReport) -> str:
    """`N created, ` when the apply created records, else nothing."""
    count = report.count(Status.CREATED)
    return f"{count} created, " if count else ""


def lifecycle(report: ApplyReport) -> str:
    """`N deleted, N no longer managed, N matched ..., ` for the counts that are not zero."""
    parts = [
        f"{report.count(status)} {label}, "
        for status, label in (
            (Status.DELETED, "deleted"),
            (Status.UNMANAGED, "no longer managed"),
            (Status.MATCHED, "matched an existing record (not created)"),
        )
        if report.count(status)
    ]
    return "".join(parts)


def render_apply_markdown(plan: Plan, report: ApplyReport | None) -> str:
    lines = [MARKER, f"### {prose(headline(report, plan))}", ""]
    if report is not None and report.outcomes:
        fields: dict[int | None, str] = {
            c.id: ", ".join(f.field for f in c.fields) for c in plan.changes
        }
        lines += ["| id | file | outcome | fields | message |", "| --- | --- | --- | --- | --- |"]
        lines += [
            f"| {'new' if o.id is None else o.id} | <code>{cell(o.file)}</code> "
            f"| {_OUTCOME[o.status]} | {cell(fields.get(o.id, ''))} | {cell(o.message)} |"
            for o in report.outcomes
        ]
        warnings = [rewritten_text(w) for o in report.outcomes for w in o.warnings]
        errors = [e for o in report.outcomes for e in o.errors]
        if warnings:
            lines += ["", "**Warnings:**", "", *[f"- {cell(w)}" for w in warnings]]
        if errors:
            lines += ["", "**Errors after applying:**", "", *[f"- {cell(e)}" for e in errors]]
    if plan.errors:
        lines += ["", "**Records that cannot be planned:**", ""]
        lines += [
            f"- {e.label} <code>{cell(e.file)}</code>: {cell(e.message)}" for e in plan.errors
        ]
    if report is not None:
        left = remaining(report.remaining)
        lines += ["", f"Requests: {report.requests} spent ({left} remaining today)."]
    return "\n".join(lines) + "\n"
