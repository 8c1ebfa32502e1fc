"""Small habits users expect: --version and shell completion."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler import __version__
from reconciler.cli import main

RECONCILER = str(Path(sys.executable).parent / "reconciler")


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"reconciler, version {__version__}\n"


def complete(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [RECONCILER],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_bash_completion_script_is_printed() -> None:
    result = complete({"_RECONCILER_COMPLETE": "bash_source"})
    assert result.returncode == 0
    assert "_reconciler_completion" in result.stdout


def test_commands_and_options_complete() -> None:
    words = complete(
        {"_RECONCILER_COMPLETE": "bash_complete", "COMP_WORDS": "reconciler ca", "COMP_CWORD": "1"}
    )
    assert words.stdout.splitlines() == ["plain,catalogue"]
    options = complete(
        {
            "_RECONCILER_COMPLETE": "bash_complete",
            "COMP_WORDS": "reconciler validate --fo",
            "COMP_CWORD": "2",
        }
    )
    assert options.stdout.splitlines() == ["plain,--format"]
    values = complete(
        {
            "_RECONCILER_COMPLETE": "bash_complete",
            "COMP_WORDS": "reconciler validate --format ",
            "COMP_CWORD": "3",
        }
    )
    assert values.stdout.splitlines() == ["plain,text", "plain,github", "plain,json"]
