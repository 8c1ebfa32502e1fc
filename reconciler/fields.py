"""The field model: how every opportunity field behaves, in one table.

This is the single place that says which field is write-only, set-like, nullable, numeric or
merged key by key (from `shared/api/CONTRACT.md`, section 2). The diff, the schema checks and
the renderers read it; nobody re-encodes a field's rules. The sandbox deliberately does not import
it: an emulator that shares the code under test shares its bugs.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass


class Compare(enum.Enum):
    """How a desired value is compared with a live one."""

    EXACT = "exact"  # strings, integers, enums, the one-element address list
    NUMERIC = "numeric"  # 1000 == 1000.0
    SET = "set"  # order carries no meaning: trades, contacts
    MERGE = "merge"  # `custom`: compared and patched key by key; absent keys are unmanaged


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    compare: Compare
    nullable: bool = False  # an explicit `null` in a file clears the live value
    write_only: bool = False  # accepted by PATCH, never returned by GET
    required: bool = False  # required in every file; the published PATCH schema marks it required
    personal: bool = False  # contact data: masked in Markdown unless --no-mask


KEY = "id"
"""The record key: in every file, never in a PATCH body (it is the path)."""

FIELDS: Mapping[str, Field] = {
    f.name: f
    for f in (
        Field("title", Compare.EXACT, required=True),
        Field("address", Compare.EXACT, required=True),
        Field("trades", Compare.SET, required=True),
        Field("description", Compare.EXACT, nullable=True),
        Field("accountId", Compare.EXACT, nullable=True),
        Field("workflowId", Compare.EXACT, nullable=True),
        Field("phaseId", Compare.EXACT, nullable=True),
        Field("value", Compare.NUMERIC),
        Field("size", Compare.NUMERIC),
        Field("confidence", Compare.NUMERIC),
        Field("status", Compare.EXACT, write_only=True),
        Field("primaryEmail", Compare.EXACT, personal=True),
        Field("primaryPhone", Compare.EXACT, personal=True),
        Field("contacts", Compare.SET, write_only=True),
        Field("custom", Compare.MERGE),
    )
}
"""Every field a desired-state file may declare besides `id`, in canonical order."""

FILE_SETTINGS: tuple[str, ...] = ("allow_new_options",)
"""Keys a file may declare that are not Coperniq fields: never diffed, never sent (they steer how
reconciler sends the file's changes; `allow_new_options` is documented in README "Authoring")."""

REQUIRED_ON_PATCH: tuple[str, ...] = tuple(f.name for f in FIELDS.values() if f.required)
"""Sent on every PATCH with --send-required, for servers that enforce the published schema."""

STATUSES: tuple[str, ...] = ("ACTIVE", "ON_HOLD", "CANCELLED", "COMPLETED")

READ_ONLY: frozenset[str] = frozenset(
    {
        "createdAt",
        "createdBy",
        "createdById",
        "updatedAt",
        "updatedBy",
        "number",
        "isActive",
        "owner",
        "salesRep",
        "projectManager",
        "jurisdiction",
        "phase",
        "phaseInstances",
        "workflowName",
        "city",
        "state",
        "street",
        "zipcode",
        "geoLocation",
        "imageUrl",
        "streetViewUrl",
        "lastActivity",
    }
)
"""Fields the API returns but never accepts: a file that declares one is rejected as read-only."""
