"""Benchmark: what the GitOps commands cost against a company of 2,000 opportunities.

Starts the sandbox on loopback seeded with N generated records (about 3% archived), and runs the
commands as a user (or a workflow) runs them, each a child process from the working folder of a
fresh repository: `import --all` into an empty opportunities/, `drift` right after (clean),
`drift` again after hand edits to `--edits` records, `adopt` of those edits, and `plan` after it.
For each it prints the wall time and the requests the sandbox received (its request log).

Targets (issue 5): `import --all` <= 21 requests, `drift` <= 21 requests, for N = 2,000.
Usage: python benchmarks/gitops.py [--records 2000] [--edits 100]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from reconciler.sandbox import Sandbox, generate, run_sandbox

PROJECT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "reconciler"]


def run(sb: Sandbox, root: Path, *args: str, ok: tuple[int, ...] = (0,)) -> tuple[float, int]:
    """Run one command; its wall time and the requests it made."""
    sb.clear_log()
    env = {
        **os.environ,
        "COPERNIQ_API_URL": f"{sb.base_url}/v1",
        "COPERNIQ_API_KEY": sb.api_key,
        "NO_COLOR": "1",
    }
    started = time.perf_counter()
    proc = subprocess.run([*CLI, *args], cwd=root, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if proc.returncode not in ok:
        sys.exit(f"`reconciler {' '.join(args)}` exited {proc.returncode}:\n{proc.stderr}")
    return elapsed, len(sb.requests())


def hand_edits(sb: Sandbox, ids: list[int]) -> None:
    sb.set_limits(rate_per_second=10_000)  # the edits are not what is measured
    with httpx.Client(base_url=f"{sb.base_url}/v1", headers={"x-api-key": sb.api_key}) as http:
        for i in ids:
            http.patch(f"/opportunities/{i}", json={"confidence": 99}).raise_for_status()
    sb.set_limits(rate_per_second=100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--edits", type=int, default=100)
    args = parser.parse_args()

    seed = generate(args.records)
    active = [r["id"] for r in seed["opportunities"] if r["isActive"]]
    root = Path(tempfile.mkdtemp(prefix="reconciler-gitops-"))
    try:
        shutil.copytree(PROJECT / "schemas", root / "schemas")
        with run_sandbox(seed) as sb:
            print(
                f"GitOps commands against {args.records:,} live records "
                f"({args.records - len(active):,} archived), sandbox on 127.0.0.1"
            )
            seconds, imported = run(sb, root, "import", "--all")
            files = len(list((root / "opportunities").glob("*.yaml")))
            print(
                f"  import --all: {files:,} files in {seconds:.2f} s, "
                f"{imported} requests (target <= 21)"
            )
            seconds, clean = run(sb, root, "drift", "--detailed-exitcode")
            print(f"  drift (clean): {seconds:.2f} s, {clean} requests (target <= 21)")
            edited = sorted(random.Random(1).sample(active, min(args.edits, len(active))))
            hand_edits(sb, edited)
            seconds, drifted = run(sb, root, "drift", "--detailed-exitcode", ok=(2,))
            print(f"  drift after {len(edited)} hand edits: {seconds:.2f} s, {drifted} requests")
            seconds, adopted = run(sb, root, "adopt")
            print(f"  adopt of {len(edited)} records: {seconds:.2f} s, {adopted} requests")
            seconds, planned = run(sb, root, "plan", "--detailed-exitcode")
            print(f"  plan after adopt (no change): {seconds:.2f} s, {planned} requests")
            verdict = "met" if imported <= 21 and clean <= 21 and drifted <= 21 else "MISSED"
            print(f"Request targets {verdict}: import {imported}, drift {clean} and {drifted}.")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
