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
    assert "== 2/5 plan" in out and "to update" in out
    # One opportunity is created from a file without id, which gains its id; git's files are
    # never written (the demo works on a copy).
    assert (
        '+ create "Okafor Family - Heat Pump Install" (opportunities/new-okafor-heat-pump.yaml)'
        in out
    )
    assert "(opportunities/new-okafor-heat-pump.yaml): created" in out
    gained = out.split("== 4/5 the new file gained its id")[1].split("== 5/5")[0]
    assert "\nid: 1006\ntitle: Okafor Family - Heat Pump Install\n" in gained
    assert "POST /opportunities " in out
    assert not (ROOT / "opportunities" / "new-okafor-heat-pump.yaml").exists()
    assert "0 failed" in out
    assert "No changes: the live opportunities match the files." in out
    # Only changed fields travel: the unchanged example is never PATCHed.
    assert out.count("PATCH /opportunities/") >= 3
    assert "Traceback" not in proc.stderr
