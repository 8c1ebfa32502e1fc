"""`reconciler drift`: which live opportunities differ from git, as text, JSON or Markdown."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

from reconciler.cache_options import LiveOptions, echo_notices
from reconciler.cli.common import (
    color_for,
    dir_option,
    live_options,
    load_records,
    load_state,
    report_options,
    run,
    settings,
    shown_path,
    write_text,
)
from reconciler.client import ApiClient
from reconciler.drift import DriftReport
from reconciler.engine import compute_drift
from reconciler.errors import ExitCode
from reconciler.fields import WRITE_ONLY_NAMES
from reconciler.quota import remembering
from reconciler.regular import check_writable
from reconciler.render.dispatch import render


@click.command(
    "drift",
    help="Report the live opportunities whose managed fields differ from the files.\n\n"
    "For each such record: the fields that differ (git value, live value), and when and by whom "
    "it was last edited, newest first; records that are missing or archived live; and the "
    f"write-only fields ({WRITE_ONLY_NAMES}), which cannot be checked by reading. Reads the API, "
    "changes nothing, writes no state.",
)
@dir_option
@report_options("a GitHub issue")
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the report in --format to this file; the terminal then gets the text report.",
)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 2 when there is drift (missing and archived records included), 0 when none.",
)
@live_options
def command(
    directory: Path,
    fmt: str,
    out: Path | None,
    detailed_exitcode: bool,
    no_mask: bool,
    live: LiveOptions,
) -> int:
    """`reconciler drift` (its help text lists the write-only fields from the field table)."""
    client_settings = settings(live.api_url, live.base_path)
    if out is not None:  # found now, not after the requests were spent
        check_writable(out, what="the drift report (--out)")
    records, _ = load_records(directory, live.cache_folder)
    state = load_state(live.state_path, client_settings)
    cache = live.cache(client_settings.base_url, "drift")

    async def go(_stop: asyncio.Event) -> DriftReport:
        async with ApiClient(client_settings) as client, remembering(cache.quota, client):
            return await compute_drift(client, records, state, cache, folder=shown_path(directory))

    try:
        report, _ = run(go)
    finally:
        echo_notices(cache)
    color = color_for(sys.stdout)
    if out is not None:
        write_text(out, render(report, fmt, masked=not no_mask, color=False))
        click.echo(render(report, "text", color=color), nl=False)
        click.echo(f"Wrote the {fmt} drift report to {out}.", err=True)
    else:
        click.echo(render(report, fmt, masked=not no_mask, color=color), nl=False)
    if detailed_exitcode and report.has_drift:
        return ExitCode.CHANGES
    return ExitCode.OK
