"""The compiled fast-path check (fastjsonschema): the integer rule, and agreement with the
jsonschema library on the real schema."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator, Draft202012Validator, FormatChecker

from reconciler import fields
from reconciler.schema import _detailed_validator, is_valid, load_schema


@pytest.mark.parametrize(
    ("value", "valid"),
    [(7, True), (7.0, False), (True, False), ("7", False), (10**30, True), (0, False)],
)
def test_the_fast_path_reads_integer_as_a_python_int(value: Any, valid: bool) -> None:
    # fastjsonschema follows draft 6+ (1.0 is an integer) unless told otherwise; the id must not.
    document = {"id": value, "title": "T", "address": ["1 Oak St"], "trades": ["Solar"]}
    assert is_valid(document) is valid
    assert _detailed_validator().is_valid(document) is valid


# --- agreement with the jsonschema library on the real schema ----------------------------------

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)
KEY_NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True) | st.text(max_size=4)
CUSTOM_VALUES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5)
    | st.lists(st.text(max_size=5) | st.integers(), max_size=3)
    | JSON
)
PLAUSIBLE: dict[str, st.SearchStrategy[Any]] = {
    "id": st.integers(-2, 10**7) | st.floats(0, 5) | st.text(max_size=3),
    "title": st.text(max_size=8),
    "address": st.lists(st.text(max_size=8), max_size=2) | st.text(max_size=5),
    "trades": st.lists(st.sampled_from(["Solar", "HVAC", " ", "", 3]), max_size=3),
    "description": st.text(max_size=5) | st.none(),
    "accountId": st.integers(-1, 300) | st.none() | st.booleans(),
    "workflowId": st.integers(-1, 300) | st.none() | st.floats(0, 400),
    "phaseId": st.integers(-1, 4000) | st.none(),
    "value": st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=3),
    "size": st.floats(allow_nan=False, allow_infinity=False) | st.booleans(),
    "confidence": st.integers(-5, 105) | st.floats(-1, 101),
    "status": st.sampled_from([*fields.STATUSES, "active", None]),
    "primaryEmail": st.sampled_from(
        ["maria@example.com", "bad@", "a b@example.com", "x@localhost", "j@mail.test", ""]
    )
    | st.emails(),
    "primaryPhone": st.text(max_size=6) | st.integers(),
    "contacts": st.lists(st.integers(-1, 5) | st.booleans(), max_size=4),
    "custom": st.dictionaries(KEY_NAMES, CUSTOM_VALUES, max_size=4)
    | st.none()
    | st.lists(st.none()),
    "city": JSON,
    "number": JSON,
    "titel": JSON,
}
# Valid required fields with the optional ones drawn from plausible values (so that many
# documents are valid and a single wrong field decides), then anything at all.
MOSTLY_VALID_REQUIRED: dict[str, st.SearchStrategy[Any]] = {
    "id": st.integers(1, 10**7),
    "title": st.sampled_from(["Solar", "Roof & gutters"]),
    "address": st.just(["12 Oak St"]),
    "trades": st.lists(st.sampled_from(["Solar", "HVAC", "Roofing"]), unique=True),
}
MOSTLY_VALID = st.fixed_dictionaries(
    MOSTLY_VALID_REQUIRED,
    optional={k: v for k, v in PLAUSIBLE.items() if k not in MOSTLY_VALID_REQUIRED},
)
DOCUMENTS = (
    MOSTLY_VALID
    | st.fixed_dictionaries({}, optional={k: v | JSON for k, v in PLAUSIBLE.items()})
    | JSON
)


@settings(max_examples=300, deadline=None)
@given(DOCUMENTS)
def test_the_fast_check_agrees_with_jsonschema(document: Any) -> None:
    assert is_valid(document) is _detailed_validator().is_valid(document)


@settings(max_examples=150, deadline=None)
@given(DOCUMENTS)
def test_draft_07_and_2020_12_read_the_schema_the_same_way(document: Any) -> None:
    schema = load_schema()
    checker = FormatChecker()
    old = Draft7Validator(schema, format_checker=checker).is_valid(document)
    assert old is Draft202012Validator(schema, format_checker=checker).is_valid(document)


VALID_OPTIONAL: dict[str, st.SearchStrategy[Any]] = {
    "description": st.text(max_size=5) | st.none(),
    "accountId": st.integers(1, 300) | st.none(),
    "workflowId": st.integers(1, 300) | st.none(),
    "phaseId": st.integers(1, 4000) | st.none(),
    "value": st.integers() | st.floats(allow_nan=False, allow_infinity=False),
    "size": st.floats(allow_nan=False, allow_infinity=False),
    "confidence": st.integers(0, 100) | st.floats(0, 100),
    "status": st.sampled_from(fields.STATUSES),
    "primaryEmail": st.sampled_from(["maria@example.com", "j.chen+crm@example.org"]),
    "primaryPhone": st.from_regex(r"\+1 [0-9]{3}-555-[0-9]{4}", fullmatch=True),
    "contacts": st.lists(st.integers(1, 600), unique=True, max_size=4),
    "custom": st.dictionaries(
        st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True),
        st.none() | st.booleans() | st.integers() | st.text(max_size=5) | st.lists(st.text()),
        max_size=4,
    ),
}


@settings(max_examples=100, deadline=None)
@given(st.fixed_dictionaries(MOSTLY_VALID_REQUIRED, optional=VALID_OPTIONAL))
def test_valid_documents_pass_both_validators(document: Any) -> None:
    # Guards the comparison above against only ever meeting invalid documents.
    assert is_valid(document)
    assert _detailed_validator().is_valid(document)
