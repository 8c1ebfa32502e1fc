"""Benchmark: the API client's rate limiter against a sandbox limited to 100 requests per second.

Starts the sandbox as a separate process on loopback (so that it does not share this process's
GIL), seeded with 1,000 generated records and limited to 100 requests/s (and a daily quota large
enough not to matter). Then, through `ApiClient` with its defaults (100/s, concurrency 8):

- `--patches` PATCHes, all started at once (an apply's worst burst), and
- the same number of GETs, likewise,

and for each prints the requests sent, the wall time, requests per second achieved and the 429
answers the sandbox gave (from its request log). A second round repeats it with 50 ms of injected
latency per request, closer to a real network. Targets (issue 4): >= 90 req/s, 0 429s.

Usage: python benchmarks/ratelimit.py [--patches 500] [--rate 100] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sandbox_process import control, start_sandbox

from reconciler.client import ApiClient, ClientSettings
from reconciler.sandbox import generate

RECORDS = 1000


def burst(
    settings: ClientSettings, calls: list[Callable[[ApiClient], Awaitable[Any]]]
) -> tuple[int, float, int]:
    """All calls at once through one client: (requests sent, seconds, 429s the client saw)."""

    async def go() -> tuple[int, float, int]:
        async with ApiClient(settings) as api:
            start = time.perf_counter()
            await asyncio.gather(*(call(api) for call in calls))
            return api.requests_sent, time.perf_counter() - start, api.throttled

    return asyncio.run(go())


def measure(url: str, key: str, settings: ClientSettings, n: int, label: str) -> None:
    ids = [r["id"] for r in generate(RECORDS)["opportunities"] if r["isActive"]][:n]
    ids = (ids * (n // len(ids) + 1))[:n]
    rounds: dict[str, list[Callable[[ApiClient], Awaitable[Any]]]] = {
        "PATCH": [
            (lambda api, i=i, k=k: api.patch(i, {"description": f"benchmark note {k}"}))
            for k, i in enumerate(ids)
        ],
        "GET": [(lambda api, i=i: api.get(i)) for i in ids],
    }
    for method, calls in rounds.items():
        control(url, key, "POST", "reset")  # fresh rate windows, empty log
        time.sleep(1.1)  # let the previous round's window drain on the server's clock too
        sent, seconds, throttled = burst(settings, calls)
        log = control(url, key, "GET", "requests")
        answered_429 = sum(1 for r in log if r["status"] == 429)
        print(
            f"  {label:<18} {method:<5} {sent:>5} requests in {seconds:6.2f} s = "
            f"{sent / seconds:6.1f} req/s; 429 answers: {answered_429} (client saw {throttled})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patches", type=int, default=500)
    parser.add_argument("--rate", type=int, default=100, help="the sandbox's and client's limit")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        seed_file = Path(tmp) / "seed.json"
        seed_file.write_text(json.dumps(generate(RECORDS)), encoding="utf-8")
        proc, url, key = start_sandbox(
            seed_file, rate_per_second=args.rate, rate_per_day=10_000_000
        )
        try:
            settings = ClientSettings(
                base_url=f"{url}/v1",
                api_key=key,
                rate_per_second=args.rate,
                concurrency=args.concurrency,
            )
            print(
                f"sandbox limited to {args.rate} req/s; client: {args.rate} req/s, "
                f"concurrency {args.concurrency}, window {settings.rate_window} s"
            )
            measure(url, key, settings, args.patches, "loopback")
            control(url, key, "PUT", "faults", {"latency": 0.05})
            measure(url, key, settings, args.patches, "+50 ms latency")
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    print("targets: >= 90 req/s with 0 429 answers")


if __name__ == "__main__":
    main()
