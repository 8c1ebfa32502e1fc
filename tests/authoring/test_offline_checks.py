"""`validate` with schemas/catalogue.json: each offline catalogue check, with file:line, field."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from reconciler.checking import PARALLEL_FROM
from reconciler.cli import main
from reconciler.errors import ExitCode

ROOT = Path(__file__).resolve().parents[2]


def head(record_id: int = 7, trades: str = "[Solar]") -> str:
    return (
        f"id: {record_id}\ntitle: Deal {record_id}\n"
        f'address: ["1 Main St, Austin, TX 78701"]\ntrades: {trades}\n'
    )


HEAD = head()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with the example company's catalogue and an empty opportunities/, as cwd."""
    (tmp_path / "schemas").mkdir()
    shutil.copy(ROOT / "schemas/catalogue.json", tmp_path / "schemas/catalogue.json")
    (tmp_path / "opportunities").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    return tmp_path


def write(project: Path, text: str, name: str = "7.yaml") -> None:
    (project / "opportunities" / name).write_text(text, encoding="utf-8")


def validate(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str], str]:
    capsys.readouterr()
    code = main(["validate", *args])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


CASES = [
    pytest.param(
        "custom:\n  hoa_aproval: pending\n",
        "opportunities/7.yaml:6:3: custom.hoa_aproval: unknown custom field 'hoa_aproval'; "
        "did you mean 'hoa_approval'? (if the property was just created in Coperniq, run "
        "`reconciler catalogue pull`)",
        id="misspelt-key",
    ),
    pytest.param(
        "custom:\n  warranty: 10\n",
        "opportunities/7.yaml:6:3: custom.warranty: unknown custom field 'warranty': the "
        "company's catalogue has no such property (known: financing_type, hoa_approval, "
        "lead_source, panel_brands, roof_type, site_survey_date, system_size_kw, "
        "utility_company); if the property was just created in Coperniq, run "
        "`reconciler catalogue pull`",
        id="unknown-key",
    ),
    pytest.param(
        "custom:\n  roof_type: Tile roof\n",
        "opportunities/7.yaml:6:3: custom.roof_type: 'Tile roof' is not an option of "
        "custom.roof_type (options: Asphalt Shingle, Flat, Membrane, Metal, Tile); did you mean "
        "'Tile'? Or, to create it on purpose, add `allow_new_options: [roof_type]` to this file",
        id="dropdown-value",
    ),
    pytest.param(
        "custom:\n  panel_brands:\n    - REC\n    - LG\n",
        "opportunities/7.yaml:8:7: custom.panel_brands[1]: 'LG' is not an option of "
        "custom.panel_brands (options: Panasonic, Qcells, REC, SunPower); to create it on "
        "purpose, add `allow_new_options: [panel_brands]` to this file",
        id="multi-select-value",
    ),
    pytest.param(
        "custom:\n  utility_company: 12345\n",
        "opportunities/7.yaml:6:3: custom.utility_company: the number 12345 does not fit this "
        "TEXT property (Utility Company): write text (a string; quote it)",
        id="number-for-text",
    ),
    pytest.param(
        'custom:\n  system_size_kw: "7.6"\n',
        "opportunities/7.yaml:6:3: custom.system_size_kw: the text '7.6' does not fit this "
        "NUMERIC property (System Size (kW)): write a number (unquoted, e.g. 7.6)",
        id="text-for-number",
    ),
    pytest.param(
        "custom:\n  site_survey_date: 2026-02-30\n",
        "opportunities/7.yaml:6:3: custom.site_survey_date: the text '2026-02-30' does not fit "
        "this DATE property (Site Survey Date): write a calendar date, YYYY-MM-DD "
        "(e.g. 2026-02-03)",
        id="not-a-date",
    ),
    pytest.param(
        "custom:\n  panel_brands: REC\n",
        "opportunities/7.yaml:6:3: custom.panel_brands: the text 'REC' does not fit this "
        "DROPDOWN property (Panel Brands): write a list of options: [REC]",
        id="one-value-for-multi-select",
    ),
    pytest.param(
        "custom:\n  financing_type: [Cash, Loan]\n",
        "opportunities/7.yaml:6:3: custom.financing_type: a list does not fit this DROPDOWN "
        "property (Financing Type): write one option (a string)",
        id="list-for-single-dropdown",
    ),
    pytest.param(
        "allow_new_options: [roof_typ]\n",
        "opportunities/7.yaml:5:21: allow_new_options[0]: 'roof_typ' names no property: list "
        "trades or the keyNames of dropdown properties; did you mean 'roof_type'?",
        id="allow-names-no-dropdown",
    ),
]


@pytest.mark.parametrize(("tail", "expected"), CASES)
def test_each_offline_check_names_file_line_and_field(
    project: Path, capsys: pytest.CaptureFixture[str], tail: str, expected: str
) -> None:
    write(project, HEAD + tail)
    code, out, err = validate(capsys)
    assert code == ExitCode.ERROR
    assert out == [expected]
    assert err == "1 problem in 1 file (1 file checked)\n"


def test_a_trade_the_company_does_not_offer(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project, head(trades="\n  - Solar\n  - Pool"))
    code, out, _ = validate(capsys)
    assert code == ExitCode.ERROR
    assert out == [
        "opportunities/7.yaml:6:5: trades[1]: 'Pool' is not an option of trades (options: "
        "Battery Storage, Electrical, EV Charger, HVAC, Roofing, Solar); to create it on "
        "purpose, add `allow_new_options: [trades]` to this file"
    ]


def test_every_problem_of_every_file_at_once(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project, HEAD + "custom:\n  hoa_aproval: x\n  utility_company: 1\n", "a.yaml")
    write(project, head(8, "[Pool]"), "b.yaml")
    code, out, err = validate(capsys)
    assert code == ExitCode.ERROR
    assert [line.split(": ", 2)[0:2] for line in out] == [
        ["opportunities/a.yaml:6:3", "custom.hoa_aproval"],
        ["opportunities/a.yaml:7:3", "custom.utility_company"],
        ["opportunities/b.yaml:4:10", "trades[0]"],
    ]
    assert err == "3 problems in 2 files (2 files checked)\n"


VALID = (
    HEAD
    + """\
custom:
  financing_type: Loan
  utility_company: "12345"
  system_size_kw: 7
  site_survey_date: 2026-02-28
  hoa_approval: null
  panel_brands: [REC, Qcells]
"""
)


def test_a_file_that_fits_the_catalogue_is_valid(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project, VALID)
    assert validate(capsys) == (ExitCode.OK, [], "1 file checked: no problems\n")


NEW_OPTION = HEAD + "custom:\n  roof_type: Slate\n"
WARNING = (
    "opportunities/7.yaml:6:3: custom.roof_type: warning: 'Slate' is not an option of "
    "custom.roof_type yet: apply will create it (allow_new_options covers roof_type)"
)


@pytest.mark.parametrize(
    ("file_tail", "settings", "flag"),
    [
        pytest.param("allow_new_options: [roof_type]\n", None, [], id="file-lists-the-key"),
        pytest.param("allow_new_options: true\n", None, [], id="file-allows-all"),
        pytest.param("", "allow_new_options: true\n", [], id="folder-allows-all"),
        pytest.param("", "allow_new_options: [roof_type]\n", [], id="folder-lists-the-key"),
        pytest.param("", None, ["--allow-new-options"], id="flag"),
    ],
)
def test_a_new_option_the_file_set_opts_in_to_is_a_warning(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    file_tail: str,
    settings: str | None,
    flag: list[str],
) -> None:
    write(project, NEW_OPTION + file_tail)
    if settings is not None:
        (project / "opportunities/.reconciler.yaml").write_text(settings, encoding="utf-8")
    code, out, err = validate(capsys, *flag)
    assert code == ExitCode.OK
    assert out == [WARNING]
    assert err == "1 file checked: no problems, 1 warning\n"


def test_an_opt_in_for_another_dropdown_does_not_cover_this_one(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project, NEW_OPTION + "allow_new_options: [trades]\n")
    code, out, _ = validate(capsys)
    assert code == ExitCode.ERROR
    assert out[0].startswith("opportunities/7.yaml:6:3: custom.roof_type: 'Slate' is not an")


def test_the_settings_file_is_found_from_a_nested_folder(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "opportunities/.reconciler.yaml").write_text("allow_new_options: true\n")
    (project / "opportunities/east").mkdir()
    write(project, NEW_OPTION, "east/7.yaml")
    code, out, _ = validate(capsys, "opportunities/east/7.yaml")
    assert code == ExitCode.OK
    assert out == [WARNING.replace("7.yaml", "east/7.yaml")]


def test_a_bad_settings_file_is_an_error_with_its_line(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project, HEAD)
    (project / "opportunities/.reconciler.yaml").write_text("# settings\nallow_new: true\n")
    code, _, err = validate(capsys)
    assert code == ExitCode.ERROR
    assert err.startswith(
        "Error: opportunities/.reconciler.yaml:2:1: allow_new: unknown setting; "
        ".reconciler.yaml holds only allow_new_options\n"
    )


def test_a_type_the_tool_cannot_judge_is_never_refused(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalogue = json.loads((project / "schemas/catalogue.json").read_text())
    catalogue["custom"]["signature"] = {
        "multiple": False,
        "name": "Signature",
        "options": [],
        "type": "SIGNATURE_PAD",
    }
    (project / "schemas/catalogue.json").write_text(json.dumps(catalogue))
    for i, value in enumerate(["x", "12", "[a, b]", "true"]):
        write(project, head(i + 1) + f"custom:\n  signature: {value}\n", f"{i}.y")
    code, out, _ = validate(capsys, *(f"opportunities/{i}.y" for i in range(4)))
    assert (code, out) == (ExitCode.OK, [])


def test_without_a_catalogue_file_validate_is_what_it_was(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "schemas/catalogue.json").unlink()
    write(project, HEAD + "custom:\n  hoa_aproval: x\n  utility_company: 1\n")
    assert validate(capsys) == (ExitCode.OK, [], "1 file checked: no problems\n")


def test_catalogue_option_names_another_file(
    project: Path, tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "schemas/catalogue.json").unlink()
    elsewhere = tmp_path_factory.mktemp("other") / "catalogue.json"
    shutil.copy(ROOT / "schemas/catalogue.json", elsewhere)
    write(project, HEAD + "custom:\n  hoa_aproval: x\n")
    code, out, _ = validate(capsys, "--catalogue", str(elsewhere))
    assert code == ExitCode.ERROR
    assert out[0].startswith("opportunities/7.yaml:6:3: custom.hoa_aproval: unknown custom")


def test_a_broken_catalogue_file_says_how_to_fix_it(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "schemas/catalogue.json").write_text('{"custom": {}}\n')
    write(project, HEAD)
    code, _, err = validate(capsys)
    assert code == ExitCode.ERROR
    assert "schemas/catalogue.json: not a reconciler catalogue file" in err
    assert "run `reconciler catalogue pull`" in err


def test_json_format_for_tools(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, HEAD + "custom:\n  roof_type: Slate\n  hoa_aproval: x\n")
    (project / "opportunities/.reconciler.yaml").write_text("allow_new_options: [roof_type]\n")
    capsys.readouterr()
    assert main(["validate", "--format", "json"]) == ExitCode.ERROR
    out, err = capsys.readouterr()
    data: dict[str, Any] = json.loads(out)
    assert data == {
        "format_version": "1",
        "valid": False,
        "files_checked": 1,
        "errors": 1,
        "warnings": 1,
        "catalogues": ["schemas/catalogue.json"],
        "problems": [
            {
                "file": "opportunities/7.yaml",
                "line": 6,
                "col": 3,
                "field": "custom.roof_type",
                "severity": "warning",
                "message": WARNING.split("warning: ", 1)[1],
            },
            {
                "file": "opportunities/7.yaml",
                "line": 7,
                "col": 3,
                "field": "custom.hoa_aproval",
                "severity": "error",
                "message": data["problems"][1]["message"],
            },
        ],
    }
    assert data["problems"][1]["message"].startswith("unknown custom field 'hoa_aproval'")
    assert err == "1 problem in 1 file (1 file checked, 1 warning)\n"


def test_json_format_of_valid_files(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, VALID)
    capsys.readouterr()
    assert main(["validate", "--format", "json", "opportunities"]) == ExitCode.OK
    data = json.loads(capsys.readouterr().out)
    assert (data["valid"], data["errors"], data["problems"]) == (True, 0, [])


def test_github_format_annotates_warnings_as_warnings(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project, NEW_OPTION + "allow_new_options: [roof_type]\n")
    code, out, _ = validate(capsys, "--format", "github")
    assert code == ExitCode.OK
    assert out[1].startswith(
        "::warning file=opportunities/7.yaml,line=6,col=3,title=invalid custom.roof_type::'Slate'"
    )


def test_worker_processes_check_the_catalogue_too(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for i in range(1, PARALLEL_FROM + 1):
        write(project, head(i), f"{i:04d}.yaml")
    write(project, head(9999) + "custom:\n  roof_type: Slate\n", "9999.yaml")
    code, out, _ = validate(capsys)
    assert code == ExitCode.ERROR
    assert len(out) == 1
    assert out[0].startswith("opportunities/9999.yaml:6:3: custom.roof_type: 'Slate' is not")


def test_a_catalogue_that_is_not_a_regular_file_is_refused_not_opened(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "schemas/catalogue.json").unlink()
    os.mkfifo(project / "schemas/catalogue.json")  # opening it would block forever
    write(project, HEAD)
    code, _, err = validate(capsys)
    assert code == ExitCode.ERROR
    assert "schemas/catalogue.json" in err and "not a regular file" in err


def test_a_value_the_schema_refuses_is_reported_once(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project, HEAD + "custom:\n  utility_company: {a: 1}\n")
    code, out, _ = validate(capsys)
    assert code == ExitCode.ERROR
    assert len(out) == 1
    assert out[0].startswith("opportunities/7.yaml:6:3: custom.utility_company: a custom value")
