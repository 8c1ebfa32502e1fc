"""`reconciler catalogue pull [--check]`: the company's property catalogue, into git.

`pull` spends one request (`GET /properties?record_type=opportunity`) and writes
`schemas/catalogue.json` and the editor schema `schemas/opportunity.company.schema.json`
(rewriting a file only when its bytes change, and saying what changed). `--check` writes nothing:
it exits 1 with a readable diff (added, removed, renamed, changed) when the live catalogue differs
from the file, or when the editor schema is not what the file and this reconciler generate; the
drift workflow runs it and reports catalogue drift in the same rolling issue.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from reconciler import catalogue_file, company_schema, schema
from reconciler.catalogue import Catalogue
from reconciler.catalogue_diff import (
    CatalogueDiff,
    compare,
    diff_lines,
    render_markdown,
    used_keys_note,
)
from reconciler.cli.common import api_location_options, run, settings, write_text
from reconciler.client import ApiClient
from reconciler.errors import EXIT_CODES_HELP, ExitCode, ReconcilerError
from reconciler.escape import terminal_block
from reconciler.fields import MERGED
from reconciler.regular import check_writable, read_regular
from reconciler.validate import load_desired

_DIR_HELP = "Folder the catalogue and editor schema are written to."


@click.group("catalogue", epilog=EXIT_CODES_HELP)
def command() -> None:
    """The company's property catalogue (custom fields, dropdown options, trades), in git."""


async def _live(client: ApiClient) -> tuple[Catalogue, str]:
    """The live catalogue, and the requests line (what the read spent and what remains)."""
    catalogue = Catalogue.from_api(await client.properties("opportunity"))
    left = "unknown" if client.last_remaining is None else client.last_remaining
    spent = f"Requests: {client.requests_sent} spent ({left} remaining today for this key)."
    return catalogue, spent


def _usage(directory: Path) -> dict[str, list[str]]:
    """Which files use each custom key (best effort: unreadable files are skipped)."""
    if not directory.is_dir():
        return {}
    usage: dict[str, list[str]] = {}
    try:
        desired = load_desired([directory])
    except ReconcilerError:
        return {}
    for document in desired.documents:
        custom = document.data.get(MERGED[0])
        if isinstance(custom, dict):
            for key in custom:
                usage.setdefault(key, []).append(document.path.as_posix())
    return usage


def _show_diff(diff: CatalogueDiff, directory: Path) -> None:
    # Option and property names come from the server: inert lines (escape).
    for line in diff_lines(diff):
        click.echo(terminal_block(line))
    for line in used_keys_note(diff, _usage(directory)):
        click.echo(terminal_block(line))


@command.command("pull", epilog=EXIT_CODES_HELP)
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing; exit 1 with the differences when the live catalogue differs from the "
    "file (or the editor schema is out of date).",
)
@click.option(
    "--schemas",
    "schemas_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("schemas"),
    show_default=True,
    help=_DIR_HELP,
)
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path),
    default=Path("opportunities"),
    show_default=True,
    help="Folder of opportunity files: named when they use a removed or renamed key.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown"]),
    default="text",
    show_default=True,
    help="With --check: the differences as text, or as Markdown for the drift issue.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="With --check: write the differences (in --format) to this file when there are any.",
)
@api_location_options
def pull(
    check: bool,
    schemas_dir: Path,
    directory: Path,
    fmt: str,
    out: Path | None,
    api_url: str | None,
    base_path: str | None,
) -> int:
    """Read the live property catalogue (one request) and write it to schemas/.

    Writes schemas/catalogue.json (every custom property: keyName, label, type, several values or
    one, options; and the trade options; sorted, stable, nothing personal) and
    schemas/opportunity.company.schema.json (the editor schema). Commit both: `validate` checks
    the files against them offline.
    """
    if (fmt != "text" or out is not None) and not check:
        raise click.UsageError("--format and --out go with --check")
    client_settings = settings(api_url, base_path)
    catalogue_path = schemas_dir / catalogue_file.CATALOGUE_FILE.name
    schema_path = schemas_dir / company_schema.COMPANY_SCHEMA_FILE.name
    old = catalogue_file.read(catalogue_path) if catalogue_path.exists() else None
    if check and old is None:
        raise ReconcilerError(
            f"{catalogue_path}: no catalogue file to check",
            hint="run `reconciler catalogue pull` and commit what it writes",
        )
    # Outputs are checked before the request is spent.
    for path in (out,) if check else (catalogue_path, schema_path):
        if path is not None:
            check_writable(path, what="the catalogue files" if not check else "--out")

    async def go(_stop: asyncio.Event) -> tuple[Catalogue, str]:
        async with ApiClient(client_settings) as client:
            return await _live(client)

    (live, spent), _ = run(go)
    # Normalised through the file format, so that "differs" means "pull would write other bytes".
    live = catalogue_file.loads(catalogue_file.dumps(live), "the live catalogue")
    catalogue_text = catalogue_file.dumps(live)
    schema_text = company_schema.dumps(company_schema.build(schema.load_schema(), live))
    if check:
        assert old is not None
        code = _check(old, live, catalogue_path, schema_path, directory, fmt, out)
        click.echo(spent, err=True)
        return code
    diff = compare(old, live) if old is not None else None
    wrote = []
    for path, text in ((catalogue_path, catalogue_text), (schema_path, schema_text)):
        if _current(path) != text:
            write_text(path, text)
            wrote.append(str(path))
    if diff:
        click.echo(f"The live catalogue differs from the previous {catalogue_path}:")
        _show_diff(diff, directory)
    described = (
        f"{len(live.custom)} custom properties, "
        f"{'no' if live.trades is None else len(live.trades.options)} trades"
    )
    if wrote:
        click.echo(f"Wrote {' and '.join(wrote)} ({described}); review and commit them.")
    else:
        click.echo(f"{catalogue_path} and {schema_path} are up to date ({described}).")
    click.echo(spent, err=True)
    return ExitCode.OK


def _current(path: Path) -> str | None:
    """An output's current text, to rewrite it only when it changes (None: absent or unreadable;
    a FIFO or device is never opened, and the write then refuses it)."""
    try:
        return read_regular(path, what="an output", limit=catalogue_file.LIMIT).decode("utf-8")
    except (OSError, UnicodeDecodeError, ReconcilerError):
        return None


def _check(
    old: Catalogue,
    live: Catalogue,
    catalogue_path: Path,
    schema_path: Path,
    directory: Path,
    fmt: str,
    out: Path | None,
) -> int:
    diff = compare(old, live)
    expected_schema = company_schema.dumps(company_schema.build(schema.load_schema(), old))
    schema_stale = _current(schema_path) != expected_schema
    if not diff and not schema_stale:
        click.echo(f"No catalogue drift: {catalogue_path} matches the live catalogue.")
        return ExitCode.OK
    if diff:
        click.echo(f"Catalogue drift: the live catalogue differs from {catalogue_path} "
                   f"({diff.counts()}):")  # fmt: skip
        _show_diff(diff, directory)
    if schema_stale:
        click.echo(
            f"{schema_path} is not what {catalogue_path} generates (missing, edited by hand, or "
            "written by another reconciler version)."
        )
    click.echo("Run `reconciler catalogue pull`, then review and commit the files it rewrites.")
    if out is not None:
        stale_note = [f"{schema_path} is out of date: run `reconciler catalogue pull`."]
        notes = stale_note if schema_stale else []
        if fmt == "markdown":
            text = render_markdown(diff, str(catalogue_path), notes)
        else:
            heading = f"Catalogue drift against {catalogue_path}:"
            text = "\n".join([heading, *diff_lines(diff), *notes]) + "\n"
        write_text(out, text)
    return ExitCode.ERROR
