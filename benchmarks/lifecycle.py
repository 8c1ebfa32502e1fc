"""Benchmark: the request cost of planning `--new` files without id over `--records` live records.

Starts the sandbox as a separate process on loopback, seeded with N generated records, and runs
`reconciler plan --format json` (a child process, as a user runs it) in three situations, each
reading `requests.spent` from the JSON plan and the request log of the sandbox:

1. every live record has its file, plus `--new` files without id: the listing the plan reads
   anyway is read on to its end and answers every create's match check (no lookup request);
2. only the `--new` files, with a state file that knows the live count: one filtered listing
   request per new file (cheaper than reading every page);
3. only the `--new` files and no state file: the live count is unknown, so a listing could cost
   anything: one filtered request per new file.

Then it applies situation 1 (the creates: one POST each) and plans again (no changes).
Targets (issue 10): situation 1 spends no more than the listing alone plus one (the catalogue,
which checks the creates' trades); situations 2 and 3 one request per new file plus the
catalogue; the second plan shows no changes.
Usage: python benchmarks/lifecycle.py [--records 10000] [--new 100]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from plan import desired_from_live, write_files
from sandbox_process import control, start_sandbox

from reconciler.sandbox import generate
from reconciler.sandbox.catalogue import accounts


def new_files(folder: Path, count: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        data = {
            "title": f"Benchmark New Opportunity {i:04d}",
            "address": [f"{i} Benchmark Way, Austin, TX 78701"],
            "trades": ["Solar"],
            "value": 1000 + i,
        }
        text = yaml.safe_dump(data, sort_keys=False)
        (folder / f"new-{i:04d}.yaml").write_text(text, encoding="utf-8")


def plan(folder: Path, state: Path, env: dict[str, str]) -> tuple[dict[str, Any], float]:
    cmd = [
        sys.executable, "-m", "reconciler", "plan", "--dir", str(folder), "--format", "json",
        "--state", str(state),
    ]  # fmt: skip
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode not in (0, 2):
        raise SystemExit(f"plan failed with exit {proc.returncode}: {proc.stderr}")
    data: dict[str, Any] = json.loads(proc.stdout)
    return data, wall


def kinds(url: str, key: str) -> str:
    """The sandbox's request log since the last clear, by kind of request."""
    log = control(url, key, "GET", "requests")
    gets = [r for r in log if r["method"] == "GET"]
    catalogue = sum(1 for r in gets if r["path"].endswith("/properties"))
    lookups = sum(1 for r in gets if "title" in r["query"])
    listing = len(gets) - catalogue - lookups
    other = len(log) - len(gets)
    return f"{listing} pages/GETs, {lookups} filtered lookups, {catalogue} catalogue, {other} other"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--new", type=int, default=100)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="reconciler-bench-life-") as tmp:
        root = Path(tmp)
        seed = generate(args.records, rng_seed=1)
        for record in seed["opportunities"]:
            record["isActive"] = True
        seed_file = root / "seed.json"
        seed_file.write_text(json.dumps(seed))
        titles = {a["id"]: a["title"] for a in accounts()}
        full = root / "full" / "opportunities"
        write_files(full, [desired_from_live(r, titles) for r in seed["opportunities"]])
        new_files(full, args.new)
        only_new = root / "only-new" / "opportunities"
        new_files(only_new, args.new)
        known = root / "known-state.json"
        known.write_text(json.dumps({"format_version": "1", "live_total": args.records}))

        proc, url, key = start_sandbox(seed_file)
        try:
            env = os.environ | {"COPERNIQ_API_URL": url, "COPERNIQ_API_KEY": key}
            print(f"live records / new files:           {args.records} / {args.new}")
            situations = [
                ("1. all files + new files", full, root / "full" / "state.json"),
                ("2. new files only, count known", only_new, known),
                ("3. new files only, no state", only_new, root / "none.json"),
            ]
            spent: list[int] = []
            for label, folder, state in situations:
                control(url, key, "DELETE", "requests")
                data, wall = plan(folder, state, env)
                spent.append(data["requests"]["spent"])
                print(
                    f"{label + ':':36}{data['requests']['spent']} requests "
                    f"({kinds(url, key)}), {data['summary']['create']} creates, {wall:.2f} s"
                )
            listing = args.records // 100 + 1
            print(f"listing alone would cost:           {listing} pages")
            print(
                f"targets: 1 <= {listing + 1} (got {spent[0]}); 2 and 3 <= {args.new + 1} "
                f"(got {spent[1]}, {spent[2]})"
            )

            control(url, key, "DELETE", "requests")
            cmd = [
                sys.executable, "-m", "reconciler", "apply", "--dir", str(full), "--state",
                str(root / "full" / "state.json"), "--auto-approve", "--force",
            ]  # fmt: skip
            start = time.perf_counter()
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
            wall = time.perf_counter() - start
            posts = sum(1 for r in control(url, key, "GET", "requests") if r["method"] == "POST")
            print(f"apply of the creates:               exit {done.returncode}, {posts} POSTs, "
                  f"{wall:.2f} s")  # fmt: skip
            data, _ = plan(full, root / "full" / "state.json", env)
            gained = sum(1 for p in full.glob("new-*.yaml") if p.read_text().startswith("id: "))
            print(f"files that gained their id:         {gained} of {args.new}")
            print(f"second plan:                        {data['summary']}")
        finally:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()
