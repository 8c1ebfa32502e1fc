"""What the commands share, and the only module they share it through (the layer test checks it):
options, the exit-code help, loading the files and plan files, running async work.

`load_records` refuses to plan from invalid files (it prints the same problems `validate` does);
`run` drives a coroutine with Ctrl-C handled the way apply needs: the first Ctrl-C sets a stop
event (requests in flight finish, the rest are not sent), a second one cancels outright.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import signal
import sys
from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

import click

from reconciler.atomic import write_atomic
from reconciler.cache_options import LiveOptions, cache_options
from reconciler.errors import ReconcilerError
from reconciler.escape import terminal
from reconciler.fields import MATCH_FIELDS, REQUIRED_NAMES, WRITE_ONLY_NAMES
from reconciler.filecache import FileCache
from reconciler.gcpause import quiet_gc
from reconciler.loading import Loaded as Loaded
from reconciler.loading import begin as begin_loading
from reconciler.loading import loaded_from
from reconciler.loading import shown_path as shown_path
from reconciler.lock import state_lock
from reconciler.plan import DesiredRecord, Plan
from reconciler.regular import PLAN_LIMIT, read_regular
from reconciler.state import State
from reconciler.validate import Desired, finish_desired, format_problems

if TYPE_CHECKING:
    from reconciler.client import ClientSettings
    from reconciler.engine import Lifecycle

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_DIR = Path("opportunities")
DEFAULT_STATE = Path(".reconciler/state.json")


def dir_option(f: F) -> F:
    return click.option(
        "--dir",
        "directory",
        type=click.Path(path_type=Path),
        default=DEFAULT_DIR,
        show_default=True,
        help="Folder of desired-state files (*.yaml).",
    )(f)


class OpportunityId(click.ParamType[int]):
    """An opportunity id: the `id` a file declares, a positive integer."""

    name = "id"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            return value
        text = str(value).strip()
        if text.isascii() and text.isdigit() and int(text) >= 1:
            return int(text)
        what = "a target" if param is not None and param.name == "targets" else "an id"
        self.fail(
            f"{terminal(repr(value))} is not an opportunity id: {what} is the `id` of an "
            "opportunity file (a positive integer, such as 1001)",
            param,
            ctx,
        )


def target_option(f: F) -> F:
    return click.option(
        "--target",
        "targets",
        type=OpportunityId(),
        multiple=True,
        metavar="ID",
        help="Only this opportunity id (repeatable). A few targets are read one GET each.",
    )(f)


def send_required_option(f: F) -> F:
    """`--send-required`, for plan and apply (it changes the PATCH bodies a plan holds)."""
    return click.option(
        "--send-required",
        is_flag=True,
        help=f"Add {REQUIRED_NAMES} to every PATCH (servers enforcing the published schema).",
    )(f)


def report_options(markdown_for: str) -> Callable[[F], F]:
    """`--format text|json|markdown` and `--no-mask`, shared by plan, show and drift."""

    def decorate(f: F) -> F:
        f = click.option(
            "--no-mask", is_flag=True, help="Show emails and phones in full in Markdown."
        )(f)
        return click.option(
            "--format",
            "fmt",
            type=click.Choice(["text", "json", "markdown"]),
            default="text",
            show_default=True,
            help=f"text for a terminal, json for machines, markdown for {markdown_for}.",
        )(f)

    return decorate


def api_options(f: F) -> F:
    """--api-url, --base-path and --state: where the API is and where applied values are kept."""
    f = click.option(
        "--state",
        "state_path",
        type=click.Path(path_type=Path, dir_okay=False),
        default=DEFAULT_STATE,
        show_default=True,
        help=f"State file: the write-only values ({WRITE_ONLY_NAMES}) this tool last applied.",
    )(f)
    return api_location_options(f)


def live_options(f: F) -> F:
    """api_options and cache_options (plan, apply, drift), passed on as one `live: LiveOptions`."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        live = LiveOptions(**{name: kwargs.pop(name) for name in LiveOptions.__dataclass_fields__})
        return f(*args, live=live, **kwargs)

    return cache_options(api_options(wrapper))  # type: ignore[return-value]


def api_location_options(f: F) -> F:
    """--api-url and --base-path, for commands that keep no state (catalogue pull)."""
    from reconciler.client import BASE_PATHS  # not at the top: `validate` never loads httpx

    f = click.option(
        "--base-path",
        type=click.Choice(BASE_PATHS),
        default=None,
        help="API path: /opportunities (default) or its legacy alias /requests.",
    )(f)
    return click.option(
        "--api-url",
        default=None,
        metavar="URL",
        help="API base URL.  [env: COPERNIQ_API_URL; default: https://api.coperniq.io/v1]",
    )(f)


def with_state_lock(command: str) -> Callable[[F], F]:
    """Run a command holding the state file's lock (`reconciler.lock`), taken before anything
    else: a second writer on the same state file fails at once, naming the holder."""

    def decorate(f: F) -> F:
        @functools.wraps(f)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with state_lock(kwargs["state_path"], command=command):
                return f(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def resolve_format(output_format: str | None) -> str:
    """The format to use: the one asked for, else github under GitHub Actions, else text."""
    if output_format is not None:
        return output_format
    return "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"


def read_plan_file(path: Path) -> Plan:
    try:
        data: Any = json.loads(read_regular(path, what="a plan file", limit=PLAN_LIMIT))
    except OSError as e:
        raise ReconcilerError(f"cannot read plan file {path}: {e.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ReconcilerError(
            f"{path} is not a JSON plan ({e})", hint="write it with `reconciler plan --out FILE`"
        ) from None
    return Plan.from_dict(data, source=str(path))


def check_files_unchanged(plan: Plan, files: dict[str, str], path: Path) -> None:
    changed = sorted(
        name for name in plan.files.keys() | files.keys() if plan.files.get(name) != files.get(name)
    )
    if changed:
        shown = ", ".join(changed[:5]) + (
            f" and {len(changed) - 5} more" if len(changed) > 5 else ""
        )
        raise ReconcilerError(
            f"the files changed since {path} was planned ({shown}): it no longer describes them",
            hint="make a new plan with `reconciler plan --out FILE` and review it",
        )


def check_same_api(plan: Plan, state: State, path: Path) -> None:
    """A saved plan applies only to the API it was computed against."""
    if plan.api_url is not None and state.api is not None and plan.api_url != state.api:
        raise ReconcilerError(
            f"{path} was planned against {terminal(plan.api_url)}, but this run talks to "
            f"{state.api}: nothing was sent",
            hint="make a new plan against this API with `reconciler plan --out FILE`, or point "
            "COPERNIQ_API_URL / --api-url at the API the plan was made for",
        )


def settings(api_url: str | None, base_path: str | None, **overrides: Any) -> ClientSettings:
    """Client settings; the key comes only from COPERNIQ_API_KEY, never from an option."""
    from reconciler.client import ClientSettings

    return ClientSettings.from_env(os.environ, api_url=api_url, base_path=base_path, **overrides)


def load_records(
    directory: Path, cache_dir: Path | None = None
) -> tuple[list[DesiredRecord], dict[str, str]]:
    """The valid desired records with an id and every file's digest; invalid files stop the
    command. Files without an id (new opportunities) are left to `load_all`."""
    loaded = load_all(directory, cache_dir=cache_dir)
    return loaded.records, loaded.files


def load_all(directory: Path, match_by: str = "title", cache_dir: Path | None = None) -> Loaded:
    """Every valid file under `directory`; any invalid file stops the command. With
    `cache_dir`, the file cache there answers for the files whose bytes it has seen."""
    cache = None
    try:
        with quiet_gc():
            cache = file_cache(cache_dir)
            desired = finish_desired(begin_loading(directory, cache), match_by)
    finally:
        echo_cache_notices(cache)
    return loaded_or_stop(desired, directory)


def file_cache(cache_dir: Path | None) -> FileCache | None:
    return None if cache_dir is None else FileCache.open(cache_dir)


def echo_cache_notices(cache: FileCache | None) -> None:
    for line in [] if cache is None else cache.notices:
        click.echo(line, err=True)


def loaded_or_stop(desired: Desired, directory: Path, spent: int = 0) -> Loaded:
    """`desired` as a `Loaded`; its problems, if any, are printed and stop the command. `spent`:
    the requests a read begun alongside the check had made when it was stopped."""
    if desired.problems:
        # stderr: stdout may be a JSON or Markdown plan that must stay parseable.
        for line in format_problems(desired.problems, resolve_format(None)):
            click.echo(line, err=True)
        count = len(desired.problems)
        read = (
            "nothing was read from or sent to the API"
            if not spent
            else f"nothing was sent to the API (the read begun alongside the checks was stopped "
            f"after {spent} request{'s' if spent != 1 else ''})"
        )
        raise ReconcilerError(
            f"{count} problem{'s' if count != 1 else ''} in the files under {directory}: {read}",
            hint=f"fix the files above (`reconciler validate {directory}` lists them)",
        )
    return loaded_from(desired, directory)


def lifecycle(
    loaded: Loaded, directory: Path, targets: tuple[int, ...], *, match_by: str, prune: bool
) -> Lifecycle:
    """Creates and removals are planned for a whole folder only, never with --target."""
    from reconciler.engine import Lifecycle  # at run time only: validate needs none of it

    if targets:
        return Lifecycle(match_by=match_by, prune=prune)
    return Lifecycle(loaded.new, match_by, prune, shown_path(directory))


def match_by_option(f: F) -> F:
    """`--match-by`: the field a new file (no `id`) is matched on before it is created."""
    return click.option(
        "--match-by",
        type=click.Choice(MATCH_FIELDS),
        default="title",
        show_default=True,
        help="The field a file without id is matched on: a live record (archived included) "
        "or another new file holding the same value there is an error, never a silent match.",
    )(f)


def prune_option(f: F) -> F:
    return click.option(
        "--prune",
        is_flag=True,
        help="Delete the records whose files were removed (default: only stop managing them). "
        "Needs a state file: without one nothing is ever deleted.",
    )(f)


def load_state(path: Path, client_settings: ClientSettings) -> State:
    """The state file, bound to the API this run talks to (values recorded through another API
    are not used; see `State.bind`)."""
    state = State.load(path)
    state.bind(client_settings.base_url)
    return state


def color_for(stream: TextIO) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    return stream.isatty() and "NO_COLOR" not in os.environ


def is_interactive() -> bool:
    return sys.stdin.isatty()


def run(make: Callable[[asyncio.Event], Coroutine[Any, Any, T]]) -> tuple[T, bool]:
    """Run `make(stop)` to completion; returns its result and whether Ctrl-C was pressed.

    The first SIGINT sets `stop` (graceful: the coroutine decides what to finish); a second one
    cancels the coroutine, which surfaces as KeyboardInterrupt (exit 130).
    """

    async def main() -> T:
        stop = asyncio.Event()
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()

        def on_sigint() -> None:
            if stop.is_set() and task is not None:
                task.cancel()
                return
            stop.set()
            click.echo(
                "\nInterrupted: finishing the requests in flight (Ctrl-C again to abort).",
                err=True,
            )

        # Not available off the main thread or on some platforms: Ctrl-C then just aborts.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGINT, on_sigint)
        try:
            result = await make(stop)
        except asyncio.CancelledError:
            raise KeyboardInterrupt from None
        finally:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signal.SIGINT)
        interrupted[0] = stop.is_set()
        return result

    interrupted = [False]
    with quiet_gc():
        result = asyncio.run(main())
    return result, interrupted[0]


def write_text(path: Path, text: str) -> None:
    """Write an output file (plan, report) atomically, with a clear error on failure."""
    write_atomic(path, text)


def summary_counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{n} {name}" for name, n in counts.items())
