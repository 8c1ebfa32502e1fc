"""A sandbox with 1,000 generated opportunities (ids 1..1000, about 3% archived), shared by the
client tests of one module and brought back to its seed before each test; and client settings
that point at it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from reconciler.client import ClientSettings
from reconciler.sandbox import Faults, Sandbox, generate, run_sandbox

RECORDS = 1000
SEED = generate(RECORDS)
ARCHIVED = frozenset(r["id"] for r in SEED["opportunities"] if not r["isActive"])


@pytest.fixture(scope="module")
def _sandbox() -> Iterator[Sandbox]:
    with run_sandbox(SEED) as sb:
        yield sb


@pytest.fixture
def sandbox(_sandbox: Sandbox) -> Sandbox:
    # Restoring 1,000 records takes a tenth of a second: only after a test that wrote something
    # (every write goes through the logged API, and the log is cleared for each test).
    wrote = any(r.method != "GET" and r.status < 400 for r in _sandbox.requests())
    _sandbox.set_faults(Faults())
    _sandbox.set_limits(rate_per_second=100, rate_per_day=5000)
    if wrote:
        _sandbox.reset()
    else:
        _sandbox.clear_log()
    return _sandbox


def settings_for(sb: Sandbox, **overrides: Any) -> ClientSettings:
    """Production's /v1 prefix on the sandbox, and backoff short enough for fault storms."""
    options: dict[str, Any] = {
        "base_url": f"{sb.base_url}/v1",
        "api_key": sb.api_key,
        "backoff_base": 0.001,
        "backoff_max": 0.01,
        **overrides,
    }
    return ClientSettings(**options)
