"""The plan: a value holding every change to make, and how it was computed from desired and live.

Pure code. `diff_all` runs the diff over every desired record against its live record,
`check_catalogue` sets aside unknown custom keys and notes new dropdown options, and `assemble`
returns a `Plan`: sorted changes (each with its exact PATCH body), per-record errors (missing,
archived, unknown custom keys), the request counts, and the digest of every file it read. A plan
has one stable dict form (`format_version` "1", documented in the README), which is what
`plan --out` writes and `apply PLANFILE` reads back, and a checksum over what it would do so that
apply can refuse a plan other than the one reviewed.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.catalogue import Catalogue, NewOption, new_options, unknown_custom_keys
from reconciler.catalogue_check import AllowNew, allowed_keys, covers
from reconciler.diff import FieldChange, diff_record
from reconciler.errors import ReconcilerError
from reconciler.fields import is_archived, shown_title, updated_at

FORMAT_VERSION = "1"


class Action(enum.Enum):
    UPDATE = "update"


class ErrorKind(enum.Enum):
    MISSING = "missing"
    ARCHIVED = "archived"
    UNKNOWN_CUSTOM_KEY = "unknown_custom_key"


@dataclass(frozen=True, slots=True)
class DesiredRecord:
    """One validated file: its record id, path (as shown to users), data and content digest."""

    id: int
    file: str
    data: Mapping[str, Any]
    digest: str


@dataclass(frozen=True, slots=True)
class Change:
    id: int
    file: str
    title: str
    fields: tuple[FieldChange, ...]
    patch: Mapping[str, Any]
    new_options: tuple[NewOption, ...] = ()
    live_updated_at: str | None = None
    action: Action = Action.UPDATE
    # The file set opts in to every new option this change creates (`allow_new_options` in the
    # file or its folder's .reconciler.yaml): its PATCH is sent with allow_new_options=true.
    allow_new_options: bool = False


@dataclass(frozen=True, slots=True)
class RecordError:
    id: int
    file: str
    kind: ErrorKind
    message: str


@dataclass(frozen=True, slots=True)
class RequestCounts:
    spent: int  # requests made to compute this plan (retries included)
    apply: int  # requests an apply of this plan will make: one PATCH per change
    remaining: int | None  # the last X-RateLimit-Remaining the API sent, if any


@dataclass(frozen=True, slots=True, repr=False)
class Plan:
    # repr=False: asyncio's Runner formats the main task's repr (result included) when it swaps
    # the SIGINT handler, and a full repr of a 10,000-change plan costs a third of a second.
    changes: tuple[Change, ...]
    unchanged: int
    errors: tuple[RecordError, ...] = ()
    requests: RequestCounts = RequestCounts(0, 0, None)
    files: Mapping[str, str] = field(default_factory=dict)  # every file read -> sha256
    # What the reader should know once about the whole plan (why write-only values could not
    # be compared, say). Not covered by the checksum: it changes nothing apply does.
    notes: tuple[str, ...] = ()
    # The API the plan was computed against (`state.api_identity`: scheme, host, port, path).
    # Not covered by the checksum: it can only make apply refuse the plan.
    api_url: str | None = None

    def __repr__(self) -> str:
        return f"Plan({self.summary()})"

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    @property
    def new_options(self) -> tuple[NewOption, ...]:
        return tuple(opt for change in self.changes for opt in change.new_options)

    @property
    def unapproved_options(self) -> tuple[NewOption, ...]:
        """New options no file opts in to: apply creates them only with --allow-new-options."""
        return tuple(o for c in self.changes if not c.allow_new_options for o in c.new_options)

    def summary(self) -> dict[str, int]:
        return {
            "update": len(self.changes),
            "unchanged": self.unchanged,
            "errors": len(self.errors),
        }

    def checksum(self) -> str:
        """A digest of what the plan would do and of the files it was computed from."""
        body = {k: v for k, v in self.to_dict().items() if k in {"changes", "errors", "files"}}
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        return (
            {
                "format_version": FORMAT_VERSION,
                "changes": [_change_to_dict(c) for c in self.changes],
                "errors": [
                    {"id": e.id, "file": e.file, "kind": e.kind.value, "message": e.message}
                    for e in self.errors
                ],
                "summary": self.summary(),
                "requests": {
                    "spent": self.requests.spent,
                    "apply": self.requests.apply,
                    "remaining": self.requests.remaining,
                },
                "files": dict(sorted(self.files.items())),
            }
            | ({"notes": list(self.notes)} if self.notes else {})
            | ({"api_url": self.api_url} if self.api_url else {})
        )

    def to_json(self) -> str:
        data = self.to_dict()
        data["checksum"] = self.checksum()
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "plan") -> Plan:
        """Read a plan back from its dict form, refusing anything that is not exactly one."""
        try:
            return _plan_from_dict(data)
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise ReconcilerError(
                f"{source} is not a valid reconciler plan ({type(e).__name__}: {e})",
                hint="write plans with `reconciler plan --out FILE` and do not edit them",
            ) from None


def _change_to_dict(c: Change) -> dict[str, Any]:
    return {
        "id": c.id,
        "file": c.file,
        "title": c.title,
        "action": c.action.value,
        "fields": [
            {"field": f.field, "before": f.before, "after": f.after, "before_known": f.before_known}
            for f in c.fields
        ],
        "patch": dict(c.patch),
        "new_options": [{"field": o.field, "value": o.value} for o in c.new_options],
        "allow_new_options": c.allow_new_options,
        "live_updated_at": c.live_updated_at,
    }


def _plan_from_dict(data: Any) -> Plan:
    if not isinstance(data, dict) or data.get("format_version") != FORMAT_VERSION:
        version = data.get("format_version") if isinstance(data, dict) else None
        raise ValueError(f"format_version is {version!r}, expected {FORMAT_VERSION!r}")
    changes = tuple(
        Change(
            id=int(c["id"]),
            file=str(c["file"]),
            title=str(c["title"]),
            action=Action(c["action"]),
            fields=tuple(
                FieldChange(str(f["field"]), f["before"], f["after"], bool(f["before_known"]))
                for f in c["fields"]
            ),
            patch=dict(c["patch"]),
            new_options=tuple(
                NewOption(str(o["field"]), str(o["value"])) for o in c["new_options"]
            ),
            live_updated_at=c.get("live_updated_at"),
            allow_new_options=_flag(c.get("allow_new_options", False)),
        )
        for c in data["changes"]
    )
    errors = tuple(
        RecordError(int(e["id"]), str(e["file"]), ErrorKind(e["kind"]), str(e["message"]))
        for e in data["errors"]
    )
    req = data["requests"]
    remaining = req.get("remaining")
    plan = Plan(
        changes=changes,
        unchanged=int(data["summary"]["unchanged"]),
        errors=errors,
        requests=RequestCounts(
            int(req["spent"]), int(req["apply"]), None if remaining is None else int(remaining)
        ),
        files={str(k): str(v) for k, v in data["files"].items()},
        notes=tuple(str(n) for n in data.get("notes", ())),
        api_url=str(data["api_url"]) if data.get("api_url") else None,
    )
    checksum = data.get("checksum")
    if checksum is not None and checksum != plan.checksum():
        raise ValueError("its checksum does not match its content: it was edited after planning")
    return plan


def _missing(record: DesiredRecord) -> RecordError:
    return RecordError(
        record.id,
        record.file,
        ErrorKind.MISSING,
        f"opportunity {record.id} does not exist in Coperniq (or this API key cannot see it); "
        "check the id in the file, or remove the file (reconciler never creates records)",
    )


def _archived(record: DesiredRecord) -> RecordError:
    return RecordError(
        record.id,
        record.file,
        ErrorKind.ARCHIVED,
        f"opportunity {record.id} is archived in Coperniq and cannot be updated; "
        "restore it in Coperniq, or remove the file",
    )


def _unknown_keys(record: DesiredRecord, keys: Sequence[str], catalogue: Catalogue) -> RecordError:
    known = ", ".join(sorted(catalogue.custom)) or "none"
    names = ", ".join(keys)
    return RecordError(
        record.id,
        record.file,
        ErrorKind.UNKNOWN_CUSTOM_KEY,
        f"{names}: no such custom property in this company's catalogue (known keys: {known}); "
        "create the property in Coperniq first, or fix the key",
    )


def diff_all(
    desired: Sequence[DesiredRecord],
    live: Mapping[int, Mapping[str, Any]],
    applied: Mapping[int, Mapping[str, Any]],
    *,
    send_required: bool = False,
) -> tuple[list[Change], list[RecordError], int]:
    """Diff every record: changes (without catalogue checks), errors, and the unchanged count."""
    changes: list[Change] = []
    errors: list[RecordError] = []
    unchanged = 0
    for record in desired:
        current = live.get(record.id)
        if current is None:
            errors.append(_missing(record))
            continue
        if is_archived(current):
            errors.append(_archived(record))
            continue
        result = diff_record(
            record.data, current, applied.get(record.id, {}), send_required=send_required
        )
        if not result.changes:
            unchanged += 1
            continue
        changes.append(
            Change(
                id=record.id,
                file=record.file,
                title=shown_title(record.data, current),
                fields=result.changes,
                patch=result.patch,
                live_updated_at=updated_at(current),
            )
        )
    return changes, errors, unchanged


def check_catalogue(
    changes: Sequence[Change],
    desired: Mapping[int, DesiredRecord],
    catalogue: Catalogue,
    folder_allows: Mapping[int, AllowNew] | None = None,
) -> tuple[list[Change], list[RecordError]]:
    """Attach the new dropdown options each change would create, and whether its file set opts
    in to all of them (`folder_allows`: each record's .reconciler.yaml setting); set aside
    unknown custom keys."""
    kept: list[Change] = []
    errors: list[RecordError] = []
    for change in changes:
        record = desired[change.id]
        unknown = unknown_custom_keys(change.patch, catalogue)
        if unknown:
            errors.append(_unknown_keys(record, unknown, catalogue))
            continue
        options = new_options(change.patch, catalogue)
        allow = allowed_keys(record.data, (folder_allows or {}).get(change.id, False))
        opted_in = bool(options) and all(covers(allow, o.field) for o in options)
        kept.append(dataclasses.replace(change, new_options=options, allow_new_options=opted_in))
    return kept, errors


def recheck_opt_in(
    changes: Sequence[Change],
    desired: Mapping[int, DesiredRecord],
    catalogue: Catalogue,
    folder_allows: Mapping[int, AllowNew] | None = None,
) -> list[Change]:
    """For a saved plan: a change keeps `allow_new_options` only if the verified file (and its
    folder's setting) still covers every new option its rebuilt PATCH would create, as found in
    the live catalogue. A plan file claims nothing here that the reviewed files do not say."""
    out = []
    for change in changes:
        if change.allow_new_options and change.id in desired:
            options = new_options(change.patch, catalogue)
            folder = (folder_allows or {}).get(change.id, False)
            allow = allowed_keys(desired[change.id].data, folder)
            opted_in = bool(options) and all(covers(allow, o.field) for o in options)
            change = dataclasses.replace(change, new_options=options, allow_new_options=opted_in)
        out.append(change)
    return out


def assemble(
    changes: Sequence[Change],
    errors: Sequence[RecordError],
    unchanged: int,
    *,
    requests: RequestCounts,
    files: Mapping[str, str],
    notes: Sequence[str] = (),
    api_url: str | None = None,
) -> Plan:
    """The plan value: changes and errors sorted by record id, the apply cost filled in."""
    return Plan(
        changes=tuple(sorted(changes, key=lambda c: c.id)),
        unchanged=unchanged,
        errors=tuple(sorted(errors, key=lambda e: (e.id, e.kind.value))),
        requests=RequestCounts(requests.spent, len(changes), requests.remaining),
        files=dict(files),
        notes=tuple(notes),
        api_url=api_url,
    )


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"allow_new_options must be true or false, not {value!r}")
    return value
