"""Benchmark: the sandbox serving pages of a 10,000-record database, and its sustained rate.

Starts `reconciler sandbox` as a separate process on loopback (so that the clients do not share
its GIL), seeded with N generated records, limits raised out of the way. Then it measures:

- the time to serve a 100-record page (`GET /opportunities?page=P&page_size=100`, pages spread
  over the whole database), seen by one keep-alive client: median and 95th percentile;
- the sustained requests per second of C concurrent keep-alive connections for D seconds, for
  small reads (`GET /opportunities/{id}`) and for PATCHes that really change a record.

The load clients are minimal HTTP/1.1 writers and readers on asyncio streams, so that the figure
is the server's, not the client library's.
Target (issue 3): median page time under 20 ms.
Usage: python benchmarks/sandbox.py [--records 10000] [--clients 8] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from sandbox_process import start_sandbox

from reconciler.sandbox import generate


def page_times(url: str, key: str, records: int, samples: int) -> list[float]:
    pages = max(1, records // 100)
    rng = random.Random(1)
    times: list[float] = []
    with httpx.Client(base_url=url, headers={"x-api-key": key}) as client:
        for i in range(samples + 10):
            page = rng.randint(1, pages)
            started = time.perf_counter()
            answer = client.get("/opportunities", params={"page": page, "page_size": 100})
            elapsed = time.perf_counter() - started
            assert answer.status_code == 200 and len(answer.json()) > 0, answer.text[:200]
            if i >= 10:  # the first few warm the connection and SQLite's page cache
                times.append(elapsed)
    return times


async def _connection(
    host: str, port: int, requests: list[bytes], stop: float, counts: list[int]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    i = 0
    try:
        while time.perf_counter() < stop:
            writer.write(requests[i % len(requests)])
            i += 1
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = int(re.search(rb"(?i)content-length: (\d+)", head).group(1))  # type: ignore[union-attr]
            await reader.readexactly(length)
            counts[status >= 400] += 1
    finally:
        writer.close()


def sustained(
    url: str, key: str, requests: list[bytes], clients: int, seconds: float
) -> tuple[float, int]:
    host, port = url.removeprefix("http://").rsplit(":", 1)

    async def run() -> tuple[int, int]:
        counts = [0, 0]
        stop = time.perf_counter() + seconds
        await asyncio.gather(
            *(
                _connection(host, int(port), requests[c::clients] or requests, stop, counts)
                for c in range(clients)
            )
        )
        return counts[0], counts[1]

    started = time.perf_counter()
    ok, failed = asyncio.run(run())
    return ok / (time.perf_counter() - started), failed


def get_request(host: str, key: str, record_id: int) -> bytes:
    return (
        f"GET /opportunities/{record_id} HTTP/1.1\r\nHost: {host}\r\nx-api-key: {key}\r\n\r\n"
    ).encode()


def patch_request(host: str, key: str, record_id: int, value: int) -> bytes:
    body = json.dumps({"value": value, "custom": {"utility_company": f"Utility {value}"}})
    return (
        f"PATCH /opportunities/{record_id} HTTP/1.1\r\nHost: {host}\r\nx-api-key: {key}\r\n"
        f"content-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n{body}"
    ).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--samples", type=int, default=300)
    args = parser.parse_args()

    seed = generate(args.records)
    active = [r["id"] for r in seed["opportunities"] if r["isActive"]]
    with tempfile.TemporaryDirectory() as tmp:
        seed_file = Path(tmp) / "seed.json"
        seed_file.write_text(json.dumps(seed))
        started = time.perf_counter()
        proc, url, key = start_sandbox(seed_file)
        elapsed = time.perf_counter() - started
        print(f"sandbox with {args.records:,} records started in {elapsed:.2f} s")
        try:
            times = page_times(url, key, len(active), args.samples)
            median = statistics.median(times) * 1000
            p95 = statistics.quantiles(times, n=20)[-1] * 1000
            verdict = "OK" if median < 20 else "OVER TARGET"
            print(
                f"100-record page: median {median:.1f} ms, p95 {p95:.1f} ms over {len(times)} "
                f"requests (target < 20 ms: {verdict})"
            )
            host = url.removeprefix("http://")
            rng = random.Random(2)
            gets = [get_request(host, key, rng.choice(active)) for _ in range(1000)]
            rate, failed = sustained(url, key, gets, args.clients, args.seconds)
            print(
                f"GET /opportunities/{{id}}: {rate:,.0f} requests/s sustained over "
                f"{args.seconds:g} s by {args.clients} keep-alive connections ({failed} errors)"
            )
            patches = [patch_request(host, key, rng.choice(active), n) for n in range(1000)]
            rate, failed = sustained(url, key, patches, args.clients, args.seconds)
            print(
                f"PATCH (a real change each): {rate:,.0f} requests/s sustained over "
                f"{args.seconds:g} s by {args.clients} keep-alive connections ({failed} errors)"
            )
        finally:
            proc.terminate()
            proc.wait(timeout=20)


if __name__ == "__main__":
    main()
