"""The plan: a value holding every change to make, and how it was computed from desired and live.

Pure code. `diff_all` diffs every desired record against its live record, `check_catalogue`
(and `check_create_catalogue`) set aside unknown custom keys and note new dropdown options, and
`assemble` returns a `Plan`: sorted changes (each with its PATCH body), creates (files without
`id`, with their POST body), removals (managed ids whose file is gone), per-record errors, the
request counts and every file's digest. Its dict form (`format_version` "2", one entry per
action saying what it sends) lives in `reconciler.plan_format`; its checksum lets apply refuse a
plan other than the one reviewed.
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

FORMAT_VERSION = "2"
CREATE_STRATEGY = "skip"
"""`match_found_strategy` on every create: a record that matches is returned untouched."""


class Action(enum.Enum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    UNMANAGE = "unmanage"


class ErrorKind(enum.Enum):
    MISSING = "missing"
    ARCHIVED = "archived"
    UNKNOWN_CUSTOM_KEY = "unknown_custom_key"
    ALREADY_EXISTS = "already_exists"


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
class NewRecord:
    """One validated file without `id`: a new opportunity to create."""

    file: str
    data: Mapping[str, Any]
    digest: str


@dataclass(frozen=True, slots=True)
class Create:
    """A POST for a file without `id`; or, with `bind_id`, a record an interrupted apply already
    created from this file, to bind (write its id into the file) without sending anything."""

    file: str
    title: str
    body: Mapping[str, Any]  # the POST body: every field the file declares
    digest: str  # the file's sha256 when planned: the id is written only into that content
    match_by: str
    match_value: str | None
    new_options: tuple[NewOption, ...] = ()
    bind_id: int | None = None

    @property
    def query(self) -> dict[str, str]:
        return {"match_by": self.match_by, "match_found_strategy": CREATE_STRATEGY}


@dataclass(frozen=True, slots=True)
class Removal:
    """A managed id whose file is gone: `UNMANAGE` (the default) or `DELETE` (`--prune`)."""

    id: int
    file: str  # the file that managed it, now gone
    title: str
    action: Action
    live_updated_at: str | None = None
    reason: str = "file removed"


@dataclass(frozen=True, slots=True)
class RecordError:
    id: int | None  # None: a file without id
    file: str
    kind: ErrorKind
    message: str

    @property
    def label(self) -> str:
        return "new" if self.id is None else str(self.id)


@dataclass(frozen=True, slots=True)
class RequestCounts:
    spent: int  # requests made to compute this plan (retries included)
    apply: int  # requests an apply of this plan will make: one PATCH per change
    remaining: int | None  # the last X-RateLimit-Remaining the API sent, if any
    read: str | None = None  # which read it was (full, or changes since a mark), if cached


@dataclass(frozen=True, slots=True, repr=False)
class Plan:
    # repr=False: asyncio's Runner formats the main task's repr (result included) when it swaps
    # the SIGINT handler, and a full repr of a 10,000-change plan costs a third of a second.
    changes: tuple[Change, ...]  # the updates
    unchanged: int
    errors: tuple[RecordError, ...] = ()
    requests: RequestCounts = RequestCounts(0, 0, None)
    files: Mapping[str, str] = field(default_factory=dict)  # every file read -> sha256
    # What the reader should know once about the whole plan (why write-only values could not
    # be compared, say). Not covered by the checksum: it changes nothing apply does.
    notes: tuple[str, ...] = ()
    api_url: str | None = None  # the API planned against; not in the checksum (it only refuses)
    creates: tuple[Create, ...] = ()
    removals: tuple[Removal, ...] = ()
    prune: bool = False  # planned with --prune: removed files' records are deleted
    match_by: str = "title"

    def __repr__(self) -> str:
        return f"Plan({self.summary()})"

    @property
    def has_changes(self) -> bool:
        return bool(self.changes or self.creates or self.removals)

    @property
    def deletes(self) -> tuple[Removal, ...]:
        return tuple(r for r in self.removals if r.action is Action.DELETE)

    @property
    def unmanaged(self) -> tuple[Removal, ...]:
        return tuple(r for r in self.removals if r.action is Action.UNMANAGE)

    @property
    def sending(self) -> int:
        """Requests apply sends (POST, PATCH, DELETE; --max-changes counts them)."""
        posts = sum(1 for c in self.creates if c.bind_id is None)
        return posts + len(self.changes) + len(self.deletes)

    @property
    def new_options(self) -> tuple[NewOption, ...]:
        found = [opt for c in self.creates for opt in c.new_options]
        return (*found, *(opt for change in self.changes for opt in change.new_options))

    @property
    def unapproved_options(self) -> tuple[NewOption, ...]:
        """New options no file opts in to: apply creates them only with --allow-new-options."""
        found = [o for c in self.creates for o in c.new_options]
        return (
            *found,
            *(o for c in self.changes if not c.allow_new_options for o in c.new_options),
        )

    def summary(self) -> dict[str, int]:
        return {
            "create": len(self.creates),
            "update": len(self.changes),
            "delete": len(self.deletes),
            "unmanage": len(self.unmanaged),
            "unchanged": self.unchanged,
            "errors": len(self.errors),
        }

    def checksum(self, data: dict[str, Any] | None = None) -> str:
        """A digest of what the plan would do and of the files it was computed from (`data`:
        the plan's `to_dict()`, when the caller has it already)."""
        keep = {"options", "changes", "errors", "files"}
        body = {k: v for k, v in (data or self.to_dict()).items() if k in keep}
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        """The plan's JSON form (`format_version` "2"): see `reconciler.plan_format`."""
        from reconciler.plan_format import plan_to_dict

        return plan_to_dict(self)

    def to_json(self) -> str:
        data = self.to_dict()
        data["checksum"] = self.checksum(data)
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "plan") -> Plan:
        """Read a plan back from its dict form, refusing anything that is not exactly one."""
        from reconciler.plan_format import PlanVersionError, plan_from_dict

        try:
            return plan_from_dict(data)
        except PlanVersionError as e:
            raise ReconcilerError(
                f"{source} is a plan of format_version {e.version!r}; this reconciler reads "
                f"format_version {FORMAT_VERSION!r} only",
                hint="make a new plan with this version: `reconciler plan --out FILE`",
            ) from None
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise ReconcilerError(
                f"{source} is not a valid reconciler plan ({type(e).__name__}: {e})",
                hint="write plans with `reconciler plan --out FILE` and do not edit them",
            ) from None


_UNUSABLE = {  # why a record's changes cannot be planned, after "opportunity ID "
    ErrorKind.MISSING: "does not exist in Coperniq (or this API key cannot see it); check the id "
    "in the file; to create a new opportunity instead, remove the `id` line",
    ErrorKind.ARCHIVED: "is archived in Coperniq and cannot be updated; restore it in Coperniq, "
    "or remove the file",
}


def _unusable(record: DesiredRecord, kind: ErrorKind) -> RecordError:
    return RecordError(record.id, record.file, kind, f"opportunity {record.id} {_UNUSABLE[kind]}")


def _unknown_keys(
    record_id: int | None, file: str, keys: Sequence[str], catalogue: Catalogue
) -> RecordError:
    known = ", ".join(sorted(catalogue.custom)) or "none"
    names = ", ".join(keys)
    return RecordError(
        record_id,
        file,
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
            errors.append(_unusable(record, ErrorKind.MISSING))
            continue
        if is_archived(current):
            errors.append(_unusable(record, ErrorKind.ARCHIVED))
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
            errors.append(_unknown_keys(record.id, record.file, unknown, catalogue))
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


def check_create_catalogue(
    creates: Sequence[Create], catalogue: Catalogue
) -> tuple[list[Create], list[RecordError]]:
    """`check_catalogue` for creates: their whole body is checked, as for an update's PATCH."""
    kept: list[Create] = []
    errors: list[RecordError] = []
    for create in creates:
        unknown = unknown_custom_keys(create.body, catalogue)
        if unknown:
            errors.append(_unknown_keys(None, create.file, unknown, catalogue))
            continue
        kept.append(dataclasses.replace(create, new_options=new_options(create.body, catalogue)))
    return kept, errors


def error_order(e: RecordError) -> tuple[int, int, str, str]:
    """Errors by record id; those of new files (no id) after them, by file."""
    return (e.id is None, e.id or 0, e.file, e.kind.value)


def assemble(
    changes: Sequence[Change],
    errors: Sequence[RecordError],
    unchanged: int,
    *,
    requests: RequestCounts,
    files: Mapping[str, str],
    notes: Sequence[str] = (),
    api_url: str | None = None,
    creates: Sequence[Create] = (),
    removals: Sequence[Removal] = (),
    prune: bool = False,
    match_by: str = "title",
) -> Plan:
    """The plan value: entries sorted (by id, creates by file), the apply cost filled in."""
    plan = Plan(
        changes=tuple(sorted(changes, key=lambda c: c.id)),
        unchanged=unchanged,
        errors=tuple(sorted(errors, key=error_order)),
        requests=requests,
        files=dict(files),
        notes=tuple(notes),
        api_url=api_url,
        creates=tuple(sorted(creates, key=lambda c: c.file)),
        removals=tuple(sorted(removals, key=lambda r: r.id)),
        prune=prune,
        match_by=match_by,
    )
    return dataclasses.replace(plan, requests=dataclasses.replace(requests, apply=plan.sending))
