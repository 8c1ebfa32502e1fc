"""What reading live state will cost, estimated before and during a read: pure, split from `live`.

`initial_list_cost` decides between listing and one GET per id before any request;
`Progress` keeps the sortedness of the pages received so far, from which `pages_left` and
`next_pages` decide how much further a listing is worth reading. `full_listing_cost` is what
reading every page costs (import uses it too); `read_cost` is what a whole read is expected to
cost before it starts, for the quota checks.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Progress:
    """What the contiguous prefix of pages 1..`pages` has shown.

    `ascending` stays True only while every id so far is greater than the one before it, within
    and across pages; only then may a listing stop before its end.
    """

    pages: int = 0
    seen: int = 0
    first_id: int | None = None
    last_id: int | None = None
    ascending: bool = True

    def observe(self, ids: Iterable[object]) -> Progress:
        """This progress after the next page, whose records carry `ids` in the order received."""
        first, last, ascending, seen = self.first_id, self.last_id, self.ascending, self.seen
        for rid in ids:
            seen += 1
            if not isinstance(rid, int) or isinstance(rid, bool):
                ascending = False
                continue
            if last is not None and rid <= last:
                ascending = False
            if first is None:
                first = rid
            last = rid if last is None else max(last, rid)
        return replace(
            self, pages=self.pages + 1, seen=seen, first_id=first, last_id=last, ascending=ascending
        )

    @property
    def density(self) -> float:
        """Live records per id value so far (1.0 when ids are consecutive, or unknown)."""
        if self.first_id is None or self.last_id is None or self.last_id <= self.first_id:
            return 1.0
        # n ids span n - 1 gaps.
        return min((self.seen - 1) / (self.last_id - self.first_id), 1.0)


def full_listing_cost(records: int, page_size: int) -> int:
    """Pages a listing of `records` costs read to its end (the first short page, maybe empty)."""
    return max(records, 0) // page_size + 1


def initial_list_cost(wanted: int, max_id: int, known_total: int | None, page_size: int) -> int:
    """Estimated pages to find `wanted` ids (the largest `max_id`) by listing, before any request.

    Every wanted id that exists needs a slot: at least ceil(wanted / page_size) pages. Live ids are
    distinct positive integers, so ascending pages pass `max_id` within ceil(max_id / page_size)
    pages; and a listing of `known_total` records ends after `full_listing_cost` pages.
    """
    slots = max(math.ceil(wanted / page_size), 1)
    bound = math.ceil(max_id / page_size)
    if known_total is not None:
        bound = min(bound, full_listing_cost(known_total, page_size))
    return max(slots, bound)


def read_cost(
    wanted: int, max_id: int, known_total: int | None, page_size: int, lookups: int = 0
) -> int:
    """Requests a read of `wanted` ids (the largest `max_id`) is expected to cost, before any
    request, choosing as `live.read_live` does: a GET each or the listing, whichever is cheaper,
    plus `lookups` filtered requests (the match checks of new files), unless the whole listing
    (of `known_total` records) costs less than both.
    """
    cost = min(wanted, initial_list_cost(wanted, max_id, known_total, page_size)) if wanted else 0
    if lookups and known_total is not None:
        return min(cost + lookups, full_listing_cost(known_total, page_size))
    return cost + lookups


def pages_left(
    progress: Progress,
    *,
    pending: int,
    max_id: int,
    known_total: int | None,
    page_size: int,
) -> int:
    """Estimated further pages to account for `pending` wanted ids the listing has not reached.

    Sorted so far: the live records between the last id seen and `max_id`, at the id density seen
    so far (records per id), bounded by the gap itself (ids are distinct) and by what is left of
    `known_total`. Unsorted: only the end of the listing settles anything, so the pages to the end
    of `known_total` (or, unknown, the pending ids' slots plus the closing page). Never fewer than
    the pending ids' slots, never fewer than one.
    """
    slots = max(math.ceil(pending / page_size), 1)
    to_end = (
        None if known_total is None else full_listing_cost(known_total - progress.seen, page_size)
    )
    if progress.ascending and progress.last_id is not None:
        gap = max(max_id - progress.last_id, 0)
        estimate = min(math.ceil(gap * progress.density / page_size), math.ceil(gap / page_size))
        if to_end is not None:
            estimate = min(estimate, to_end)
    elif to_end is not None:
        estimate = to_end
    else:
        estimate = slots + 1
    return max(estimate, slots)


def next_pages(
    progress: Progress, pending: Sequence[int], *, known_total: int | None, page_size: int
) -> int:
    """How many more pages to read before fetching the still-pending ids one by one (0: none).

    `pending` are the wanted ids the listing has not decided yet, ascending. Sorted pages advance
    by about `page_size / density` ids each, so reading k more pages leaves the pending ids beyond
    that reach to fetch by id: the cost is k plus those, minimised over k (ties go to fewer pages:
    a GET's cost is certain, a page's reach is an estimate). Unsorted pages decide nothing before
    the end of the listing, so it is all the pages left or none.
    """
    if not pending:
        return 0
    full = pages_left(
        progress,
        pending=len(pending),
        max_id=pending[-1],
        known_total=known_total,
        page_size=page_size,
    )
    if not (progress.ascending and progress.last_id is not None):
        return full if full < len(pending) else 0
    stride = page_size / progress.density
    best, best_cost = 0, len(pending)
    for k in range(1, min(full, len(pending))):
        reach = progress.last_id + k * stride
        cost = k + len(pending) - bisect.bisect_right(pending, reach)
        if cost < best_cost:
            best, best_cost = k, cost
    if full < best_cost:  # `full` pages reach every pending id by construction
        best = full
    return best
