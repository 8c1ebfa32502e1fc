"""The strict YAML loader: scalar typing, every refusal with its exact location, lazy positions."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from reconciler.errors import LoadError
from reconciler.loader import MAX_BYTES, Document, Location, load_file, parse


def load_value(text: str) -> Any:
    return parse(f"v: {text}\n".encode(), "t.yaml")["v"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true", True),
        ("false", False),
        ("null", None),
        ("~", None),
        ("", None),
        ("0", 0),
        ("123", 123),
        ("-5", -5),
        ("+5", 5),
        ("1.5", 1.5),
        ("-0.25", -0.25),
        ("1e3", 1000.0),
        ("2.5E-2", 0.025),
        (".5", 0.5),
        # YAML 1.1 surprises that must stay text
        ("yes", "yes"),
        ("no", "no"),
        ("on", "on"),
        ("off", "off"),
        ("NO", "NO"),
        ("Yes", "Yes"),
        ("True", "True"),
        ("TRUE", "TRUE"),
        ("Null", "Null"),
        ("y", "y"),
        ("0123", "0123"),
        ("007.5", "007.5"),
        ("1_000", "1_000"),
        ("0x1F", "0x1F"),
        ("0o17", "0o17"),
        ("1:30", "1:30"),
        ("12:30:00", "12:30:00"),
        ("2026-01-15", "2026-01-15"),
        ("2026-01-15T10:00:00Z", "2026-01-15T10:00:00Z"),
        ("2026-01-15 10:00:00", "2026-01-15 10:00:00"),
        (".inf", ".inf"),
        ("-.inf", "-.inf"),
        (".nan", ".nan"),
        ("1.2.3", "1.2.3"),
        ("1e", "1e"),
        # quoted and block scalars are always strings
        ("'123'", "123"),
        ('"true"', "true"),
        ("'null'", "null"),
        ("''", ""),
    ],
)
def test_scalars_follow_yaml_1_2_core_with_only_lower_case_booleans(
    text: str, expected: object
) -> None:
    value = load_value(text)
    assert value == expected
    assert type(value) is type(expected)


def test_block_scalars_and_nesting_keep_their_shape() -> None:
    data = parse(b"a: |\n  line one\n  line two\nb: [x, 1, {c: no}]\nc:\n  - - 1\n", "t.yaml")
    assert data == {"a": "line one\nline two\n", "b": ["x", 1, {"c": "no"}], "c": [[1]]}


def test_a_utf8_bom_is_accepted() -> None:
    assert parse("\ufefftitle: Café\n".encode(), "t.yaml") == {"title": "Café"}


def refusal(raw: bytes) -> LoadError:
    with pytest.raises(LoadError) as caught:
        parse(raw, "t.yaml")
    return caught.value


@pytest.mark.parametrize(
    ("raw", "where", "field", "problem"),
    [
        (
            b"a: 1\ncustom:\n  x: 1\n  x: 2\n",
            (4, 3),
            "custom.x",
            "duplicate key 'x' (first set on line 3); a later value would silently win: keep one",
        ),
        (
            b"a: &anchor 1\n",
            (1, 4),
            "-",
            "YAML anchors (&anchor) are not allowed: write the value out in full",
        ),
        (
            b"a: [1]\nb: *ref\n",
            (2, 4),
            "-",
            "YAML aliases (*ref) are not allowed: write the value out in full",
        ),
        (
            b"a: 1\n<<: {b: 2}\n",
            (2, 1),
            "<<",
            "merge keys (<<) are not allowed: write the fields out in full",
        ),
        (
            b"a: !!int 3\n",
            (1, 4),
            "a",
            "YAML tags (!!int) are not allowed: write the plain value (quote it to force text)",
        ),
        (
            b"custom:\n  1: x\n",
            (2, 3),
            "custom.1",
            'the key 1 is not a string; keys are field names (quote it, "1", if you mean the text)',
        ),
        (
            b"true: x\n",
            (1, 1),
            "true",
            "the key true is not a string; keys are field names "
            '(quote it, "true", if you mean the text)',
        ),
        (
            b"? [a, b]\n: x\n",
            (1, 3),
            "-",
            "a key must be a string, not a list",
        ),
        (b"? \n: x\n", (1, 2), "-", "a key is missing (an empty key); write the field name"),
        (
            b"a: 1e999\n",
            (1, 4),
            "a",
            "the number 1e999 is too large (quote it if it is text)",
        ),
        (
            b"- id: 1\n",
            (1, 1),
            "-",
            "the top level is a list; it must be a mapping of fields (id: ..., title: ..., ...)",
        ),
        (
            b"just text\n",
            (1, 1),
            "-",
            "the top level is the scalar 'just text'; it must be a mapping of fields "
            "(id: ..., title: ..., ...)",
        ),
        (
            b"",
            (1, 1),
            "-",
            "the file is empty: it must hold one opportunity, a mapping of fields "
            "(id, title, address, trades, ...)",
        ),
        (
            b"# only a comment\n\n",
            (1, 1),
            "-",
            "the file is empty: it must hold one opportunity, a mapping of fields "
            "(id, title, address, trades, ...)",
        ),
        (
            b"a: 1\n---\nb: 2\n",
            (2, 1),
            "-",
            "a file holds exactly one opportunity, but this one has a second YAML document (---)",
        ),
        (
            b"a:\n\tb: 1\n",
            (2, 1),
            "-",
            "invalid YAML: a tab character; YAML indents with spaces only",
        ),
        (
            b"title: Solar: the sequel\n",
            (1, 13),
            "-",
            "invalid YAML: ': ' where no key can start; check the indentation, "
            "or quote a value that contains ': '",
        ),
        (
            b"a: [1, 2\nb: 3\n",
            (2, 2),
            "-",
            "invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence "
            "on line 1)",
        ),
        (
            b"title: 'unterminated\n",
            (2, 1),
            "-",
            "invalid YAML: found unexpected end of stream (while scanning a quoted scalar "
            "on line 1)",
        ),
        (
            b"a: 1\ntitle: Caf\xe9\n",
            (2, 11),
            "-",
            "the file is not valid UTF-8 (byte 0xE9); save it as UTF-8",
        ),
        (
            b"\xef\xbb\xbftitle: Caf\xc3",
            (1, 11),
            "-",
            "the file is not valid UTF-8 (byte 0xC3); save it as UTF-8",
        ),
        (
            b"a: x\x07y\n",
            (1, 5),
            "-",
            "control characters are not allowed (U+0007); remove that character",
        ),
        (
            "a: 1\n".encode("utf-16"),
            (1, 1),
            "-",
            "the file is UTF-16 encoded; save it as UTF-8",
        ),
    ],
)
def test_each_refusal_names_its_location_field_and_remedy(
    raw: bytes, where: tuple[int, int], field: str, problem: str
) -> None:
    error = refusal(raw)
    assert (error.location.line, error.location.col) == where
    assert error.location.path == "t.yaml"
    assert error.field == field
    assert error.problem == problem
    assert str(error) == f"t.yaml:{where[0]}:{where[1]}: {field}: {problem}"


def test_anchor_like_text_is_not_mistaken_for_an_anchor() -> None:
    # `&` and `*` followed by a name character trigger the exact event scan, which must pass
    # text that merely looks like an anchor.
    data = parse(b"title: AT&T tower *urgent*\ndescription: 'see &ref and *ref'\n", "t.yaml")
    assert data == {"title": "AT&T tower *urgent*", "description": "see &ref and *ref"}


def test_deep_nesting_is_refused_not_a_crash() -> None:
    error = refusal(b"a: " + b"[" * 40 + b"]" * 40 + b"\n")
    assert error.problem == "nested more than 32 levels deep"
    assert (error.location.line, error.location.col) == (1, 35)


def test_an_alias_bomb_is_refused_before_it_expands() -> None:
    # Nine levels of seven aliases each would expand to tens of millions of items.
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for parent, child in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{child}: &{child} [" + ", ".join([f"*{parent}"] * 7) + "]")
    error = refusal("\n".join(lines).encode())
    assert error.problem == "YAML anchors (&a) are not allowed: write the value out in full"
    assert (error.location.line, error.location.col) == (1, 4)


def test_load_file_hashes_the_raw_bytes(tmp_path: Path) -> None:
    raw = b"# comment\ntitle: Solar\n"
    path = tmp_path / "a.yaml"
    path.write_bytes(raw)
    document = load_file(path)
    assert document.data == {"title": "Solar"}
    assert document.digest == hashlib.sha256(raw).hexdigest()
    assert document.path == path


def test_a_file_over_the_size_limit_is_refused_without_parsing(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"description: " + b"x" * MAX_BYTES + b"\n")
    with pytest.raises(LoadError) as caught:
        load_file(path)
    assert caught.value.location == Location(str(path), 1, 1)
    assert caught.value.problem.startswith("the file is larger than 1 MiB")


def test_a_file_at_the_size_limit_loads(tmp_path: Path) -> None:
    path = tmp_path / "full.yaml"
    prefix = b"description: "
    path.write_bytes(prefix + b"x" * (MAX_BYTES - len(prefix) - 1) + b"\n")
    assert len(load_file(path).data["description"]) == MAX_BYTES - len(prefix) - 1


def test_missing_and_unreadable_paths_are_load_errors(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="no such file"):
        load_file(tmp_path / "nope.yaml")
    with pytest.raises(LoadError, match="is a directory"):
        load_file(tmp_path)


SAMPLE = b"""\
# header comment
id: 1001
title: Solar
address:
  - 12 Oak St
trades: [Solar, Roofing]
custom:
  hoa_approval: no
  panel_brands:
    - REC
    - Qcells
"""


def sample(tmp_path: Path) -> Document:
    path = tmp_path / "s.yaml"
    path.write_bytes(SAMPLE)
    return load_file(path)


@pytest.mark.parametrize(
    ("keys", "where"),
    [
        ((), (2, 1)),
        (("id",), (2, 1)),
        (("address",), (4, 1)),
        (("address", 0), (5, 5)),
        (("trades", 1), (6, 17)),
        (("custom", "hoa_approval"), (8, 3)),
        (("custom", "panel_brands", 1), (11, 7)),
        # missing keys fall back to the nearest ancestor that exists
        (("custom", "roof_type"), (7, 1)),
        (("trades", 5), (6, 1)),
        (("nope", "deeper"), (2, 1)),
    ],
)
def test_locate_points_at_keys_and_items(
    tmp_path: Path, keys: tuple[str | int, ...], where: tuple[int, int]
) -> None:
    document = sample(tmp_path)
    assert document.locate(*keys) == Location(str(document.path), *where)


def test_positions_are_computed_only_when_asked_and_then_cached(tmp_path: Path) -> None:
    document = sample(tmp_path)
    assert "_positions" not in document.__dict__
    document.locate("id")
    positions = document.__dict__["_positions"]
    document.locate("title")
    assert document.__dict__["_positions"] is positions


def test_a_document_built_by_hand_locates_at_the_start_of_its_file() -> None:
    document = Document(Path("x.yaml"), {"id": 1}, "0" * 64)
    assert str(document.locate("id")) == "x.yaml:1:1"


def test_location_prints_as_path_line_col() -> None:
    assert str(Location("a/b.yaml", 3, 7)) == "a/b.yaml:3:7"
