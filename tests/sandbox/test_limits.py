"""Point 4 of the issue: the key is required, limits are per key, and every authenticated answer
carries the rate-limit headers (429s included) but no Retry-After."""

from __future__ import annotations

import pytest

from reconciler.sandbox import Sandbox, SandboxConfig, run_sandbox
from reconciler.sandbox.limits import DAY, RateLimiter

from .conftest import client_for, seed


@pytest.mark.parametrize("key", [None, "", "not-the-key"])
@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/opportunities"), ("PATCH", "/opportunities/1"), ("GET", "/v1/properties")],
)
def test_no_or_a_wrong_key_is_401(sb: Sandbox, key: str | None, method: str, path: str) -> None:
    with client_for(sb, key) as client:
        answer = client.request(method, path, json={"value": 1} if method == "PATCH" else None)
    assert answer.status_code == 401
    assert answer.json()["code"] == "UNAUTHORIZED"
    assert "x-ratelimit-limit" not in answer.headers
    assert sb.record(1)["value"] == 1000  # type: ignore[index]
    (logged,) = sb.requests()
    assert logged.status == 401


def test_defaults_are_100_per_second_and_5000_per_day() -> None:
    assert (SandboxConfig().rate_per_second, SandboxConfig().rate_per_day) == (100, 5000)
    with run_sandbox(seed()) as sb, client_for(sb, sb.api_key) as client:
        headers = [client.get("/opportunities").headers for _ in range(3)]
    assert [h["x-ratelimit-limit"] for h in headers] == ["5000"] * 3
    assert [h["x-ratelimit-remaining"] for h in headers] == ["4999", "4998", "4997"]
    assert all("retry-after" not in h for h in headers)


def test_over_the_per_second_limit_is_429_with_headers_and_not_counted() -> None:
    config = SandboxConfig(rate_per_second=3, rate_per_day=50)
    with run_sandbox(seed(), config) as sb, client_for(sb, sb.api_key) as client:
        answers = [client.get("/opportunities/1") for _ in range(6)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429, 429]
    refused = answers[3]
    assert refused.json()["code"] == "RATE_LIMITED"
    assert "retry-after" not in refused.headers
    # The three refused requests did not use the daily quota.
    assert [a.headers["x-ratelimit-remaining"] for a in answers] == ["49", "48", "47"] + ["47"] * 3
    assert all(a.headers["x-ratelimit-limit"] == "50" for a in answers)


def test_over_the_daily_quota_every_route_is_429() -> None:
    config = SandboxConfig(rate_per_day=2)
    with run_sandbox(seed(), config) as sb, client_for(sb, sb.api_key) as client:
        assert client.get("/opportunities").status_code == 200
        assert client.patch("/opportunities/1", json={"value": 2}).status_code == 200
        refused = client.patch("/opportunities/1", json={"value": 3})
        assert refused.status_code == 429
        assert refused.headers["x-ratelimit-remaining"] == "0"
        assert client.get("/contacts").status_code == 429
        assert sb.record(1)["value"] == 2  # type: ignore[index]
        # Control routes are outside the limits (and the limits can be lifted there).
        assert client.get("/_sandbox/requests").status_code == 200
        assert client.put("/_sandbox/limits", json={"rate_per_day": 10}).status_code == 200
        assert client.get("/opportunities").headers["x-ratelimit-remaining"] == "9"


def test_limits_are_per_key() -> None:
    config = SandboxConfig(rate_per_day=1, extra_api_keys=("second-key-123",))
    with (
        run_sandbox(seed(), config) as sb,
        client_for(sb, sb.api_key) as first,
        client_for(sb, "second-key-123") as second,
    ):
        assert first.get("/opportunities").status_code == 200
        assert first.get("/opportunities").status_code == 429
        assert second.get("/opportunities").status_code == 200
        assert second.get("/opportunities").status_code == 429


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_second_window_slides() -> None:
    clock = Clock()
    limiter = RateLimiter(per_second=2, per_day=100, clock=clock)
    assert limiter.check("k").allowed
    clock.now += 0.6
    assert limiter.check("k").allowed
    assert not limiter.check("k").allowed  # two in the last second
    clock.now += 0.5  # the first one is now 1.1 s old
    assert limiter.check("k").allowed
    assert not limiter.check("k").allowed


def test_the_day_rolls_rather_than_resetting_at_midnight() -> None:
    clock = Clock()
    limiter = RateLimiter(per_second=100, per_day=3, clock=clock)
    for step in (0.0, 3600.0, 7200.0):
        clock.now = 1000.0 + step
        assert limiter.check("k").allowed
    clock.now = 1000.0 + DAY - 1
    decision = limiter.check("k")
    assert not decision.allowed and decision.remaining == 0
    clock.now = 1000.0 + DAY + 1  # the first request left the window: one slot
    decision = limiter.check("k")
    assert decision.allowed and decision.remaining == 0
    assert not limiter.check("k").allowed
    clock.now = 1000.0 + DAY + 3601  # the second one too
    assert limiter.check("k").allowed
