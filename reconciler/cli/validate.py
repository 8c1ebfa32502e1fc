"""`reconciler validate`: check desired-state files and print every problem, then a summary.

Owns the command and the printing of problems (stdout: one line per problem, plus GitHub
annotations with `--format github`, or one JSON document with `--format json`; stderr: the
summary). When a `schemas/catalogue.json` applies to the files, they are
also checked offline against the company's catalogue (`reconciler.authoring`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from reconciler import authoring
from reconciler.cli.common import match_by_option, resolve_format
from reconciler.errors import EXIT_CODES_HELP, ExitCode
from reconciler.validate import Desired, format_problems, load_desired, summary, to_json

F = TypeVar("F", bound=Callable[..., Any])

FORMATS = ("text", "github")
VALIDATE_FORMATS = (*FORMATS, "json")
DEFAULT_PATH = Path("opportunities")


def format_option(f: F, formats: tuple[str, ...] = FORMATS) -> F:
    """`--format text|github`; unset means github under GitHub Actions, text elsewhere."""
    extra = ", or one JSON document for tools (json)" if "json" in formats else ""
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(formats),
        default=None,
        help="How to print problems: text lines, or text lines plus GitHub workflow annotations"
        f"{extra} [default: github when GITHUB_ACTIONS=true, else text]",
    )(f)


def echo_problems(desired: Desired, output_format: str) -> None:
    """Print the problems and warnings (stdout) and the summary line (stderr)."""
    shown = sorted([*desired.problems, *desired.warnings])
    for line in format_problems(shown, output_format):
        click.echo(line)
    click.echo(summary(desired), err=True)


def partial_format_option(f: F) -> F:
    return format_option(f, VALIDATE_FORMATS)


@click.command("validate", epilog=EXIT_CODES_HELP)
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--catalogue",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="The catalogue file to check custom fields, dropdown values and trades against "
    "[default: the nearest schemas/catalogue.json at or above each file's folder].",
)
@click.option(
    "--allow-new-options",
    is_flag=True,
    help="Dropdown and trade values the catalogue lacks are warnings, not errors (as with "
    "allow_new_options: true in opportunities/.reconciler.yaml).",
)
@partial_format_option
@match_by_option
def command(
    paths: tuple[Path, ...],
    catalogue: Path | None,
    allow_new_options: bool,
    output_format: str | None,
    match_by: str,
) -> ExitCode:
    """Check desired-state files without talking to the API.

    PATHS are files or folders (folders: *.yaml and *.yml, recursively); the default is
    opportunities/. Every problem in every file is printed as FILE:LINE:COL: FIELD: message,
    in file and line order: strict YAML, the schema, ids declared by two files, and new files
    (without id) that two files would create with one --match-by value. When a
    schemas/catalogue.json exists (`reconciler catalogue pull`), also, offline: unknown custom
    keys, values of the wrong type, and dropdown or trade values that are not options (errors,
    or warnings where the files opt in to new options). Exits 1 if there is any problem;
    warnings alone exit 0.
    """
    chosen = list(paths) or [DEFAULT_PATH]
    used: list[authoring.Authoring] = []

    def rules_for(files: list[Path]) -> authoring.Authoring:
        rules = authoring.build(files, catalogue=catalogue, allow_new_options=allow_new_options)
        used.append(rules)
        return rules

    desired = load_desired(chosen, rules_for, match_by=match_by)
    fmt = resolve_format(output_format)
    if fmt == "json":
        click.echo(to_json(desired, used[0].catalogues() if used else []), nl=False)
        click.echo(summary(desired), err=True)
    else:
        echo_problems(desired, fmt)
    return ExitCode.ERROR if desired.problems else ExitCode.OK
