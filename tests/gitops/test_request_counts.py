"""What `import --all` and `drift` cost against a 2,000-record company (issue 5: <= 21 each).

The counts are deterministic (a generated seed, pages of 100), so they are asserted exactly; the
timing lives in benchmarks/gitops.py.
"""

from __future__ import annotations

from typing import Any

from reconciler.sandbox import generate

RECORDS = 2000


def test_import_all_then_drift_cost_one_request_per_page(make_repo: Any) -> None:
    seed = generate(RECORDS)
    active = sum(1 for r in seed["opportunities"] if r["isActive"])
    repo = make_repo(seed)

    imported = repo.run("import", "--all")
    assert imported.code == 0, imported.err
    listing = repo.sandbox.requests()
    # Active records only, 100 a page, until the first short page.
    assert len(listing) == active // 100 + 1 <= 21
    assert [int(r.query["page"]) for r in listing] == list(range(1, len(listing) + 1))
    assert f"Requests: {len(listing)} spent" in imported.out

    repo.sandbox.clear_log()
    drift = repo.run("drift", "--detailed-exitcode")
    assert drift.code == 0, drift.out + drift.err
    # Archived records included, ascending ids: the listing stops once it passes id 2,000.
    assert len(repo.sandbox.requests()) == RECORDS // 100 <= 21
    assert f"Requests: {RECORDS // 100} spent" in drift.out
