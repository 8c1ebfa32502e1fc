"""`reconciler drift` against the sandbox over HTTP: exit codes, formats, what it reads."""

from __future__ import annotations

import html
import json
from typing import Any

import pytest
import yaml

from .conftest import Repo, record

EDITOR = {"id": 42, "firstName": "Sam", "lastName": "Ortiz", "email": "sam@example.com"}
LIVE = [
    record(
        1,
        title="Ramirez Solar",
        value=24850,
        primaryEmail="maria.ramirez@example.com",
        custom={"financing_type": "Loan", "hoa_approval": "no"},
    ),
    record(2, title="Chen Roof", trades=["Roofing"], status="ACTIVE"),
    record(3, title="Patel HVAC", trades=["HVAC"], updatedBy=EDITOR),
]
SEED = [*LIVE, record(4, isActive=False)]


def write(repo: Repo, data: dict[str, Any]) -> None:
    repo.dir.mkdir(exist_ok=True)
    text = yaml.safe_dump(data, sort_keys=False)
    (repo.dir / f"{data['id']}.yaml").write_text(text, encoding="utf-8")


def files_matching_live(repo: Repo) -> None:
    for r in LIVE:
        write(repo, {k: v for k, v in r.items() if k != "updatedBy"})


def test_clean_is_exit_0_even_with_detailed_exitcode(repo: Repo) -> None:
    files_matching_live(repo)
    result = repo.run("drift", "--detailed-exitcode")
    assert result.code == 0, result.err
    assert "No drift" in result.out
    assert "Not detectable by reading: status (1 file)" in result.out
    # Three ids up to id 3: one listing page is cheaper than three GETs.
    assert [(r.method, r.path) for r in repo.sandbox.requests()] == [("GET", "/v1/opportunities")]


def test_hand_edits_are_reported_field_by_field_newest_first(repo: Repo) -> None:
    files_matching_live(repo)
    repo.edit_live(3, {"trades": ["HVAC", "Electrical"]})
    repo.edit_live(1, {"title": "Ramirez Solar (sold)", "custom": {"financing_type": "Cash"}})
    result = repo.run("drift", "--detailed-exitcode")
    assert result.code == 2, result.err
    assert result.out.index("~ 1 ") < result.out.index("~ 3 ")  # 1 was edited last
    assert 'title: git "Ramirez Solar", live "Ramirez Solar (sold)"' in result.out
    assert 'custom.financing_type: git "Loan", live "Cash"' in result.out
    assert 'trades: git ["HVAC"], live ["HVAC", "Electrical"]' in result.out
    assert "Drift: 2 drifted, 1 in sync (3 files checked)." in result.out
    assert repo.run("drift").code == 0  # without --detailed-exitcode drift is not a failure


def test_only_declared_fields_are_managed(repo: Repo) -> None:
    files_matching_live(repo)
    repo.edit_live(3, {"value": 9100, "description": "edited by hand"})  # neither in the file
    assert repo.run("drift", "--detailed-exitcode").code == 0


def test_out_writes_the_format_and_prints_text(repo: Repo) -> None:
    files_matching_live(repo)
    repo.edit_live(3, {"title": "Patel Heat Pump"})
    result = repo.run("drift", "--format", "json", "--out", "reports/drift.json")
    assert result.code == 0, result.err
    assert "~ 3 " in result.out
    data = json.loads((repo.root / "reports/drift.json").read_text(encoding="utf-8"))
    assert data["format_version"] == "1"
    (drifted,) = data["drifted"]
    assert drifted["id"] == 3
    assert drifted["live_updated_by"]["name"] == "Sam Ortiz"
    assert drifted["fields"] == [{"field": "title", "git": "Patel HVAC", "live": "Patel Heat Pump"}]
    assert data["requests"]["spent"] == 1


@pytest.mark.parametrize("no_mask", [False, True])
def test_markdown_masks_contact_data_unless_asked(repo: Repo, no_mask: bool) -> None:
    files_matching_live(repo)
    repo.edit_live(1, {"primaryEmail": "maria@example.org"})
    args = ["drift", "--format", "markdown", *(["--no-mask"] if no_mask else [])]
    result = repo.run(*args)
    assert result.code == 0
    assert result.out.startswith("<!-- reconciler-drift -->\n## Drift: ")
    shown = html.unescape(result.out)  # as GitHub renders it
    assert ("maria.ramirez@example.com" in shown) is no_mask
    assert ("maria@example.org" in shown) is no_mask


def test_missing_and_archived_records_are_drift(repo: Repo) -> None:
    files_matching_live(repo)
    write(repo, {k: v for k, v in record(4).items()})
    write(repo, record(99))
    result = repo.run("drift", "--detailed-exitcode")
    assert result.code == 2
    assert "! 4 (opportunities/4.yaml): archived in Coperniq" in result.out
    assert "! 99 (opportunities/99.yaml): missing in Coperniq" in result.out


def test_invalid_files_stop_before_any_request(repo: Repo) -> None:
    files_matching_live(repo)
    (repo.dir / "bad.yaml").write_text("id: 5\ntitle: x\ntrades: [Solar]\n", encoding="utf-8")
    result = repo.run("drift", "--detailed-exitcode")
    assert result.code == 1
    assert "opportunities/bad.yaml:1:1" in result.err
    assert repo.sandbox.requests() == []


def test_an_api_failure_is_exit_1_and_never_shows_the_key(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    files_matching_live(repo)
    monkeypatch.setenv("COPERNIQ_API_KEY", "wrong-key-0123456789")
    result = repo.run("drift", "--detailed-exitcode")
    assert result.code == 1
    assert "refused the key" in result.err
    assert "wrong-key-0123456789" not in result.out + result.err
