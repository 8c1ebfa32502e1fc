"""`reconciler validate` end to end: exit codes, golden output for every kind of bad input."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.errors import ExitCode
from reconciler.loader import MAX_BYTES

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
EXPECTED = HERE / "expected"
# Set UPDATE_GOLDEN=1 to rewrite the golden files from the current output (then review the diff).
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


@pytest.fixture
def cases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with one file per kind of bad input (plus a generated oversized one), as cwd."""
    shutil.copytree(HERE / "cases", tmp_path / "cases")
    (tmp_path / "cases" / "oversized.yaml").write_bytes(b"#" * (MAX_BYTES + 1))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    return tmp_path / "cases"


def golden(name: str, actual: str) -> str:
    """The golden file's text (first rewritten from `actual` when UPDATE_GOLDEN=1)."""
    if UPDATE:
        (EXPECTED / name).write_text(actual, encoding="utf-8")
    return (EXPECTED / name).read_text(encoding="utf-8")


def test_the_examples_are_valid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(ROOT / "opportunities")]) == ExitCode.OK
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "5 files checked: no problems\n"


def test_the_default_path_is_opportunities(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    assert main(["validate"]) == ExitCode.OK
    assert capsys.readouterr().err == "5 files checked: no problems\n"


def test_every_kind_of_bad_input_is_named_with_file_and_line(
    cases: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", "cases"]) == ExitCode.ERROR
    out, err = capsys.readouterr()
    assert out == golden("cases.txt", out)
    assert err == "15 problems in 15 files (16 files checked)\n"
    named = {line.split(":")[0] for line in out.splitlines()}
    valid = {"cases/custom-strings.yaml"}
    assert named == {f"cases/{p.name}" for p in cases.iterdir()} - valid


def test_github_actions_gets_annotations_too(
    cases: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert main(["validate", "cases"]) == ExitCode.ERROR
    out = capsys.readouterr().out
    assert out == golden("cases.github.txt", out)
    text, annotations = out.splitlines()[:15], out.splitlines()[15:]
    assert text == (EXPECTED / "cases.txt").read_text(encoding="utf-8").splitlines()
    assert len(annotations) == 15
    assert all(line.startswith("::error file=cases/") for line in annotations)


def test_an_explicit_format_wins_over_the_environment(
    cases: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert main(["validate", "--format", "text", "cases"]) == ExitCode.ERROR
    assert "::error" not in capsys.readouterr().out


def test_format_github_works_outside_github(
    cases: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", "--format", "github", "cases/bad-enum.yaml"]) == ExitCode.ERROR
    assert capsys.readouterr().out.splitlines()[1] == (
        "::error file=cases/bad-enum.yaml,line=5,col=1,title=invalid status::must be one of "
        "ACTIVE, ON_HOLD, CANCELLED, COMPLETED, not the string 'On Hold'; did you mean ON_HOLD?"
    )


def test_an_unknown_format_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--format", "xml"]) == ExitCode.USAGE
    assert "'xml' is not one of 'text', 'github'" in capsys.readouterr().err


def test_a_missing_default_folder_is_an_error_with_a_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["validate"]) == ExitCode.ERROR
    assert capsys.readouterr().err == (
        "Error: opportunities: no such file or folder\n"
        "  hint: pass the folder that holds the opportunity files (by default opportunities/)\n"
    )


def test_help_shows_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--help"]) == ExitCode.OK
    out = capsys.readouterr().out
    assert "FILE:LINE:COL: FIELD: message" in out
    assert "64   usage error" in out


def test_a_real_process_exits_1_without_a_traceback(cases: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "reconciler", "validate", "cases"],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"},
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stdout == golden("cases.txt", proc.stdout)
