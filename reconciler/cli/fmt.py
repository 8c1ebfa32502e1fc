"""`reconciler fmt [--check] [PATH]...`: rewrite opportunity files in canonical form.

Owns the command: which files (`validate`'s discovery: files as given, YAML files under folders,
hidden ones skipped), writing the changed ones atomically, and what is printed. The formatting
itself is `reconciler.fmt`.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import click

from reconciler.atomic import write_atomic
from reconciler.errors import ExitCode, FileTooLarge, NotRegularFile, ReconcilerError
from reconciler.escape import terminal, terminal_block
from reconciler.fmt import format_text
from reconciler.loader import MAX_BYTES
from reconciler.regular import read_regular
from reconciler.validate import discover

DEFAULT_PATH = Path("opportunities")


def _diff(path: Path, before: str, after: str) -> str:
    name = path.as_posix()
    old, new = (name, name) if path.is_absolute() else (f"a/{name}", f"b/{name}")
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), old, new
    )
    return "".join(lines)


@click.command("fmt")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path), metavar="[PATH]...")
@click.option(
    "--check",
    is_flag=True,
    help="Change nothing: list the files that are not canonical and exit 1 if there are any.",
)
@click.option("--diff", "show_diff", is_flag=True, help="Print what would change, as a diff.")
def command(paths: tuple[Path, ...], check: bool, show_diff: bool) -> int:
    """Rewrite opportunity files in canonical form: meaning and comments unchanged.

    PATH is a file or a folder (default: opportunities/). Canonical: `id` first, then the
    fields in the field table's order, custom keys sorted, strings quoted only where a YAML 1.1,
    YAML 1.2 or strict reader would misread them (the rule `import` and `adopt` use), two-space
    indentation; comments, blank lines, flow or block lists and the yaml-language-server modeline
    are kept. With --check (or --diff) nothing is written: exit 1 when a file would change.
    A file that is not strict YAML is reported with file:line and left alone (exit 1).
    """
    files = discover(list(paths) or [DEFAULT_PATH])
    dry = check or show_diff
    changed: list[Path] = []
    failed = 0
    for path in files:
        try:
            # A FIFO or device in the folder is refused, never opened (it would hang).
            raw = read_regular(path, what="an opportunity file", limit=MAX_BYTES)
            before = raw.decode("utf-8")
        except (NotRegularFile, FileTooLarge) as e:
            click.echo(terminal_block(e.message), err=True)
            failed += 1
            continue
        except (OSError, UnicodeDecodeError) as e:
            why = e.strerror if isinstance(e, OSError) else "not UTF-8 text"
            click.echo(f"{terminal(str(path))}: cannot read the file: {why}", err=True)
            failed += 1
            continue
        try:
            after = format_text(before, str(path))
        except ReconcilerError as e:
            click.echo(terminal_block(str(e)), err=True)
            failed += 1
            continue
        if after == before:
            continue
        changed.append(path)
        if show_diff:
            # The files' lines are untrusted text: no line may act as a workflow command.
            click.echo(terminal_block(_diff(path, before, after)), nl=False)
        if dry:
            click.echo(f"would reformat {terminal(str(path))}")
        else:
            problem = _write(path, before, after)
            if problem:
                click.echo(terminal_block(problem), err=True)
                changed.pop()
                failed += 1
            else:
                click.echo(f"reformatted {terminal(str(path))}")
    verb = "would be reformatted" if dry else "reformatted"
    parts = [f"{len(changed)} {_files(len(changed))} {verb}"]
    parts.append(f"{len(files) - len(changed) - failed} unchanged")
    if failed:
        parts.append(f"{failed} not formatted (errors above)")
    click.echo(f"fmt: {', '.join(parts)}.", err=True)
    if failed or (dry and changed):
        return ExitCode.ERROR
    return ExitCode.OK


def _write(path: Path, before: str, after: str) -> str | None:
    """Replace `path` with `after` if it still holds `before`; what went wrong, if anything."""
    try:
        now = read_regular(path, what="an opportunity file", limit=MAX_BYTES)
        if now != before.encode("utf-8"):  # an editor saved it meanwhile
            return f"{path}: the file changed while fmt read it; left alone: run fmt again"
        write_atomic(path, after)
    except ReconcilerError as e:
        return str(e)
    except OSError as e:
        return f"{path}: cannot read the file: {e.strerror or e}"
    return None


def _files(n: int) -> str:
    return "file" if n == 1 else "files"
