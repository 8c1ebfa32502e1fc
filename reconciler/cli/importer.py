"""`reconciler import`: write live opportunities into desired-state files, one per record."""

from __future__ import annotations

import asyncio
import sys
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import click

from reconciler.cache_options import echo_notices, quota_memory
from reconciler.cli.common import (
    OpportunityId,
    api_options,
    dir_option,
    load_state,
    run,
    settings,
    with_state_lock,
)
from reconciler.client import ApiClient
from reconciler.errors import ExitCode
from reconciler.escape import terminal
from reconciler.estimates import full_listing_cost, read_cost
from reconciler.fields import is_archived
from reconciler.gcpause import quiet_gc
from reconciler.importer import (
    PAGE_SIZE,
    Action,
    Imported,
    Placement,
    document_from_live,
    existing_files,
    list_records,
    place,
    write,
)
from reconciler.live import read_live
from reconciler.quota import remembering
from reconciler.regular import check_folder
from reconciler.render import plural
from reconciler.yamlfile import SCHEMA_FILE, schema_reference

_SHOWN = 10  # skipped files listed by name; the rest are counted


def parse_instant(text: str) -> str:
    """An ISO 8601 date or date-time as the API's `updated_after` (UTC, `...Z`)."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not an ISO 8601 date or date-time (e.g. 2026-01-15 or "
            "2026-01-15T09:30:00Z)",
            param_hint="--updated-after",
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _unavailable(record_id: int, why: str) -> Imported:
    return Imported(record_id, "", None, error=f"opportunity {record_id}: {why}; not imported")


async def _read(
    client: ApiClient,
    ids: tuple[int, ...],
    updated_after: str | None,
    expected_total: int | None,
    progress: bool,
) -> list[Imported]:
    if ids:
        snapshot = await read_live(client, ids)
        out = []
        for record_id in sorted(set(ids)):
            live = snapshot.records.get(record_id)
            if live is None:
                out.append(
                    _unavailable(record_id, "no such record (or this API key cannot see it)")
                )
            elif is_archived(live):
                out.append(_unavailable(record_id, "it is archived in Coperniq"))
            else:
                out.append(document_from_live(live))
        return out

    def on_page(pages: int, records: int) -> None:
        if progress:
            click.echo(f"\rReading live records: {records} on {pages} pages", nl=False, err=True)

    imported: list[Imported] = []
    await list_records(
        client,
        updated_after=updated_after,
        expected_total=expected_total,
        on_page=on_page,
        on_records=lambda records: imported.extend(map(document_from_live, records)),
    )
    if progress:
        click.echo(err=True)
    return sorted(imported, key=lambda record: record.id)


def _need(ids: tuple[int, ...], after: str | None, known_total: int | None) -> tuple[int, str]:
    """What the read is expected to cost, and what it reads, for the quota memory's check."""
    if ids:
        wanted = set(ids)
        n = len(wanted)
        return read_cost(n, max(wanted), None, PAGE_SIZE), f"to read {plural(n, 'record')}"
    if after is not None:
        return 1, f"to read the records updated after {after}"
    if known_total is None:
        return 1, "to read every live record"
    return full_listing_cost(known_total, PAGE_SIZE), (
        f"to read every live record ({known_total:,} at the last count)"
    )


def _write_all(
    placements: list[Placement], by_id: dict[int, Imported], schema_ref: str | None
) -> None:
    todo = sum(1 for p in placements if p.action in (Action.CREATE, Action.OVERWRITE))
    with ExitStack() as stack:
        bar = None
        if sys.stderr.isatty() and todo:
            bar = stack.enter_context(
                click.progressbar(length=todo, label="Writing files", file=sys.stderr)
            )

        def tick() -> None:
            if bar is not None:
                bar.update(1)

        with quiet_gc():  # thousands of documents, each freed by reference counting
            write(placements, by_id, schema_ref, on_written=tick)


def _report(
    placements: list[Placement], imported: list[Imported], requests: int, remaining: int | None
) -> None:
    for record in imported:
        for warning in record.warnings:
            click.echo(f"warning: {terminal(warning)}", err=True)
    for p in placements:
        if p.action is Action.FAIL:
            click.echo(f"error: {terminal(p.message)}", err=True)
    skipped = [p for p in placements if p.action is Action.SKIP]
    for p in skipped[:_SHOWN]:
        click.echo(f"  {p.id}: {terminal(str(p.path))} exists, kept (--overwrite replaces it)")
    if len(skipped) > _SHOWN:
        click.echo(f"  ... and {len(skipped) - _SHOWN} more existing files kept")
    count = {a: sum(1 for p in placements if p.action is a) for a in Action}
    left = "unknown" if remaining is None else str(remaining)
    click.echo(
        f"Import: {count[Action.CREATE]} written, {count[Action.OVERWRITE]} overwritten, "
        f"{count[Action.SKIP]} kept (file exists), {count[Action.FAIL]} failed. "
        f"Requests: {requests} spent ({left} remaining today for this key)."
    )


@click.command("import")
@click.option("--all", "import_all", is_flag=True, help="Every active live opportunity.")
@click.option(
    "--id",
    "ids",
    type=OpportunityId(),
    multiple=True,
    metavar="ID",
    help="This opportunity (repeatable).",
)
@click.option(
    "--updated-after",
    metavar="TS",
    help="The opportunities updated after this ISO 8601 date or date-time (UTC if no zone).",
)
@dir_option
@click.option(
    "--overwrite",
    is_flag=True,
    help="Replace the file of a record that already has one (by default it is kept).",
)
@api_options
@with_state_lock("import")
def command(
    import_all: bool,
    ids: tuple[int, ...],
    updated_after: str | None,
    directory: Path,
    overwrite: bool,
    api_url: str | None,
    base_path: str | None,
    state_path: Path,
) -> int:
    """Write live opportunities into YAML files, one `<id>-<slug of title>.yaml` per record.

    A file holds the fields a file may declare, in canonical order, with the schema modeline;
    fields that are null live are left out (unmanaged). A record that already has a file
    (whatever its name) keeps it unless --overwrite. Archived records are not imported. Right
    after an import, `validate` finds no problem and `plan` no change.
    """
    chosen = [bool(import_all), bool(ids), updated_after is not None]
    if sum(chosen) != 1:
        raise click.UsageError(
            "choose exactly one of --all, --id ID (repeatable), --updated-after TS"
        )
    after = parse_instant(updated_after) if updated_after is not None else None
    client_settings = settings(api_url, base_path)
    # The files are written after every record was read: a --dir that cannot take them is
    # found before the first request.
    check_folder(directory, what="the imported files (--dir)")
    state = load_state(state_path, client_settings)
    existing = existing_files(directory)
    schema_ref = schema_reference(directory)
    if schema_ref is None:
        click.echo(
            f"warning: no {SCHEMA_FILE} at or above {directory}: the files are written without "
            "the schema modeline (editors will not check them)",
            err=True,
        )
    progress = sys.stderr.isatty()

    memory = quota_memory(state_path, client_settings.base_url)
    memory.check(*_need(ids, after, state.live_total), "import", full=False)

    async def go(_stop: asyncio.Event) -> tuple[list[Imported], int, int | None]:
        async with ApiClient(client_settings) as client, remembering(memory, client):
            found = await _read(client, ids, after, state.live_total, progress)
            return found, client.requests_sent, client.last_remaining

    try:
        (imported, requests, remaining), _ = run(go)
    finally:
        echo_notices(memory)
    placements = place(imported, directory, existing, overwrite=overwrite)
    _write_all(placements, {r.id: r for r in imported}, schema_ref)
    _report(placements, imported, requests, remaining)
    return ExitCode.ERROR if any(p.action is Action.FAIL for p in placements) else ExitCode.OK
