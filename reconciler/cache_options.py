"""The live cache's command-line options (plan, apply, drift): --cache-dir, --refresh and
--max-snapshot-age, and the one-line notices a run prints about its caches."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import click

from reconciler import snapshot
from reconciler.quota import QuotaMemory
from reconciler.snapshot import CacheOptions, LiveCache, Refresh, parse_duration

F = TypeVar("F", bound=Callable[..., Any])


class Duration(click.ParamType[timedelta]):
    """A duration such as 90s, 30m, 24h or 2d (a bare number is hours)."""

    name = "duration"

    def convert(self, value: Any, param: Any, ctx: click.Context | None) -> timedelta:
        try:
            return value if isinstance(value, timedelta) else parse_duration(str(value))
        except ValueError as e:
            self.fail(str(e), param, ctx)


def cache_options(f: F) -> F:
    f = click.option(
        "--max-snapshot-age",
        type=Duration(),
        default="24h",
        show_default=True,
        help="With --refresh auto, read in full when the last full read is older than this "
        "(e.g. 90m, 24h, 2d).",
    )(f)
    f = click.option(
        "--refresh",
        type=click.Choice([r.value for r in Refresh]),
        default=Refresh.AUTO.value,
        show_default=True,
        help="How to read live records: auto (only the changes since the cached snapshot when "
        "one is usable, else in full), full, or incremental (even past --max-snapshot-age).",
    )(f)
    return click.option(
        "--cache-dir",
        type=click.Path(path_type=Path, file_okay=False),
        default=None,
        help="Folder of the live snapshot cache.  [default: cache/ beside the --state file, "
        "i.e. .reconciler/cache]",
    )(f)


@dataclass(frozen=True)
class LiveOptions:
    """--api-url, --base-path, --state and the cache options, as plan, apply and drift take them
    (`cli.common.live_options` folds them into one)."""

    api_url: str | None
    base_path: str | None
    state_path: Path
    cache_dir: Path | None
    refresh: str
    max_snapshot_age: timedelta

    @property
    def cache_folder(self) -> Path:
        return cache_directory(self.state_path, self.cache_dir)

    def cache(self, api_url: str, command: str = "this run") -> LiveCache:
        """The live cache, with the quota memory beside it; `command` names who is refused."""
        return make_cache(
            api_url,
            self.state_path,
            self.cache_dir,
            self.refresh,
            self.max_snapshot_age,
            command=command,
        )


def cache_directory(state_path: Path, cache_dir: Path | None) -> Path:
    """--cache-dir, or cache/ beside the state file (.reconciler/cache by default)."""
    return cache_dir if cache_dir is not None else state_path.parent / "cache"


def make_cache(
    api_url: str,
    state_path: Path,
    cache_dir: Path | None,
    refresh: str,
    age: timedelta,
    *,
    command: str = "this run",
) -> LiveCache:
    directory = cache_directory(state_path, cache_dir)
    options = CacheOptions(
        directory=directory,
        state_path=state_path,
        refresh=Refresh(refresh),
        max_age=age,
        overlap=snapshot.DEFAULT_OVERLAP,  # read at call time: tests shrink it
    )
    return LiveCache(options, api_url, quota=QuotaMemory(directory, api_url), command=command)


def quota_memory(state_path: Path, api_url: str) -> QuotaMemory:
    """The quota memory of a command without cache options (adopt, import): beside the state
    file, where the live cache would be."""
    return QuotaMemory(cache_directory(state_path, None), api_url)


def echo_notices(cache: LiveCache | QuotaMemory) -> None:
    quota = cache.quota if isinstance(cache, LiveCache) else cache
    for notices in (cache.notices, [] if quota is None or quota is cache else quota.notices):
        for line in notices:
            click.echo(line, err=True)
        notices.clear()
