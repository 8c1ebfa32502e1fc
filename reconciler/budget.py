"""A client seen through the quota, for the live cache's reads.

`Budgeted` wraps an `Api`: it keeps (projected to `KEPT`) every record a listing page or a GET
returns, and refuses to send a request of a read that the remaining quota cannot cover, once an
answer has told the quota (`X-RateLimit-Remaining`): `QuotaTooLow`, with the numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from reconciler.errors import QuotaTooLow
from reconciler.protocol import Api
from reconciler.snapshot_file import KEPT


class Budgeted:
    """A client seen through the quota: keeps every record it returns, and refuses to start a
    read the remaining quota (the last X-RateLimit-Remaining) cannot cover."""

    def __init__(self, client: Api) -> None:
        self._client = client
        self.records: dict[int, dict[str, Any]] = {}
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
            raise QuotaTooLow(
                f"this read needs about {left} more request{'s' if left != 1 else ''} and the "
                f"API key has {remaining} left today (X-RateLimit-Remaining): "
                "nothing more was read",
                hint="wait for the daily quota to recover, narrow the run with --target, or "
                "read incrementally (--refresh auto, with the live cache kept between runs)",
            )

    async def list_page(
        self,
        page: int,
        page_size: int = 100,
        *,
        include_archived: bool = True,
        order_by: str = "asc",
        updated_after: str | None = None,
        filters: Mapping[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        self._check()
        records = await self._client.list_page(
            page,
            page_size,
            include_archived=include_archived,
            order_by=order_by,
            updated_after=updated_after,
            filters=filters,
        )
        merge(self.records, records)
        return records

    async def get(self, record_id: int, *, include_archived: bool = True) -> dict[str, Any] | None:
        self._check()
        record = await self._client.get(record_id, include_archived=include_archived)
        if record is not None:
            merge(self.records, [record])
        return record

    async def patch(
        self, record_id: int, body: Mapping[str, Any], *, allow_new_options: bool = False
    ) -> dict[str, Any]:
        return await self._client.patch(record_id, body, allow_new_options=allow_new_options)

    async def create(
        self,
        body: Mapping[str, Any],
        *,
        match_by: str,
        strategy: str,
        allow_new_options: bool = False,
    ) -> dict[str, Any]:
        return await self._client.create(
            body, match_by=match_by, strategy=strategy, allow_new_options=allow_new_options
        )

    async def delete(self, record_id: int) -> bool:
        return await self._client.delete(record_id)

    async def properties(self, record_type: str = "opportunity") -> list[dict[str, Any]]:
        return await self._client.properties(record_type)


def merge(into: dict[int, dict[str, Any]], records: Iterable[Mapping[str, Any]]) -> None:
    for record in records:
        rid = record.get("id")
        if isinstance(rid, int) and not isinstance(rid, bool):
            into[rid] = project(record)


def project(record: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k in KEPT}
