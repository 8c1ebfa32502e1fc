"""The generated editor schema: a regeneration matches it, and the files it must accept validate."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from reconciler import catalogue_file, company_schema, schema
from reconciler.cli import main
from reconciler.loader import load_file
from reconciler.sandbox import Sandbox, run_sandbox
from reconciler.sandbox.seed import generate

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "schemas/opportunity.company.schema.json"


def validator() -> Draft202012Validator:
    return Draft202012Validator(
        json.loads(SCHEMA.read_text()), format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def test_the_checked_in_schema_is_a_regeneration() -> None:
    catalogue = catalogue_file.read(ROOT / "schemas/catalogue.json")
    regenerated = company_schema.dumps(company_schema.build(schema.load_schema(), catalogue))
    assert SCHEMA.read_text(encoding="utf-8") == regenerated


def test_the_schema_is_valid_json_schema() -> None:
    result = subprocess.run(
        [Path(sys.executable).parent / "check-jsonschema", "--check-metaschema", str(SCHEMA)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_examples_validate_against_it_and_point_at_it() -> None:
    check = validator()
    examples = sorted((ROOT / "opportunities").glob("*.yaml"))
    assert len(examples) == 5
    for path in examples:
        document = load_file(path)
        assert list(check.iter_errors(document.data)) == [], path
        first = path.read_text().splitlines()[0]
        assert first == "# yaml-language-server: $schema=../schemas/opportunity.company.schema.json"


@pytest.mark.parametrize(
    ("custom", "complaint"),
    [
        ({"roof_type": "Tile roof"}, "is not one of"),
        ({"hoa_aproval": "yes"}, "Additional properties are not allowed"),
        ({"system_size_kw": "7.6"}, "is not of type"),
        ({"site_survey_date": "15/01/2026"}, "does not match"),
        ({"panel_brands": "REC"}, "is not of type"),
    ],
)
def test_it_catches_what_validate_catches(custom: dict[str, Any], complaint: str) -> None:
    data = {"id": 1, "title": "A", "address": ["1 Main St"], "trades": ["Solar"], "custom": custom}
    errors = [e.message for e in validator().iter_errors(data)]
    assert errors and complaint in errors[0], errors


def test_trades_and_the_opt_in_complete_from_the_catalogue() -> None:
    props = json.loads(SCHEMA.read_text())["properties"]
    assert props["trades"]["items"]["enum"] == [
        "Battery Storage",
        "Electrical",
        "EV Charger",
        "HVAC",
        "Roofing",
        "Solar",
    ]
    assert props["allow_new_options"]["items"]["enum"] == [
        "trades",
        "financing_type",
        "hoa_approval",
        "lead_source",
        "panel_brands",
        "roof_type",
    ]


@pytest.fixture
def company(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    with run_sandbox(generate(300, rng_seed=12)) as sandbox:
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("COPERNIQ_API_URL", sandbox.base_url)
        monkeypatch.setenv("COPERNIQ_API_KEY", sandbox.api_key)
        yield sandbox


def test_imported_files_point_at_it_and_validate_against_it(
    company: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["catalogue", "pull"]) == 0
    assert main(["import", "--all"]) == 0
    files = sorted((tmp_path / "opportunities").glob("*.yaml"))
    assert len(files) > 250
    check = validator()
    for path in files:
        first = path.read_text().splitlines()[0]
        assert first == "# yaml-language-server: $schema=../schemas/opportunity.company.schema.json"
        assert list(check.iter_errors(load_file(path).data)) == [], path
    capsys.readouterr()
    assert main(["validate"]) == 0, capsys.readouterr().out


def test_without_a_company_schema_import_points_at_the_base_schema(
    company: Sandbox, tmp_path: Path
) -> None:
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas/opportunity.schema.json").write_text("{}")
    assert main(["import", "--id", "1"]) == 0
    [path] = (tmp_path / "opportunities").glob("*.yaml")
    first = path.read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=../schemas/opportunity.schema.json"
