"""Drift: where the live records have moved away from git, field by field, newest edit first.

Pure code. A drift report is the readable part of a plan seen from the other side: it is computed
by projecting the plan's own diff pass (`plan.diff_all`), so drift and plan can never disagree on
what "differs" means. For every desired record, the managed fields whose live value differs from
the file,
with the record's live `updatedAt` and `updatedBy`; the records the files name that are missing
or archived live; and the write-only fields the files declare, which no read can check (the API
does not return them), listed rather than silently passed over. The report has one stable dict
form (`format_version` "1", documented in the README) from which every view is rendered.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from reconciler.diff import FieldChange
from reconciler.fields import FIELDS
from reconciler.plan import DesiredRecord, ErrorKind, diff_all

FORMAT_VERSION = "1"


@dataclass(frozen=True, slots=True)
class Editor:
    """Who last edited a record (the API's `updatedBy` user summary)."""

    id: int | None
    name: str | None
    email: str | None

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        return f"user {self.id}" if self.id is not None else "unknown user"


@dataclass(frozen=True, slots=True)
class DriftedRecord:
    id: int
    file: str
    title: str
    fields: tuple[FieldChange, ...]  # `after` is git's value, `before` the live one
    updated_at: str | None
    updated_by: Editor | None


class Absence(enum.Enum):
    MISSING = "missing"
    ARCHIVED = "archived"
    FILE_REMOVED = "file_removed"  # a managed record (state file) whose file is gone


_ABSENCE = {ErrorKind.MISSING: Absence.MISSING, ErrorKind.ARCHIVED: Absence.ARCHIVED}


@dataclass(frozen=True, slots=True)
class AbsentRecord:
    """A record a file declares that does not exist live, or is archived."""

    id: int
    file: str
    kind: Absence


@dataclass(frozen=True, slots=True)
class Undetectable:
    """A write-only field some files declare: `ids` are their records, in id order."""

    field: str
    ids: tuple[int, ...]


@dataclass(frozen=True, slots=True, repr=False)
class DriftReport:
    drifted: tuple[DriftedRecord, ...]  # newest live edit first
    absent: tuple[AbsentRecord, ...]  # by id
    in_sync: int
    undetectable: tuple[Undetectable, ...] = ()
    requests: int = 0  # HTTP requests spent reading live state
    remaining: int | None = None  # the last X-RateLimit-Remaining seen
    checked_at: str | None = None  # when live state was read (ISO 8601, UTC), if the caller knows
    read: str | None = None  # which read it was (full, or changes since a mark), if cached

    def __repr__(self) -> str:  # see reconciler.plan.Plan.__repr__: never format every record
        return f"DriftReport({len(self.drifted)} drifted, {len(self.absent)} absent)"

    @property
    def has_drift(self) -> bool:
        return bool(self.drifted or self.absent)

    @property
    def checked(self) -> int:
        """Files checked (a managed record whose file was removed is not a file)."""
        return (
            len(self.drifted) + len(self.absent) - self.count(Absence.FILE_REMOVED) + self.in_sync
        )

    def count(self, kind: Absence) -> int:
        return sum(1 for a in self.absent if a.kind is kind)

    def summary(self) -> dict[str, int]:
        return {
            "drifted": len(self.drifted),
            "missing": self.count(Absence.MISSING),
            "archived": self.count(Absence.ARCHIVED),
            "file_removed": self.count(Absence.FILE_REMOVED),
            "in_sync": self.in_sync,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "checked_at": self.checked_at,
            "drifted": [_drifted_to_dict(d) for d in self.drifted],
            "absent": [{"id": a.id, "file": a.file, "kind": a.kind.value} for a in self.absent],
            "not_detectable": [{"field": u.field, "ids": list(u.ids)} for u in self.undetectable],
            "summary": self.summary(),
            "requests": {"spent": self.requests, "remaining": self.remaining, "read": self.read},
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"


def _drifted_to_dict(d: DriftedRecord) -> dict[str, Any]:
    editor = d.updated_by
    return {
        "id": d.id,
        "file": d.file,
        "title": d.title,
        "live_updated_at": d.updated_at,
        "live_updated_by": None
        if editor is None
        else {"id": editor.id, "name": editor.name, "email": editor.email},
        "fields": [{"field": f.field, "git": f.after, "live": f.before} for f in d.fields],
    }


def editor_of(value: Any) -> Editor | None:
    """The `updatedBy` user summary as an `Editor`; None when the API names nobody."""
    if isinstance(value, str) and value.strip():
        return Editor(None, value.strip(), None)
    if not isinstance(value, Mapping):
        return None
    raw_id = value.get("id")
    user_id = raw_id if isinstance(raw_id, int) and not isinstance(raw_id, bool) else None
    parts = [value.get("firstName"), value.get("lastName")]
    name = " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip()) or None
    email = value.get("email") if isinstance(value.get("email"), str) else None
    if user_id is None and name is None and email is None:
        return None
    return Editor(user_id, name, email)


def _instant(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _newest_first(record: DriftedRecord) -> tuple[int, float, int]:
    # Records whose updatedAt is absent or unreadable go last, in id order.
    moment = _instant(record.updated_at)
    return (0, -moment.timestamp(), record.id) if moment else (1, 0.0, record.id)


def find_drift(
    desired: Sequence[DesiredRecord],
    live: Mapping[int, Mapping[str, Any]],
    *,
    requests: int = 0,
    remaining: int | None = None,
    checked_at: str | None = None,
    removed: Mapping[int, str] | None = None,
    read: str | None = None,
) -> DriftReport:
    """Compare every desired record with its live record (absent from `live`: missing).

    A projection of the plan's own diff pass (`plan.diff_all`), not a second loop: the plan's
    changes, seen from the other side, with nothing applied, since drift is about what a read
    shows. A write-only field the live record does not carry comes back as "cannot be read" and
    is listed as not detectable; where a live record does carry it (CONTRACT 4.2), it is
    compared like any other. The plan's missing and archived errors are the absent records.
    `removed` (id -> file) are managed records whose file is gone: reported, not compared.
    """
    changes, errors, unchanged = diff_all(desired, live, {})
    drifted: list[DriftedRecord] = []
    absent: list[AbsentRecord] = [
        AbsentRecord(rid, file, Absence.FILE_REMOVED) for rid, file in (removed or {}).items()
    ]
    undetectable: dict[str, list[int]] = {}
    in_sync = unchanged
    for change in changes:
        for f in change.fields:
            if not f.before_known:
                undetectable.setdefault(f.field, []).append(change.id)
        fields = tuple(f for f in change.fields if f.before_known)
        if not fields:
            in_sync += 1
            continue
        drifted.append(
            DriftedRecord(
                id=change.id,
                file=change.file,
                title=change.title,
                fields=fields,
                updated_at=change.live_updated_at,
                updated_by=editor_of(live[change.id].get("updatedBy")),
            )
        )
    # diff_all's errors are the missing and archived records, each with its id.
    absent += [AbsentRecord(e.id, e.file, _ABSENCE[e.kind]) for e in errors if e.id is not None]
    return DriftReport(
        drifted=tuple(sorted(drifted, key=_newest_first)),
        absent=tuple(sorted(absent, key=lambda a: a.id)),
        in_sync=in_sync,
        undetectable=tuple(
            Undetectable(name, tuple(sorted(undetectable[name])))
            for name in FIELDS
            if name in undetectable
        ),
        requests=requests,
        remaining=remaining,
        checked_at=checked_at,
        read=read,
    )
