"""ApiClient against the sandbox over HTTP: endpoints, counters, retries, errors, rate limiting."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

from reconciler.client import (
    ApiClient,
    ApiUnreachable,
    AuthError,
    NotFound,
    RateLimited,
    ServerError,
    ValidationFailed,
)
from reconciler.sandbox import Faults, Sandbox

from .conftest import ARCHIVED, settings_for

T = TypeVar("T")


def _run(sb: Sandbox, use: Callable[[ApiClient], Awaitable[T]], **settings: Any) -> T:
    async def go() -> T:
        async with ApiClient(settings_for(sb, **settings)) as api:
            return await use(api)

    return asyncio.run(go())


def _fails(sb: Sandbox, use: Callable[[ApiClient], Awaitable[Any]], **settings: Any) -> Any:
    """The exception a call raises, and the client's counters when it did."""

    async def go() -> tuple[Exception, ApiClient]:
        async with ApiClient(settings_for(sb, **settings)) as api:
            try:
                await use(api)
            except Exception as e:
                return e, api
        raise AssertionError("no error")

    return asyncio.run(go())


def test_the_endpoints_and_counters(sandbox: Sandbox) -> None:
    async def use(api: ApiClient) -> None:
        page = await api.list_page(1)
        assert [r["id"] for r in page] == list(range(1, 101))
        assert (await api.get(5) or {})["id"] == 5
        assert await api.get(99_999) is None
        updated = await api.patch(5, {"description": "reviewed"})
        assert updated["description"] == "reviewed"
        properties = await api.properties()
        assert any(p["keyName"] == "trades" for p in properties)
        assert api.requests_sent == 5
        assert api.last_limit == 5000
        assert api.last_remaining == 5000 - 5
        assert api.throttled == 0

    _run(sandbox, use)
    log = sandbox.requests()
    assert [(r.method, r.path) for r in log] == [
        ("GET", "/v1/opportunities"),
        ("GET", "/v1/opportunities/5"),
        ("GET", "/v1/opportunities/99999"),
        ("PATCH", "/v1/opportunities/5"),
        ("GET", "/v1/properties"),
    ]
    assert log[3].body == {"description": "reviewed"}
    assert log[3].query == {"allow_new_options": "false"}
    assert log[4].query == {"record_type": "opportunity"}
    assert (sandbox.record(5) or {})["description"] == "reviewed"


def test_the_requests_alias(sandbox: Sandbox) -> None:
    async def use(api: ApiClient) -> None:
        await api.list_page(2, 10)
        await api.patch(7, {"value": 1234.5}, allow_new_options=True)

    _run(sandbox, use, base_path="/requests")
    assert [(r.path, r.query.get("allow_new_options")) for r in sandbox.requests()] == [
        ("/v1/requests", None),
        ("/v1/requests/7", "true"),
    ]


def test_archived_records_need_include_archived(sandbox: Sandbox) -> None:
    archived = min(ARCHIVED)

    async def use(api: ApiClient) -> None:
        assert await api.get(archived, include_archived=False) is None
        assert (await api.get(archived) or {})["isActive"] is False
        hidden = await api.list_page(1, 100, include_archived=False)
        assert archived not in {r["id"] for r in hidden}

    _run(sandbox, use)


# --- errors that no retry can cure: exactly one request each --------------------------------------


def test_a_wrong_key_is_an_auth_error_sent_once(sandbox: Sandbox) -> None:
    error, api = _fails(sandbox, lambda api: api.list_page(1), api_key="sbx_not-the-right-key")
    assert isinstance(error, AuthError)
    assert error.status == 401
    assert "check COPERNIQ_API_KEY" in str(error)
    assert api.requests_sent == len(sandbox.requests()) == 1


def test_patching_an_unknown_record_is_not_found_sent_once(sandbox: Sandbox) -> None:
    error, api = _fails(sandbox, lambda api: api.patch(54_321, {"description": "x"}))
    assert isinstance(error, NotFound)
    assert error.record_id == 54_321
    assert "54321" in str(error)
    assert api.requests_sent == len(sandbox.requests()) == 1


def test_a_rejected_field_names_the_record_and_the_field_sent_once(sandbox: Sandbox) -> None:
    error, api = _fails(sandbox, lambda api: api.patch(12, {"primaryEmail": "not an email"}))
    assert isinstance(error, ValidationFailed)
    assert (error.status, error.code, error.field, error.record_id) == (
        400,
        "VALIDATION_ERROR",
        "primaryEmail",
        12,
    )
    assert "Record 12" in str(error)
    assert "'primaryEmail'" in str(error)
    assert api.requests_sent == len(sandbox.requests()) == 1
    assert (sandbox.record(12) or {})["primaryEmail"] != "not an email"


# --- errors that retries may cure -------------------------------------------------------------


@pytest.mark.parametrize(
    ("faults", "error_type", "statuses"),
    [
        (Faults(throttle_rate=1.0), RateLimited, {429}),
        (Faults(error_rate=1.0), ServerError, {500, 502, 503}),
        (Faults(drop_rate=1.0), ApiUnreachable, {200}),
    ],
)
def test_a_storm_that_never_clears_gives_up_after_max_attempts(
    sandbox: Sandbox, faults: Faults, error_type: type[Exception], statuses: set[int]
) -> None:
    sandbox.set_faults(faults)
    error, api = _fails(sandbox, lambda api: api.get(5), max_attempts=4)
    assert type(error) is error_type
    assert "after 4 attempts" in str(error)
    log = sandbox.requests()
    assert api.requests_sent == len(log) == 4
    assert {r.status for r in log} <= statuses
    if error_type is RateLimited:
        assert api.throttled == 4
        assert "remaining today" in str(error)


def test_a_read_timeout_is_retried_then_reported(sandbox: Sandbox) -> None:
    sandbox.set_faults(Faults(latency=0.3))
    error, api = _fails(sandbox, lambda api: api.get(5), max_attempts=2, read_timeout=0.05)
    assert isinstance(error, ApiUnreachable)
    assert "no answer in time (ReadTimeout)" in str(error)
    assert api.requests_sent == 2
    # The server still answers both, late: wait for them so that they land in this test's log.
    deadline = time.monotonic() + 5
    while len(sandbox.requests()) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(sandbox.requests()) == 2


def test_the_retry_time_cap_stops_before_the_attempt_cap(sandbox: Sandbox) -> None:
    sandbox.set_faults(Faults(error_rate=1.0))
    error, api = _fails(
        sandbox,
        lambda api: api.get(5),
        max_attempts=50,
        # A 0.6 s cap with waits of up to 50 ms (full jitter): about 20 attempts, well below the
        # 50 of the attempt cap, and still several on a loaded machine (a 50 ms cap let one slow
        # first answer use it all: 1 attempt, a flaky test).
        max_retry_seconds=0.6,
        backoff_base=0.05,
        backoff_max=0.05,
    )
    assert isinstance(error, ServerError)
    assert 1 < api.requests_sent < 50, api.requests_sent


def test_an_unreachable_api_is_retried_then_reported(sandbox: Sandbox) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    error, api = _fails(
        sandbox,
        lambda api: api.list_page(1),
        base_url=f"http://127.0.0.1:{port}/v1",
        max_attempts=3,
    )
    assert isinstance(error, ApiUnreachable)
    assert error.status is None
    assert f"127.0.0.1:{port}" in str(error)
    assert api.requests_sent == 3


def test_a_spent_daily_quota_is_not_retried(sandbox: Sandbox) -> None:
    sandbox.set_limits(rate_per_day=2)

    async def use(api: ApiClient) -> None:
        await api.get(1)
        await api.get(2)
        await api.get(3)

    error, api = _fails(sandbox, use, max_attempts=5)
    assert isinstance(error, RateLimited)
    assert error.remaining == 0
    assert "remaining today: 0 of 2" in str(error)
    assert "daily quota" in str(error)
    assert api.requests_sent == len(sandbox.requests()) == 3


def test_storms_of_5xx_429_and_drops_converge(sandbox: Sandbox) -> None:
    sandbox.set_faults(Faults(error_rate=0.2, throttle_rate=0.1, drop_rate=0.1, seed=11))
    ids = [i for i in range(1, 26) if i not in ARCHIVED]

    async def use(api: ApiClient) -> list[dict[str, Any] | None]:
        patches = [api.patch(i, {"description": f"note {i}", "value": 1000 + i}) for i in ids]
        gets = [api.get(i) for i in ids]
        return [*await asyncio.gather(*patches), *await asyncio.gather(*gets)]

    answers = _run(sandbox, use, max_attempts=15, concurrency=8)
    assert [(a or {}).get("id") for a in answers] == ids + ids
    for i in ids:
        record = sandbox.record(i) or {}
        assert (record["description"], record["value"]) == (f"note {i}", 1000 + i)
    log = sandbox.requests()
    failed = [r for r in log if r.status != 200 or r.dropped]
    assert failed, "the storm injected nothing: this test would prove nothing"
    assert {r.status for r in failed} <= {200, 429, 500, 502, 503}
    # Each PATCH was answered (and applied) at least once; a dropped answer is sent again.
    patched = {
        int(r.path.rsplit("/", 1)[1]) for r in log if r.method == "PATCH" and r.status == 200
    }
    assert patched == set(ids)
