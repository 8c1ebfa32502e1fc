"""`reconciler plan`: compute the changes git asks for and show them as text, JSON or Markdown."""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from pathlib import Path

import click

from reconciler.authoring import live_differs_note, record_allows
from reconciler.cache_options import LiveOptions, echo_notices
from reconciler.cli.common import (
    color_for,
    dir_option,
    echo_cache_notices,
    file_cache,
    lifecycle,
    live_options,
    load_state,
    loaded_or_stop,
    match_by_option,
    prune_option,
    report_options,
    run,
    send_required_option,
    settings,
    shown_path,
    target_option,
    write_text,
)
from reconciler.client import ApiClient
from reconciler.engine import PlanRun, compute_plan, select
from reconciler.errors import ExitCode
from reconciler.fields import WRITE_ONLY_NAMES
from reconciler.gcpause import quiet_gc
from reconciler.loading import begin as begin_loading
from reconciler.plan import Plan
from reconciler.quota import remembering
from reconciler.reading import Prefetch, removed_ids
from reconciler.regular import check_writable
from reconciler.render.dispatch import render
from reconciler.validate import desired_from


def plan_exit_code(plan: Plan, detailed: bool) -> ExitCode:
    if plan.errors:
        return ExitCode.ERROR
    if detailed and plan.has_changes:
        return ExitCode.CHANGES
    return ExitCode.OK


@click.command(
    "plan",
    help="Show what apply would change, field by field. Reads the API; changes nothing.\n\n"
    f"Only the fields a file declares are managed. Write-only fields ({WRITE_ONLY_NAMES}) are "
    "compared with the values this tool last applied (--state). A file without id is a record "
    "to create (refused if a live record already holds its --match-by value); a managed id whose "
    "file was removed is no longer managed, or with --prune deleted.",
)
@dir_option
@target_option
@report_options("a pull-request comment")
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also write the JSON plan here, for `reconciler apply PLANFILE`.",
)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 2 when there are changes, 0 when there are none (1 on error).",
)
@send_required_option
@match_by_option
@prune_option
@live_options
def command(
    directory: Path,
    targets: tuple[int, ...],
    fmt: str,
    out: Path | None,
    detailed_exitcode: bool,
    no_mask: bool,
    send_required: bool,
    match_by: str,
    prune: bool,
    live: LiveOptions,
) -> int:
    """`reconciler plan` (its help text lists the write-only fields from the field table)."""
    client_settings = settings(live.api_url, live.base_path)
    if out is not None:  # found now, not after the requests were spent
        check_writable(out, what="the plan file (--out)")
    state = load_state(live.state_path, client_settings)
    cache = live.cache(client_settings.base_url, "plan")
    with quiet_gc():  # the workers are forked now, before any thread exists
        files_cache = file_cache(live.cache_folder)
        pending = begin_loading(directory, files_cache)

    async def go(_stop: asyncio.Event) -> PlanRun:
        # The live records are read while the files are checked: for the --target ids, or the
        # ids a quick scan of the files found. A problem in a file stops that read at once.
        early = set(targets) if targets else pending.ids
        async with ApiClient(client_settings) as client, remembering(cache.quota, client):
            prefetch = None
            if early is not None:
                folder = None if targets else shown_path(directory)
                prefetch = Prefetch(
                    client, [*early, *removed_ids(state, early, folder)], state, cache
                )
            try:
                checked = await (pending.collect(prefetch.stop) if prefetch else pending.collect())
                echo_cache_notices(files_cache)
                desired = desired_from(pending.files, checked, match_by)
                loaded = loaded_or_stop(desired, directory, spent=client.requests_sent)
                records = select(loaded.records, targets)
                life = lifecycle(loaded, directory, targets, match_by=match_by, prune=prune)
                planned = await compute_plan(
                    client,
                    records,
                    state,
                    files=loaded.files,
                    send_required=send_required,
                    folder_allows=record_allows((r.id, r.file) for r in records),
                    life=life,
                    cache=cache,
                    prefetch=prefetch,
                )
            finally:
                pending.close()
                if prefetch is not None:
                    await prefetch.close()
            return planned

    try:
        result, _ = run(go)
    finally:
        echo_notices(cache)
    plan = result.plan
    note = live_differs_note(directory, result.catalogue)
    if note is not None:  # shown in every format, the pull-request comment included
        plan = dataclasses.replace(plan, notes=(*plan.notes, note))
    shown = render(plan, fmt, masked=not no_mask, color=color_for(sys.stdout))
    if out is not None:
        write_text(out, shown if fmt == "json" else render(plan, "json"))
    click.echo(shown, nl=False)
    if out is not None:
        click.echo(f"Saved the plan to {out}; apply it with `reconciler apply {out}`.", err=True)
    return plan_exit_code(plan, detailed_exitcode)
