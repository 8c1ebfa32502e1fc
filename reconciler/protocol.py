"""The one API Protocol: every call the core makes to Coperniq, typed once.

`engine`, `live`, `importer` and `apply` depend on this, never on the concrete client, so that a
test can drive them with `client.ApiClient` over `httpx.ASGITransport` (the sandbox's app, in
process) or with a small fake. `reconciler.client.ApiClient` is the implementation; mypy checks
that it satisfies `Api` (see the assignment at the end of `client/api.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class Api(Protocol):
    """The opportunities API as the core uses it, with the request accounting it reports.

    `requests_sent` counts every HTTP attempt (retries included: each costs quota);
    `last_remaining` is the last `X-RateLimit-Remaining` seen (None before any answer);
    `concurrency` is how many requests may be in flight at once.
    """

    requests_sent: int
    last_remaining: int | None

    @property
    def concurrency(self) -> int: ...

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
        """One page of `GET /opportunities` (the last page is short or empty); `filters` are
        the API's search parameters (`title`, `address`, `primaryEmail`, `primaryPhone`)."""
        ...

    async def get(self, record_id: int, *, include_archived: bool = True) -> dict[str, Any] | None:
        """One record, or None when there is no such record (404)."""
        ...

    async def patch(
        self, record_id: int, body: Mapping[str, Any], *, allow_new_options: bool = False
    ) -> dict[str, Any]:
        """A partial update of one record; returns the record as stored."""
        ...

    async def create(
        self,
        body: Mapping[str, Any],
        *,
        match_by: str,
        strategy: str,
        allow_new_options: bool = False,
    ) -> dict[str, Any]:
        """`POST /opportunities` (an upsert): the record created, or the one it matched."""
        ...

    async def delete(self, record_id: int) -> bool:
        """`DELETE /opportunities/{id}`; False when the record was already gone (404)."""
        ...

    async def properties(self, record_type: str = "opportunity") -> list[dict[str, Any]]:
        """The property catalogue (`GET /properties`) for one record type."""
        ...
