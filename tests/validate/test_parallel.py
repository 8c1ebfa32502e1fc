"""Loading many files in worker processes gives exactly what the serial path gives."""

from __future__ import annotations

import concurrent.futures
import threading
from pathlib import Path

import pytest

from reconciler import checking, validate

GOOD = """id: {id}
title: Deal {id}
address: ["{id} Main St, Austin, TX 78701"]
trades: [Solar]
custom: {{hoa_approval: no}}
"""


def make_files(folder: Path, n: int) -> None:
    for i in range(1, n + 1):
        text = GOOD.format(id=i)
        if i % 7 == 0:
            text += "city: Austin\n"  # read-only field
        if i % 11 == 0:
            text = text.replace("title: Deal", "title: [")  # malformed YAML
        if i % 13 == 0:
            text = text.replace(f"id: {i}", "id: 1")  # duplicate id
        (folder / f"{i:03}.yaml").write_text(text, encoding="utf-8")


def test_parallel_load_equals_serial(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_files(tmp_path, 120)
    monkeypatch.setattr(checking, "PARALLEL_FROM", 10**9)
    serial = validate.load_desired([tmp_path])
    monkeypatch.setattr(checking, "PARALLEL_FROM", 10)
    calls: list[int] = []
    real = concurrent.futures.ProcessPoolExecutor

    class Counting(real):  # type: ignore[misc, valid-type]
        def __init__(self, *args: object, **kwargs: object) -> None:
            calls.append(1)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", Counting)
    parallel = validate.load_desired([tmp_path])
    if threading.active_count() == 1 and checking.worker_count() > 1:
        assert calls, "the parallel path was not taken"
    assert parallel == serial
    assert serial.problems  # the mix of bad files was reported
    assert len(serial.documents) < 120
