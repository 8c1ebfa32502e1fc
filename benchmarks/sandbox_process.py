"""The sandbox as a separate process for the benchmarks, so that it does not share their GIL."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx


def start_sandbox(
    seed_file: Path, *, rate_per_second: int = 1_000_000, rate_per_day: int = 1_000_000_000
) -> tuple[subprocess.Popen[str], str, str]:
    """Start `reconciler sandbox` on a free port; returns the process, base URL and key."""
    cmd = [
        sys.executable, "-m", "reconciler", "sandbox", "--port", "0", "--seed", str(seed_file),
        "--rate-per-second", str(rate_per_second), "--rate-per-day", str(rate_per_day),
    ]  # fmt: skip
    # stderr is not piped: nobody would drain it during a long run, and a full pipe blocks.
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    url = key = ""
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("Sandbox listening on "):
            url = line.split()[3]
        elif line.startswith("API key: "):
            key = line.split(": ", 1)[1].strip()
        if url and key:
            return proc, url, key
    proc.kill()
    raise SystemExit(f"the sandbox did not start: run `{' '.join(cmd[2:])}` to see why")


def control(url: str, key: str, method: str, path: str, body: Any = None) -> Any:
    """Call one of the sandbox's /_sandbox/ control routes."""
    response = httpx.request(
        method, f"{url}/_sandbox/{path}", json=body, headers={"x-api-key": key}, timeout=60
    )
    response.raise_for_status()
    return response.json() if response.content else None
