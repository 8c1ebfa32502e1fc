"""Point 3 of the issue over real HTTP: PATCH is partial, atomic and validated field by field;
`updatedAt` moves only on a real change; write-only fields are stored but never returned."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from reconciler.sandbox import Sandbox, SandboxConfig, run_sandbox

from .conftest import client_for, seed


def patch(api: httpx.Client, body: Any, record_id: int = 1, **params: str) -> httpx.Response:
    return api.patch(f"/opportunities/{record_id}", json=body, params=params)


def test_a_partial_patch_changes_only_what_it_names(api: httpx.Client) -> None:
    before = api.get("/opportunities/1").json()
    answer = patch(api, {"description": "South-facing roof", "value": 1250.5})
    assert answer.status_code == 200
    after = answer.json()
    assert after["description"] == "South-facing roof" and after["value"] == 1250.5
    assert after["updatedAt"] > before["updatedAt"]
    unchanged = {k: v for k, v in after.items() if k not in ("description", "value", "updatedAt")}
    assert unchanged == {k: v for k, v in before.items() if k in unchanged}
    assert api.get("/opportunities/1").json() == after


@pytest.mark.parametrize(
    "body",
    [
        {"value": 1000.0},  # numerically equal
        {"trades": ["Battery Storage", "Solar"]},  # the same set
        {"custom": {"panel_brands": ["Qcells", "REC"], "hoa_approval": "no"}},
        {"custom": {"roof_type": None}},  # clearing a key that is not set
        {"contacts": [502, 501]},
        {"status": "ON_HOLD"},
        {},
    ],
)
def test_updated_at_moves_only_on_a_real_change(
    api: httpx.Client, sb: Sandbox, body: dict[str, Any]
) -> None:
    before = sb.record(1)
    answer = patch(api, body)
    assert answer.status_code == 200
    assert answer.json()["updatedAt"] == "2026-01-10T10:00:00.000Z"
    assert sb.record(1) == before


def test_write_only_fields_are_stored_not_returned(api: httpx.Client, sb: Sandbox) -> None:
    answer = patch(api, {"status": "CANCELLED", "contacts": [503]})
    assert "status" not in answer.json() and "contacts" not in answer.json()
    assert answer.json()["updatedAt"] > "2026-01-10T10:00:00.000Z"
    stored = sb.record(1)
    assert stored is not None
    assert stored["status"] == "CANCELLED"
    assert stored["contacts"] == [503]  # replaced, not added to


def test_custom_merges_key_by_key_and_null_clears(api: httpx.Client) -> None:
    answer = patch(api, {"custom": {"roof_type": "Metal", "hoa_approval": None}})
    assert answer.json()["custom"] == {
        "financing_type": "Loan",
        "panel_brands": ["REC", "Qcells"],
        "system_size_kw": 7.5,
        "roof_type": "Metal",
    }


def test_null_clears_nullable_fields(api: httpx.Client) -> None:
    answer = patch(
        api, {"description": None, "workflowId": None, "phaseId": None, "accountId": None}
    )
    record = answer.json()
    assert (record["workflowId"], record["phaseId"], record["accountId"]) == (None, None, None)
    assert record["workflowName"] is None and record["phase"] is None
    assert record["phaseInstances"] == []


def test_workflow_and_phase_change_the_derived_fields(api: httpx.Client) -> None:
    record = patch(api, {"workflowId": 302, "phaseId": 3023}).json()
    assert record["workflowName"] == "Roofing"
    assert record["phase"]["name"] == "Install"
    assert [p["status"] for p in record["phaseInstances"]] == [
        "COMPLETED",
        "COMPLETED",
        "IN_PROGRESS",
    ]


def test_an_address_change_rederives_its_parts(api: httpx.Client) -> None:
    before = api.get("/opportunities/1").json()
    record = patch(api, {"address": ["1 Pine Rd, Apt 2, Tucson, AZ 85701"]}).json()
    assert (record["street"], record["city"]) == ("1 Pine Rd, Apt 2", "Tucson")
    assert (record["state"], record["zipcode"]) == ("AZ", "85701")
    assert record["geoLocation"] != before["geoLocation"]


def test_a_blank_title_is_stored_but_reads_back_as_the_account(
    api: httpx.Client, sb: Sandbox
) -> None:
    answer = patch(api, {"title": "   "})
    assert answer.json()["title"] == "Ramirez Household"
    assert sb.record(1)["title"] == "   "  # type: ignore[index]


INVALID: list[tuple[dict[str, Any], str]] = [
    ({"id": 1}, "id"),
    ({"updatedAt": "2026-01-01T00:00:00Z"}, "updatedAt"),
    ({"city": "Austin"}, "city"),
    ({"workflowName": "x"}, "workflowName"),
    ({"colour": "red"}, "colour"),
    ({"title": None}, "title"),
    ({"title": 7}, "title"),
    ({"address": "123 Main St"}, "address"),
    ({"address": []}, "address"),
    ({"address": ["a", "b"]}, "address"),
    ({"address": [" "]}, "address"),
    ({"trades": "Solar"}, "trades"),
    ({"trades": ["Solar", "Geothermal"]}, "trades"),
    ({"trades": None}, "trades"),
    ({"description": 5}, "description"),
    ({"accountId": 999}, "accountId"),
    ({"accountId": "201"}, "accountId"),
    ({"workflowId": 300}, "workflowId"),
    ({"phaseId": 9999}, "phaseId"),
    ({"value": None}, "value"),
    ({"value": "1000"}, "value"),
    ({"value": True}, "value"),
    ({"size": False}, "size"),
    ({"confidence": 101}, "confidence"),
    ({"confidence": -0.5}, "confidence"),
    ({"confidence": None}, "confidence"),
    ({"status": "DONE"}, "status"),
    ({"status": None}, "status"),
    ({"primaryEmail": "maria at example.com"}, "primaryEmail"),
    ({"primaryEmail": None}, "primaryEmail"),
    ({"primaryPhone": 5125550101}, "primaryPhone"),
    ({"contacts": [501, 999]}, "contacts"),
    ({"contacts": ["501"]}, "contacts"),
    ({"contacts": [True]}, "contacts"),
    ({"custom": []}, "custom"),
    ({"custom": {"shoe_size": 9}}, "custom.shoe_size"),
    ({"custom": {"trades": ["Solar"]}}, "custom.trades"),  # standard, not custom
    ({"custom": {"system_size_kw": "7.5"}}, "custom.system_size_kw"),
    ({"custom": {"system_size_kw": True}}, "custom.system_size_kw"),
    ({"custom": {"utility_company": 5}}, "custom.utility_company"),
    ({"custom": {"site_survey_date": "2026-02-30"}}, "custom.site_survey_date"),
    ({"custom": {"site_survey_date": "03/01/2026"}}, "custom.site_survey_date"),
    ({"custom": {"financing_type": "Barter"}}, "custom.financing_type"),
    ({"custom": {"financing_type": ["Cash"]}}, "custom.financing_type"),
    ({"custom": {"hoa_approval": False}}, "custom.hoa_approval"),
    ({"custom": {"panel_brands": "REC"}}, "custom.panel_brands"),
    ({"custom": {"panel_brands": ["REC", "Acme"]}}, "custom.panel_brands"),
]


@pytest.mark.parametrize(("body", "field"), INVALID, ids=[f"{f}:{b}" for b, f in INVALID])
def test_invalid_fields_are_400_naming_the_field_and_nothing_is_written(
    api: httpx.Client, sb: Sandbox, body: dict[str, Any], field: str
) -> None:
    before = sb.record(1)
    # A valid change first in the body: atomic means it is not applied either.
    answer = patch(api, {"description": "should not stick", **body})
    assert answer.status_code == 400, answer.text
    error = answer.json()
    assert error["code"] == "VALIDATION_ERROR"
    assert error["field"] == field
    assert field.split(".")[-1] in error["message"]
    assert sb.record(1) == before


def test_a_new_option_needs_allow_new_options_and_then_joins_the_catalogue(
    api: httpx.Client,
) -> None:
    body = {"trades": ["Solar", "Geothermal"], "custom": {"panel_brands": ["Acme"]}}
    refused = patch(api, body)
    assert refused.status_code == 400 and refused.json()["field"] == "trades"
    accepted = patch(api, body, allow_new_options="true")
    assert accepted.status_code == 200
    assert accepted.json()["trades"] == ["Solar", "Geothermal"]
    catalogue = {
        p["keyName"]: p["options"]
        for p in api.get("/properties", params={"record_type": "opportunity"}).json()["opportunity"]
    }
    assert "Geothermal" in catalogue["trades"] and "Acme" in catalogue["panel_brands"]
    assert patch(api, {"trades": ["Geothermal"]}, record_id=4).status_code == 200


def test_a_refused_patch_adds_no_option(api: httpx.Client) -> None:
    body = {"trades": ["Geothermal"], "value": "not a number"}
    assert patch(api, body, allow_new_options="true").status_code == 400
    catalogue = api.get("/properties", params={"record_type": "opportunity"}).json()
    trades = next(p for p in catalogue["opportunity"] if p["keyName"] == "trades")
    assert "Geothermal" not in trades["options"]


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b'{"value": 1', "INVALID_JSON"),
        (b'{"value": NaN}', "INVALID_JSON"),
        (b"", "INVALID_JSON"),
        (b"\xff\xfe", "INVALID_JSON"),
        (b"[1, 2]", "VALIDATION_ERROR"),
    ],
)
def test_malformed_bodies(api: httpx.Client, sb: Sandbox, content: bytes, code: str) -> None:
    before = sb.record(1)
    answer = api.patch(
        "/opportunities/1", content=content, headers={"content-type": "application/json"}
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == code
    assert sb.record(1) == before


def test_patching_an_archived_or_unknown_record_is_404(api: httpx.Client) -> None:
    for record_id in (3, 999):
        answer = patch(api, {"description": "x"}, record_id=record_id)
        assert answer.status_code == 404
        assert answer.json()["code"] == "NOT_FOUND"
    assert patch(api, {"description": "x"}, record_id=3, include_archived="true").status_code == 404


def test_two_quick_changes_get_increasing_updated_at(api: httpx.Client) -> None:
    stamps = [patch(api, {"value": n}).json()["updatedAt"] for n in range(5)]
    assert stamps == sorted(set(stamps))


def test_require_full_patch_demands_title_address_and_trades() -> None:
    config = SandboxConfig(require_full_patch=True)
    with run_sandbox(seed(), config) as sb, client_for(sb, sb.api_key) as api:
        refused = patch(api, {"title": "Ramirez Solar", "trades": ["Solar"]})
        assert refused.status_code == 400 and refused.json()["field"] == "address"
        full = {
            "title": "Ramirez Solar",
            "address": ["123 Main St, Austin, TX 78701"],
            "trades": ["Solar", "Battery Storage"],
            "value": 2000,
        }
        accepted = patch(api, full)
        assert accepted.status_code == 200 and accepted.json()["value"] == 2000


def test_normalize_phones_stores_the_servers_own_format() -> None:
    with (
        run_sandbox(seed(), SandboxConfig(normalize_phones=True)) as sb,
        client_for(sb, sb.api_key) as api,
    ):
        answer = patch(api, {"primaryPhone": "(512) 555-0199"})
        assert answer.status_code == 200 and answer.json()["primaryPhone"] == "+15125550199"
        other = patch(api, {"primaryPhone": "+44 20 7946 0958"})  # not a US number: kept
        assert other.json()["primaryPhone"] == "+44 20 7946 0958"


def test_replace_custom_drops_the_keys_a_patch_leaves_out() -> None:
    with (
        run_sandbox(seed(), SandboxConfig(replace_custom=True)) as sb,
        client_for(sb, sb.api_key) as api,
    ):
        before = api.get("/opportunities/1").json()["custom"]
        assert len(before) > 1
        answer = patch(api, {"custom": {"financing_type": "Cash"}})
        assert answer.json()["custom"] == {"financing_type": "Cash"}
        untouched = patch(api, {"value": 5})  # no custom in the body: custom stays
        assert untouched.json()["custom"] == {"financing_type": "Cash"}
