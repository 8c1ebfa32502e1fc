"""`reconciler fmt [--check] [--diff] [PATH]...` and the pre-commit hooks, run as pre-commit runs
them: the hook's `entry` with the staged files that match its `files` and not its `exclude`."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler import fmt
from reconciler.cli import fmt as cli_fmt
from reconciler.cli import main

from .actions import VENV_BIN
from .conftest import PROJECT

MESSY = "title: 'Chen Roof'\nid: 2\naddress: ['2 Main St, Austin, TX 78701']\ntrades: [Solar]\n"
CANONICAL = 'id: 2\ntitle: Chen Roof\naddress: ["2 Main St, Austin, TX 78701"]\ntrades: [Solar]\n'
RAMIREZ = """\
# yaml-language-server: $schema=../schemas/opportunity.schema.json
# Residential rooftop solar; survey booked.
id: 1
title: Ramirez Household - Rooftop Solar   # as on the contract
address:
  - 1418 Cedar Ridge Dr, Austin, TX 78745
trades: [Solar, Electrical]

# Money
value: 24850   # before incentives
custom:
  hoa_approval: "no"
  site_survey_date: "2026-01-15"
"""


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["fmt", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _files(root: Path) -> Path:
    """opportunities/ with a canonical file and one that is not."""
    folder = root / "opportunities"
    folder.mkdir()
    (folder / "1-ramirez.yaml").write_text(RAMIREZ, encoding="utf-8")
    (folder / "2-chen.yaml").write_text(MESSY, encoding="utf-8")
    return folder


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return _files(tmp_path)


def test_check_lists_the_files_that_would_change_and_changes_nothing(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = {p: p.read_bytes() for p in folder.iterdir()}
    code, out, err = _run(capsys, "--check")
    assert code == 1
    assert out == "would reformat opportunities/2-chen.yaml\n"
    assert "fmt: 1 file would be reformatted, " in err
    assert {p: p.read_bytes() for p in folder.iterdir()} == before


def test_fmt_rewrites_then_has_nothing_left_to_do(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mode = 0o640
    (folder / "2-chen.yaml").chmod(mode)
    code, out, _ = _run(capsys)
    assert code == 0 and out == "reformatted opportunities/2-chen.yaml\n"
    assert (folder / "2-chen.yaml").read_text(encoding="utf-8") == CANONICAL
    assert (folder / "2-chen.yaml").stat().st_mode & 0o777 == mode
    assert _run(capsys, "--check")[0] == 0
    assert _run(capsys)[1] == ""  # twice: nothing changes


def test_diff_shows_the_change_without_writing(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(capsys, "--diff", "opportunities/2-chen.yaml")
    assert code == 1
    assert "--- a/opportunities/2-chen.yaml\n+++ b/opportunities/2-chen.yaml\n" in out
    assert "-title: 'Chen Roof'\n" in out and "+title: Chen Roof\n" in out
    assert (folder / "2-chen.yaml").read_text(encoding="utf-8") == MESSY


def test_a_broken_file_is_reported_with_its_location_and_the_others_are_formatted(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (folder / "9-broken.yaml").write_text("id: 9\ntitle: [x\n", encoding="utf-8")
    code, out, err = _run(capsys)
    assert code == 1
    assert "opportunities/9-broken.yaml:3:1: -: invalid YAML" in err
    assert "1 not formatted (errors above)" in err
    assert out == "reformatted opportunities/2-chen.yaml\n"
    assert (folder / "9-broken.yaml").read_text(encoding="utf-8") == "id: 9\ntitle: [x\n"


def test_a_fifo_is_reported_and_never_opened(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    os.mkfifo(folder / "3-pipe.yaml")
    code, _, err = _run(capsys, "--check")
    assert code == 1
    assert "opportunities/3-pipe.yaml is a FIFO (named pipe), not a regular file" in err


def test_a_file_saved_meanwhile_is_left_alone(
    folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def format_while_an_editor_saves(text: str, name: str) -> str:
        (folder / "2-chen.yaml").write_text(MESSY + "value: 1\n", encoding="utf-8")
        return fmt.format_text(text, name)

    monkeypatch.setattr(cli_fmt, "format_text", format_while_an_editor_saves)
    code, _, err = _run(capsys, "opportunities/2-chen.yaml")
    assert code == 1
    assert "opportunities/2-chen.yaml: the file changed while fmt read it; left alone" in err
    assert (folder / "2-chen.yaml").read_text(encoding="utf-8") == MESSY + "value: 1\n"


def test_a_path_that_does_not_exist_is_an_error(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(capsys, "nowhere")
    assert code == 1 and "nowhere: no such file or folder" in err


def test_the_shipped_example_files_are_canonical(capsys: pytest.CaptureFixture[str]) -> None:
    # A new user's first `fmt --check` (and the reconciler-fmt hook) runs on these files.
    code, out, _ = _run(capsys, "--check", str(PROJECT / "opportunities"))
    assert (code, out) == (0, "")


# --- the pre-commit hooks, run the way pre-commit runs them --------------------------------------


def _hook(hook_id: str) -> dict[str, Any]:
    hooks = yaml.safe_load((PROJECT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    (hook,) = [h for h in hooks if h["id"] == hook_id]
    return dict(hook)


def _run_hook(
    hook: dict[str, Any], root: Path, staged: list[str]
) -> subprocess.CompletedProcess[str]:
    """pre-commit's steps: filter the staged files by `files`/`exclude` (re.search on the
    relative path), append them to `entry` + `args` unless `pass_filenames: false`, run."""
    files = [
        f
        for f in staged
        if re.search(hook.get("files", ""), f) and not re.search(hook.get("exclude", "^$"), f)
    ]
    assert files, "pre-commit skips a hook that no staged file matches"
    command = shlex.split(hook["entry"]) + list(hook.get("args", []))
    if hook.get("pass_filenames", True):
        command += files
    command[0] = str(VENV_BIN / command[0])  # the hook's own environment
    return subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=120)


def test_the_fmt_hook_rewrites_staged_opportunity_files_only(tmp_path: Path) -> None:
    hook = _hook("reconciler-fmt")
    assert hook["language"] == "python" and hook.get("pass_filenames", True)
    _files(tmp_path)
    (tmp_path / "opportunities" / ".reconciler.yaml").write_text(
        "allow_new_options:   true\n", encoding="utf-8"
    )
    workflow = tmp_path / ".github" / "workflows" / "plan.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text("on:   [push]\nname: 'plan'\n", encoding="utf-8")
    staged = [
        "opportunities/2-chen.yaml",
        "opportunities/1-ramirez.yaml",
        "opportunities/.reconciler.yaml",
        ".github/workflows/plan.yml",
        "README.md",
    ]
    done = _run_hook(hook, tmp_path, staged)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == "reformatted opportunities/2-chen.yaml\n"
    assert (tmp_path / "opportunities" / "2-chen.yaml").read_text(encoding="utf-8") == CANONICAL
    assert workflow.read_text(encoding="utf-8") == "on:   [push]\nname: 'plan'\n"
    assert (tmp_path / "opportunities" / ".reconciler.yaml").read_text(encoding="utf-8") == (
        "allow_new_options:   true\n"
    )
    again = _run_hook(hook, tmp_path, staged)  # pre-commit's second run: nothing to change
    assert again.returncode == 0 and again.stdout == ""


def test_the_validate_hook_checks_the_whole_folder(tmp_path: Path) -> None:
    hook = _hook("reconciler-validate")
    shutil.copytree(PROJECT / "opportunities", tmp_path / "opportunities")
    shutil.copytree(PROJECT / "schemas", tmp_path / "schemas")
    ok = _run_hook(hook, tmp_path, ["opportunities/1001-ramirez-solar.yaml"])
    assert ok.returncode == 0, ok.stdout + ok.stderr
    (tmp_path / "opportunities" / "9-bad.yaml").write_text("id: 9\ntitle: x\n", encoding="utf-8")
    # another file staged: the hook still checks the whole folder
    bad = _run_hook(hook, tmp_path, ["opportunities/1001-ramirez-solar.yaml"])
    assert bad.returncode == 1
    assert "opportunities/9-bad.yaml" in bad.stdout
