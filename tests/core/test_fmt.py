"""`fmt`'s canonical form: order, quoting, indentation; comments kept; meaning never changed."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from reconciler.errors import FormatError, LoadError
from reconciler.fields import FIELDS
from reconciler.fmt import comments, format_text
from reconciler.loader import parse
from reconciler.yamlfile import insert_id, same_data

MODELINE = "# yaml-language-server: $schema=../schemas/opportunity.schema.json\n"

MESSY = """\
# yaml-language-server: $schema=../schemas/opportunity.schema.json
# Residential rooftop solar.

custom:   # the company's fields
    # asked twice
    roof_type: 'Metal'
    hoa_approval: no       # in Coperniq: no
    # from the survey
    financing_type: Loan
    panel_brands: ['REC', y]
trades: [Solar]  # one trade

# Money
value: 24850   # before incentives
size: 1e20
title: 'Ramirez - Solar'
address:
    - 1418 Cedar Ridge Dr, Austin, TX 78745
description:
id: 1
"""

CANONICAL = """\
# yaml-language-server: $schema=../schemas/opportunity.schema.json
# Residential rooftop solar.

id: 1
title: Ramirez - Solar
address:
  - 1418 Cedar Ridge Dr, Austin, TX 78745
trades: [Solar]  # one trade
description: null

# Money
value: 24850   # before incentives
size: 1.0e+20
custom:   # the company's fields
    # from the survey
  financing_type: Loan
  hoa_approval: "no"       # in Coperniq: no
  panel_brands: [REC, "y"]
    # asked twice
  roof_type: Metal
"""


def test_a_messy_file_becomes_canonical_with_its_comments_beside_their_fields() -> None:
    assert format_text(MESSY, "f.yaml") == CANONICAL
    assert format_text(CANONICAL, "f.yaml") == CANONICAL


def test_a_value_the_strict_loader_reads_as_text_is_quoted_for_every_other_reader() -> None:
    # `no` is text to reconciler's strict loader; YAML 1.1 readers take it for false.
    text = "id: 1\ntitle: x\ncustom:\n  a: no\n  b: True\n  c: 2026-01-15\n"
    out = format_text(text, "f.yaml")
    assert out == 'id: 1\ntitle: x\ncustom:\n  a: "no"\n  b: "True"\n  c: "2026-01-15"\n'
    assert same_data(parse(out.encode(), "f"), parse(text.encode(), "f"))


def test_the_id_written_back_on_create_keeps_a_canonical_file_canonical() -> None:
    new = CANONICAL.replace("id: 1\n", "")
    assert format_text(new, "f.yaml") == new
    assert insert_id(new, 1, "f.yaml") == CANONICAL


def test_unknown_keys_keep_their_order_after_the_known_ones() -> None:
    text = "zeta: 1\nallow_new_options: true\nalpha: 2\ncustom: {b: 1, a: 2}\nid: 4\n"
    assert format_text(text, "f.yaml") == (
        "id: 4\ncustom: {a: 2, b: 1}\nallow_new_options: true\nzeta: 1\nalpha: 2\n"
    )


def test_line_ends_a_bom_and_a_missing_final_newline_are_normalised() -> None:
    assert format_text("\ufeffid: 1\r\ntitle: x", "f.yaml") == "id: 1\ntitle: x\n"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("id: 1\nid: 2\n", "duplicate key 'id'"),
        ("id: [1\n", "invalid YAML"),
        ("- 1\n", "the top level is a list"),
        ("a: &x 1\nb: *x\n", "anchors"),
    ],
)
def test_a_file_that_is_not_strict_yaml_is_refused_with_its_location(
    text: str, problem: str
) -> None:
    with pytest.raises(LoadError) as caught:
        format_text(text, "f.yaml")
    assert problem in str(caught.value)
    assert str(caught.value).startswith("f.yaml:")


def test_a_comment_inside_a_flow_list_that_cannot_be_kept_is_refused() -> None:
    text = "id: 1\ntrades: [Solar,  # first\n  HVAC]\n"
    try:
        out = format_text(text, "f.yaml")
    except FormatError as e:
        assert "cannot keep every comment" in str(e)
    else:  # kept: then it must be there, and the file must mean the same
        assert "# first" in out
        assert parse(out.encode(), "f") == parse(text.encode(), "f")


def test_a_file_ruamel_cannot_read_is_refused_with_its_location() -> None:
    with pytest.raises(FormatError) as caught:
        format_text("id: 1\ntitle: x\t# tab before the comment\n", "f.yaml")
    assert str(caught.value).startswith("f.yaml:2:9: fmt cannot keep this file's comments")
    assert "use spaces" in str(caught.value)


def test_comments_are_found_outside_scalars_only() -> None:
    text = 'a: "x # not"  # yes\nb: |\n  # not either\n# a line\nc: [1, 2] # flow\n'
    assert comments(text) == ["# yes", "# a line", "# flow"]


# --- property: fmt never changes what a file means, and is idempotent -------------------------

_TOP = ["id", *FIELDS, "allow_new_options", "zeta", "alpha"]
_scalars = st.one_of(
    st.text(st.characters(exclude_categories=["Cs", "Cc"], include_characters="\t\n"), max_size=12),
    st.sampled_from(["y", "no", "on", "1.2.3", "1:30", "0o17", "2026-01-15", "~", "", "a: b"]),
    st.integers(-(2**53) + 1, 2**53 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
)
_values = st.one_of(_scalars, st.lists(_scalars, max_size=3))
_custom = st.dictionaries(
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True), _values, max_size=5
)


@st.composite
def _messy_documents(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A file as people write it: any key order, PyYAML's styles, 2 or 4 spaces, comments."""
    keys = draw(st.lists(st.sampled_from(_TOP), min_size=1, max_size=8, unique=True))
    indent = draw(st.sampled_from([2, 4]))
    lines = [MODELINE] if draw(st.booleans()) else []
    commented = []
    for key in keys:
        value = draw(_custom if key == "custom" else _values)
        if draw(st.booleans()):
            lines.append("\n")
        if draw(st.booleans()):
            lines.append(f"# about {key}\n")
            commented.append(key)
        flow = draw(st.sampled_from([None, False]))
        dumped = yaml.safe_dump(
            {key: value}, indent=indent, default_flow_style=flow, allow_unicode=True, width=40
        )
        if dumped.startswith("{"):  # a top level in flow style: one key per line instead
            dumped = yaml.safe_dump({key: value}, indent=indent, allow_unicode=True, width=40)
        lines.append(dumped)
    return "".join(lines), commented


@given(_messy_documents())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_fmt_keeps_meaning_and_comments_and_is_idempotent(case: tuple[str, list[str]]) -> None:
    text, commented = case
    try:
        before: Any = parse(text.encode("utf-8"), "f.yaml")
    except LoadError:
        assume(False)  # PyYAML wrote something the strict loader refuses (`inf`, say)
    out = format_text(text, "f.yaml")
    assert same_data(parse(out.encode("utf-8"), "f.yaml"), before)
    assert format_text(out, "f.yaml") == out
    assert sorted(comments(out)) == sorted(comments(text))
    for key in commented:  # a comment above a field is still right above it
        assert re.search(rf"^# about {key}\n{key}:", out, re.M), out
    if text.startswith(MODELINE):
        assert out.startswith(MODELINE)
    known = [k for k in _TOP if k not in ("zeta", "alpha")]
    expected = sorted(before, key=lambda k: known.index(k) if k in known else len(known))
    assert list(parse(out.encode("utf-8"), "f.yaml")) == expected  # unknown keys: as they came
    custom = parse(out.encode("utf-8"), "f.yaml").get("custom")
    if isinstance(custom, dict):
        assert list(custom) == sorted(custom)
