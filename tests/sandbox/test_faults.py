"""Point 5 of the issue: latency, 5xx, 429 and dropped answers, set at start or while running,
deterministic under a seed, and never applied to the /_sandbox/ routes."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from reconciler.sandbox import Faults, Sandbox, SandboxConfig, run_sandbox

from .conftest import client_for, seed


def outcome(client: httpx.Client, method: str = "GET", path: str = "/opportunities/1") -> str:
    try:
        answer = client.request(method, path, json={"value": 7} if method == "PATCH" else None)
    except httpx.RemoteProtocolError:
        return "dropped"
    return str(answer.status_code)


def test_errors_come_before_handling_so_nothing_is_written(api: httpx.Client, sb: Sandbox) -> None:
    sb.set_faults(Faults(error_rate=1.0, seed=3))
    answers = [api.patch("/opportunities/1", json={"value": n}) for n in range(12)]
    assert {a.status_code for a in answers} == {500, 502, 503}
    assert sb.record(1)["value"] == 1000  # type: ignore[index]
    for answer in answers:
        if answer.status_code == 500:
            assert answer.json()["code"] == "INTERNAL_SERVER_ERROR"
        else:  # a proxy's page, not the API's JSON: clients must not assume JSON on 5xx
            assert answer.headers["content-type"].startswith("text/html")
        assert "x-ratelimit-remaining" in answer.headers


def test_injected_429s_write_nothing_and_use_no_quota(api: httpx.Client, sb: Sandbox) -> None:
    sb.set_limits(rate_per_day=100)
    sb.set_faults(Faults(throttle_rate=1.0))
    answers = [api.patch("/opportunities/1", json={"value": 5}) for _ in range(3)]
    assert [a.status_code for a in answers] == [429] * 3
    assert all(a.json()["code"] == "RATE_LIMITED" for a in answers)
    assert [a.headers["x-ratelimit-remaining"] for a in answers] == ["100"] * 3
    assert "retry-after" not in answers[0].headers
    assert sb.record(1)["value"] == 1000  # type: ignore[index]


def test_a_dropped_answer_was_applied(api: httpx.Client, sb: Sandbox) -> None:
    sb.set_faults(Faults(drop_rate=1.0))
    with pytest.raises(httpx.RemoteProtocolError):
        api.patch("/opportunities/1", json={"value": 4321})
    assert sb.record(1)["value"] == 4321  # type: ignore[index]
    (logged,) = sb.requests()
    assert (logged.method, logged.status, logged.dropped) == ("PATCH", 200, True)
    # The connection pool recovers: the retried PATCH is a no-op the client can read.
    sb.set_faults(Faults())
    retried = api.patch("/opportunities/1", json={"value": 4321})
    assert retried.status_code == 200 and retried.json()["value"] == 4321


def test_latency_delays_answers(api: httpx.Client, sb: Sandbox) -> None:
    sb.set_faults(Faults(latency=0.25, jitter=0.05))
    started = time.monotonic()
    assert api.get("/opportunities/1").status_code == 200
    assert time.monotonic() - started >= 0.25


def test_slow_answers_do_not_hold_up_other_connections(sb: Sandbox) -> None:
    # Six requests of 1 s each on six connections: concurrent, not one after another (6 s). The
    # bound leaves 4 s of slack so that a loaded machine does not fail it; serving them one by
    # one still cannot pass.
    sb.set_faults(Faults(latency=1.0))

    def one(_: int) -> int:
        with client_for(sb, sb.api_key) as client:
            return client.get("/opportunities").status_code

    started = time.monotonic()
    with ThreadPoolExecutor(6) as pool:
        statuses = list(pool.map(one, range(6)))
    assert statuses == [200] * 6
    assert time.monotonic() - started < 5.0


def sequence(sb: Sandbox, client: httpx.Client, faults: Faults) -> list[str]:
    sb.reset()
    sb.set_faults(faults)
    return [outcome(client) for _ in range(40)]


def test_faults_are_deterministic_under_a_seed(api: httpx.Client, sb: Sandbox) -> None:
    mixed = Faults(error_rate=0.25, throttle_rate=0.15, drop_rate=0.2, seed=42)
    first = sequence(sb, api, mixed)
    assert set(first) == {"200", "429", "500", "502", "503", "dropped"}
    assert sequence(sb, api, mixed) == first
    assert (
        sequence(sb, api, Faults(error_rate=0.25, throttle_rate=0.15, drop_rate=0.2, seed=43))
        != first
    )


def test_faults_can_target_methods(api: httpx.Client, sb: Sandbox) -> None:
    sb.set_faults(Faults(error_rate=1.0, methods=frozenset({"patch"})))
    assert outcome(api, "GET") == "200"
    assert outcome(api, "PATCH") in {"500", "502", "503"}


def test_control_routes_are_never_faulted(api: httpx.Client, sb: Sandbox) -> None:
    sb.set_faults(Faults(error_rate=1.0, latency=0.0))
    assert api.get("/_sandbox/requests").status_code == 200
    assert api.post("/_sandbox/reset").status_code == 200


def test_faults_set_at_start() -> None:
    config = SandboxConfig(faults=Faults(throttle_rate=1.0))
    with run_sandbox(seed(), config) as sb, client_for(sb, sb.api_key) as client:
        assert client.get("/opportunities").status_code == 429


def test_faults_set_over_http(api: httpx.Client) -> None:
    answer = api.put("/_sandbox/faults", json={"error_rate": 1.0, "methods": ["GET"], "seed": 5})
    assert answer.status_code == 200
    assert answer.json()["error_rate"] == 1.0 and answer.json()["methods"] == ["GET"]
    assert outcome(api, "GET") in {"500", "502", "503"}
    assert api.get("/_sandbox/faults").json()["seed"] == 5
    assert api.put("/_sandbox/faults", json={}).status_code == 200
    assert outcome(api, "GET") == "200"


@pytest.mark.parametrize(
    "body",
    [
        {"error_rate": 2},
        {"error_rate": 0.7, "throttle_rate": 0.7},
        {"surprise": 1},
        [1],
        {"seed": "x"},
    ],
)
def test_bad_faults_are_400(api: httpx.Client, body: object) -> None:
    answer = api.put("/_sandbox/faults", json=body)
    assert answer.status_code == 400
    assert answer.json()["code"] == "VALIDATION_ERROR"
