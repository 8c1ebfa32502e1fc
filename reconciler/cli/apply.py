"""`reconciler apply`: make the live records match the files, one minimal PATCH per record."""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from contextlib import ExitStack
from pathlib import Path

import click
from click.core import ParameterSource

from reconciler.apply import ApplyReport, Outcome
from reconciler.authoring import live_differs_note, record_allows
from reconciler.cache_options import LiveOptions, echo_notices
from reconciler.cli.common import (
    check_files_unchanged,
    check_same_api,
    color_for,
    dir_option,
    is_interactive,
    lifecycle,
    live_options,
    load_all,
    load_state,
    match_by_option,
    prune_option,
    read_plan_file,
    run,
    send_required_option,
    settings,
    target_option,
    with_state_lock,
    write_text,
)
from reconciler.client import ApiClient
from reconciler.engine import ApplyOptions, compute_plan, run_apply, select
from reconciler.errors import ExitCode, ReconcilerError
from reconciler.plan import Plan
from reconciler.quota import remembering
from reconciler.regular import check_writable
from reconciler.render.apply_report import outcome_line, report_lines
from reconciler.render.dispatch import Applied, render
from reconciler.state import State


def remember_managed(state: State, declared: dict[int, str]) -> None:
    """Record the managed ids even when there is nothing to apply: the first apply after an
    upgrade, or a file moved or renamed, changes only what the state knows."""
    if any(state.managed.get(rid) != file for rid, file in declared.items()):
        state.manage(declared)
        state.save()


def confirm(count: int) -> None:
    if not is_interactive():
        raise ReconcilerError(
            "refusing to apply without confirmation: there is no terminal to ask on",
            hint="review the plan, then pass --auto-approve (as CI does)",
        )
    answer = click.prompt(
        f"Apply these changes to {count} {'opportunity' if count == 1 else 'opportunities'}? "
        "Only 'yes' is accepted",
        default="",
        show_default=False,
    )
    if answer.strip() != "yes":
        raise ReconcilerError("apply cancelled: nothing was sent")


@click.command("apply")
@click.argument("planfile", required=False, type=click.Path(path_type=Path, dir_okay=False))
@dir_option
@target_option
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--allow-new-options",
    is_flag=True,
    help="Let PATCHes create the new dropdown values the plan lists (allow_new_options=true).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 32),
    default=8,
    show_default=True,
    help="PATCHes in flight at once.",
)
@click.option(
    "--max-changes",
    type=click.IntRange(min=0),
    default=None,
    help="Refuse to change more records than this without --force.  "
    "[default: 10% of the managed records, at least 10]",
)
@click.option("--force", is_flag=True, help="Apply even above --max-changes.")
@click.option(
    "--report",
    "report_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also write the outcome as Markdown to this file (for a CI job summary).",
)
@send_required_option
@match_by_option
@prune_option
@with_state_lock("apply")
@live_options
def command(
    planfile: Path | None,
    directory: Path,
    targets: tuple[int, ...],
    auto_approve: bool,
    allow_new_options: bool,
    concurrency: int,
    max_changes: int | None,
    force: bool,
    report_path: Path | None,
    send_required: bool,
    match_by: str,
    prune: bool,
    live: LiveOptions,
) -> int:
    """Apply the plan: one PATCH per changed record, with only the changed fields.

    Without PLANFILE it plans first, shows the plan and asks for confirmation. With PLANFILE
    (from `plan --out`) it applies exactly that plan, after checking that the files still hash
    to what was planned; a record changed in Coperniq since is skipped as stale (a delete too).
    A file without id is created (POST, matching on --match-by with the skip strategy) and gets
    `id: N` written as its first key; commit it. Records whose files were removed are dropped
    from the state, or deleted with --prune (recorded in a saved plan).
    """
    client_settings = settings(live.api_url, live.base_path, concurrency=concurrency)
    if report_path is not None:  # found before the first PATCH, not after the last
        check_writable(report_path, what="the apply report (--report)")
    ctx = click.get_current_context()
    if planfile is not None and ctx.get_parameter_source("match_by") is ParameterSource.DEFAULT:
        match_by = ""  # the saved plan's
    loaded = load_all(directory, match_by or "title", live.cache_folder)
    files = loaded.files
    state = load_state(live.state_path, client_settings)
    cache = live.cache(
        client_settings.base_url, "apply" if planfile is None else "the check of the saved plan"
    )
    options = ApplyOptions(allow_new_options, max_changes, force, concurrency)
    saved: Plan | None = None
    if planfile is not None:
        if targets or send_required or match_by:
            raise click.UsageError(
                "--target, --send-required and --match-by apply when planning, not to a saved "
                "plan (it applies exactly what was planned)"
            )
        saved = read_plan_file(planfile)
        check_same_api(saved, state, planfile)
        if prune and not saved.prune:
            raise click.UsageError(
                f"{planfile} was planned without --prune: make a new plan with `reconciler plan "
                "--prune --out FILE` to delete records"
            )
        check_files_unchanged(saved, files, planfile)
        if not saved.has_changes:
            click.echo("The saved plan has no changes: nothing to apply.")
            if report_path is not None:
                write_text(report_path, render(Applied(saved, None), "markdown"))
            return ExitCode.ERROR if saved.errors else ExitCode.OK
        if not auto_approve:
            click.echo(render(saved, "text", color=color_for(sys.stdout)), nl=False)
            confirm(saved.sending)
    records = select(loaded.records, targets)
    declared = {r.id: r.file for r in records}
    life = lifecycle(loaded, directory, targets, match_by=match_by or "title", prune=prune)
    allows = record_allows((r.id, r.file) for r in records)
    progress = sys.stderr.isatty()

    async def go(stop: asyncio.Event) -> tuple[Plan, ApplyReport | None]:
        async with ApiClient(client_settings) as client, remembering(cache.quota, client):
            if saved is not None:
                plan, live = saved, None
            else:
                result = await compute_plan(
                    client,
                    records,
                    state,
                    files=files,
                    send_required=send_required,
                    folder_allows=allows,
                    life=life,
                    cache=cache,
                )
                echo_notices(cache)
                plan, live = result.plan, result.live.records
                note = live_differs_note(directory, result.catalogue)
                if note is not None:
                    plan = dataclasses.replace(plan, notes=(*plan.notes, note))
                click.echo(render(plan, "text", color=color_for(sys.stdout)), nl=False)
                if not plan.has_changes:
                    remember_managed(state, declared)
                    return plan, None
                if not auto_approve:
                    confirm(plan.sending)
            with ExitStack() as stack:
                bar = None
                if progress:
                    bar = stack.enter_context(
                        click.progressbar(
                            length=len(plan.changes) + len(plan.creates) + len(plan.removals),
                            label="Applying",
                            file=sys.stderr,
                        )
                    )

                def on_outcome(outcome: Outcome) -> None:
                    if bar is not None:
                        bar.update(1)
                    else:
                        click.echo(outcome_line(outcome))

                report = await run_apply(
                    client,
                    plan,
                    state,
                    options,
                    live=live,
                    stop=stop,
                    desired=records,
                    folder_allows=allows,
                    on_outcome=on_outcome,
                    declared=declared,
                    new=loaded.new,
                    cache=cache,
                )
            return plan, report

    try:
        (plan, report), interrupted = run(go)
    finally:
        echo_notices(cache)
    if report_path is not None:
        write_text(report_path, render(Applied(plan, report), "markdown"))
    if report is None:
        return ExitCode.ERROR if plan.errors else ExitCode.OK
    lines = report_lines(report)
    click.echo("\n".join(lines if progress else lines[len(report.outcomes) :]))
    if interrupted:
        return ExitCode.INTERRUPTED
    return ExitCode.OK if report.ok and not plan.errors else ExitCode.ERROR
