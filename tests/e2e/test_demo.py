"""The README's main job: `reconciler demo` on the shipped examples converges."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_demo_runs_the_whole_loop_on_the_shipped_examples() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "reconciler", "demo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "== 2/4 plan" in out and "to update" in out
    assert "0 failed" in out
    assert "No changes: the live opportunities match the files." in out
    # Only changed fields travel: the unchanged example is never PATCHed.
    assert out.count("PATCH /opportunities/") >= 3
    assert "Traceback" not in proc.stderr
