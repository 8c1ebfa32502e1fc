"""`reconciler validate`: check desired-state files and print every problem, then a summary.

Owns the command and the printing of problems (stdout: one line per problem, plus GitHub
annotations with `--format github`; stderr: the summary). `format_option`, `resolve_format` and
`echo_problems` are for any command that prints problems the way `validate` does.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from reconciler.cli import EXIT_CODES_HELP
from reconciler.errors import ExitCode
from reconciler.validate import Desired, format_problems, load_desired, summary

F = TypeVar("F", bound=Callable[..., Any])

FORMATS = ("text", "github")
DEFAULT_PATH = Path("opportunities")


def format_option(f: F) -> F:
    """`--format text|github`; unset means github under GitHub Actions, text elsewhere."""
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(FORMATS),
        default=None,
        help="How to print problems: text lines, or text lines plus GitHub workflow annotations "
        "[default: github when GITHUB_ACTIONS=true, else text]",
    )(f)


def resolve_format(output_format: str | None) -> str:
    """The format to use: the one asked for, else github under GitHub Actions, else text."""
    if output_format is not None:
        return output_format
    return "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"


def echo_problems(desired: Desired, output_format: str) -> None:
    """Print the problems (stdout) and the summary line (stderr)."""
    for line in format_problems(desired.problems, output_format):
        click.echo(line)
    click.echo(summary(desired), err=True)


@click.command("validate", epilog=EXIT_CODES_HELP)
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@format_option
def command(paths: tuple[Path, ...], output_format: str | None) -> ExitCode:
    """Check desired-state files without talking to the API.

    PATHS are files or folders (folders: *.yaml and *.yml, recursively); the default is
    opportunities/. Every problem in every file is printed as FILE:LINE:COL: FIELD: message,
    in file and line order: strict YAML, the schema, and ids declared by two files. Exits 1 if
    there is any problem.
    """
    desired = load_desired(list(paths) or [DEFAULT_PATH])
    echo_problems(desired, resolve_format(output_format))
    return ExitCode.ERROR if desired.problems else ExitCode.OK
