"""Benchmark: what the live snapshot cache and the file cache save, against the parse floor.

Starts the sandbox as its own process on loopback, seeded with N generated records (all active),
writes N desired-state files equal to live, and runs `reconciler` as a user does (a child process,
interpreter start included). Requests are counted by the sandbox (its request log). In the same
run it measures the PyYAML C-loader parse floor of the same files, and prints each figure of
issue 11's table beside its target:

  10,000 warm, nothing changed: plan            <= 2 requests, wall <= 0.4 x parse floor
  the same after 100 file and 100 live edits   <= 3 requests, changes identical to a cold plan
  drift, warm                                   <= 2 requests
  cold plan, 10,000                             <= 1.5 x parse floor, <= N/100 + 1 requests
  cold plan, 50,000 (--large)                   wall <= 5.5 x the 10,000 figure, RSS <= 400 MB
  import --all, 10,000                          <= 3 x parse floor

Usage: python benchmarks/incremental.py [--records 10000] [--large 50000] [--repeat 3]
                                       [--python PATH]
       (--large 0 skips the 50,000 case)

`reconciler` runs as a user installs it: by default from a fresh virtual environment holding
reconciler and its dependencies only (`pip install .`, about a minute to build), not from the
development one, whose test tools change what some libraries import at start-up (httpx imports
its command-line client, with rich and pygments, when they are installed). `--python` names an
interpreter to use instead (e.g. the development one: `--python .venv/bin/python`).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from plan import desired_from_live, parse_only, write_files
from sandbox_process import control, start_sandbox

from reconciler.sandbox import generate
from reconciler.sandbox.catalogue import accounts

PROJECT = Path(__file__).resolve().parents[1]


PYTHON = sys.executable  # set by main(): the interpreter reconciler runs with


def user_python(folder: Path) -> str:
    """A virtual environment with reconciler installed as a user installs it."""
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    pip = [str(folder / "bin" / "python"), "-m", "pip", "install", "-q", str(PROJECT)]
    subprocess.run(pip, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return str(folder / "bin" / "python")


class Bench:
    def __init__(self, root: Path, url: str, key: str) -> None:
        self.root = root
        self.url = url
        self.key = key
        self.env = os.environ | {
            "COPERNIQ_API_URL": url,
            "COPERNIQ_API_KEY": key,
            "NO_COLOR": "1",
        }

    def requests(self) -> int:
        return len(control(self.url, self.key, "GET", "requests"))

    def clear(self) -> None:
        control(self.url, self.key, "DELETE", "requests")

    def cli(self, *args: str, ok: tuple[int, ...] = (0, 2)) -> tuple[float, float, int, str]:
        """Wall seconds, peak RSS (MB), requests received and stdout of one child process."""
        self.clear()
        cmd = [PYTHON, "-m", "reconciler", *args]
        out_path, err_path = self.root / "stdout.txt", self.root / "stderr.txt"
        start = time.perf_counter()
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            proc = subprocess.Popen(cmd, cwd=self.root, env=self.env, stdout=out, stderr=err)
            _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        if code not in ok:
            raise SystemExit(
                f"`reconciler {' '.join(args)}` exited {code}:\n{err_path.read_text()}"
            )
        return wall, usage.ru_maxrss / 1024, self.requests(), out_path.read_text()


def setup(root: Path, records: int) -> tuple[list[dict[str, Any]], Path]:
    seed = generate(records, rng_seed=1)
    for record in seed["opportunities"]:
        record["isActive"] = True
    (root / "seed.json").write_text(json.dumps(seed))
    titles = {a["id"]: a["title"] for a in accounts()}
    desired = [desired_from_live(r, titles) for r in seed["opportunities"]]
    folder = root / "opportunities"
    write_files(folder, desired)
    shutil.copytree(PROJECT / "schemas", root / "schemas", dirs_exist_ok=True)
    return desired, folder


def plan_args(cache: str, *more: str) -> list[str]:
    return ["plan", "--format", "json", "--out", "plan.json", "--cache-dir", cache, *more]


def best(runs: list[tuple[float, float, int, str]]) -> tuple[float, float, int, str]:
    return min(runs, key=lambda r: r[0])


def changes_of(text: str) -> list[Any]:
    plan = json.loads(text)
    return [(c["id"], c["fields"]) for c in plan["changes"]]


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def run_main(records: int, repeat: int, rng: random.Random) -> float:
    """The 10,000 cases; returns the cold plan's wall time."""
    with tempfile.TemporaryDirectory(prefix="reconciler-incr-") as tmp:
        root = Path(tmp)
        desired, folder = setup(root, records)
        files = sorted(folder.glob("*.yaml"))
        proc, url, key = start_sandbox(root / "seed.json")
        try:
            b = Bench(root, url, key)
            floor = parse_only(files)
            print(f"records live / files: {records:,} / {len(files):,}")
            print(f"PyYAML C loader parse floor (best of 3): {floor:.2f} s")

            cold_runs = []
            for i in range(repeat):
                cold_runs.append(b.cli(*plan_args(f"cold-{i}")))
            cold = best(cold_runs)
            peak = max(r[1] for r in cold_runs)
            limit = records // 100 + 1
            print(
                f"cold plan: {cold[0]:.2f} s = {cold[0] / floor:.2f} x floor (target <= 1.5), "
                f"{cold[2]} requests (target <= {limit}), peak RSS {peak:.0f} MB  "
                f"[{verdict(cold[0] <= 1.5 * floor and cold[2] <= limit)}]"
            )

            b.cli(*plan_args("warm"))  # fills the warm cache
            warm = best([b.cli(*plan_args("warm")) for _ in range(repeat)])
            print(
                f"warm plan, nothing changed: {warm[0]:.2f} s = {warm[0] / floor:.2f} x floor "
                f"(target <= 0.4), {warm[2]} requests (target <= 2)  "
                f"[{verdict(warm[0] <= 0.4 * floor and warm[2] <= 2)}]"
            )

            # 100 file edits and 100 live edits, on different records.
            picked = rng.sample(range(len(desired)), 200)
            for i in picked[:100]:
                desired[i]["value"] = round(float(desired[i].get("value", 0)) + 1250.0, 2)
            write_files(folder, [desired[i] for i in picked[:100]])
            with httpx.Client(base_url=url, headers={"x-api-key": key}, timeout=60) as http:
                for i in picked[100:]:
                    rid = desired[i]["id"]
                    http.patch(f"/opportunities/{rid}", json={"confidence": 7}).raise_for_status()
            edited = b.cli(*plan_args("warm"))
            reference = b.cli(*plan_args("fresh", "--refresh", "full"))
            same = changes_of(edited[3]) == changes_of(reference[3])
            print(
                f"warm plan after 100 file + 100 live edits: {edited[0]:.2f} s, "
                f"{edited[2]} requests (target <= 3), {len(changes_of(edited[3]))} changes, "
                f"identical to a cold plan: {same}  [{verdict(edited[2] <= 3 and same)}]"
            )

            b.cli("drift", "--format", "json", "--cache-dir", "warm")
            drift = b.cli("drift", "--format", "json", "--cache-dir", "warm")
            print(
                f"drift, warm: {drift[0]:.2f} s, {drift[2]} requests (target <= 2)  "
                f"[{verdict(drift[2] <= 2)}]"
            )

            shutil.rmtree(root / "imported", ignore_errors=True)
            (root / "imported").mkdir()
            imported = best([_import(b, root) for _ in range(repeat)])
            print(
                f"import --all: {imported[0]:.2f} s = {imported[0] / floor:.2f} x floor "
                f"(target <= 3), {imported[2]} requests  [{verdict(imported[0] <= 3 * floor)}]"
            )
            return cold[0]
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def _import(b: Bench, root: Path) -> tuple[float, float, int, str]:
    target = root / "imported" / "opportunities"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    return b.cli("import", "--all", "--dir", str(target), "--state", "imported/state.json")


def run_large(records: int, cold_small: float) -> None:
    with tempfile.TemporaryDirectory(prefix="reconciler-incr-large-") as tmp:
        root = Path(tmp)
        _, folder = setup(root, records)
        files = sorted(folder.glob("*.yaml"))
        proc, url, key = start_sandbox(root / "seed.json")
        try:
            b = Bench(root, url, key)
            floor = parse_only(files)
            wall, rss, requests, _ = b.cli(*plan_args("cold"))
            print(
                f"cold plan, {records:,}: {wall:.2f} s = {wall / cold_small:.2f} x the "
                f"10,000 figure (target <= 5.5), parse floor {floor:.2f} s, {requests} requests, "
                f"peak RSS {rss:.0f} MB (target <= 400)  "
                f"[{verdict(wall <= 5.5 * cold_small and rss <= 400)}]"
            )
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--python", help="interpreter that runs reconciler (default: a fresh venv)")
    args = parser.parse_args()
    started = time.perf_counter()
    global PYTHON
    with tempfile.TemporaryDirectory(prefix="reconciler-venv-") as venv:
        PYTHON = args.python or user_python(Path(venv))
        print(
            f"reconciler runs with {'the given' if args.python else 'a fresh user'} "
            f"interpreter: {PYTHON}"
        )
        _run(args, started)


def _run(args: argparse.Namespace, started: float) -> None:
    cold_small = run_main(args.records, args.repeat, random.Random(1))
    if args.large:
        run_large(args.large, cold_small)
    print(f"(benchmark wall time {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
