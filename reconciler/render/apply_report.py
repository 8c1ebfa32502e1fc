"""The outcome of an apply as Markdown, for a CI job summary (`apply --report FILE`).

Pure: a function of the plan that was applied and the `ApplyReport` (None when there was nothing
to apply). One table row per record with its outcome and the fields it changed, then the
warnings and errors found after the PATCHes, the records that could not be planned, and the
request count. Values are not shown (field names only), so no contact data reaches the summary.
"""

from __future__ import annotations

from reconciler.apply import ApplyReport, Status
from reconciler.plan import Plan
from reconciler.render.markdown import cell, prose

MARKER = "<!-- reconciler-apply -->"

_OUTCOME = {
    Status.APPLIED: "applied",
    Status.FAILED: "**failed**",
    Status.STALE: "skipped: changed in Coperniq since the plan",
    Status.NOT_SENT: "not sent",
    Status.ALREADY_APPLIED: "already applied",
    Status.REFUSED: "**refused**: the plan file was edited",
}


def headline(report: ApplyReport | None, plan: Plan) -> str:
    if report is None:
        if plan.errors:
            return f"Apply: nothing applied; {len(plan.errors)} record(s) cannot be planned"
        return "Apply: nothing to do, the live opportunities match the files"
    return (
        f"Apply: {report.count(Status.APPLIED)} applied, {report.count(Status.FAILED)} failed, "
        f"{report.count(Status.STALE)} skipped as stale, {report.count(Status.NOT_SENT)} not sent"
        + (
            f", {report.count(Status.ALREADY_APPLIED)} already applied"
            if report.count(Status.ALREADY_APPLIED)
            else ""
        )
        + (f", {report.count(Status.REFUSED)} refused" if report.count(Status.REFUSED) else "")
        + (" (interrupted)" if report.interrupted else "")
    )


def render_apply_markdown(plan: Plan, report: ApplyReport | None) -> str:
    lines = [MARKER, f"### {prose(headline(report, plan))}", ""]
    if report is not None and report.outcomes:
        fields = {c.id: ", ".join(f.field for f in c.fields) for c in plan.changes}
        lines += ["| id | file | outcome | fields | message |", "| --- | --- | --- | --- | --- |"]
        lines += [
            f"| {o.id} | <code>{cell(o.file)}</code> | {_OUTCOME[o.status]} "
            f"| {cell(fields.get(o.id, ''))} | {cell(o.message)} |"
            for o in report.outcomes
        ]
        warnings = [w for o in report.outcomes for w in o.warnings]
        errors = [e for o in report.outcomes for e in o.errors]
        if warnings:
            lines += ["", "**Warnings:**", "", *[f"- {cell(w)}" for w in warnings]]
        if errors:
            lines += ["", "**Errors after applying:**", "", *[f"- {cell(e)}" for e in errors]]
    if plan.errors:
        lines += ["", "**Records that cannot be planned:**", ""]
        lines += [f"- {e.id} <code>{cell(e.file)}</code>: {cell(e.message)}" for e in plan.errors]
    if report is not None:
        remaining = "unknown" if report.remaining is None else str(report.remaining)
        lines += ["", f"Requests: {report.requests} spent ({remaining} remaining today)."]
    return "\n".join(lines) + "\n"
