"""`reconciler show`: a saved plan (from `plan --out`) as text, JSON or Markdown, offline.

The plan is read and checked exactly as `apply PLANFILE` reads it, and rendered by the same views
as `plan`: so one `plan --out` in CI spends the API requests once, and the pull-request comment,
the job summary and the artifact are all views of the plan that was reviewed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from reconciler.cli.common import color_for, read_plan_file, report_options
from reconciler.errors import ExitCode
from reconciler.render.dispatch import render


@click.command("show")
@click.argument("planfile", type=click.Path(path_type=Path, dir_okay=False))
@report_options("a pull-request comment")
def command(planfile: Path, fmt: str, no_mask: bool) -> ExitCode:
    """Show a saved plan without talking to the API.

    Exits 0 whenever the plan could be shown, whatever it holds (`plan` itself reports changes
    and errors through its exit code).
    """
    plan = read_plan_file(planfile)
    click.echo(render(plan, fmt, masked=not no_mask, color=color_for(sys.stdout)), nl=False)
    return ExitCode.OK
