"""`reconciler adopt`: live values written back into the files, everything else kept as written."""

from __future__ import annotations

import difflib
import hashlib
import os
from pathlib import Path

import pytest

from reconciler.adopt import adopt_record
from reconciler.diff import FieldChange
from reconciler.drift import DriftedRecord

from .conftest import Repo, record

RAMIREZ = """\
# yaml-language-server: $schema=../schemas/opportunity.schema.json
# Residential rooftop solar; survey booked, design under way.
id: 1
title: Ramirez Household - Rooftop Solar   # as on the contract
description: |
  South-facing roof, no shading after 10am.
  HOA declined the front layout.
address:
  - 1418 Cedar Ridge Dr, Austin, TX 78745
trades: [Solar, Electrical]

# Money
value: 24850   # before incentives
confidence: 70
status: ACTIVE
primaryEmail: 'maria.ramirez@example.com'
primaryPhone: "+1 512-555-0142"
contacts: [501, 502]
custom:
  financing_type: Loan      # changed twice already
  site_survey_date: 2026-01-15
  hoa_approval: no
  panel_brands: [REC]
"""

LIVE = record(
    1,
    title="Ramirez Household - Rooftop Solar",
    description="South-facing roof, no shading after 10am.\nHOA declined the front layout.\n",
    address=["1418 Cedar Ridge Dr, Austin, TX 78745"],
    trades=["Solar", "Electrical"],
    value=24850,
    confidence=70,
    status="ACTIVE",
    primaryEmail="maria.ramirez@example.com",
    primaryPhone="+1 512-555-0142",
    contacts=[501, 502],
    custom={
        "financing_type": "Loan",
        "site_survey_date": "2026-01-15",
        "hoa_approval": "no",
        "panel_brands": ["REC"],
    },
)


SEED = [LIVE, record(2, title="Chen Roof"), record(3, title="Patel")]


def setup(repo: Repo) -> Path:
    repo.dir.mkdir()
    path = repo.dir / "1-ramirez.yaml"
    path.write_text(RAMIREZ, encoding="utf-8")
    # Once applied, the state file knows the write-only values: the plan is then empty.
    assert repo.run("apply", "--auto-approve").code == 0
    assert repo.run("plan", "--detailed-exitcode").code == 0
    return path


def changed_lines(before: str, after: str) -> list[str]:
    return [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


def test_adopt_writes_live_values_and_keeps_everything_else(repo: Repo) -> None:
    path = setup(repo)
    repo.edit_live(
        1,
        {
            "title": "Ramirez Household - Rooftop Solar + Battery",
            "value": 26100.5,
            "trades": ["Solar", "Electrical", "Battery Storage"],
            "primaryPhone": "+1 512-555-0199",
            "custom": {"financing_type": "Cash", "hoa_approval": "yes"},
        },
    )
    assert repo.run("drift", "--detailed-exitcode").code == 2
    result = repo.run("adopt")
    assert result.code == 0, result.err
    assert (
        "~ 1 (opportunities/1-ramirez.yaml): title, trades, value, primaryPhone, "
        "custom.financing_type, custom.hoa_approval" in result.out
    )
    after = path.read_text(encoding="utf-8")
    expected = RAMIREZ
    for old, new in [
        ("Rooftop Solar   # as", "Rooftop Solar + Battery # as"),
        ("[Solar, Electrical]", "[Solar, Electrical, Battery Storage]"),
        ("value: 24850   #", "value: 26100.5 #"),
        # the replaced value is quoted by the one rule: this phone needs no quotes
        ('"+1 512-555-0142"', "+1 512-555-0199"),
        ("financing_type: Loan ", "financing_type: Cash "),
        ("hoa_approval: no", 'hoa_approval: "yes"'),
    ]:
        assert expected.count(old) == 1
        expected = expected.replace(old, new)
    assert after == expected
    assert repo.run("plan", "--detailed-exitcode").code == 0
    assert repo.run("drift", "--detailed-exitcode").code == 0
    assert repo.run("validate").code == 0


def test_multi_line_and_cleared_values(repo: Repo) -> None:
    path = setup(repo)
    repo.edit_live(1, {"description": "Rear plane only.\nBattery in the garage.\n"})
    repo.edit_live(1, {"custom": {"panel_brands": None}})  # cleared in Coperniq
    assert repo.run("adopt", "1").code == 0
    after = path.read_text(encoding="utf-8")
    assert "description: |\n  Rear plane only.\n  Battery in the garage.\naddress:" in after
    assert "  panel_brands: null\n" in after
    plan = repo.run("plan", "--detailed-exitcode")
    assert plan.code == 0, plan.out


def test_write_only_fields_are_never_touched(repo: Repo) -> None:
    path = setup(repo)
    repo.edit_live(1, {"status": "ON_HOLD", "contacts": [503], "confidence": 90})
    assert repo.run("adopt").code == 0
    after = path.read_text(encoding="utf-8")
    assert changed_lines(RAMIREZ, after) == ["-confidence: 70", "+confidence: 90"]


def test_only_the_ids_given_are_adopted(repo: Repo) -> None:
    path = setup(repo)
    other = repo.dir / "2.yaml"
    other.write_text(
        "id: 2\ntitle: Chen Roof\naddress: ['2 Main St, Austin, TX 78701']\ntrades: [Solar]\n",
        encoding="utf-8",
    )
    repo.edit_live(1, {"confidence": 90})
    repo.edit_live(2, {"title": "Chen Roof (edited)"})
    result = repo.run("adopt", "2")
    assert result.code == 0, result.err
    assert path.read_text(encoding="utf-8") == RAMIREZ
    assert "title: Chen Roof (edited)\n" in other.read_text(encoding="utf-8")
    drift = repo.run("drift", "--detailed-exitcode")
    assert drift.code == 2 and "~ 1 " in drift.out and "~ 2 " not in drift.out


def test_an_id_no_file_declares_is_an_error(repo: Repo) -> None:
    setup(repo)
    result = repo.run("adopt", "7")
    assert result.code == 1
    assert "adopt 7: no file under opportunities declares this id" in result.err


def test_missing_records_are_not_adopted_and_fail_the_run(repo: Repo) -> None:
    path = setup(repo)
    gone = repo.dir / "9.yaml"
    text = "id: 9\ntitle: Gone\naddress: ['9 Main St, Austin, TX 78701']\ntrades: [Solar]\n"
    gone.write_text(text, encoding="utf-8")
    result = repo.run("adopt")
    assert result.code == 1
    assert "9: not adopted: opportunities/9.yaml: missing in Coperniq" in result.err
    assert gone.read_text(encoding="utf-8") == text
    assert path.read_text(encoding="utf-8") == RAMIREZ


def test_file_mode_and_sequence_indentation_are_kept(repo: Repo) -> None:
    repo.dir.mkdir()
    path = repo.dir / "3.yaml"
    path.write_text(
        "id: 3\ntitle: Patel\naddress:\n- 3 Main St, Austin, TX 78701\ntrades:\n- Solar\n",
        encoding="utf-8",
    )
    os.chmod(path, 0o600)
    repo.edit_live(3, {"title": "Patel Residence", "trades": ["Solar", "HVAC"]})
    assert repo.run("adopt").code == 0
    assert path.read_text(encoding="utf-8") == (
        "id: 3\ntitle: Patel Residence\naddress:\n- 3 Main St, Austin, TX 78701\n"
        "trades:\n- Solar\n- HVAC\n"
    )
    assert os.stat(path).st_mode & 0o777 == 0o600


def _drifted(file: Path, *fields: FieldChange) -> DriftedRecord:
    return DriftedRecord(1, str(file), "t", fields, None, None)


def test_a_file_edited_meanwhile_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "1.yaml"
    path.write_text(RAMIREZ, encoding="utf-8")
    result = adopt_record(_drifted(path, FieldChange("confidence", 90, 70)), path, "0" * 64)
    assert result.error is not None and "changed while adopting" in result.error
    assert path.read_text(encoding="utf-8") == RAMIREZ


@pytest.mark.parametrize(
    ("drift", "problem"),
    [
        (FieldChange("title", "", "Ramirez"), "title"),
        (FieldChange("address", None, ["x"]), "address"),
    ],
)
def test_live_values_the_schema_rejects_are_refused(
    tmp_path: Path, drift: FieldChange, problem: str
) -> None:
    path = tmp_path / "1.yaml"
    path.write_text(RAMIREZ, encoding="utf-8")
    digest = hashlib.sha256(RAMIREZ.encode()).hexdigest()
    result = adopt_record(_drifted(path, drift), path, digest)
    assert result.error is not None
    assert "would make the file invalid" in result.error and problem in result.error
    assert path.read_text(encoding="utf-8") == RAMIREZ
