"""Point 2 of the issue over real HTTP: every route, at the root, under /v1 and as /requests,
answering in the published shapes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from reconciler.sandbox import Sandbox

from .conftest import ACTIVE_IDS

PREFIXES = ["", "/v1"]
BASES = ["/opportunities", "/requests"]


def ids(answer: httpx.Response) -> list[int]:
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert isinstance(body, list)  # a bare array: no envelope, no total
    return [r["id"] for r in body]


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("base", BASES)
def test_list_get_and_alias_on_every_prefix(api: httpx.Client, prefix: str, base: str) -> None:
    assert ids(api.get(f"{prefix}{base}", params={"order_by": "asc"})) == ACTIVE_IDS
    one = api.get(f"{prefix}{base}/4")
    assert one.status_code == 200
    assert one.json()["title"] == "Greenfield Elementary HVAC"


def test_default_order_is_desc_as_the_list_prose_says(api: httpx.Client) -> None:
    assert ids(api.get("/opportunities")) == sorted(ACTIVE_IDS, reverse=True)
    assert ids(api.get("/opportunities", params={"order_by": "desc"})) == [5, 4, 2, 1]


def test_pages_end_with_a_short_page_then_empty(api: httpx.Client) -> None:
    pages = [
        ids(api.get("/opportunities", params={"page": p, "page_size": 3, "order_by": "asc"}))
        for p in (1, 2, 3)
    ]
    assert pages == [[1, 2, 4], [5], []]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "101"}, "page_size"),
        ({"page_size": "ten"}, "page_size"),
        ({"page": "0"}, "page"),
        ({"order_by": "newest"}, "order_by"),
        ({"include_archived": "yes"}, "include_archived"),
        ({"updated_after": "last tuesday"}, "updated_after"),
    ],
)
def test_bad_list_parameters_are_400_naming_them(
    api: httpx.Client, params: dict[str, str], field: str
) -> None:
    answer = api.get("/opportunities", params=params)
    assert answer.status_code == 400
    assert answer.json()["code"] == "VALIDATION_ERROR"
    assert answer.json()["field"] == field


def test_page_size_bounds_are_inclusive(api: httpx.Client) -> None:
    assert len(ids(api.get("/opportunities", params={"page_size": 1}))) == 1
    assert len(ids(api.get("/opportunities", params={"page_size": 100}))) == 4


def test_archived_records_need_include_archived(api: httpx.Client) -> None:
    assert 3 not in ids(api.get("/opportunities"))
    assert api.get("/opportunities/3").status_code == 404
    assert 3 in ids(api.get("/opportunities", params={"include_archived": "true"}))
    archived = api.get("/opportunities/3", params={"include_archived": "true"})
    assert archived.status_code == 200
    assert archived.json()["isActive"] is False


def test_updated_after_and_before_are_strict_iso_8601_bounds(api: httpx.Client) -> None:
    after = {"updated_after": "2026-02-01T10:00:00Z", "order_by": "asc"}
    assert ids(api.get("/opportunities", params=after)) == [4, 5]
    before = {"updated_before": "2026-02-01T11:00:00+01:00", "order_by": "asc"}
    assert ids(api.get("/opportunities", params=before)) == [1]
    window = {"updated_after": "2026-01-31", "updated_before": "2026-04-02", "order_by": "asc"}
    assert ids(api.get("/opportunities", params=window)) == [2, 4]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "dental"}, [2]),  # description, and the title read back from the account
        ({"q": "SAN DIEGO"}, [5]),
        ({"title": "oakridge"}, [2]),  # a blank title searches as the account's title
        ({"title": "solar"}, [1, 5]),
        ({"address": "main st"}, [1]),
        ({"primaryEmail": "wei.chen@"}, [5]),
        ({"primaryPhone": "(919) 555-0108"}, [4]),  # digits compared, formatting ignored
        ({"primaryName": "luis"}, [1]),  # the names of the linked contacts
        ({"title": "nothing like this"}, []),
    ],
)
def test_field_searches(api: httpx.Client, params: dict[str, str], expected: list[int]) -> None:
    assert ids(api.get("/opportunities", params={**params, "order_by": "asc"})) == expected


def test_a_record_has_the_published_shape_without_write_only_fields(api: httpx.Client) -> None:
    record = api.get("/opportunities/1").json()
    assert "status" not in record
    assert "contacts" not in record
    assert record["street"] == "123 Main St"
    assert (record["city"], record["state"], record["zipcode"]) == ("Austin", "TX", "78701")
    (geo,) = record["geoLocation"]
    lat, lon = (float(x) for x in geo.split(","))
    assert 24 < lat < 50 and -125 < lon < -66
    assert record["workflowName"] == "Residential Solar"
    assert record["phase"] == {"id": 3012, "name": "Design", "type": "DEFAULT"}
    statuses = [(p["name"], p["status"]) for p in record["phaseInstances"]]
    assert statuses == [
        ("Site Survey", "COMPLETED"),
        ("Design", "IN_PROGRESS"),
        ("Permitting", "NOT_STARTED"),
        ("Install", "NOT_STARTED"),
    ]
    assert record["createdAt"] == "2026-01-01T09:00:00.000Z"
    assert record["updatedAt"] == "2026-01-10T10:00:00.000Z"
    assert record["number"] == 1 and record["isActive"] is True
    assert record["custom"]["hoa_approval"] == "no"


def test_a_blank_title_reads_back_as_the_accounts_title(api: httpx.Client, sb: Sandbox) -> None:
    assert api.get("/opportunities/2").json()["title"] == "Oakridge Dental LLC"
    stored = sb.record(2)
    assert stored is not None and stored["title"] == ""


@pytest.mark.parametrize("path", ["/opportunities/999", "/opportunities/abc", "/nowhere"])
def test_unknown_ids_and_paths_are_404_not_found(api: httpx.Client, path: str) -> None:
    answer = api.get(path)
    assert answer.status_code == 404
    assert answer.json()["code"] == "NOT_FOUND"


def test_a_wrong_method_is_405_listing_the_allowed_ones(api: httpx.Client) -> None:
    answer = api.put("/opportunities/1", json={})
    assert answer.status_code == 405
    assert set(answer.headers["allow"].replace(" ", "").split(",")) >= {"GET", "PATCH", "DELETE"}


def test_properties_is_the_catalogue_keyed_by_record_type(api: httpx.Client) -> None:
    body = api.get("/properties", params={"record_type": "opportunity"}).json()
    assert list(body) == ["opportunity"]
    by_key = {p["keyName"]: p for p in body["opportunity"]}
    assert by_key["trades"]["isCustom"] is False and by_key["trades"]["isMultiple"] is True
    assert by_key["hoa_approval"]["options"] == ["yes", "no", "pending"]
    assert by_key["site_survey_date"]["type"] == "DATE"
    every = api.get("/properties").json()
    assert every["request"] == every["opportunity"]  # the documented deprecated alias
    assert api.get("/properties", params={"record_type": "robot"}).status_code == 400


def test_contacts_list_pages_and_post_returns_the_id(api: httpx.Client) -> None:
    first = api.get("/contacts", params={"page_size": 3}).json()
    assert [c["id"] for c in first] == [501, 502, 503]
    assert first[0]["name"] == "Maria Ramirez"
    assert first[0]["accounts"] == [{"id": 201, "title": "Ramirez Household"}]
    assert api.get("/contacts", params={"page": 5, "page_size": 3}).json() == []
    created = api.post(
        "/contacts",
        json={"name": "Jo Baker", "emails": ["jo@example.com"], "phones": ["+1 555 0100"]},
    )
    assert created.status_code == 200
    new_id = created.json()["id"]
    assert new_id == 511
    found = api.get("/contacts", params={"q": "jo@example"}).json()
    assert [c["id"] for c in found] == [new_id]
    # The new contact can be linked at once.
    assert api.patch("/opportunities/1", json={"contacts": [new_id]}).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"emails": ["a@example.com"]}, "name"),
        ({"name": "X", "emails": ["not an email"]}, "emails"),
        ({"name": "X", "accountIds": [999]}, "accountIds"),
        ({"name": "X", "shoeSize": 9}, "shoeSize"),
    ],
)
def test_bad_contacts_are_400(api: httpx.Client, body: dict[str, Any], field: str) -> None:
    answer = api.post("/contacts", json=body)
    assert answer.status_code == 400
    assert answer.json()["field"] == field


def test_workflows_are_listed(api: httpx.Client) -> None:
    workflows = {w["id"]: w for w in api.get("/workflows").json()}
    assert [p["name"] for p in workflows[302]["phases"]] == ["Inspection", "Estimate", "Install"]


def test_delete_removes_the_record(api: httpx.Client, sb: Sandbox) -> None:
    answer = api.delete("/requests/5")
    assert answer.status_code == 200
    assert api.get("/opportunities/5").status_code == 404
    assert sb.record(5) is None
    assert api.delete("/opportunities/5").status_code == 404
    assert api.delete("/opportunities/3").status_code == 404  # archived: hidden as for PATCH
