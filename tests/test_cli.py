"""The exit-code convention shared by every command."""

from __future__ import annotations

import subprocess
import sys

import pytest

from reconciler.cli import main
from reconciler.errors import ExitCode


def test_help_lists_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == ExitCode.OK
    out = capsys.readouterr().out
    assert "64   usage error" in out
    assert "2    changes present" in out


def test_unknown_option_is_a_usage_error_not_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--no-such-option"]) == ExitCode.USAGE
    assert "No such option" in capsys.readouterr().err


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["frobnicate"]) == ExitCode.USAGE


def test_python_dash_m_runs_the_cli() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "reconciler", "--version"], capture_output=True, text=True
    )
    assert proc.returncode == 0
    assert "reconciler" in proc.stdout
