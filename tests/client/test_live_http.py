"""read_live against the sandbox over HTTP: what it costs, counted in the sandbox's request log."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Collection
from typing import Any

import httpx

from reconciler.client import ApiClient
from reconciler.live import LiveSnapshot, read_live
from reconciler.sandbox import Sandbox

from .conftest import ARCHIVED, RECORDS, settings_for


def _read(
    sb: Sandbox, ids: Collection[int], known_total: int | None = None, **kw: object
) -> LiveSnapshot:
    async def go() -> LiveSnapshot:
        async with ApiClient(settings_for(sb), **kw) as api:  # type: ignore[arg-type]
            snapshot = await read_live(api, ids, known_total=known_total)
            assert snapshot.requests == api.requests_sent
            return snapshot

    return asyncio.run(go())


def _pages(sb: Sandbox) -> list[int]:
    listed = [r for r in sb.requests() if r.path == "/v1/opportunities"]
    for r in listed:
        assert r.query["include_archived"] == "true"
        assert r.query["order_by"] == "asc"
        assert r.query["page_size"] == "100"
    return sorted(int(r.query["page"]) for r in listed)


def _gets(sb: Sandbox) -> list[int]:
    got = [r for r in sb.requests() if r.method == "GET" and r.path != "/v1/opportunities"]
    assert all(r.query == {"include_archived": "true"} for r in got)
    return sorted(int(r.path.rsplit("/", 1)[1]) for r in got)


def test_every_id_costs_one_request_per_page_and_no_more(sandbox: Sandbox) -> None:
    snapshot = _read(sandbox, range(1, RECORDS + 1))
    assert snapshot.requests == len(sandbox.requests()) == RECORDS // 100
    assert _pages(sandbox) == list(range(1, 11))
    assert sorted(snapshot.records) == list(range(1, RECORDS + 1))
    assert snapshot.missing == frozenset()
    assert snapshot.archived == ARCHIVED
    assert all(snapshot.records[i]["isActive"] is False for i in ARCHIVED)


def test_the_listing_stops_once_past_the_largest_wanted_id(sandbox: Sandbox) -> None:
    snapshot = _read(sandbox, range(1, 251), known_total=RECORDS)
    assert _pages(sandbox) == [1, 2, 3]
    assert sorted(snapshot.records) == list(range(1, 251))


def test_ids_that_do_not_exist_are_missing_and_the_total_is_counted(sandbox: Sandbox) -> None:
    wanted = [*range(1, RECORDS + 1), *range(RECORDS + 1, RECORDS + 6)]
    snapshot = _read(sandbox, wanted, known_total=RECORDS)
    # Page 11 comes back empty: the listing was read to its end, so the total is known.
    assert _pages(sandbox) == list(range(1, 12))
    assert snapshot.missing == frozenset(range(RECORDS + 1, RECORDS + 6))
    assert snapshot.total_seen == RECORDS
    assert len(snapshot.records) == RECORDS


def test_a_few_ids_cost_one_get_each(sandbox: Sandbox) -> None:
    archived = min(ARCHIVED)
    snapshot = _read(sandbox, [5, 777, archived])
    assert snapshot.requests == 3
    assert _gets(sandbox) == sorted([5, 777, archived])
    assert _pages(sandbox) == []
    assert snapshot.archived == frozenset({archived})


def test_a_few_ids_at_the_start_cost_one_page(sandbox: Sandbox) -> None:
    snapshot = _read(sandbox, [1, 2, 3])
    assert snapshot.requests == 1
    assert _pages(sandbox) == [1]


def test_a_404_on_a_get_is_missing_not_a_crash(sandbox: Sandbox) -> None:
    snapshot = _read(sandbox, [5, 50_000])
    assert _gets(sandbox) == [5, 50_000]
    assert snapshot.missing == frozenset({50_000})
    assert list(snapshot.records) == [5]


def test_far_stragglers_are_fetched_by_id_after_the_pages(sandbox: Sandbox) -> None:
    snapshot = _read(sandbox, [*range(1, 121), 5_000, 6_000])
    assert _pages(sandbox) == [1, 2]
    assert _gets(sandbox) == [5_000, 6_000]
    assert snapshot.requests == 4
    assert snapshot.missing == frozenset({5_000, 6_000})


def test_a_deleted_record_is_missing(sandbox: Sandbox) -> None:
    _delete(sandbox, 300)
    snapshot = _read(sandbox, range(1, RECORDS + 1))
    assert snapshot.missing == frozenset({300})
    assert len(snapshot.records) == RECORDS - 1


class _Shuffled(httpx.AsyncBaseTransport):
    """The real sandbox over HTTP, with each page's records reordered (a server whose sort key
    is not the id, which the API leaves undocumented). A fault injected between two real ends."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if request.url.path != "/v1/opportunities":
            return response
        body = json.loads(await response.aread())
        body.sort(key=lambda r: (r["id"] * 7919) % 101)
        return httpx.Response(response.status_code, headers=response.headers, json=body)

    async def aclose(self) -> None:
        await self._inner.aclose()


def _delete(sb: Sandbox, record_id: int) -> None:
    async def go() -> None:
        async with httpx.AsyncClient() as http:
            r = await http.delete(
                f"{sb.base_url}/v1/opportunities/{record_id}", headers={"x-api-key": sb.api_key}
            )
            assert r.status_code == 200

    asyncio.run(go())


def test_a_gap_in_sorted_pages_is_confirmed_by_id_before_it_is_called_missing(
    sandbox: Sandbox,
) -> None:
    _delete(sandbox, 150)
    snapshot = _read(sandbox, range(1, 300))
    assert _pages(sandbox) == [1, 2, 3]
    assert _gets(sandbox) == [150]  # deletes may have shifted the pages: ask before saying so
    assert snapshot.missing == frozenset({150})


def test_records_skipped_by_pages_that_shifted_mid_read_are_not_missing(
    sandbox: Sandbox,
) -> None:
    """Deletes of other records while the pages are read shift later pages down: the records
    that slid onto a page already read are never listed, yet they exist."""

    class DeletesAfterPageOne(ApiClient):
        async def list_page(self, page: int, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
            records = await super().list_page(page, *args, **kwargs)
            if page == 1:  # someone deletes ten unmanaged records before page 2 is read
                async with httpx.AsyncClient() as http:
                    for record_id in range(1, 11):
                        r = await http.delete(
                            f"{sandbox.base_url}/v1/opportunities/{record_id}",
                            headers={"x-api-key": sandbox.api_key},
                        )
                        assert r.status_code == 200
            return records

    wanted = range(50, 300)

    async def go() -> LiveSnapshot:
        async with DeletesAfterPageOne(settings_for(sandbox, concurrency=1)) as api:
            return await read_live(api, wanted)

    snapshot = asyncio.run(go())
    assert snapshot.missing == frozenset()
    assert set(snapshot.records) == set(wanted)
    assert sorted(_gets(sandbox)) == list(range(101, 111))  # the ten that slid past, by id


def test_unsorted_pages_never_settle_a_gap_by_their_order(sandbox: Sandbox) -> None:
    _delete(sandbox, 150)
    snapshot = _read(sandbox, range(1, 300), transport=_Shuffled())
    # The same three pages, but their order proves nothing: 150 is asked for by id.
    assert _pages(sandbox) == [1, 2, 3]
    assert _gets(sandbox) == [150]
    assert snapshot.missing == frozenset({150})
    assert len(snapshot.records) == 298


def test_unsorted_pages_are_read_to_the_end(sandbox: Sandbox) -> None:
    snapshot = _read(sandbox, [*range(1, RECORDS + 1), 5_000], RECORDS, transport=_Shuffled())
    # Sorted, page 10 would pass every id below 5,000 and 5,000 would cost one GET; unsorted,
    # the listing goes on to the empty page 11, and 5,000 is still confirmed by id before it is
    # called missing (the pages may have shifted while they were read).
    assert _pages(sandbox) == list(range(1, 12))
    assert _gets(sandbox) == [5_000]
    assert snapshot.missing == frozenset({5_000})
    assert snapshot.total_seen == RECORDS
    assert len(snapshot.records) == RECORDS
