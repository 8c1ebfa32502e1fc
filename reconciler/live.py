"""Reading live state at the least cost: which of the wanted records exist, and what they hold.

The API has no bulk get and no total count; every request costs quota. `read_live` chooses between
listing (`GET /opportunities`, 100 a page, ascending, archived included) and one `GET` per id,
and keeps re-choosing as it learns: page 1 first; then the pages every wanted id certainly needs,
concurrently; then small windows of further pages only while they are estimated to cost less than
fetching the ids still unseen one by one. When the pages come back sorted by id, the listing stops
as soon as it has passed the largest wanted id. The estimates and the sortedness bookkeeping it
steers by are pure, in `reconciler.estimates`.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Collection, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from reconciler.estimates import Progress, full_listing_cost, initial_list_cost, next_pages
from reconciler.fields import is_archived
from reconciler.protocol import Api


@dataclass(frozen=True, repr=False)
class LiveSnapshot:
    """The live side of a plan.

    `records`: the wanted ids that exist, archived ones included. `missing`: wanted ids that do not
    exist. `archived`: those of `records` with `isActive: false`. `requests`: HTTP requests spent
    (retries included). `total_seen`: how many live records exist, when the listing was read to
    its end (None otherwise); the state file keeps it to inform the next estimate.
    """

    records: Mapping[int, dict[str, Any]]
    missing: frozenset[int]
    archived: frozenset[int]
    requests: int
    total_seen: int | None
    # Every live record, archived ones included: only when asked for (`lookups`) and the
    # listing was read to its end; None otherwise.
    everything: Mapping[int, dict[str, Any]] | None = None

    def __repr__(self) -> str:
        # asyncio's Runner formats the main task's result when it swaps the SIGINT handler: a
        # full repr of 10,000 records costs a third of a second there.
        return (
            f"LiveSnapshot({len(self.records)} records, {len(self.missing)} missing, "
            f"requests={self.requests})"
        )


async def read_live(
    client: Api,
    ids: Collection[int],
    *,
    known_total: int | None = None,
    page_size: int = 100,
    lookups: int = 0,
) -> LiveSnapshot:
    """Read the live records for `ids`, spending as few requests as the estimates allow.

    `known_total` is the caller's best guess of how many live records exist (the state file's
    last `live_total`, else the number of desired-state files); it only steers the choice.
    `lookups` is what the caller will spend otherwise unless it sees every live record (one
    filtered request per new file, to check a create matches nothing): the listing is then read
    to its end whenever that costs fewer requests, and `everything` holds what it saw.
    A wanted id that does not exist ends up in `missing`; API failures other than a 404 raise.
    """
    wanted = frozenset(ids)
    start = client.requests_sent
    found: dict[int, dict[str, Any]] = {}
    total_seen: int | None = None
    everything: dict[int, dict[str, Any]] | None = {} if lookups else None
    if wanted or lookups:
        max_id = max(wanted, default=0)
        list_cost = initial_list_cost(len(wanted), max_id, known_total, page_size)
        to_end = None if known_total is None else full_listing_cost(known_total, page_size)
        lister = _Lister(client, wanted, found, known_total, page_size, everything, lookups)
        if lookups and to_end is not None and to_end < lookups + min(len(wanted), list_cost):
            lister.finish = True  # one listing replaces both the reads and the lookups
            total_seen = await lister.run()
        elif not wanted:
            pass
        elif len(wanted) <= list_cost:
            await _get_each(client, wanted, found)
        else:
            total_seen = await lister.run()
            # A listing can skip a record that exists (deletes shift the pages while they are
            # read): before anyone is told a wanted record is missing, ask for it by id. Ids
            # already asked for by id are settled. One GET per such record; they are rare
            # (each is an error in the plan).
            doubtful = wanted - found.keys() - lister.fetched
            if doubtful:
                await _get_each(client, doubtful, found)
    archived = frozenset(i for i, r in found.items() if is_archived(r))
    return LiveSnapshot(
        records=MappingProxyType(found),
        missing=wanted - found.keys(),
        archived=archived,
        requests=client.requests_sent - start,
        total_seen=total_seen,
        everything=None
        if everything is None or total_seen is None
        else MappingProxyType(everything),
    )


async def _get_each(
    client: Api,
    ids: Iterable[int],
    found: dict[int, dict[str, Any]],
    fetched: set[int] | None = None,
) -> None:
    """One GET per id, concurrently (the client bounds how many are in flight); 404 is missing.
    `fetched`, if given, collects the ids asked for."""
    ids = sorted(ids)
    if fetched is not None:
        fetched.update(ids)

    async def one(record_id: int) -> None:
        record = await client.get(record_id, include_archived=True)
        if record is not None:
            found[record_id] = record

    await _all_or_first_error([one(i) for i in ids])


class _Lister:
    """One listing in progress: pages received, the sorted prefix, and when to stop."""

    def __init__(
        self,
        client: Api,
        wanted: frozenset[int],
        found: dict[int, dict[str, Any]],
        known_total: int | None,
        page_size: int,
        everything: dict[int, dict[str, Any]] | None = None,
        lookups: int = 0,
    ) -> None:
        self.client = client
        self.wanted = wanted
        self.max_id = max(wanted, default=0)
        self.everything = everything  # every record seen, when the caller wants them
        self.lookups = lookups  # requests the caller saves if this listing reaches its end
        self.finish = False  # read to the end whatever the wanted ids need
        self.found = found
        self.known_total = known_total
        self.page_size = page_size
        self.page_ids: dict[int, list[object]] = {}  # received pages not yet in the prefix
        self.progress = Progress()
        self.end_page: int | None = None  # the first short page: the listing ends there
        self.next_page = 1
        self.seen_ids: set[int] = set()
        self.repeats = 0  # records that came back on more than one page
        self.stuck = False  # a full page of nothing but repeats: paging does not advance
        self.fetched: set[int] = set()  # ids asked for by id (GET), settled whatever the answer

    async def run(self) -> int | None:
        """List until done; GET the rest when that is cheaper. Returns the total if read to end."""
        batch = 1
        while True:
            await self._fetch(range(self.next_page, self.next_page + batch))
            if self.stuck or (self._complete() and self.repeats):
                # Pages that repeat records mean the order moved while we read (or the server
                # ignores `page`): a record may have slid past unseen, so ask for the rest by id.
                await _get_each(
                    self.client, self.wanted - self.found.keys(), self.found, self.fetched
                )
                return None
            if self._complete():
                return self.progress.seen
            if self._settled() and not self._worth_finishing():
                return None
            if self.finish:
                batch = max(1, min(self.client.concurrency, self._pages_to_end()))
                continue
            pending = sorted(self._pending())
            more = next_pages(
                self.progress, pending, known_total=self.known_total, page_size=self.page_size
            )
            if not more:
                await _get_each(self.client, pending, self.found, self.fetched)
                return None
            # Pages the pending ids fill are needed whatever else is true: fetch them together.
            # Beyond them, sorted pages go on in a window no wider than the client's concurrency,
            # so that an overshoot past where the listing could stop stays small; unsorted ones
            # can only end the listing, so none is fetched on speculation.
            certain = math.ceil(len(pending) / self.page_size)
            window = self.client.concurrency if self.progress.ascending else 1
            batch = min(more, max(certain, window))

    def _pages_to_end(self) -> int:
        left = None if self.known_total is None else self.known_total - self.progress.seen
        return full_listing_cost(left or 0, self.page_size)

    def _worth_finishing(self) -> bool:
        """Whether reading on to the end costs less than the caller's lookups (and then, from
        here on, read to the end)."""
        if not self.finish and self.lookups and self.everything is not None:
            self.finish = self._pages_to_end() < self.lookups
        return self.finish

    def _pending(self) -> set[int]:
        """Wanted ids not seen that the listing could still reach."""
        unseen = self.wanted - self.found.keys()
        last = self.progress.last_id
        if self.progress.ascending and last is not None:
            # Ascending pages have shown every live id up to `last`: smaller unseen ids are missing.
            return {i for i in unseen if i > last}
        return set(unseen)

    def _complete(self) -> bool:
        return self.end_page is not None and self.progress.pages >= self.end_page

    def _settled(self) -> bool:
        """Whether the pages read so far already decide every wanted id."""
        if self.finish:
            return False
        if self.wanted <= self.found.keys():
            return True
        last = self.progress.last_id
        return self.progress.ascending and last is not None and last >= self.max_id

    def _accept(self, page: int, records: list[dict[str, Any]]) -> None:
        fresh = 0
        for record in records:
            rid = record.get("id")
            if not isinstance(rid, int):
                continue
            if rid in self.seen_ids:
                self.repeats += 1
                continue
            fresh += 1
            self.seen_ids.add(rid)
            if self.everything is not None:
                self.everything[rid] = record
            if rid in self.wanted:
                self.found[rid] = record
        if records and len(records) >= self.page_size and not fresh:
            self.stuck = True
        self.page_ids[page] = [r.get("id") for r in records]
        if len(records) < self.page_size and (self.end_page is None or page < self.end_page):
            self.end_page = page
        while self.progress.pages + 1 in self.page_ids:
            self.progress = self.progress.observe(self.page_ids.pop(self.progress.pages + 1))

    def _beyond(self) -> int | None:
        """Pages above this number are no longer needed (None: all still are)."""
        if self.stuck:
            return 0
        if self._complete() or self._settled():
            return self.progress.pages
        return self.end_page

    async def _fetch(self, pages: range) -> None:
        """Fetch `pages` concurrently; drop those the ones already received made unnecessary."""
        self.next_page = pages.stop
        tasks = {
            asyncio.ensure_future(self._page(p)): p
            for p in pages
            if self.end_page is None or p <= self.end_page
        }
        try:
            pending = set(tasks)
            while pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    self._accept(tasks[task], task.result())
                limit = self._beyond()
                if limit is not None:
                    # Those still queued for a slot have cost nothing yet; those in flight are
                    # paid for either way.
                    dropped = {t for t in pending if tasks[t] > limit}
                    for task in dropped:
                        task.cancel()
                    pending -= dropped
        finally:
            await _cancel(tasks)

    async def _page(self, page: int) -> list[dict[str, Any]]:
        return await self.client.list_page(
            page, self.page_size, include_archived=True, order_by="asc"
        )


async def _all_or_first_error(coros: Iterable[Awaitable[None]]) -> None:
    """Run all concurrently; on the first failure cancel the rest and raise it (no ExceptionGroup,
    so that the CLI's handler sees the `ReconcilerError` itself)."""
    tasks = [asyncio.ensure_future(c) for c in coros]
    try:
        for finished in asyncio.as_completed(tasks):
            await finished
    finally:
        await _cancel(tasks)


async def _cancel(tasks: Iterable[asyncio.Future[Any]]) -> None:
    # Gather the finished ones too: an exception a task ended with must be retrieved, or
    # asyncio logs "Task exception was never retrieved" with a traceback at exit.
    tasks = list(tasks)
    for task in tasks:
        if not task.done():
            task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
