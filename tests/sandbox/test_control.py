"""Point 6 of the issue: the request log, in-process and over /_sandbox/, and the control routes
(reset, faults, limits, stored records), which need the key but are neither logged nor limited."""

from __future__ import annotations

import httpx
import pytest

from reconciler.sandbox import LoggedRequest, Sandbox

from .conftest import client_for


def test_the_log_records_method_path_query_body_and_status(api: httpx.Client, sb: Sandbox) -> None:
    api.get("/v1/opportunities", params={"page_size": 2, "order_by": "asc"})
    api.patch("/requests/1", params={"allow_new_options": "true"}, json={"value": 5})
    api.patch("/opportunities/1", content=b"{oops", headers={"content-type": "application/json"})
    api.get("/opportunities/42")
    assert sb.requests() == [
        LoggedRequest(
            "GET", "/v1/opportunities", {"page_size": "2", "order_by": "asc"}, None, 200, False
        ),
        LoggedRequest(
            "PATCH", "/requests/1", {"allow_new_options": "true"}, {"value": 5}, 200, False
        ),
        LoggedRequest("PATCH", "/opportunities/1", {}, "{oops", 400, False),
        LoggedRequest("GET", "/opportunities/42", {}, None, 404, False),
    ]


def test_the_log_over_http_matches_and_control_calls_are_not_logged(
    api: httpx.Client, sb: Sandbox
) -> None:
    api.patch("/opportunities/2", json={"custom": {"roof_type": "Flat"}})
    over_http = api.get("/_sandbox/requests").json()
    assert over_http == [r.to_dict() for r in sb.requests()]
    assert over_http == [
        {
            "method": "PATCH",
            "path": "/opportunities/2",
            "query": {},
            "body": {"custom": {"roof_type": "Flat"}},
            "status": 200,
            "dropped": False,
        }
    ]
    assert api.delete("/_sandbox/requests").status_code == 200
    assert sb.requests() == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/_sandbox/requests"),
        ("POST", "/_sandbox/reset"),
        ("PUT", "/_sandbox/faults"),
        ("PUT", "/_sandbox/limits"),
        ("GET", "/_sandbox/records/1"),
    ],
)
@pytest.mark.parametrize("key", [None, "wrong-key-000"])
def test_control_routes_need_the_key(sb: Sandbox, method: str, path: str, key: str | None) -> None:
    with client_for(sb, key) as client:
        answer = client.request(method, path, json={})
    assert answer.status_code == 401
    assert answer.json()["code"] == "UNAUTHORIZED"
    assert sb.requests() == []


def test_reset_restores_the_seed_and_clears_the_log(api: httpx.Client, sb: Sandbox) -> None:
    original = api.get("/opportunities/1").json()
    api.patch("/opportunities/1", params={"allow_new_options": "true"}, json={"trades": ["Wind"]})
    api.delete("/opportunities/5")
    api.post("/contacts", json={"name": "Temp"})
    assert api.post("/_sandbox/reset").json() == {"reset": True}
    assert sb.requests() == []
    assert api.get("/opportunities/1").json() == original
    assert api.get("/opportunities/5").status_code == 200
    trades = api.get("/properties", params={"record_type": "opportunity"}).json()["opportunity"][0]
    assert "Wind" not in trades["options"]
    assert [c["id"] for c in api.get("/contacts", params={"page": 2, "page_size": 10}).json()] == []


def test_in_process_reset_and_record(api: httpx.Client, sb: Sandbox) -> None:
    api.patch("/opportunities/4", json={"status": "COMPLETED"})
    assert sb.record(4)["status"] == "COMPLETED"  # type: ignore[index]
    sb.reset()
    assert sb.record(4)["status"] == "ACTIVE"  # type: ignore[index]
    assert sb.record(3)["isActive"] is False  # type: ignore[index]  # archived: still readable
    assert sb.record(999) is None


def test_stored_records_over_http(api: httpx.Client) -> None:
    record = api.get("/_sandbox/records/1").json()
    assert record["status"] == "ON_HOLD" and record["contacts"] == [501, 502]
    assert api.get("/_sandbox/records/999").status_code == 404


def test_limits_over_http(api: httpx.Client) -> None:
    assert api.put("/_sandbox/limits", json={"rate_per_second": 2}).json()["rate_per_second"] == 2
    statuses = [api.get("/opportunities").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert api.put("/_sandbox/limits", json={"rate_per_second": 0}).status_code == 400
    assert api.put("/_sandbox/limits", json={"burst": 1}).status_code == 400
    assert api.get("/_sandbox/limits").json()["rate_per_second"] == 2
