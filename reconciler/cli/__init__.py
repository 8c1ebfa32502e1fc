"""The command line: the only layer that prints, reads the environment or chooses exit codes.

Each command lives in its own module here and returns an `ExitCode`. `main()` runs click in
non-standalone mode so that one handler maps every outcome to the shared exit-code convention:
expected errors to 1 with an actionable message, usage errors to 64 (click's 2 is remapped so that
2 always means "changes present"), Ctrl-C to 130, and anything else to 70 with "this is a bug"
and no traceback unless `--debug` (or RECONCILER_DEBUG=1) asks for one.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import traceback
from collections.abc import Sequence

import click

from reconciler import __version__
from reconciler.errors import EXIT_CODES_HELP, ExitCode, ReconcilerError
from reconciler.escape import terminal_block

API_KEY_ENV = "COPERNIQ_API_KEY"


COMMANDS: dict[str, str] = {
    "validate": "reconciler.cli.validate",
    "plan": "reconciler.cli.plan",
    "apply": "reconciler.cli.apply",
    "drift": "reconciler.cli.drift",
    "import": "reconciler.cli.importer",
    "adopt": "reconciler.cli.adopt",
    "fmt": "reconciler.cli.fmt",
    "show": "reconciler.cli.show",
    "demo": "reconciler.cli.demo",
    "sandbox": "reconciler.cli.sandbox",
    "catalogue": "reconciler.cli.catalogue",
}
"""Each command lives in its own module, exposing one click command as `command`."""


class LazyGroup(click.Group):
    """Imports a command's module only when that command runs (or --help lists them all).

    `reconciler plan` then never imports the sandbox's web server, nor `validate` the HTTP
    client: start-up time is part of every CI job and of the plan benchmark.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in COMMANDS if self._available(name)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS or not self._available(cmd_name):
            return None
        command = importlib.import_module(COMMANDS[cmd_name]).command
        assert isinstance(command, click.Command)
        if command.epilog is None:  # every command's --help states the shared exit codes
            command.epilog = EXIT_CODES_HELP
        return command

    @staticmethod
    def _available(name: str) -> bool:
        return importlib.util.find_spec(COMMANDS[name]) is not None


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=EXIT_CODES_HELP,
)
@click.version_option(__version__, prog_name="reconciler")
@click.option(
    "--debug",
    is_flag=True,
    envvar="RECONCILER_DEBUG",
    help="Show tracebacks for errors (the API key is still redacted).",
)
def cli(debug: bool) -> None:
    """Keep Coperniq opportunities as YAML in git: validate, plan, apply, report drift."""


def redact(text: str) -> str:
    """Remove the API key from text bound for a terminal, a log or a file."""
    key = os.environ.get(API_KEY_ENV, "")
    # A very short "key" would redact ordinary words; such a key is rejected elsewhere anyway.
    if len(key) >= 4:
        text = text.replace(key, "***")
    return text


def _debug_requested(argv: Sequence[str]) -> bool:
    env = os.environ.get("RECONCILER_DEBUG", "").strip().lower()
    return "--debug" in argv or env in {"1", "true", "yes", "on"}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    debug = _debug_requested(args)
    try:
        rv = cli.main(args=args, prog_name="reconciler", standalone_mode=False)
    except click.exceptions.Exit as e:  # --help, --version
        return int(e.exit_code)
    except click.exceptions.Abort:
        # click raises Abort for Ctrl-C at a prompt and for EOF on a confirmation.
        click.echo("\nInterrupted.", err=True)
        return ExitCode.INTERRUPTED
    except click.ClickException as e:  # UsageError, BadParameter, FileError, ...
        e.show()
        return ExitCode.USAGE if isinstance(e, click.UsageError) else ExitCode.ERROR
    except KeyboardInterrupt:
        click.echo("\nInterrupted.", err=True)
        return ExitCode.INTERRUPTED
    except ReconcilerError as e:
        if debug:
            click.echo(redact(traceback.format_exc()), err=True)
        click.echo(redact(f"Error: {terminal_block(str(e))}"), err=True)
        return ExitCode.ERROR
    except Exception as e:  # a bug: say so, without a traceback unless asked
        if debug:
            click.echo(redact(traceback.format_exc()), err=True)
        click.echo(
            redact(
                "Internal error (this is a bug in reconciler): "
                + terminal_block(f"{type(e).__name__}: {e}")
            ),
            err=True,
        )
        if not debug:
            click.echo("Run again with --debug for the traceback, and report it.", err=True)
        return ExitCode.BUG
    return int(rv) if isinstance(rv, int) else ExitCode.OK
