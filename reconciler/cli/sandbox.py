"""`reconciler sandbox`: run the local emulator of the Coperniq API until Ctrl-C.

Owns the command's options and its banner (base URL, key, seed, database, a curl line to try).
Printing the key is intended: it is the sandbox's own key, not a Coperniq credential. A clean
stop (Ctrl-C or SIGTERM) exits 0, because stopping is how a server's run ends, not a failure.
"""

from __future__ import annotations

import contextlib
import signal
from pathlib import Path
from types import FrameType

import click

from reconciler.errors import EXIT_CODES_HELP, ConfigError, ExitCode

DEFAULT_PORT = 8765


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@click.command("sandbox", epilog=EXIT_CODES_HELP)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=DEFAULT_PORT,
    show_default=True,
    help="Port to listen on; 0 picks a free one (printed).",
)
@click.option(
    "--allow-remote",
    is_flag=True,
    help="Allow a non-loopback --host. The sandbox has a printed key and no TLS: only on a "
    "network you trust.",
)
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    help="SQLite file that keeps the state across restarts [default: in memory]. A new file "
    "is loaded from --seed; an existing one is reopened as it was (no --seed then).",
)
@click.option(
    "--seed",
    type=click.Path(dir_okay=False, path_type=Path),
    help="YAML or JSON seed: accounts, contacts, workflows, properties, opportunities "
    "[default: the example company's reference data, no opportunities].",
)
@click.option("--api-key", metavar="KEY", help="The key clients must send [default: generated].")
@click.option("--rate-per-second", type=click.IntRange(min=1), default=100, show_default=True)
@click.option("--rate-per-day", type=click.IntRange(min=1), default=5000, show_default=True)
@click.option(
    "--require-full-patch",
    is_flag=True,
    help="Refuse a PATCH without title, address and trades, as the published schema says.",
)
@click.option(
    "--normalize-phones",
    is_flag=True,
    help="Store phones as +1XXXXXXXXXX (a server that rewrites values; CONTRACT question 4).",
)
@click.option(
    "--replace-custom",
    is_flag=True,
    help="PATCH replaces custom instead of merging it (CONTRACT question 1's other answer).",
)
@click.option(
    "--latency", type=click.FloatRange(0, 60), default=0.0, help="Seconds added to every answer."
)
@click.option(
    "--jitter", type=click.FloatRange(0, 60), default=0.0, help="Up to this many more seconds."
)
@click.option(
    "--error-rate", type=click.FloatRange(0, 1), default=0.0, help="Fraction answered 500/502/503."
)
@click.option(
    "--throttle-rate", type=click.FloatRange(0, 1), default=0.0, help="Fraction answered 429."
)
@click.option(
    "--drop-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    help="Fraction handled (and written) whose connection is then cut mid-answer.",
)
@click.option(
    "--fault-seed", type=int, default=0, show_default=True, help="Seed of the fault stream."
)
def command(
    host: str,
    port: int,
    allow_remote: bool,
    db: Path | None,
    seed: Path | None,
    api_key: str | None,
    rate_per_second: int,
    rate_per_day: int,
    require_full_patch: bool,
    normalize_phones: bool,
    replace_custom: bool,
    latency: float,
    jitter: float,
    error_rate: float,
    throttle_rate: float,
    drop_rate: float,
    fault_seed: int,
) -> ExitCode:
    """Serve a local emulator of the Coperniq Opportunities API until Ctrl-C.

    Routes are served at the root and under /v1, with /requests as an alias of /opportunities.
    Control routes (key required): GET /_sandbox/requests (the request log), POST
    /_sandbox/reset, PUT /_sandbox/faults, PUT /_sandbox/limits, PUT /_sandbox/properties (replace
    the property catalogue, e.g. to rename a property). Ctrl-C stops it and exits 0.
    """
    # Imported here: uvicorn and Starlette cost every other command ~0.15 s at start-up.
    from reconciler.sandbox import Faults, SandboxConfig, SandboxError, load_seed, start_sandbox
    from reconciler.sandbox.config import is_loopback

    if not is_loopback(host) and not allow_remote:
        raise click.UsageError(
            f"--host {host} is not a loopback address; add --allow-remote to listen on it"
        )
    try:
        faults = Faults(
            latency=latency,
            jitter=jitter,
            error_rate=error_rate,
            throttle_rate=throttle_rate,
            drop_rate=drop_rate,
            seed=fault_seed,
        )
        config = SandboxConfig(
            api_key=api_key,
            rate_per_second=rate_per_second,
            rate_per_day=rate_per_day,
            require_full_patch=require_full_patch,
            normalize_phones=normalize_phones,
            replace_custom=replace_custom,
            faults=faults,
            db=db,
            host=host,
            port=port,
            allow_remote=allow_remote,
        )
    except (ValueError, SandboxError) as e:
        raise click.UsageError(str(e)) from None
    try:
        sandbox = start_sandbox(None if seed is None else load_seed(seed), config)
    except SandboxError as e:
        hint = "--port 0 picks a free port" if "cannot listen" in str(e) else None
        raise ConfigError(str(e), hint=hint) from None
    # Explicit handlers: a shell starts background jobs with SIGINT ignored, and SIGTERM's
    # default would skip the clean stop.
    previous = {
        sig: signal.signal(sig, _raise_interrupt) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        count = sandbox.count()
        click.echo(f"Sandbox listening on {sandbox.base_url} (also under /v1)")
        click.echo(f"API key: {sandbox.api_key}")
        click.echo(
            f"Seed: {seed if seed else 'example company reference data'} ({count} opportunities)"
        )
        click.echo(f"Database: {db if db else 'in memory'}")
        click.echo(
            f"Try: curl -H 'x-api-key: {sandbox.api_key}' "
            f"'{sandbox.base_url}/opportunities?page_size=2'"
        )
        click.echo("Press Ctrl-C to stop.")
        with contextlib.suppress(KeyboardInterrupt):
            sandbox.wait()
    finally:
        sandbox.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo("Sandbox stopped.", err=True)
    return ExitCode.OK
