"""The schema file against the field model, and the findings a person reads for each mistake."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator, Draft202012Validator

from reconciler import fields
from reconciler.loader import parse
from reconciler.schema import Finding, check, is_valid, load_schema

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILE = ROOT / "schemas" / "opportunity.schema.json"


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return loaded


def test_the_package_reads_the_schema_file_in_schemas(schema: dict[str, Any]) -> None:
    assert load_schema() == schema


def test_the_schema_is_valid_under_both_drafts(schema: dict[str, Any]) -> None:
    Draft202012Validator.check_schema(schema)
    Draft7Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_every_field_of_the_model_and_nothing_else_is_declared(schema: dict[str, Any]) -> None:
    assert set(schema["properties"]) == {
        fields.KEY,
        *fields.FIELDS,
        *fields.READ_ONLY,
        *fields.FILE_SETTINGS,
    }
    assert schema["additionalProperties"] is False


def test_required_fields_match_the_model(schema: dict[str, Any]) -> None:
    # `id` is optional: a file without it declares a new opportunity (issue 10).
    expected = [name for name, f in fields.FIELDS.items() if f.required]
    assert schema["required"] == expected
    assert fields.KEY in schema["properties"]


def test_a_file_without_id_is_valid_and_needs_what_a_create_needs() -> None:
    data = with_line("id: 1001\n", "")
    assert is_valid(data) and check(data) == []
    del data["trades"]
    (finding,) = check(data)
    assert finding.field == "trades"
    assert finding.message == (
        "the required field trades is missing; add it (a file without id declares a new "
        "opportunity, and creating one needs title, address and trades)"
    )


@pytest.mark.parametrize("name", list(fields.FIELDS))
def test_nullability_matches_the_model(schema: dict[str, Any], name: str) -> None:
    # Checked by behaviour, not by spelling: does the property's schema accept null?
    accepts_null = Draft202012Validator(schema["properties"][name]).is_valid(None)
    assert accepts_null is fields.FIELDS[name].nullable


@pytest.mark.parametrize("name", list(fields.FIELDS))
def test_write_only_fields_say_so(schema: dict[str, Any], name: str) -> None:
    description = schema["properties"][name]["description"]
    assert description.startswith("Write-only") is fields.FIELDS[name].write_only


@pytest.mark.parametrize("name", sorted(fields.READ_ONLY))
def test_read_only_fields_accept_no_value_and_say_why(schema: dict[str, Any], name: str) -> None:
    prop = schema["properties"][name]
    assert prop["description"].startswith("Read-only: returned by the API, never accepted")
    values: list[Any] = ["x", 1, None, [], {}]
    assert not any(Draft202012Validator(prop).is_valid(value) for value in values)


def _types(prop: dict[str, Any]) -> set[str]:
    kind = prop.get("type", [])
    return {kind} if isinstance(kind, str) else set(kind)


@pytest.mark.parametrize("name", list(fields.FIELDS))
def test_set_fields_and_unique_items_agree(schema: dict[str, Any], name: str) -> None:
    # A set-like field is a list whose order carries no meaning and whose items are distinct.
    prop = schema["properties"][name]
    is_set = fields.FIELDS[name].compare is fields.Compare.SET
    assert (prop.get("uniqueItems") is True) is is_set
    if is_set:
        assert "array" in _types(prop)


@pytest.mark.parametrize("name", list(fields.FIELDS))
def test_numeric_fields_and_number_type_agree(schema: dict[str, Any], name: str) -> None:
    # NUMERIC (1000 == 1000.0) exactly for the fields the schema types as `number`: an
    # `integer` field such as accountId is an id, compared exactly.
    is_numeric = fields.FIELDS[name].compare is fields.Compare.NUMERIC
    assert ("number" in _types(schema["properties"][name])) is is_numeric


@pytest.mark.parametrize("name", list(fields.FIELDS))
def test_merged_fields_are_objects_and_block_fields_are_lists(
    schema: dict[str, Any], name: str
) -> None:
    field, prop = fields.FIELDS[name], schema["properties"][name]
    assert ("object" in _types(prop)) is field.merged
    assert (field.key_compare is not None) is field.merged
    if field.block:
        assert "array" in _types(prop)


def test_status_values_match_the_model(schema: dict[str, Any]) -> None:
    assert schema["properties"]["status"]["enum"] == list(fields.STATUSES)


def test_the_id_is_not_nullable(schema: dict[str, Any]) -> None:
    assert not Draft202012Validator(schema["properties"]["id"]).is_valid(None)


VALID = """\
id: 1001
title: Solar install
address: ["12 Oak St, Springfield, IL 62704"]
trades: [Solar, Battery Storage]
description: null
accountId: 201
workflowId: null
phaseId: 3012
value: 24850.5
size: 7
confidence: 100
status: ON_HOLD
primaryEmail: maria.ramirez@example.com
primaryPhone: "+1 512-555-0142"
contacts: [501, 502]
custom:
  hoa_approval: no
  site_survey_date: 2026-01-15
  system_size_kw: 7.6
  tax_credit: true
  old_key: null
  panel_brands: [REC, Qcells]
"""


def test_a_complete_file_is_valid() -> None:
    data = parse(VALID.encode(), "t.yaml")
    assert is_valid(data)
    assert check(data) == []


def test_custom_values_keep_yaml_1_1_words_and_dates_as_strings() -> None:
    custom = parse(VALID.encode(), "t.yaml")["custom"]
    assert custom["hoa_approval"] == "no"
    assert custom["site_survey_date"] == "2026-01-15"


def with_line(old: str, new: str) -> dict[str, Any]:
    assert old in VALID
    return parse(VALID.replace(old, new).encode(), "t.yaml")


BLANK_TITLE = (
    "the title is blank: the API reads a blank title back as the account's title, so the file "
    "and the live record would never agree; give the opportunity its own title"
)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("id: 1001", "id: 1001x", [(("id",), "id", "must be an integer, not the string '1001x'")]),
        ("id: 1001", "id: 0", [(("id",), "id", "must be at least 1, not 0")]),
        (
            "id: 1001",
            "id: 1001.0",
            [(("id",), "id", "must be an integer, not the number 1001.0 (write 1001)")],
        ),
        ("id: 1001", "id: true", [(("id",), "id", "must be an integer, not true")]),
        (
            "title: Solar install\n",
            "",
            [((), "title", "the required field title is missing; add it")],
        ),
        ("title: Solar install", 'title: "  "', [(("title",), "title", BLANK_TITLE)]),
        ("title: Solar install", 'title: ""', [(("title",), "title", BLANK_TITLE)]),
        (
            "title: Solar install",
            "title: null",
            [(("title",), "title", "must be a string, not null")],
        ),
        (
            'address: ["12 Oak St, Springfield, IL 62704"]',
            'address: ["12 Oak St", "Springfield, IL 62704"]',
            [
                (
                    ("address", 1),
                    "address",
                    "holds 2 strings; it must hold exactly one: the full address on one line "
                    "(street, city, state and zipcode in one string)",
                )
            ],
        ),
        (
            'address: ["12 Oak St, Springfield, IL 62704"]',
            "address: []",
            [
                (
                    ("address",),
                    "address",
                    "is empty; it must hold exactly one string: the full address",
                )
            ],
        ),
        (
            'address: ["12 Oak St, Springfield, IL 62704"]',
            "address: 12 Oak St, Springfield",
            [
                (
                    ("address",),
                    "address",
                    "must be a list, not the string '12 Oak St, Springfield'; write it as a list: "
                    'address: ["12 Oak St, Springfield"]',
                )
            ],
        ),
        (
            "trades: [Solar, Battery Storage]",
            "trades: [Solar, Roofing, Solar]",
            [
                (
                    ("trades", 2),
                    "trades[2]",
                    "the string 'Solar' is listed twice (first as trades[0]); "
                    "trades is a set: list each value once",
                )
            ],
        ),
        (
            "trades: [Solar, Battery Storage]",
            "trades: [Solar, 3]",
            [(("trades", 1), "trades[1]", "must be a string, not the integer 3")],
        ),
        (
            "accountId: 201",
            "accountId: '0201'",
            [
                (
                    ("accountId",),
                    "accountId",
                    "must be an integer or null, not the string '0201' "
                    "(a number with a leading zero is read as text)",
                )
            ],
        ),
        (
            "value: 24850.5",
            "value: 24,850.50",
            [
                (
                    ("value",),
                    "value",
                    "must be a number, not the string '24,850.50' "
                    "(write numbers without thousands separators)",
                )
            ],
        ),
        (
            "confidence: 100",
            "confidence: 101",
            [(("confidence",), "confidence", "must be between 0 and 100, not 101")],
        ),
        (
            "confidence: 100",
            "confidence: -1",
            [(("confidence",), "confidence", "must be between 0 and 100, not -1")],
        ),
        (
            "status: ON_HOLD",
            "status: on hold",
            [
                (
                    ("status",),
                    "status",
                    "must be one of ACTIVE, ON_HOLD, CANCELLED, COMPLETED, not the string "
                    "'on hold'; did you mean ON_HOLD?",
                )
            ],
        ),
        (
            "primaryEmail: maria.ramirez@example.com",
            "primaryEmail: maria.ramirez@example",
            [
                (
                    ("primaryEmail",),
                    "primaryEmail",
                    "'maria.ramirez@example' is not a valid email address (The part after the "
                    "@-sign is not valid. It should have a period.)",
                )
            ],
        ),
        (
            "primaryEmail: maria.ramirez@example.com",
            "primaryEmail: maria ramirez@example.com",
            [
                (
                    ("primaryEmail",),
                    "primaryEmail",
                    "'maria ramirez@example.com' is not a valid email address (The email address "
                    "contains invalid characters before the @-sign: SPACE.)",
                )
            ],
        ),
        (
            "contacts: [501, 502]",
            "contacts: [501, 501]",
            [
                (
                    ("contacts", 1),
                    "contacts[1]",
                    "the integer 501 is listed twice (first as contacts[0]); "
                    "contacts is a set: list each value once",
                )
            ],
        ),
        (
            "  hoa_approval: no",
            "  hoa approval: no",
            [
                (
                    ("custom", "hoa approval"),
                    "custom.hoa approval",
                    "'hoa approval' is not a valid custom field key: keys are the company's "
                    "property keyNames (letters, digits and _, not starting with a digit)",
                )
            ],
        ),
        (
            "  hoa_approval: no",
            "  hoa_approval: {state: no}",
            [
                (
                    ("custom", "hoa_approval"),
                    "custom.hoa_approval",
                    "a custom value must be a string, a number, true or false, null (clears the "
                    "key) or a list of strings (a multi-select), not a mapping",
                )
            ],
        ),
        (
            "  panel_brands: [REC, Qcells]",
            "  panel_brands: [REC, 7]",
            [
                (
                    ("custom", "panel_brands", 1),
                    "custom.panel_brands[1]",
                    "a multi-select value lists strings, not the integer 7",
                )
            ],
        ),
        (
            "custom:\n",
            "city: Springfield\ncustom:\n",
            [
                (
                    ("city",),
                    "city",
                    "city is read-only: returned by the API, never accepted; remove it "
                    "(set the full address in `address` instead)",
                )
            ],
        ),
        (
            "custom:\n",
            "createdAt: 2026-01-01T00:00:00Z\ncustom:\n",
            [
                (
                    ("createdAt",),
                    "createdAt",
                    "createdAt is read-only: returned by the API, never accepted; remove it",
                )
            ],
        ),
        (
            "custom:\n",
            "Title: Solar\ncustom:\n",
            [(("Title",), "Title", "unknown field 'Title'; did you mean 'title'?")],
        ),
        (
            "custom:\n",
            "workflow_id: 301\ncustom:\n",
            [
                (
                    ("workflow_id",),
                    "workflow_id",
                    "unknown field 'workflow_id'; did you mean 'workflowId'?",
                )
            ],
        ),
        (
            "custom:\n",
            "roof_type: Metal\ncustom:\n",
            [
                (
                    ("roof_type",),
                    "roof_type",
                    "unknown field 'roof_type': remove it or, if it is a custom field, move it "
                    "under custom:",
                )
            ],
        ),
    ],
)
def test_each_mistake_gets_one_actionable_finding(
    old: str, new: str, expected: list[tuple[tuple[str | int, ...], str, str]]
) -> None:
    data = with_line(old, new)
    assert not is_valid(data)
    assert check(data) == [Finding(keys, field, message) for keys, field, message in expected]


def test_several_mistakes_are_all_reported() -> None:
    data = {"id": -3, "title": " ", "address": "x", "trades": ["A", "A"], "zipcode": "1"}
    # Order is the validator's; validate sorts problems by line.
    assert sorted(f.field for f in check(data)) == [
        "address",
        "id",
        "title",
        "trades[1]",
        "zipcode",
    ]


def test_missing_required_fields_are_each_named() -> None:
    findings = check({"id": 5})
    assert [(f.keys, f.field) for f in findings] == [
        ((), "title"),
        ((), "address"),
        ((), "trades"),
    ]
