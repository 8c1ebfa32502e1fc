"""`POST /opportunities`: create, and the `match_by` / `match_found_strategy` upsert."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from reconciler.sandbox import Sandbox

NEW: dict[str, Any] = {
    "title": "Nguyen Heat Pump",
    "address": ["18 Willow Ln, Houston, TX 77002"],
    "trades": ["HVAC"],
}


def test_create_assigns_id_number_timestamps_and_defaults(api: httpx.Client, sb: Sandbox) -> None:
    answer = api.post("/opportunities", json={**NEW, "accountId": 202, "confidence": 40})
    assert answer.status_code == 200  # the published document lists 200 only
    record = answer.json()
    assert record["id"] == 6 and record["number"] == 6
    assert record["createdAt"] == record["updatedAt"]
    assert (record["city"], record["state"], record["zipcode"]) == ("Houston", "TX", "77002")
    assert record["custom"] == {} and record["value"] is None and record["workflowName"] is None
    assert api.get("/opportunities/6").json() == record
    stored = sb.record(6)
    assert stored is not None and stored["status"] == "ACTIVE" and stored["contacts"] == []


def test_a_primary_email_links_or_creates_a_contact(api: httpx.Client, sb: Sandbox) -> None:
    known = api.post("/opportunities", json={**NEW, "primaryEmail": "Aisha.Nguyen@example.com"})
    assert sb.record(known.json()["id"])["contacts"] == [510]  # type: ignore[index]
    fresh = api.post("/opportunities", json={**NEW, "title": "B", "primaryEmail": "b@example.com"})
    (contact_id,) = sb.record(fresh.json()["id"])["contacts"]  # type: ignore[index]
    assert contact_id == 511
    assert [c["id"] for c in api.get("/contacts", params={"q": "b@example.com"}).json()] == [511]


@pytest.mark.parametrize("missing", ["title", "address", "trades"])
def test_create_requires_title_address_trades(api: httpx.Client, missing: str) -> None:
    body = {k: v for k, v in NEW.items() if k != missing}
    answer = api.post("/opportunities", json=body)
    assert answer.status_code == 400
    assert answer.json()["field"] == missing


def test_a_title_match_is_returned_unchanged_by_default(api: httpx.Client, sb: Sandbox) -> None:
    before = api.get("/opportunities/5").json()
    answer = api.post("/opportunities", json={**NEW, "title": "chen solar + ev ", "value": 1})
    assert answer.status_code == 200
    assert answer.json() == before
    assert api.get("/opportunities", params={"page_size": 100}).json().__len__() == 4


def test_replace_rewrites_the_matched_record(api: httpx.Client) -> None:
    body = {**NEW, "title": "Chen Solar + EV", "value": 5, "custom": {"roof_type": "Metal"}}
    answer = api.post("/opportunities", params={"match_found_strategy": "replace"}, json=body)
    record = answer.json()
    assert record["id"] == 5
    assert record["trades"] == ["HVAC"] and record["value"] == 5
    assert record["custom"] == {"roof_type": "Metal"}  # utility_company is gone
    assert record["accountId"] is None  # not in the body: replaced by nothing
    assert record["updatedAt"] > "2026-05-01T10:00:00.000Z"


def test_enrich_fills_only_empty_fields(api: httpx.Client) -> None:
    body = {
        **NEW,
        "address": ["123 Main St, Austin, TX 78701"],
        "description": "filled in",
        "value": 99,
        "custom": {"financing_type": "Cash", "roof_type": "Flat"},
    }
    answer = api.post(
        "/opportunities",
        params={"match_by": "address", "match_found_strategy": "enrich"},
        json=body,
    )
    record = answer.json()
    assert record["id"] == 1
    assert record["description"] == "filled in"  # was null
    assert record["value"] == 1000  # was set: kept
    assert record["title"] == "Ramirez Solar"
    assert record["custom"]["financing_type"] == "Loan"
    assert record["custom"]["roof_type"] == "Flat"


@pytest.mark.parametrize(
    ("match_by", "extra", "expected"),
    [
        ("primaryEmail", {"primaryEmail": "WEI.CHEN@example.com"}, 5),
        ("primaryPhone", {"primaryPhone": "919.555.0108"}, 4),
        ("address", {"address": ["55 oak ave, denver, co 80202"]}, 2),
        ("primaryEmail", {}, 6),  # nothing to match with: created
    ],
)
def test_match_by(api: httpx.Client, match_by: str, extra: dict[str, Any], expected: int) -> None:
    answer = api.post("/opportunities", params={"match_by": match_by}, json={**NEW, **extra})
    assert answer.json()["id"] == expected


@pytest.mark.parametrize(
    ("params", "field"),
    [({"match_by": "id"}, "match_by"), ({"match_found_strategy": "merge"}, "match_found_strategy")],
)
def test_bad_upsert_parameters(api: httpx.Client, params: dict[str, str], field: str) -> None:
    answer = api.post("/opportunities", params=params, json=NEW)
    assert answer.status_code == 400 and answer.json()["field"] == field


def test_archived_records_do_not_match(api: httpx.Client) -> None:
    answer = api.post("/opportunities", json={**NEW, "title": "Patel Reroof (lost)"})
    assert answer.json()["id"] == 6
