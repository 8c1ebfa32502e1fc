"""A small hand-written seed whose records each exercise something (a blank title, an archived
record, a workflow with phases, multi-select custom values), one sandbox per test module with
limits raised out of the way, brought back to the seed before every test, and an httpx client
that sends its key."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from reconciler.sandbox import Faults, Sandbox, SandboxConfig, run_sandbox

_SEED: dict[str, Any] = {
    "opportunities": [
        {
            "id": 1,
            "title": "Ramirez Solar",
            "address": ["123 Main St, Austin, TX 78701"],
            "trades": ["Solar", "Battery Storage"],
            "accountId": 201,
            "workflowId": 301,
            "phaseId": 3012,
            "value": 1000,
            "size": 7.5,
            "confidence": 50,
            "status": "ON_HOLD",
            "primaryEmail": "maria.ramirez@example.com",
            "primaryPhone": "+1 512-555-0101",
            "contacts": [501, 502],
            "custom": {
                "financing_type": "Loan",
                "hoa_approval": "no",
                "panel_brands": ["REC", "Qcells"],
                "system_size_kw": 7.5,
            },
            "createdAt": "2026-01-01T09:00:00Z",
            "updatedAt": "2026-01-10T10:00:00Z",
        },
        {
            "id": 2,
            "title": "",
            "address": ["55 Oak Ave, Denver, CO 80202"],
            "trades": ["Roofing"],
            "accountId": 203,
            "value": 18500.5,
            "description": "Flat roof over the dental office",
            "primaryEmail": "d.okafor@oakridgedental.example.com",
            "contacts": [505],
            "createdAt": "2026-01-02T09:00:00Z",
            "updatedAt": "2026-02-01T10:00:00Z",
        },
        {
            "id": 3,
            "title": "Patel Reroof (lost)",
            "address": ["9 Elm Ct, Phoenix, AZ 85001"],
            "trades": ["Roofing", "Solar"],
            "accountId": 204,
            "isActive": False,
            "createdAt": "2026-01-03T09:00:00Z",
            "updatedAt": "2026-03-01T10:00:00Z",
        },
        {
            "id": 4,
            "title": "Greenfield Elementary HVAC",
            "address": ["700 School Rd, Raleigh, NC 27601"],
            "trades": ["HVAC"],
            "accountId": 205,
            "workflowId": 303,
            "phaseId": 3031,
            "value": 64000,
            "confidence": 90,
            "primaryPhone": "+1 919-555-0108",
            "contacts": [508],
            "custom": {"lead_source": "Referral", "site_survey_date": "2026-04-15"},
            "createdAt": "2026-01-04T09:00:00Z",
            "updatedAt": "2026-04-01T10:00:00Z",
        },
        {
            "id": 5,
            "title": "Chen Solar + EV",
            "address": ["42 Lake Dr, San Diego, CA 92101"],
            "trades": ["Solar", "EV Charger"],
            "accountId": 202,
            "value": 31000,
            "primaryEmail": "wei.chen@example.com",
            "contacts": [503],
            "custom": {"utility_company": "SDG&E", "roof_type": "Tile"},
            "createdAt": "2026-01-05T09:00:00Z",
            "updatedAt": "2026-05-01T10:00:00Z",
        },
    ]
}

ACTIVE_IDS = [1, 2, 4, 5]
RELAXED = SandboxConfig(rate_per_second=100_000, rate_per_day=10_000_000)


def seed() -> dict[str, Any]:
    return copy.deepcopy(_SEED)


@pytest.fixture(scope="module")
def shared_sandbox() -> Iterator[Sandbox]:
    with run_sandbox(seed(), RELAXED) as sb:
        yield sb


@pytest.fixture
def sb(shared_sandbox: Sandbox) -> Sandbox:
    shared_sandbox.set_faults(Faults())
    shared_sandbox.set_limits(RELAXED.rate_per_second, RELAXED.rate_per_day)
    shared_sandbox.reset()
    return shared_sandbox


@pytest.fixture(scope="module")
def shared_client(shared_sandbox: Sandbox) -> Iterator[httpx.Client]:
    # One client per module: building one costs ~25 ms (httpx prepares TLS even for http).
    with client_for(shared_sandbox, shared_sandbox.api_key) as client:
        yield client


@pytest.fixture
def api(sb: Sandbox, shared_client: httpx.Client) -> httpx.Client:
    return shared_client


def client_for(sb: Sandbox, key: str | None) -> httpx.Client:
    """A client sending `key` (None: no x-api-key header at all)."""
    headers = {} if key is None else {"x-api-key": key}
    return httpx.Client(base_url=sb.base_url, headers=headers)
