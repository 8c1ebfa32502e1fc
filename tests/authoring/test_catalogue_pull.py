"""`catalogue pull` and `pull --check` against the sandbox over real HTTP, renames included."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.cli import main
from reconciler.errors import ExitCode
from reconciler.sandbox import Sandbox, run_sandbox
from reconciler.sandbox.catalogue import properties

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def shared() -> Iterator[Sandbox]:
    with run_sandbox(None) as sandbox:  # the example company's catalogue
        yield sandbox


@pytest.fixture
def sandbox(shared: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    shared.reset()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COPERNIQ_API_URL", shared.base_url)
    monkeypatch.setenv("COPERNIQ_API_KEY", shared.api_key)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    yield shared
    shared.reset()


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def set_catalogue(sandbox: Sandbox, items: list[dict[str, Any]]) -> None:
    """What an admin does in Coperniq: rename, add or delete properties (a control route)."""
    response = httpx.put(
        f"{sandbox.base_url}/_sandbox/properties",
        params={"record_type": "opportunity"},
        json=items,
        headers={"x-api-key": sandbox.api_key},
    )
    response.raise_for_status()


def example() -> list[dict[str, Any]]:
    return copy.deepcopy(properties()["opportunity"])


def by_key(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {i["keyName"]: i for i in items}


def test_pull_spends_one_request_and_writes_what_git_holds(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.clear_log()
    code, out, err = run(capsys, "catalogue", "pull")
    assert code == ExitCode.OK
    assert out == (
        "Wrote schemas/catalogue.json and schemas/opportunity.company.schema.json "
        "(8 custom properties, 6 trades); review and commit them.\n"
    )
    assert err == "Requests: 1 spent (4999 remaining today for this key).\n"
    [request] = sandbox.requests()
    assert (request.method, request.path, request.query) == (
        "GET",
        "/properties",
        {"record_type": "opportunity"},
    )
    # The repository's own files are exactly what a pull of the example company writes.
    for name in ("catalogue.json", "opportunity.company.schema.json"):
        assert (tmp_path / "schemas" / name).read_bytes() == (ROOT / "schemas" / name).read_bytes()


def test_the_file_is_sorted_and_holds_nothing_personal(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    items = example()
    for item in items:
        item["options"].reverse()
        item["defaultValue"] = ["jane.doe@example.com"]
    set_catalogue(sandbox, list(reversed(items)))
    assert run(capsys, "catalogue", "pull")[0] == ExitCode.OK
    text = (tmp_path / "schemas/catalogue.json").read_text()
    assert text == (ROOT / "schemas/catalogue.json").read_text()
    assert "jane.doe" not in text


def test_pull_again_changes_nothing(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "catalogue", "pull")
    before = (tmp_path / "schemas/catalogue.json").stat().st_mtime_ns
    code, out, _ = run(capsys, "catalogue", "pull")
    assert code == ExitCode.OK
    assert out == (
        "schemas/catalogue.json and schemas/opportunity.company.schema.json are up to date "
        "(8 custom properties, 6 trades).\n"
    )
    assert (tmp_path / "schemas/catalogue.json").stat().st_mtime_ns == before


def test_check_passes_when_the_file_matches(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "catalogue", "pull")
    code, out, err = run(capsys, "catalogue", "pull", "--check")
    assert (code, out) == (
        ExitCode.OK,
        "No catalogue drift: schemas/catalogue.json matches the live catalogue.\n",
    )
    # --check reads too: it says what it spent and what remains (it said nothing before)
    assert err == "Requests: 1 spent (4998 remaining today for this key).\n"


def drifted() -> list[dict[str, Any]]:
    """roof_type renamed (same label), lead_source deleted, one new property, options moved."""
    items = by_key(example())
    items["roof_type"]["keyName"] = "roof_material"
    del items["lead_source"]
    items["financing_type"]["options"] = ["Cash", "Loan", "Lease", "HELOC"]
    items["trades"]["options"].append("Pool & Spa")
    new = {
        "name": "Warranty (years)",
        "type": "NUMERIC",
        "keyName": "warranty_years",
        "isMultiple": False,
        "options": [],
        "defaultValue": [],
        "isCustom": True,
    }
    return [*items.values(), new]


def test_check_shows_added_removed_renamed_and_changed(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "catalogue", "pull")
    (tmp_path / "opportunities").mkdir()
    (tmp_path / "opportunities/1.yaml").write_text(
        'id: 1\ntitle: A\naddress: ["1 Main St"]\ntrades: [Solar]\ncustom: {roof_type: Tile}\n'
    )
    before = (tmp_path / "schemas/catalogue.json").read_text()
    set_catalogue(sandbox, drifted())
    sandbox.clear_log()
    code, out, _ = run(capsys, "catalogue", "pull", "--check")
    assert code == ExitCode.ERROR
    assert out == (
        "Catalogue drift: the live catalogue differs from schemas/catalogue.json "
        "(1 added, 1 removed, 1 renamed, 2 changed):\n"
        "  + custom.warranty_years (NUMERIC 'Warranty (years)')\n"
        "  - custom.lead_source (DROPDOWN 'Lead Source')\n"
        "  ~ custom.roof_type renamed to custom.roof_material (same label 'Roof Type')\n"
        "  ~ trades: options added: 'Pool & Spa'\n"
        "  ~ custom.financing_type: options added: 'HELOC'; options removed: 'PPA'\n"
        "  custom.roof_type is still used by opportunities/1.yaml\n"
        "Run `reconciler catalogue pull`, then review and commit the files it rewrites.\n"
    )
    assert len(sandbox.requests()) == 1
    assert (tmp_path / "schemas/catalogue.json").read_text() == before  # --check writes nothing
    # pull then writes it, says what changed, and a second check is clean
    code, out, _ = run(capsys, "catalogue", "pull")
    assert code == ExitCode.OK
    assert out.startswith("The live catalogue differs from the previous schemas/catalogue.json:\n")
    assert '"roof_material"' in (tmp_path / "schemas/catalogue.json").read_text()
    assert run(capsys, "catalogue", "pull", "--check")[0] == ExitCode.OK
    # and validate now flags the file that still uses the old key
    code, out, _ = run(capsys, "validate")
    assert code == ExitCode.ERROR
    assert out.startswith("opportunities/1.yaml:5:10: custom.roof_type: unknown custom field")


def test_a_rename_is_recognised_by_its_options_when_the_label_changed_too(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "catalogue", "pull")
    items = by_key(example())
    items["panel_brands"]["keyName"] = "module_brands"
    items["panel_brands"]["name"] = "Module Brands"
    set_catalogue(sandbox, list(items.values()))
    code, out, _ = run(capsys, "catalogue", "pull", "--check")
    assert code == ExitCode.ERROR
    assert out.splitlines()[1:3] == [
        "  ~ custom.panel_brands renamed to custom.module_brands (same type and options)",
        "  ~ custom.module_brands: label 'Panel Brands' -> 'Module Brands'",
    ]


def test_check_writes_markdown_for_the_drift_issue(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "catalogue", "pull")
    items = by_key(example())
    items["hoa_approval"]["options"].append("<b>approved</b>")
    set_catalogue(sandbox, list(items.values()))
    code, _, _ = run(
        capsys, "catalogue", "pull", "--check", "--format", "markdown", "--out", "cat.md"
    )
    assert code == ExitCode.ERROR
    assert (tmp_path / "cat.md").read_text() == (
        "## Catalogue drift\n\n"
        "The live property catalogue differs from schemas/catalogue.json (1 changed):\n\n"
        "- &#126; custom.hoa&#95;approval: options added: "
        "&#x27;&lt;b&gt;approved&lt;/b&gt;&#x27;\n\n"
        "Run `reconciler catalogue pull`, review and commit the files it rewrites, and fix the "
        "opportunity files that use a removed or renamed key.\n"
    )


def test_check_notices_a_hand_edited_editor_schema(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "catalogue", "pull")
    path = tmp_path / "schemas/opportunity.company.schema.json"
    path.write_text(path.read_text().replace('"Tile",', '"Tile", "Thatch",'))
    code, out, _ = run(capsys, "catalogue", "pull", "--check")
    assert code == ExitCode.ERROR
    assert out.splitlines()[0] == (
        "schemas/opportunity.company.schema.json is not what schemas/catalogue.json generates "
        "(missing, edited by hand, or written by another reconciler version)."
    )


def test_check_without_a_file_says_to_pull(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.clear_log()
    code, _, err = run(capsys, "catalogue", "pull", "--check")
    assert code == ExitCode.ERROR
    assert err == (
        "Error: schemas/catalogue.json: no catalogue file to check\n"
        "  hint: run `reconciler catalogue pull` and commit what it writes\n"
    )
    assert sandbox.requests() == []


def test_the_control_route_refuses_a_malformed_catalogue(sandbox: Sandbox) -> None:
    response = httpx.put(
        f"{sandbox.base_url}/_sandbox/properties",
        json=[{"name": "X", "type": "TEXT"}],
        headers={"x-api-key": sandbox.api_key},
    )
    assert response.status_code == 400
    assert response.json()["field"] == "properties[0].keyName"


def test_an_output_that_cannot_be_written_is_refused_before_the_request(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "company").write_text("a file where a folder should be")
    sandbox.clear_log()
    code, _, err = run(capsys, "catalogue", "pull", "--schemas", "company/schemas")
    assert code == ExitCode.ERROR
    assert "cannot write company/schemas/catalogue.json" in err
    assert sandbox.requests() == []
