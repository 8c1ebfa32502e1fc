"""What the client keeps of the answer that told the quota (for the quota memory), and the
estimate a read is refused on, against what read_live spends on the sandbox over HTTP."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from reconciler.client import ApiClient, ClientSettings
from reconciler.estimates import read_cost
from reconciler.live import read_live
from reconciler.quota import figure_of
from reconciler.sandbox import Sandbox

from .conftest import RECORDS, settings_for


def test_the_client_keeps_the_date_of_the_answer_that_told_the_quota(sandbox: Sandbox) -> None:
    async def go() -> ApiClient:
        async with ApiClient(settings_for(sandbox)) as api:
            await api.list_page(1, 5)
            return api

    before = datetime.now(UTC)
    api = asyncio.run(go())
    figure = figure_of(api)
    assert figure is not None
    assert (figure.remaining, figure.limit, figure.reset_at) == (4999, 5000, None)
    assert before <= figure.seen_at <= datetime.now(UTC)
    assert figure.server_date is not None  # the sandbox's Date, whole seconds
    assert abs(figure.server_date - figure.seen_at) < timedelta(seconds=5)


def test_no_answer_no_figure() -> None:
    api = ApiClient(ClientSettings(base_url="http://127.0.0.1:9/v1", api_key="k" * 12))
    assert figure_of(api) is None
    asyncio.run(api.aclose())


@pytest.mark.parametrize(
    ("headers", "reset"),
    [
        ({"X-RateLimit-Reset": "120"}, timedelta(seconds=120)),
        ({"RateLimit-Reset": "60"}, timedelta(seconds=60)),
        ({"X-RateLimit-Reset": str(1796083200 + 3600)}, timedelta(hours=1)),
        ({"X-RateLimit-Reset": "tomorrow"}, None),
        ({}, None),
    ],
)
def test_a_reset_header_is_kept_on_the_servers_clock(
    headers: dict[str, str], reset: timedelta | None
) -> None:
    date = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)  # 1796083200
    assert date.timestamp() == 1796083200

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json=[],
            headers={
                "X-RateLimit-Remaining": "40",
                "X-RateLimit-Limit": "5000",
                "Date": "Tue, 01 Dec 2026 00:00:00 GMT",
                **headers,
            },
        )

    async def go() -> ApiClient:
        settings = ClientSettings(base_url="https://api.test/v1", api_key="k" * 12)
        async with ApiClient(settings, transport=httpx.MockTransport(answer)) as api:
            await api.list_page(1)
            return api

    figure = figure_of(asyncio.run(go()))
    assert figure is not None and figure.server_date == date
    assert figure.reset_at == (None if reset is None else date + reset)


@pytest.mark.parametrize(
    ("ids", "known_total"),
    [
        (range(1, RECORDS + 1), RECORDS),  # everything: the listing to its end
        (range(1, RECORDS + 1), None),
        ([3, 500, 977], RECORDS),  # a few: one GET each
        (range(1, 251), RECORDS),  # the first pages
        ([], RECORDS),
    ],
)
def test_the_estimate_a_read_is_refused_on_is_what_it_spends(
    sandbox: Sandbox, ids: range | list[int], known_total: int | None
) -> None:
    wanted = list(ids)

    async def go() -> int:
        async with ApiClient(settings_for(sandbox)) as api:
            return (await read_live(api, wanted, known_total=known_total)).requests

    spent = asyncio.run(go())
    assert read_cost(len(wanted), max(wanted, default=0), known_total, 100) == spent
