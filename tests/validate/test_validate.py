"""The validate stage: discovery, one problem per mistake at its exact place, duplicate ids."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from reconciler.errors import DesiredPathError
from reconciler.loader import MAX_BYTES
from reconciler.validate import (
    Desired,
    Problem,
    discover,
    escape_data,
    escape_property,
    format_github,
    format_problems,
    format_text,
    load_desired,
    summary,
)

HERE = Path(__file__).resolve().parent
CASES = HERE / "cases"
ROOT = HERE.parents[1]

VALID = 'id: {id}\ntitle: Solar\naddress: ["12 Oak St, Springfield, IL"]\ntrades: [Solar]\n'


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# Each bad-input kind from the issue: the fixture file, and its one problem
# (line, col, field, message).
KINDS = [
    (
        "malformed.yaml",
        4,
        1,
        "-",
        "invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence on line 3)",
    ),
    (
        "duplicate-key.yaml",
        7,
        3,
        "custom.roof_type",
        "duplicate key 'roof_type' (first set on line 6); a later value would silently win: "
        "keep one",
    ),
    (
        "alias.yaml",
        2,
        8,
        "-",
        "YAML anchors (&name) are not allowed: write the value out in full",
    ),
    (
        "wrong-type.yaml",
        5,
        1,
        "value",
        "must be a number, not the string '1,500' (write numbers without thousands separators)",
    ),
    (
        "bad-enum.yaml",
        5,
        1,
        "status",
        "must be one of ACTIVE, ON_HOLD, CANCELLED, COMPLETED, not the string 'On Hold'; "
        "did you mean ON_HOLD?",
    ),
    (
        "blank-title.yaml",
        2,
        1,
        "title",
        "the title is blank: the API reads a blank title back as the account's title, so the "
        "file and the live record would never agree; give the opportunity its own title",
    ),
    (
        "two-addresses.yaml",
        5,
        5,
        "address",
        "holds 2 strings; it must hold exactly one: the full address on one line (street, city, "
        "state and zipcode in one string)",
    ),
    (
        "read-only.yaml",
        5,
        1,
        "city",
        "city is read-only: returned by the API, never accepted; remove it (set the full address "
        "in `address` instead)",
    ),
    (
        "unknown-field.yaml",
        5,
        1,
        "primary_email",
        "unknown field 'primary_email'; did you mean 'primaryEmail'?",
    ),
    ("non-utf8.yaml", 2, 11, "-", "the file is not valid UTF-8 (byte 0xE9); save it as UTF-8"),
    (
        "empty.yaml",
        1,
        1,
        "-",
        "the file is empty: it must hold one opportunity, a mapping of fields "
        "(id, title, address, trades, ...)",
    ),
    (
        "bad-email.yaml",
        5,
        1,
        "primaryEmail",
        "'owner@example' is not a valid email address (The part after the @-sign is not valid. "
        "It should have a period.)",
    ),
]


@pytest.mark.parametrize(("name", "line", "col", "field", "message"), KINDS)
def test_each_kind_of_bad_input_is_one_problem_at_its_place(
    name: str, line: int, col: int, field: str, message: str
) -> None:
    path = CASES / name
    desired = load_desired([path])
    assert desired.problems == (Problem(str(path), line, col, field, message),)
    assert desired.documents == ()
    assert desired.files == (path,)


def test_a_duplicate_id_across_files_is_reported_in_each_file_naming_the_other() -> None:
    a, b = CASES / "duplicate-id-a.yaml", CASES / "duplicate-id-b.yaml"
    desired = load_desired([a, b])
    assert desired.problems == (
        Problem(
            str(a),
            1,
            1,
            "id",
            f"id 2010 is also declared in {b}:2; each opportunity lives in exactly one file: "
            "remove or renumber the copy",
        ),
        Problem(
            str(b),
            2,
            1,
            "id",
            f"id 2010 is also declared in {a}:1; each opportunity lives in exactly one file: "
            "remove or renumber the copy",
        ),
    )
    assert desired.documents == ()


def test_three_files_with_one_id_each_name_the_other_two(tmp_path: Path) -> None:
    for name in ("a.yaml", "b.yaml", "c.yaml"):
        write(tmp_path, name, VALID.format(id=7))
    write(tmp_path, "d.yaml", VALID.format(id=8))
    desired = load_desired([tmp_path])
    assert [p.message.split(";")[0] for p in desired.problems] == [
        f"id 7 is also declared in {tmp_path}/b.yaml:1, {tmp_path}/c.yaml:1",
        f"id 7 is also declared in {tmp_path}/a.yaml:1, {tmp_path}/c.yaml:1",
        f"id 7 is also declared in {tmp_path}/a.yaml:1, {tmp_path}/b.yaml:1",
    ]
    assert [d.data["id"] for d in desired.documents] == [8]


def test_an_oversized_file_is_one_problem(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_bytes(b"#" * (MAX_BYTES + 1))
    assert load_desired([path]).problems == (
        Problem(
            str(path),
            1,
            1,
            "-",
            "the file is larger than 1 MiB; an opportunity file holds one record of a few "
            "hundred bytes: split it or remove what does not belong",
        ),
    )


def test_custom_values_like_no_and_dates_load_as_strings_and_validate() -> None:
    desired = load_desired([CASES / "custom-strings.yaml"])
    assert desired.problems == ()
    (document,) = desired.documents
    assert document.data["custom"] == {
        "hoa_approval": "no",
        "site_survey_date": "2026-01-15",
        "utility_company": "0123 Power Co-op",
    }


def test_every_problem_in_every_file_sorted_by_file_then_line(tmp_path: Path) -> None:
    write(tmp_path, "b.yaml", "id: 2\ntitle: ' '\naddress: []\ntrades: [1]\n")
    write(tmp_path, "a.yaml", "id: x\ntitle: t\naddress: [a]\ntrades: []\ncity: c\n")
    write(tmp_path, "sub/c.yml", "id: [\n")
    problems = load_desired([tmp_path]).problems
    assert [(Path(p.path).name, p.line, p.field) for p in problems] == [
        ("a.yaml", 1, "id"),
        ("a.yaml", 5, "city"),
        ("b.yaml", 2, "title"),
        ("b.yaml", 3, "address"),
        ("b.yaml", 4, "trades[0]"),
        ("c.yml", 2, "-"),
    ]


def test_valid_files_become_documents_in_path_order(tmp_path: Path) -> None:
    for i, name in ((3, "c.yaml"), (1, "a.yaml"), (2, "sub/b.yml")):
        write(tmp_path, name, VALID.format(id=i))
    write(tmp_path, "bad.yaml", "id: 9\n")
    desired = load_desired([tmp_path])
    assert [d.path.relative_to(tmp_path).as_posix() for d in desired.documents] == [
        "a.yaml",
        "c.yaml",
        "sub/b.yml",
    ]
    raw = (tmp_path / "a.yaml").read_bytes()
    assert desired.documents[0].digest == hashlib.sha256(raw).hexdigest()
    # All three at the top of the file, so ordered by field name.
    assert [p.field for p in desired.problems] == ["address", "title", "trades"]


def test_discovery_takes_yaml_recursively_skips_hidden_and_other_files(tmp_path: Path) -> None:
    for name in ("b.yaml", "a.YML", "x/y/c.yaml", "notes.txt", ".hidden.yaml", ".git/d.yaml"):
        write(tmp_path, name, "")
    assert [p.relative_to(tmp_path).as_posix() for p in discover([tmp_path])] == [
        "a.YML",
        "b.yaml",
        "x/y/c.yaml",
    ]


def test_a_file_named_explicitly_is_read_whatever_its_name(tmp_path: Path) -> None:
    path = write(tmp_path, "opportunity.txt", VALID.format(id=1))
    assert discover([path]) == [path]


def test_a_file_named_twice_is_read_once(tmp_path: Path) -> None:
    path = write(tmp_path, "a.yaml", VALID.format(id=1))
    desired = load_desired([tmp_path, path, tmp_path / "." / "a.yaml"])
    assert desired.problems == ()
    assert len(desired.documents) == 1


def test_a_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DesiredPathError) as caught:
        load_desired([tmp_path / "nope"])
    assert str(caught.value) == (
        f"{tmp_path}/nope: no such file or folder\n"
        "  hint: pass the folder that holds the opportunity files (by default opportunities/)"
    )


def test_a_folder_without_yaml_files_is_a_clear_error(tmp_path: Path) -> None:
    write(tmp_path, "readme.md", "")
    with pytest.raises(DesiredPathError) as caught:
        load_desired([tmp_path])
    assert caught.value.message == f"{tmp_path}: no .yaml or .yml files in this folder"


def test_the_examples_are_valid_and_use_the_catalogue() -> None:
    desired = load_desired([ROOT / "opportunities"])
    assert desired.problems == ()
    by_id = {d.data["id"]: d for d in desired.documents}
    assert sorted(by_id) == [1001, 1002, 1003, 1004, 1005]
    for document in desired.documents:
        first = document.source.decode().splitlines()[0]
        assert first == "# yaml-language-server: $schema=../schemas/opportunity.company.schema.json"
    assert by_id[1001].data["custom"]["hoa_approval"] == "no"
    assert by_id[1001].data["custom"]["site_survey_date"] == "2026-01-15"
    declaring = [i for i, d in by_id.items() if {"status", "contacts"} <= set(d.data)]
    assert declaring == [1001]


# --- formatting ----------------------------------------------------------------------------

PROBLEMS = (
    Problem("o/a.yaml", 3, 1, "custom.hoa_approval", "must be a string, not 50%"),
    Problem("o/b, c.yaml", 1, 1, "-", "invalid YAML: line one\nline two\r"),
)


def test_text_lines() -> None:
    assert format_text(PROBLEMS) == [
        "o/a.yaml:3:1: custom.hoa_approval: must be a string, not 50%",
        # A line break in a message would start a new output line: shown escaped instead.
        "o/b, c.yaml:1:1: -: invalid YAML: line one\\x0aline two\\x0d",
    ]


def test_github_annotations_are_escaped() -> None:
    assert format_github(PROBLEMS) == [
        "::error file=o/a.yaml,line=3,col=1,title=invalid custom.hoa_approval::"
        "must be a string, not 50%25",
        "::error file=o/b%2C c.yaml,line=1,col=1,title=invalid file::"
        "invalid YAML: line one\\x0aline two\\x0d",
    ]


def test_github_format_prints_the_text_lines_then_the_annotations() -> None:
    assert format_problems(PROBLEMS, "github") == format_text(PROBLEMS) + format_github(PROBLEMS)
    assert format_problems(PROBLEMS, "text") == format_text(PROBLEMS)


@pytest.mark.parametrize(
    ("text", "data", "prop"),
    [
        ("plain", "plain", "plain"),
        ("100%", "100%25", "100%25"),
        ("a\r\nb", "a%0D%0Ab", "a%0D%0Ab"),
        ("k: v, w", "k: v, w", "k%3A v%2C w"),
        ("%0A", "%250A", "%250A"),
    ],
)
def test_workflow_command_escaping(text: str, data: str, prop: str) -> None:
    assert escape_data(text) == data
    assert escape_property(text) == prop


@pytest.mark.parametrize(
    ("problems", "files", "expected"),
    [
        ((), 1, "1 file checked: no problems"),
        ((), 5, "5 files checked: no problems"),
        (PROBLEMS[:1], 5, "1 problem in 1 file (5 files checked)"),
        (PROBLEMS + PROBLEMS[:1], 5, "3 problems in 2 files (5 files checked)"),
    ],
)
def test_summary(problems: tuple[Problem, ...], files: int, expected: str) -> None:
    desired = Desired((), problems, tuple(Path(f"{i}.yaml") for i in range(files)))
    assert summary(desired) == expected


def test_problem_prints_as_file_line_col_field_message() -> None:
    assert str(PROBLEMS[0]) == "o/a.yaml:3:1: custom.hoa_approval: must be a string, not 50%"
