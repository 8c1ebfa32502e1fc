"""Benchmark: plan over 10,000 records and files, and an apply of 500 changes at 100 requests/s.

Starts the sandbox as a separate process on loopback (so that it does not share this process's
GIL), seeded with N generated records; writes N desired-state files, `--drift` of them differing
from live. Then it measures, in this run:

- the wall time of `reconciler plan --format json --out FILE` as a user runs it (a child process,
  interpreter start included), its peak memory (the child's max RSS) and the requests it spent;
- the time PyYAML's C loader alone takes to parse the same files, and the ratio of the two;
- an apply of `--apply` changes with the sandbox limited to 100 requests/s: PATCHes per second
  achieved and the 429 answers received (from the sandbox's request log).

Targets (issue 4): ratio <= 2.0, requests <= 101, peak memory <= 300 MB, >= 90 req/s, 0 429s.
Usage: python benchmarks/plan.py [--records 10000] [--drift 0.05] [--apply 500]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from sandbox_process import control, start_sandbox

from reconciler.cli.common import load_records
from reconciler.client import ApiClient, ClientSettings
from reconciler.engine import ApplyOptions, compute_plan, run_apply
from reconciler.fields import FIELDS
from reconciler.sandbox import generate
from reconciler.sandbox.catalogue import accounts
from reconciler.state import State

HEADER = "# yaml-language-server: $schema=../schemas/opportunity.schema.json\n"


def desired_from_live(record: dict[str, Any], account_titles: dict[int, str]) -> dict[str, Any]:
    # Write-only fields are left out: with no state file they would plan as "cannot be read".
    data = {"id": record["id"]}
    for name, field in FIELDS.items():
        if name in record and record[name] is not None and not field.write_only:
            data[name] = record[name]
    if not str(data.get("title", "")).strip():
        data["title"] = account_titles[record["accountId"]]  # what GET reads back
    return data


def write_files(folder: Path, records: list[dict[str, Any]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for data in records:
        text = HEADER + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
        (folder / f"{data['id']}.yaml").write_text(text, encoding="utf-8")


def drift(records: list[dict[str, Any]], count: int, rng: random.Random) -> None:
    for data in rng.sample(records, count):
        data["value"] = round(float(data.get("value", 0)) + 1250.0, 2)


def parse_only(files: list[Path]) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for path in files:
            yaml.load(path.read_bytes(), Loader=yaml.CSafeLoader)
        best = min(best, time.perf_counter() - start)
    return best


def run_plan_cli(folder: Path, out: Path, env: dict[str, str]) -> tuple[float, int, float]:
    """Wall seconds, exit code and peak RSS (MB) of one `reconciler plan` child process."""
    cmd = [
        sys.executable, "-m", "reconciler", "plan", "--dir", str(folder), "--format", "json",
        "--out", str(out), "--state", str(folder.parent / "state.json"),
    ]  # fmt: skip
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 2):
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"plan failed with exit {code}: {err}")
    return wall, code, usage.ru_maxrss / 1024


def measure_apply(url: str, key: str, folder: Path) -> tuple[int, float, int, int]:
    records, files = load_records(folder)
    settings = ClientSettings(base_url=url, api_key=key)
    state = State.load(folder.parent / "apply-state.json")

    async def go() -> tuple[int, float, int]:
        async with ApiClient(settings) as client:
            run = await compute_plan(client, records, state, files=files)
            before = client.requests_sent
            start = time.perf_counter()
            report = await run_apply(
                client, run.plan, state, ApplyOptions(force=True), live=run.live.records,
                stop=asyncio.Event(),
            )  # fmt: skip
            elapsed = time.perf_counter() - start
            return len(report.outcomes), elapsed, client.requests_sent - before

    changes, elapsed, sent = asyncio.run(go())
    log = control(url, key, "GET", "requests")
    throttled = sum(1 for r in log if r.get("status") == 429)
    return changes, elapsed, sent, throttled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--drift", type=float, default=0.05)
    parser.add_argument("--apply", type=int, default=500)
    args = parser.parse_args()
    rng = random.Random(1)

    with tempfile.TemporaryDirectory(prefix="reconciler-bench-") as tmp:
        root = Path(tmp)
        seed = generate(args.records, rng_seed=1)
        for record in seed["opportunities"]:
            record["isActive"] = True  # archived records would be plan errors, not changes
        seed_file = root / "seed.json"
        seed_file.write_text(json.dumps(seed))
        titles = {a["id"]: a["title"] for a in accounts()}
        base = [desired_from_live(r, titles) for r in seed["opportunities"]]
        desired = [dict(d) for d in base]
        drifted = int(args.records * args.drift)
        drift(desired, drifted, rng)
        folder = root / "opportunities"
        write_files(folder, desired)
        files = sorted(folder.glob("*.yaml"))

        proc, url, key = start_sandbox(seed_file)
        try:
            env = os.environ | {"COPERNIQ_API_URL": url, "COPERNIQ_API_KEY": key}
            parse = parse_only(files)
            runs = [run_plan_cli(folder, root / "plan.json", env) for _ in range(5)]
            wall, _, _ = min(runs)
            peak = max(r[2] for r in runs)
            plan = json.loads((root / "plan.json").read_text())
            print(f"records live / files / drifted:   {args.records} / {len(files)} / {drifted}")
            print(f"plan wall time (CLI, best of 5):  {wall:.2f} s")
            print(f"PyYAML C loader alone (best of 3): {parse:.2f} s")
            print(f"ratio plan / parse:               {wall / parse:.2f}  (target <= 2.0)")
            print(f"requests spent by the plan:       {plan['requests']['spent']}  (target <= 101)")
            print(f"changes in the plan:              {plan['summary']['update']}")
            print(f"peak memory of the plan process:  {peak:.0f} MB  (target <= 300 MB)")

            # Apply: a fresh drift of `--apply` records, the sandbox limited to 100 requests/s.
            desired = [dict(d) for d in base]
            drift(desired, args.apply, rng)
            write_files(folder, desired)
            control(url, key, "POST", "reset")
            control(url, key, "PUT", "limits", {"rate_per_second": 100, "rate_per_day": 100000})
            changes, elapsed, sent, throttled = measure_apply(url, key, folder)
            print(f"apply: {changes} changes, {sent} requests in {elapsed:.2f} s")
            print(f"apply requests per second:        {sent / elapsed:.1f}  (target >= 90)")
            print(f"429 answers received:             {throttled}  (target 0)")
        finally:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()
