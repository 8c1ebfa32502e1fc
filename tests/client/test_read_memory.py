"""A large read holds each record once, and no page longer than it must (issue 11: memory held
to a small per-record cost at 50,000 records)."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

import httpx

from reconciler.budget import SWEEP_EVERY, Budgeted
from reconciler.client import ApiClient
from reconciler.gcpause import quiet_gc
from reconciler.live import read_live
from reconciler.loader import load_file
from reconciler.sandbox import Sandbox
from reconciler.snapshot_file import KEPT

from .conftest import RECORDS, settings_for


def test_a_read_keeps_one_projected_copy_of_each_record_and_sweeps_its_pages(
    sandbox: Sandbox,
) -> None:
    async def read() -> tuple[Budgeted, dict[int, dict[str, object]]]:
        async with ApiClient(settings_for(sandbox)) as client:
            budget = Budgeted(client)
            wanted = range(1, RECORDS + 1)  # 100 pages of 10
            snapshot = await read_live(budget, wanted, known_total=RECORDS, page_size=10)
            return budget, dict(snapshot.records)

    with quiet_gc():
        budget, records = asyncio.run(read())
        # Every answer is cyclic garbage (an httpx response and its stream refer to each
        # other): collected every SWEEP_EVERY pages, not kept to the end of the phase.
        responses = sum(isinstance(o, httpx.Response) for o in gc.get_objects())
    gc.unfreeze()
    assert len(records) == RECORDS
    assert all(records[i] is budget.records[i] for i in records)  # one copy, shared
    assert all(record.keys() <= KEPT for record in records.values())
    assert responses <= SWEEP_EVERY + budget.concurrency < budget.requests_sent


def test_files_share_their_field_names(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / f"{name}.yaml").write_text(
            f"id: 1\ntitle: {name}\ntrades: [Solar]\ncustom: {{roof_type: Metal}}\n",
            encoding="utf-8",
        )
    a, b = (load_file(tmp_path / f"{name}.yaml").data for name in ("a", "b"))
    assert all(x is y for x, y in zip(a, b, strict=True))  # the keys: one string each
    assert a["trades"][0] is b["trades"][0]  # and the short values files repeat
    assert next(iter(a["custom"])) is next(iter(b["custom"]))
