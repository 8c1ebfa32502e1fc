"""`GET /opportunities/search` over HTTP: the published operators, value formats and examples."""

from __future__ import annotations

import httpx
import pytest

from .test_routes import ids


def search(api: httpx.Client, **params: str) -> httpx.Response:
    return api.get("/opportunities/search", params={"order_by": "asc", **params})


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        # The published examples.
        ({"prop1": "status", "op1": "eq", "value1": "ACTIVE"}, [2, 4, 5]),  # write-only, searchable
        ({"prop1": "name", "op1": "contains", "value1": "solar"}, [1, 5]),
        (
            {
                "prop1": "status",
                "op1": "in",
                "value1": "ACTIVE,ON_HOLD",
                "logic": "and",
                "prop2": "city",
                "op2": "eq",
                "value2": "Austin",
            },
            [1],
        ),
        # Standard fields, aliases, numbers.
        ({"prop1": "clientId", "op1": "eq", "value1": "203"}, [2]),
        ({"prop1": "value", "op1": "gt", "value1": "20000"}, [4, 5]),
        ({"prop1": "value", "op1": "eq", "value1": "1000.0"}, [1]),
        ({"prop1": "value", "op1": "between", "value1": "1000,18500.5"}, [1, 2]),
        ({"prop1": "confidence", "op1": "lte", "value1": "50"}, [1]),
        ({"prop1": "trades", "op1": "eq", "value1": "Solar"}, [1, 5]),  # any item of a list
        ({"prop1": "trades", "op1": "nin", "value1": '["Solar","HVAC"]'}, [2]),
        ({"prop1": "state", "op1": "neq", "value1": "TX"}, [2, 4, 5]),
        ({"prop1": "updatedAt", "op1": "gte", "value1": "2026-04-01T10:00:00Z"}, [4, 5]),
        ({"prop1": "createdAt", "op1": "between", "value1": "2026-01-02,2026-01-04T12:00"}, [2, 4]),
        (
            {"prop1": "title", "op1": "in", "value1": '"Chen Solar + EV",Oakridge Dental LLC'},
            [2, 5],
        ),
        # Custom properties by keyName.
        ({"prop1": "hoa_approval", "op1": "eq", "value1": "no"}, [1]),
        ({"prop1": "system_size_kw", "op1": "gte", "value1": "7.5"}, [1]),
        ({"prop1": "panel_brands", "op1": "eq", "value1": "Qcells"}, [1]),
        ({"prop1": "site_survey_date", "op1": "lt", "value1": "2026-05-01"}, [4]),
        # OR, and the archived record only when asked.
        (
            {
                "prop1": "city",
                "op1": "eq",
                "value1": "Denver",
                "logic": "or",
                "prop2": "roof_type",
                "op2": "eq",
                "value2": "Tile",
            },
            [2, 5],
        ),
        ({"prop1": "title", "op1": "contains", "value1": "patel"}, []),
        (
            {"prop1": "title", "op1": "contains", "value1": "patel", "include_archived": "true"},
            [3],
        ),
    ],
)
def test_search_matches(api: httpx.Client, params: dict[str, str], expected: list[int]) -> None:
    assert ids(search(api, **params)) == expected


def test_search_pages_like_the_list(api: httpx.Client) -> None:
    base = {"prop1": "value", "op1": "gt", "value1": "0", "page_size": "2"}
    assert ids(search(api, **base, page="1")) == [1, 2]
    assert ids(search(api, **base, page="2")) == [4, 5]
    assert ids(search(api, **base, page="3")) == []
    assert ids(search(api, **{**base, "order_by": "desc"})) == [5, 4]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"op1": "eq", "value1": "x"}, "prop1"),
        ({"prop1": "shoe_size", "op1": "eq", "value1": "9"}, "prop1"),
        ({"prop1": "title", "op1": "like", "value1": "x"}, "op1"),
        ({"prop1": "title", "op1": "eq"}, "value1"),
        ({"prop1": "value", "op1": "between", "value1": "10"}, "value1"),
        ({"prop1": "title", "op1": "in", "value1": "[oops"}, "value1"),
        ({"prop1": "title", "op1": "eq", "value1": "x", "prop2": "city"}, "op2"),
        ({"prop1": "title", "op1": "eq", "value1": "x", "logic": "xor"}, "logic"),
    ],
)
def test_bad_searches_are_400_naming_the_parameter(
    api: httpx.Client, params: dict[str, str], field: str
) -> None:
    answer = api.get("/opportunities/search", params=params)
    assert answer.status_code == 400
    assert answer.json() == {
        "message": answer.json()["message"],
        "code": "VALIDATION_ERROR",
        "field": field,
    }
