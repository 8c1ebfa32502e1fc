"""`reconciler adopt`: keep the hand edits made in Coperniq by writing live values to the files."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from reconciler.adopt import Adopted, adopt_record
from reconciler.cache_options import echo_notices, quota_memory
from reconciler.cli.common import (
    OpportunityId,
    api_options,
    dir_option,
    load_records,
    load_state,
    run,
    settings,
    with_state_lock,
)
from reconciler.client import ApiClient
from reconciler.drift import DriftReport
from reconciler.engine import compute_drift, select
from reconciler.errors import ExitCode, ReconcilerError
from reconciler.escape import terminal, terminal_block
from reconciler.quota import remembering
from reconciler.regular import check_folder
from reconciler.render import plural, remaining


def _line(a: Adopted) -> str:
    if a.error:
        return f"  ! {a.id}: not adopted: {terminal_block(a.error)}"
    written = ", ".join(a.fields) if a.fields else "nothing to write"
    return f"  ~ {a.id} ({terminal(a.file)}): {terminal(written)}"


@click.command("adopt")
@click.argument("ids", nargs=-1, type=OpportunityId(), metavar="[ID]...")
@dir_option
@api_options
@with_state_lock("adopt")
def command(
    ids: tuple[int, ...],
    directory: Path,
    api_url: str | None,
    base_path: str | None,
    state_path: Path,
) -> int:
    """Write the live values of drifted fields into the files: keep the hand edits.

    For each drifted record (all, or the IDs given) every managed field whose live value
    differs from its file is set to the live value; comments, key order and quoting of the rest
    of the file are kept, and the file is replaced atomically. Write-only fields (status,
    contacts) are never touched. Afterwards `plan` shows no change for those records: review
    the files with `git diff` and commit them. Exits 1 if a record could not be adopted.
    """
    client_settings = settings(api_url, base_path)
    records, _ = load_records(directory)
    unknown = sorted(set(ids) - {r.id for r in records})
    if unknown:
        raise ReconcilerError(
            f"adopt {' '.join(map(str, unknown))}: no file under {directory} declares this id",
            hint="adopt takes the ids of drifted records (`reconciler drift` lists them)",
        )
    records = select(records, ids)
    for folder in sorted({Path(r.file).parent for r in records}):
        # Adopt replaces each file through a new file beside it: found before the first write.
        check_folder(folder, what="the opportunity files adopt rewrites")
    state = load_state(state_path, client_settings)

    memory = quota_memory(state_path, client_settings.base_url)

    async def go(_stop: asyncio.Event) -> DriftReport:
        async with ApiClient(client_settings) as client, remembering(memory, client):
            return await compute_drift(client, records, state)

    try:
        report, _ = run(go)
    finally:
        echo_notices(memory)
    digests = {r.id: r.digest for r in records}
    results = [adopt_record(d, Path(d.file), digests[d.id]) for d in report.drifted]
    for result in results:
        click.echo(_line(result))
        if result.skipped:
            click.echo(
                f"    write-only, left as in the file: {', '.join(result.skipped)}", err=True
            )
    for absent in report.absent:
        click.echo(
            f"  ! {absent.id}: not adopted: {terminal(absent.file)}: {absent.kind.value} in "
            "Coperniq; restore the record there, or delete the file if that is intended",
            err=True,
        )
    changed = [r for r in results if r.fields and not r.error]
    failed = [r for r in results if r.error]
    click.echo(
        f"Adopt: {plural(len(changed), 'file')} updated "
        f"({plural(sum(len(r.fields) for r in changed), 'field')}), "
        f"{len(failed) + len(report.absent)} not adopted, {report.in_sync} already in sync "
        f"({plural(report.checked, 'file')} checked; {plural(report.requests, 'request')} spent, "
        f"{remaining(report.remaining)} remaining today for this key)."
    )
    if changed:
        click.echo("Review the edits with `git diff`, then commit them.")
    return ExitCode.ERROR if failed or report.absent else ExitCode.OK
