"""The field model: how every opportunity field behaves, in one table.

This is the single place that says which field is write-only, set-like, nullable, numeric or
merged key by key (from `shared/api/CONTRACT.md`, section 2). The diff, the schema checks and
the renderers read it; nobody re-encodes a field's rules. The sandbox deliberately does not import
it: an emulator that shares the code under test shares its bugs.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any


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
    # Values are options of the property catalogue: a field named like a standard property
    # (`trades`) has its options; a MERGE field's keys are custom properties, each with its own.
    catalogued: bool = False
    # MERGE only: how the value under one key compares (a scalar exactly, numbers numerically,
    # a multi-select list as a set).
    key_compare: Compare | None = None
    block: bool = False  # written as a block list in files (one item a line), others in flow style

    @property
    def merged(self) -> bool:
        return self.compare is Compare.MERGE


KEY = "id"
"""The record key: in every file, never in a PATCH body (it is the path)."""

FIELDS: Mapping[str, Field] = {
    f.name: f
    for f in (
        Field("title", Compare.EXACT, required=True),
        Field("address", Compare.EXACT, required=True, block=True),
        Field("trades", Compare.SET, required=True, catalogued=True),
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
        Field("custom", Compare.MERGE, catalogued=True, key_compare=Compare.SET),
    )
}
"""Every field a desired-state file may declare besides `id`, in canonical order."""

FILE_SETTINGS: tuple[str, ...] = ("allow_new_options",)
"""Keys a file may declare that are not Coperniq fields: never diffed, never sent (they steer how
reconciler sends the file's changes; `allow_new_options` is documented in README "Authoring")."""

WRITE_ONLY: frozenset[str] = frozenset(f.name for f in FIELDS.values() if f.write_only)
"""Accepted by PATCH, never returned by GET: compared with the state file's last applied value."""

MERGED: tuple[str, ...] = tuple(f.name for f in FIELDS.values() if f.merged)
"""Fields compared and patched key by key (`custom`)."""

REQUIRED_ON_PATCH: tuple[str, ...] = tuple(f.name for f in FIELDS.values() if f.required)
"""Sent on every PATCH with --send-required, for servers that enforce the published schema."""

WRITE_ONLY_NAMES = ", ".join(f.name for f in FIELDS.values() if f.write_only)
"""`status, contacts`: how help texts and messages list the write-only fields."""

REQUIRED_NAMES = " and ".join(
    filter(None, (", ".join(REQUIRED_ON_PATCH[:-1]), REQUIRED_ON_PATCH[-1]))
)
"""`title, address and trades`: how help texts list the fields every file must declare."""
MATCH_FIELDS: tuple[str, ...] = ("title", "primaryEmail", "primaryPhone", "address")
"""The fields `POST /opportunities` can match an existing record on (`match_by`); title first,
the API's default."""


def match_value(data: Mapping[str, Any], match_by: str) -> str | None:
    """The value of a record (a file's data or a live record) that a create is matched on:
    `address` is its one string; None when absent or empty."""
    value = data.get(match_by)
    if match_by == "address" and isinstance(value, list) and len(value) == 1:
        value = value[0]
    return value if isinstance(value, str) and value else None


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


@dataclass(frozen=True, slots=True, order=True)
class FieldPath:
    """A field as plans, drift reports and adopt name it: `title`, or `custom.KEY` for one key
    of a merged field. It parses, reads and writes itself, so no other module spells a merged
    field's name or splits on its dot."""

    top: str
    key: str | None = None

    @classmethod
    def parse(cls, name: str) -> FieldPath:
        """`custom.hoa` -> FieldPath("custom", "hoa"); any other name is a top-level field."""
        head, dot, rest = name.partition(".")
        if dot and head in FIELDS and FIELDS[head].merged:
            return cls(head, rest)
        return cls(name)

    def __str__(self) -> str:
        return self.top if self.key is None else f"{self.top}.{self.key}"

    @property
    def spec(self) -> Field | None:
        """The table entry of the top-level field (None for a name the table does not know)."""
        return FIELDS.get(self.top)

    @property
    def compare(self) -> Compare:
        """How a value at this path compares: a merged field's key uses its `key_compare`."""
        spec = self.spec
        if spec is None:
            return Compare.EXACT
        if self.key is not None:
            return spec.key_compare or Compare.EXACT
        return spec.compare

    @property
    def readable(self) -> bool:
        """Whether GET returns it (write-only fields cannot be checked by reading)."""
        spec = self.spec
        return spec is None or not spec.write_only

    def read(self, record: Mapping[str, Any]) -> Any:
        """The value at this path in a record or file's data; None where absent."""
        if self.key is None:
            return record.get(self.top)
        inner = record.get(self.top)
        return inner.get(self.key) if isinstance(inner, Mapping) else None

    def write(self, record: MutableMapping[str, Any], value: Any) -> None:
        """Set the value at this path, creating the merged mapping when it is absent."""
        if self.key is None:
            record[self.top] = value
            return
        inner = record.get(self.top)
        if not isinstance(inner, MutableMapping):
            inner = record[self.top] = {}
        inner[self.key] = value


def is_write_only(name: str) -> bool:
    """Whether a plan field name (`status`, `custom.KEY`) is a write-only field."""
    return not FieldPath.parse(name).readable


# --- facts about a live record (CONTRACT 2 and 4) -----------------------------------------------


def is_archived(live: Mapping[str, Any]) -> bool:
    """Archived in Coperniq (`isActive: false`): it cannot be updated, only restored there."""
    return live.get("isActive") is False


def shown_title(desired: Mapping[str, Any], live: Mapping[str, Any] | None) -> str:
    """The title to show for a record: the file's, else the live one (a file may omit it)."""
    return str(desired.get("title") or (live or {}).get("title") or "")


def updated_at(live: Mapping[str, Any]) -> str | None:
    """The live record's `updatedAt`, when it is a string (the API's ISO 8601 instant)."""
    value = live.get("updatedAt")
    return value if isinstance(value, str) else None
