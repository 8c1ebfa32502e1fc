"""The client-side rate limiter against the sandbox's own limit, and the key kept out of every
message, repr, traceback and log line (at DEBUG, httpx and httpcore included)."""

from __future__ import annotations

import asyncio
import logging
import socket
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from reconciler.client import ApiClient, ApiError, ClientSettings, RateLimited
from reconciler.sandbox import Faults, Sandbox

from .conftest import settings_for


def _burst(sb: Sandbox, n: int, **settings: Any) -> tuple[list[object], ApiClient]:
    async def go() -> tuple[list[object], ApiClient]:
        async with ApiClient(settings_for(sb, **settings)) as api:
            answers = await asyncio.gather(
                *(api.get(1 + i % 50) for i in range(n)), return_exceptions=True
            )
            return list(answers), api

    return asyncio.run(go())


def test_the_limiter_keeps_a_burst_under_the_servers_window(sandbox: Sandbox) -> None:
    # 25/s on both sides so that the burst spans two windows without making the test slow;
    # retries are off, so a single 429 would surface as an error.
    sandbox.set_limits(rate_per_second=25)
    answers, api = _burst(sandbox, 40, rate_per_second=25, concurrency=16, max_attempts=1)
    assert all(isinstance(a, dict) for a in answers)
    log = sandbox.requests()
    assert len(log) == api.requests_sent == 40
    assert [r.status for r in log].count(429) == 0
    assert api.throttled == 0


def test_without_the_limiter_the_same_burst_is_throttled(sandbox: Sandbox) -> None:
    # The control for the test above: it shows the server refuses such a burst. The server allows
    # 2/s here, not 25, so that a loaded machine sending 40 requests slowly still overruns it.
    sandbox.set_limits(rate_per_second=2)
    answers, api = _burst(sandbox, 40, rate_per_second=10_000, concurrency=16, max_attempts=1)
    refused = [a for a in answers if isinstance(a, RateLimited)]
    assert len(refused) == api.throttled > 0
    assert [r.status for r in sandbox.requests()].count(429) == len(refused)


# --- the key never leaks ----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


Use = Callable[[ApiClient], Awaitable[Any]]


def _storm(sb: Sandbox, faults: Faults, use: Use) -> tuple[dict[str, Any], Use]:
    sb.set_faults(faults)
    return {"max_attempts": 2}, use


CASES: dict[str, Callable[[Sandbox], tuple[dict[str, Any], Use]]] = {
    "auth": lambda sb: ({"api_key": "sbx_wrong-key-but-still-secret"}, lambda a: a.list_page(1)),
    "not found": lambda sb: ({}, lambda a: a.patch(77_777, {"title": "x"})),
    "validation": lambda sb: ({}, lambda a: a.patch(4, {"primaryEmail": "nope"})),
    "rate limited": lambda sb: _storm(sb, Faults(throttle_rate=1.0), lambda a: a.get(4)),
    "server error": lambda sb: _storm(sb, Faults(error_rate=1.0), lambda a: a.get(4)),
    "dropped": lambda sb: _storm(
        sb, Faults(drop_rate=1.0), lambda a: a.patch(4, {"description": "x"})
    ),
    "unreachable": lambda sb: (
        {"base_url": f"http://127.0.0.1:{_free_port()}/v1", "max_attempts": 2},
        lambda a: a.get(4),
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_key_is_in_no_error_and_no_log_line(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture, case: str
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "reconciler"):
        caplog.set_level(logging.DEBUG, logger=name)
    overrides, use = CASES[case](sandbox)
    settings = settings_for(sandbox, **overrides)
    key = settings.api_key

    async def go() -> ApiError:
        async with ApiClient(settings) as api:
            try:
                await use(api)
            except ApiError as e:
                return e
        raise AssertionError("no error")

    error = asyncio.run(go())
    shown = [
        str(error),
        repr(error),
        "".join(traceback.format_exception(error)),
        repr(settings),
        caplog.text,
        *(repr(r.__dict__) for r in caplog.records),
    ]
    assert not [text for text in shown if key in text]
    # The log was really on: httpcore narrated the connection at DEBUG.
    assert any(r.name.startswith("httpcore") for r in caplog.records)


def test_the_key_in_an_odd_place_is_scrubbed_from_messages() -> None:
    # A server that echoes the key back in its error message must not put it on the screen.
    import httpx

    key = "sk-echoed-0123456789"

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            400, json={"message": f"bad key {request.headers['x-api-key']}", "code": "X"}
        )

    async def go() -> ApiError:
        settings = ClientSettings(base_url="https://api.example.test/v1", api_key=key)
        async with ApiClient(settings, transport=httpx.MockTransport(handler)) as api:
            try:
                await api.get(1)
            except ApiError as e:
                return e
        raise AssertionError("no error")

    error = asyncio.run(go())
    assert key not in str(error)
    assert "***" in str(error)
