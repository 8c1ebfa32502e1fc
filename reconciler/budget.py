"""A client seen through the quota, for the live cache's reads.

`Budgeted` wraps an `Api`: it keeps every record a listing page or a GET returns, projected to
`KEPT` (and returns the projection: what the snapshot keeps is all a plan reads), and refuses to
send a request of a read that the remaining quota cannot cover, once an answer has told the
quota (`X-RateLimit-Remaining`): `QuotaTooLow`, with the numbers. Before the first answer, the
quota the last run was told is checked by `quota.QuotaMemory` instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from reconciler.errors import QuotaTooLow
from reconciler.gcpause import sweep
from reconciler.protocol import Api
from reconciler.snapshot_file import KEPT

SWEEP_EVERY = 20
"""Pages between two sweeps of the garbage each request leaves (see `gcpause.sweep`)."""


class Budgeted:
    """A client seen through the quota: keeps every record it returns, and refuses to start a
    read the remaining quota (the last X-RateLimit-Remaining) cannot cover."""

    def __init__(self, client: Api) -> None:
        self._client = client
        self.records: dict[int, dict[str, Any]] = {}
        self._pages = 0
        self._need = 0  # requests the current read is expected to cost
        self._spent_at_expect = client.requests_sent

    @property
    def requests_sent(self) -> int:
        return self._client.requests_sent

    @requests_sent.setter
    def requests_sent(self, value: int) -> None:
        self._client.requests_sent = value

    @property
    def last_remaining(self) -> int | None:
        return self._client.last_remaining

    @last_remaining.setter
    def last_remaining(self, value: int | None) -> None:
        self._client.last_remaining = value

    @property
    def concurrency(self) -> int:
        return self._client.concurrency

    def expect(self, cost: int) -> None:
        """The read about to start should cost about `cost` requests; refuse it now if the quota
        already known cannot cover it (else after its first answer tells the quota)."""
        self._need = cost
        self._spent_at_expect = self._client.requests_sent
        self._check()

    def _check(self) -> None:
        remaining = self._client.last_remaining
        left = self._need - (self._client.requests_sent - self._spent_at_expect)
        if remaining is not None and left > remaining:
            spent = self._client.requests_sent
            raise QuotaTooLow(
                f"this read needs about {left} more request{'s' if left != 1 else ''} and the "
                f"API key has {remaining} left today (X-RateLimit-Remaining): "
                f"nothing more was read ({spent} request{'s' if spent != 1 else ''} spent)",
                hint="wait for the daily quota to recover, narrow the run with --target, or "
                "read incrementally (--refresh auto, with the live cache kept between runs)",
            )

    # The calls are typed once, by `Api` (reconciler/protocol.py), not spelled again here: these
    # methods only pass their arguments on, and mypy checks `Budgeted` against `Api` (see below).

    # Records are projected as they arrive and the projections are what the reader gets: it
    # and `records` share them, so a 50,000-record read holds one copy of each, not two.

    async def list_page(self, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        self._check()
        records = [project(r) for r in await self._client.list_page(*args, **kwargs)]
        keep(self.records, records)
        self._pages += 1
        if self._pages % SWEEP_EVERY == 0:
            sweep()
        return records

    async def get(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        self._check()
        record = await self._client.get(*args, **kwargs)
        if record is None:
            return None
        kept = project(record)
        keep(self.records, [kept])
        return kept

    async def patch(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return await self._client.patch(*args, **kwargs)

    async def create(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return await self._client.create(*args, **kwargs)

    async def delete(self, *args: Any, **kwargs: Any) -> bool:
        return await self._client.delete(*args, **kwargs)

    async def properties(self, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        return await self._client.properties(*args, **kwargs)


def keep(into: dict[int, dict[str, Any]], records: Iterable[dict[str, Any]]) -> None:
    for record in records:
        rid = record.get("id")
        if isinstance(rid, int) and not isinstance(rid, bool):
            into[rid] = record


def project(record: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k in KEPT}


if TYPE_CHECKING:

    def _satisfies_api(budgeted: Budgeted) -> Api:
        return budgeted  # mypy: `Budgeted` is an `Api` (the one typed description)
