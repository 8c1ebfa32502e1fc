"""What goes on the wire that the sandbox's request log cannot show: headers and redirects.

The sandbox logs method, path, query and body but not headers, so these few checks capture the
requests in-process (httpx.MockTransport); everything else runs against the sandbox over HTTP.
"""

from __future__ import annotations

import asyncio

import httpx

from reconciler import __version__
from reconciler.client import ApiClient, ApiError, ClientSettings

KEY = "sk-test-0123456789abcdef"


def _settings() -> ClientSettings:
    return ClientSettings(base_url="https://api.example.test/v1", api_key=KEY, max_attempts=1)


def test_every_request_carries_the_key_header_and_our_user_agent() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=[], headers={"X-RateLimit-Remaining": "4999"})

    async def go() -> ApiClient:
        async with ApiClient(_settings(), transport=httpx.MockTransport(handler)) as api:
            await api.list_page(3, 50, include_archived=True, order_by="asc")
            await api.list_page(1, updated_after="2025-06-01T00:00:00Z")
            return api

    api = asyncio.run(go())
    request, filtered = seen
    assert request.headers["x-api-key"] == KEY
    assert request.headers["user-agent"] == f"reconciler/{__version__}"
    assert request.url.path == "/v1/opportunities"
    assert dict(request.url.params) == {
        "page": "3",
        "page_size": "50",
        "include_archived": "true",
        "order_by": "asc",
    }
    assert filtered.url.params["updated_after"] == "2025-06-01T00:00:00Z"
    assert api.requests_sent == 2
    assert api.last_remaining == 4999


def test_a_redirect_is_never_followed_so_the_key_cannot_travel_elsewhere() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(302, headers={"Location": "http://evil.example.test/steal"})

    async def go() -> ApiError:
        async with ApiClient(_settings(), transport=httpx.MockTransport(handler)) as api:
            try:
                await api.get(7)
            except ApiError as e:
                return e
        raise AssertionError("no error")

    error = asyncio.run(go())
    assert error.status == 302
    assert seen == ["https://api.example.test/v1/opportunities/7?include_archived=true"]
