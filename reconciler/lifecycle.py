"""Both ends of a record's life in git: creates from files without `id`, removals of managed ids.

Pure code. `plan_creates` turns new files into POSTs, refusing any that would match an existing
live record (the API's POST is an upsert: a silent match would bind a file to someone else's
record), and turning a create an interrupted apply already made into a bind. `plan_removals`
turns managed ids whose file is gone into "no longer managed" entries, or deletions with
`--prune`. `carries` tells a record a POST created from one it merely matched: a created record
holds every value the file declared.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import PurePosixPath
from typing import Any

from reconciler.apply import Outcome, Status
from reconciler.diff import field_still_equal, is_readable
from reconciler.fields import FIELDS, MERGED, FieldPath, match_value
from reconciler.plan import (
    Action,
    Create,
    ErrorKind,
    NewRecord,
    RecordError,
    Removal,
)


def create_body(data: Mapping[str, Any]) -> dict[str, Any]:
    """The POST body for a new file: every field it declares, write-only ones included."""
    return {name: data[name] for name in FIELDS if name in data}


def matches(value: str | None, match_by: str, live: Iterable[Mapping[str, Any]]) -> list[Any]:
    """The live records (archived included) whose `match_by` value is exactly `value`, by id."""
    if value is None:
        return []
    found = [r for r in live if match_value(r, match_by) == value]
    return sorted(found, key=lambda r: r.get("id") if isinstance(r.get("id"), int) else 0)


def carries(body: Mapping[str, Any], live: Mapping[str, Any]) -> list[str]:
    """The fields of `body` that `live` does not hold (write-only fields the record does not
    return are taken on trust); [] when `live` carries every value the file declared."""
    differ: list[str] = []
    for name, value in body.items():
        if name in MERGED and isinstance(value, Mapping):
            paths = [(str(FieldPath(name, key)), want) for key, want in value.items()]
            differ += [path for path, want in paths if not field_still_equal(path, want, live)]
            continue
        if not is_readable(name) and live.get(name) is None:
            continue
        if not field_still_equal(name, value, live):
            differ.append(name)
    return differ


def _title(record: Mapping[str, Any]) -> str:
    return str(record.get("title") or "")


def already_exists(new: NewRecord, record: Mapping[str, Any], match_by: str) -> RecordError:
    """The error for a new file a live record would match: never a silent match."""
    rid = record.get("id")
    field = "title" if match_by == "title" else match_by
    archived = " (archived)" if record.get("isActive") is False else ""
    return RecordError(
        None,
        new.file,
        ErrorKind.ALREADY_EXISTS,
        f'{rid} {_quoted(_title(record))}{archived} already exists: add "id: {rid}" to this '
        f"file to manage it, or change its {field}",
    )


def plan_creates(
    new: Sequence[NewRecord],
    candidates: Mapping[str, Sequence[Mapping[str, Any]]],
    pending: Mapping[str, Mapping[str, Any]],
    match_by: str,
) -> tuple[list[Create], list[RecordError]]:
    """A create (or a bind) per new file, or an error when a live record matches it.

    `candidates` holds, per file, the live records that hold its match value exactly. A file
    with a pending create (an apply stopped between its POST and writing the id) binds the one
    matching record that carries all the file's values.
    """
    creates: list[Create] = []
    errors: list[RecordError] = []
    for record in new:
        body = create_body(record.data)
        value = match_value(record.data, match_by)
        found = list(candidates.get(record.file, ()))
        plain = Create(record.file, _title(record.data), body, record.digest, match_by, value)
        if not found:
            creates.append(plain)
            continue
        started = pending.get(record.file)
        if started is not None and started.get("match_by") == match_by:
            made = [r for r in found if not carries(body, r) and isinstance(r.get("id"), int)]
            if len(made) == 1 and made[0].get("isActive") is not False:
                creates.append(
                    Create(
                        record.file,
                        plain.title,
                        body,
                        record.digest,
                        match_by,
                        value,
                        bind_id=int(made[0]["id"]),
                    )
                )
                continue
        errors.append(already_exists(record, found[0], match_by))
    return creates, errors


def under(file: str, folder: str) -> bool:
    """Whether `file` lies in `folder` (both as shown to users: relative, POSIX), lexically."""
    base = PurePosixPath(folder)
    return base in PurePosixPath(file).parents or str(base) in ("", ".")


def plan_removals(
    managed: Mapping[int, str],
    declared: Iterable[int],
    folder: str,
    live: Mapping[int, Mapping[str, Any]],
    *,
    prune: bool,
) -> list[Removal]:
    """The managed ids (from files in `folder`) that no file declares any more.

    Each is unmanaged, or with `prune` deleted; a record already gone or archived live is only
    unmanaged, saying so. A file moved or renamed keeping its `id` still declares it.
    """
    still = set(declared)
    removals: list[Removal] = []
    for rid, file in sorted(managed.items()):
        if rid in still or not under(file, folder):
            continue
        record = live.get(rid)
        updated = record.get("updatedAt") if record is not None else None
        title = _title(record) if record is not None else ""
        if record is None:
            action, reason = Action.UNMANAGE, "file removed; the record no longer exists live"
        elif record.get("isActive") is False:
            action, reason = Action.UNMANAGE, "file removed; the record is archived live"
        else:
            action, reason = (Action.DELETE if prune else Action.UNMANAGE), "file removed"
        removals.append(
            Removal(
                rid,
                file,
                title,
                action,
                updated if isinstance(updated, str) else None,
                reason,
            )
        )
    return removals


# --- a saved plan's creates and removals, checked against the files and the state ------------


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def check_saved_creates(
    creates: Sequence[Create],
    new: Sequence[NewRecord],
    pending: Mapping[str, Mapping[str, Any]],
    live: Mapping[int, Mapping[str, Any]],
) -> tuple[list[Create], list[Outcome]]:
    """A saved plan's creates rebuilt from the verified files without id (found by digest):
    a POST body, or a bind, that the file does not justify is refused, not sent."""
    by_digest = {r.digest: r for r in new}
    kept: list[Create] = []
    held: list[Outcome] = []
    for create in creates:
        record = by_digest.get(create.digest)

        def refuse(why: str, create: Create = create) -> None:
            held.append(
                Outcome(
                    create.bind_id,
                    create.file,
                    Status.REFUSED,
                    f"{why}; not sent: the plan file was edited after planning, make a new plan",
                )
            )

        if record is None:
            refuse("the saved plan creates a record from a file no file under --dir matches")
            continue
        body = create_body(record.data)
        rebuilt = dataclasses.replace(create, file=record.file, body=body)
        if create.bind_id is None:
            if _canonical(dict(create.body)) != _canonical(body):
                refuse("the saved plan's POST body is not the one its file declares")
                continue
        else:
            target = live.get(create.bind_id)
            started = pending.get(record.file)
            if started is None or target is None or carries(body, target):
                refuse(f"the saved plan binds {create.bind_id}, which no pending create justifies")
                continue
        kept.append(rebuilt)
    return kept, held


def check_saved_removals(
    removals: Sequence[Removal],
    managed: Mapping[int, str],
    desired: Sequence[Any],
    live: Mapping[int, Mapping[str, Any]],
) -> tuple[list[Removal], list[Outcome]]:
    """A saved plan's removals checked again: only a managed id that no file declares is
    removed; a delete whose record was edited (or archived) live since the plan is stale, and
    one already gone is only unmanaged."""
    declared = {r.id for r in desired}
    kept: list[Removal] = []
    held: list[Outcome] = []
    for removal in removals:
        if removal.id not in managed or removal.id in declared:
            held.append(
                Outcome(
                    removal.id,
                    removal.file,
                    Status.REFUSED,
                    f"the saved plan removes {removal.id}, which is not a managed record whose "
                    "file is gone; not sent: the plan file was edited, make a new plan",
                )
            )
            continue
        record = live.get(removal.id)
        if removal.action is not Action.DELETE:
            kept.append(removal)
        elif record is None:
            kept.append(dataclasses.replace(removal, action=Action.UNMANAGE, reason="already gone"))
        elif record.get("isActive") is False or record.get("updatedAt") != removal.live_updated_at:
            held.append(
                Outcome(
                    removal.id,
                    removal.file,
                    Status.STALE,
                    "edited in Coperniq since the plan was made (updatedAt "
                    f"{removal.live_updated_at} -> {record.get('updatedAt')}); not deleted: "
                    "make a new plan",
                )
            )
        else:
            kept.append(removal)
    return kept, held


def _quoted(value: object) -> str:
    """A value in a message as JSON text (a title in quotes), as the views show values."""
    return json.dumps(value, ensure_ascii=False)
