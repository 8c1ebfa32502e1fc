"""The live snapshot cache: a re-plan reads only what moved since the last read.

After a read, the records seen (the fields the model knows, plus `id`, `updatedAt`, `isActive` and
`updatedBy`) are kept in `<cache dir>/live-<digest of the API URL>.json`, with the API URL, when
the last full read happened (this machine's clock, for the age check only) and a high-water mark:
the largest `updatedAt` seen, on the server's clock. The next run asks only for what changed:

    GET /opportunities?updated_after=<mark - overlap>&include_archived=true
        &order_by=asc&page_size=100

paged to its first short page, and merges the answer in. A wanted id the snapshot does not hold is
read as without a cache (`read_live`). The overlap (5 minutes by default) re-reads records
written in the same second as the mark, committed late, or changed while the last read was in
flight.

What `updated_after` cannot show: a record deleted since the snapshot. It stays in the snapshot
until the next full read (at most `--max-snapshot-age` later, 24 h by default); an apply that
PATCHes it gets a clean 404 for that record.

The file holds no key and nothing the API did not send, besides the URL (without any user:password
part). It is written atomically under the state file's lock; a run that cannot take the lock (an
apply holds it) reads but does not write. Anything unexpected in the file (unreadable, truncated,
not JSON, another format version, another API URL, timestamps in the future) makes the run read
in full, with a one-line notice: the cache is never trusted past what it proves.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from reconciler.atomic import write_atomic
from reconciler.budget import Budgeted, project
from reconciler.errors import ReconcilerError, StateLocked
from reconciler.estimates import read_cost
from reconciler.fields import is_archived
from reconciler.live import LiveSnapshot, read_live
from reconciler.lock import state_lock
from reconciler.protocol import Api
from reconciler.quota import QuotaMemory
from reconciler.regular import CACHE_LIMIT, read_optional
from reconciler.snapshot_file import (
    Stored,
    Unusable,
    age,
    digest,
    dump,
    format_instant,
    parse,
    parse_instant,
    public_url,
)

PAGE_SIZE: Final = 100
DEFAULT_MAX_AGE: Final = timedelta(hours=24)
DEFAULT_OVERLAP: Final = timedelta(minutes=5)


_UNITS: Final = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}
_DURATION: Final = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d)?\s*")


def parse_duration(text: str) -> timedelta:
    """`90s`, `30m`, `24h`, `2d` (a bare number is hours); ValueError otherwise."""
    match = _DURATION.fullmatch(text)
    if not match:
        raise ValueError(f"{text!r} is not a duration: write e.g. 90s, 30m, 24h or 2d")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2) or "h"])


class Refresh(enum.StrEnum):
    AUTO = "auto"  # incremental when a usable snapshot exists, else full
    FULL = "full"  # always read in full (and rewrite the snapshot)
    INCREMENTAL = "incremental"  # incremental even past --max-snapshot-age, if a snapshot exists


@dataclass(frozen=True, slots=True)
class ReadKind:
    """Which read a run made, for the requests line."""

    full: bool
    reason: str = ""  # why a full read ("no snapshot yet", "--refresh full", ...)
    since: str | None = None  # incremental: the updated_after sent
    last_full: datetime | None = None  # incremental: when the last full read was made
    at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def describe(self) -> str:
        if self.full:
            return f"full read: {self.reason}" if self.reason else "full read"
        ago = "unknown" if self.last_full is None else age(self.at - self.last_full)
        return f"changes since {self.since}; last full read {ago} ago"


@dataclass(frozen=True)
class CacheOptions:
    directory: Path
    state_path: Path  # the cache is written under this state file's lock
    refresh: Refresh = Refresh.AUTO
    max_age: timedelta = DEFAULT_MAX_AGE
    overlap: timedelta = DEFAULT_OVERLAP


class LiveCache:
    """The cache for one API URL, used for one command run.

    `notices` collects the one-line messages a run shows on stderr (an ignored cache file, a
    snapshot not updated because another run holds the lock). `last_read` says which read the
    last `read` call made.
    """

    def __init__(
        self,
        options: CacheOptions,
        api_url: str,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        quota: QuotaMemory | None = None,
        command: str = "this run",
    ) -> None:
        self.options = options
        self.api_url = public_url(api_url)
        self.quota = quota  # refuses, before the first request, a read it knows is too costly
        self.command = command  # who is refused ("plan", ...)
        self.path = options.directory / f"live-{digest(self.api_url)}.json"
        self.notices: list[str] = []
        self.last_read: ReadKind | None = None
        self._clock = clock
        self._stored: Stored | None = None
        self._loaded = False

    # --- reading --------------------------------------------------------------------------------

    async def read(
        self, client: Api, ids: Collection[int], *, known_total: int | None, lookups: int = 0
    ) -> LiveSnapshot:
        """The live records for `ids`, reading only what moved when the snapshot allows it.

        With `lookups` (the match checks of new files, see `read_live`) the snapshot is neither
        used nor written: they need the whole listing. Either way, a read the quota memory
        knows cannot be covered is refused before its first request."""
        wanted = frozenset(ids)
        if lookups:
            need = _cost(wanted, known_total, lookups)
            self._check_quota(
                client, need, f"to read {_records(len(wanted))} and check {lookups} new files"
            )
            budget = Budgeted(client)
            budget.expect(need)
            return await read_live(budget, wanted, known_total=known_total, lookups=lookups)
        now = self._clock()
        stored = self._load(now)
        start = client.requests_sent
        kind = self._choose(stored, now)
        budget = Budgeted(client)
        seen: dict[int, dict[str, Any]] = {}
        if kind.full or stored is None:
            need = _cost(wanted, known_total)
            self._check_quota(client, need, f"to read {_records(len(wanted))} in full")
            budget.expect(need)
            snapshot = await read_live(budget, wanted, known_total=known_total)
            seen.update(budget.records)
            records: dict[int, dict[str, Any]] = {}
            full_read_at = now
            mark: datetime | None = None
            total_seen = snapshot.total_seen
        else:
            records = stored.records
            full_read_at, mark = stored.full_read_at, stored.mark
            assert kind.since is not None
            lacking = wanted - records.keys()
            need = 1 + _cost(lacking, known_total)  # a page of changes, at least
            more = f" and {_records(len(lacking))} the snapshot lacks" if lacking else ""
            self._check_quota(
                client, need, f"to read the changes since {kind.since}{more}", full=False
            )
            budget.expect(need)
            await _read_changes(budget, kind.since, seen)
            unknown = wanted - records.keys() - seen.keys()
            if unknown:
                budget.expect(_cost(unknown, known_total))
                await read_live(budget, unknown, known_total=known_total)
                seen.update(budget.records)
            total_seen = None
        # An incremental read that brought nothing new (the overlap window re-reads the last
        # changes every time) leaves the snapshot as it was: not rewritten.
        moved = stored is None or kind.full or any(records.get(i) != r for i, r in seen.items())
        records.update(seen)
        before, mark = mark, _max_mark(mark, seen.values())
        self._stored = Stored(self.api_url, full_read_at, mark, records)
        self.last_read = kind
        if moved or mark != before:
            self.save()
        found = {i: records[i] for i in wanted if i in records}
        return LiveSnapshot(
            records=MappingProxyType(found),
            missing=wanted - found.keys(),
            archived=frozenset(i for i, r in found.items() if is_archived(r)),
            requests=client.requests_sent - start,
            total_seen=total_seen,
        )

    def _check_quota(self, client: Api, need: int, what: str, *, full: bool = True) -> None:
        """Before the run's first answer, the remembered figure decides; after it, the figure
        this run was told (fresher) does, through `Budgeted`."""
        if self.quota is not None and client.last_remaining is None:
            self.quota.check(need, what, self.command, full=full)

    def _choose(self, stored: Stored | None, now: datetime) -> ReadKind:
        refresh = self.options.refresh
        if refresh is Refresh.FULL:
            return ReadKind(True, "--refresh full", at=now)
        if stored is None:
            return ReadKind(True, "no usable snapshot", at=now)
        if stored.mark is None:
            return ReadKind(True, "the snapshot holds no record", at=now)
        elapsed = now - stored.full_read_at
        if refresh is Refresh.AUTO and elapsed > self.options.max_age:
            limit = age(self.options.max_age)
            return ReadKind(True, f"last full read {age(elapsed)} ago, over {limit}", at=now)
        since = format_instant(stored.mark - self.options.overlap)
        return ReadKind(False, since=since, last_full=stored.full_read_at, at=now)

    def _load(self, now: datetime) -> Stored | None:
        if self._loaded:
            return self._stored
        self._loaded = True
        if self.options.refresh is Refresh.FULL:
            return None
        raw = read_optional(self.path, limit=CACHE_LIMIT, notice=self._notice)
        if raw is None:
            return None
        try:
            self._stored = parse(raw, self.api_url, now)
        except Unusable as e:
            self._notice(str(e))
            return None
        return self._stored

    def _notice(self, why: str) -> None:
        self.notices.append(f"Live cache {self.path} ignored: {why}; reading in full.")

    # --- writing --------------------------------------------------------------------------------

    def forget(self, ids: Iterable[int | None]) -> None:
        """Drop records from the snapshot and save it (deleted, or a 404 since: no listing
        would say so); a later run reads them by id."""
        if self._stored is not None:
            for i in ids:
                if i is not None:
                    self._stored.records.pop(i, None)
            self.save()

    def save(self) -> None:
        """Write the snapshot atomically under the state lock; skipped (with a notice) when
        another run holds the lock or the folder cannot be written: the cache is optional."""
        if self._stored is None:
            return
        data = dump(self._stored)
        try:
            with state_lock(self.options.state_path, command="cache"):
                self.path.parent.mkdir(parents=True, exist_ok=True)
                write_atomic(self.path, data, new_mode=0o600)
        except StateLocked:
            self.notices.append(
                f"Live cache {self.path} not updated: another run holds the state lock."
            )
        except (OSError, ReconcilerError) as e:
            why = e.strerror if isinstance(e, OSError) else e.message
            self.notices.append(f"Live cache {self.path} not updated: {why}.")


# --- the incremental read -----------------------------------------------------------------------


async def _read_changes(client: Api, since: str, seen: dict[int, dict[str, Any]]) -> None:
    """Every record updated after `since`, archived ones included, page by page to the end."""
    page = 1
    while True:
        records = await client.list_page(
            page, PAGE_SIZE, include_archived=True, order_by="asc", updated_after=since
        )
        fresh = 0
        for record in records:
            rid = record.get("id")
            if isinstance(rid, int) and not isinstance(rid, bool) and rid not in seen:
                seen[rid] = project(record)
                fresh += 1
        if len(records) < PAGE_SIZE:
            return
        if not fresh:
            raise ReconcilerError(
                f"the API sent page {page} of the changes since {since} again: "
                "paging does not advance",
                hint="read in full with --refresh full",
            )
        page += 1


def _cost(wanted: Collection[int], known_total: int | None, lookups: int = 0) -> int:
    """What `read_live` is expected to spend on `wanted` ids (and `lookups`)."""
    return read_cost(len(wanted), max(wanted, default=0), known_total, PAGE_SIZE, lookups)


def _records(n: int) -> str:
    return f"{n:,} record{'s' if n != 1 else ''}"


def _max_mark(mark: datetime | None, records: Iterable[Mapping[str, Any]]) -> datetime | None:
    for record in records:
        instant = parse_instant(record.get("updatedAt"))
        if instant is not None and (mark is None or instant > mark):
            mark = instant
    return mark


def read_kind(cache: LiveCache | None) -> str | None:
    """Which read the cache made, for the requests line (None without a cache)."""
    return None if cache is None or cache.last_read is None else cache.last_read.describe()
