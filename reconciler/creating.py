"""Creates and deletes against the API, and the id written back into a new file.

The I/O half of `reconciler.lifecycle`. `find_candidates` looks, for each new file, for the live
records a POST would match (from the full listing when the plan read one, else one filtered
request per file). `create_one` records a pending create in the state before its POST, sends
`POST ?match_by=...&match_found_strategy=skip`, tells a created record from a matched one by its
values, writes `id: N` into the file (first key, the rest kept as written, atomically) and
records the write-only values it sent, as an update would. `delete_one` and `unmanage_one` end
a record's management. Each returns an `Outcome`; none raises for one record's failure.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from reconciler.apply import Outcome, Status, write_only_values
from reconciler.atomic import write_atomic
from reconciler.document import MAX_BYTES
from reconciler.errors import ReconcilerError
from reconciler.fields import match_value
from reconciler.lifecycle import carries, matches
from reconciler.plan import CREATE_STRATEGY, Create, NewRecord, Removal
from reconciler.protocol import Api
from reconciler.regular import read_regular
from reconciler.state import State

PAGE_SIZE = 100
MAX_LOOKUP_PAGES = 20
"""A filtered listing is a substring search: a short title can hit many records. Past this many
pages the exact matches among them are still found, at this many requests for that file."""

FILTER_PARAMS = {
    "title": "title",
    "primaryEmail": "primaryEmail",
    "primaryPhone": "primaryPhone",
    "address": "address",
}


# --- before planning: what a create would match ------------------------------------------------


async def lookup(client: Api, value: str, match_by: str) -> list[dict[str, Any]]:
    """The live records (archived included) whose `match_by` value is exactly `value`: one
    filtered listing (the API's filters are looser, so the exact comparison is made here)."""
    found: list[dict[str, Any]] = []
    for page in range(1, MAX_LOOKUP_PAGES + 1):
        records = await client.list_page(
            page, PAGE_SIZE, include_archived=True, filters={FILTER_PARAMS[match_by]: value}
        )
        found += matches(value, match_by, records)
        if len(records) < PAGE_SIZE:
            break
    return found


async def find_candidates(
    client: Api,
    new: Sequence[NewRecord],
    match_by: str,
    everything: Mapping[int, Mapping[str, Any]] | None,
) -> dict[str, list[Any]]:
    """For each new file, the live records its POST would match (usually none)."""
    if everything is not None:
        by_value: dict[str, list[Any]] = {}
        for record in everything.values():
            value = match_value(record, match_by)
            if value is not None:
                by_value.setdefault(value, []).append(record)
        return {
            r.file: matches(v, match_by, by_value.get(v, ()))
            for r in new
            if (v := match_value(r.data, match_by)) is not None
        }
    values = {r.file: v for r in new if (v := match_value(r.data, match_by)) is not None}
    results = await asyncio.gather(*(lookup(client, v, match_by) for v in values.values()))
    return dict(zip(values, results, strict=True))


# --- apply ---------------------------------------------------------------------------------------


def write_id(path: Path, digest: str, record_id: int, shown: str) -> None:
    """Write `id: N` into the file as its first key, only if it still has the planned content."""
    try:
        # A regular file only: one swapped for a FIFO since the plan is refused, not opened.
        raw = read_regular(path, what="an opportunity file", limit=MAX_BYTES)
    except OSError as e:
        raise ReconcilerError(f"{shown}: cannot read the file: {e.strerror or e}") from None
    if hashlib.sha256(raw).hexdigest() != digest:
        raise ReconcilerError(f"{shown}: the file changed since the plan was made")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ReconcilerError(f"{shown}: the file is not UTF-8") from None
    # Imported here: the YAML editor (ruamel) costs every plan its import, and only a create
    # that succeeded writes a file.
    from reconciler.yamlfile import insert_id

    write_atomic(path, insert_id(text, record_id, shown))


def _bound(create: Create, record_id: int, state: State, path: Path) -> Outcome:
    """Write the id, then record the record as managed with the write-only values sent."""
    try:
        write_id(path, create.digest, record_id, create.file)
    except ReconcilerError as e:
        # The pending create stays: the next plan finds this record and binds it.
        return Outcome(
            record_id,
            create.file,
            Status.FAILED,
            f"created as {record_id}, but its id could not be written into the file ({e}); "
            "rerun apply to bind it (it creates nothing twice), or add "
            f'"id: {record_id}" as its first line by hand',
        )
    state.manage({record_id: create.file})
    state.record_applied(record_id, write_only_values(create.body))
    state.end_create(create.file)
    errors: list[str] = []
    _save(state, errors)
    return Outcome(record_id, create.file, Status.CREATED, "", (), tuple(errors))


def _save(state: State, errors: list[str]) -> None:
    try:
        state.save()
    except ReconcilerError as e:
        errors.append(str(e))


async def create_one(
    client: Api, create: Create, state: State, *, allow_new_options: bool
) -> Outcome:
    """POST one new file's record (or bind the one an interrupted apply made)."""
    path = Path(create.file)
    if create.bind_id is not None:
        outcome = _bound(create, create.bind_id, state, path)
        if outcome.status is Status.CREATED:
            message = "bound: an earlier, interrupted apply had created it; id written"
            return Outcome(outcome.id, outcome.file, outcome.status, message, (), outcome.errors)
        return outcome
    state.begin_create(
        create.file, digest=create.digest, match_by=create.match_by, value=create.match_value
    )
    try:
        state.save()  # before the POST: a crash after it leaves a trace a rerun binds
    except ReconcilerError as e:
        state.end_create(create.file)
        return Outcome(None, create.file, Status.FAILED, f"not sent: {e}")
    try:
        record = await client.create(
            create.body,
            match_by=create.match_by,
            strategy=CREATE_STRATEGY,
            allow_new_options=allow_new_options,
        )
    except ReconcilerError as e:
        # The pending create stays: if the POST did land, the next plan binds its record.
        return Outcome(None, create.file, Status.FAILED, str(e))
    rid = record.get("id")
    if not isinstance(rid, int) or isinstance(rid, bool):
        return Outcome(None, create.file, Status.FAILED, f"the API answered without an id: {rid!r}")
    differ = carries(create.body, record)
    if differ:
        state.end_create(create.file)
        _save(state, [])
        title = _quoted(record.get("title") or "")
        return Outcome(
            rid,
            create.file,
            Status.MATCHED,
            f"not created: the API matched the existing record {rid} {title} on "
            f"{create.match_by} (created meanwhile by someone else?), which differs in "
            f'{", ".join(differ)}; nothing was bound: add "id: {rid}" to the file to manage '
            f"it, or change its {create.match_by}",
        )
    return _bound(create, rid, state, path)


async def delete_one(client: Api, removal: Removal, state: State) -> Outcome:
    try:
        existed = await client.delete(removal.id)
    except ReconcilerError as e:
        return Outcome(removal.id, removal.file, Status.FAILED, str(e))
    state.forget(removal.id)
    errors: list[str] = []
    _save(state, errors)
    message = "" if existed else "already gone from Coperniq; no longer managed"
    return Outcome(removal.id, removal.file, Status.DELETED, message, (), tuple(errors))


def unmanage_one(removal: Removal, state: State) -> Outcome:
    state.forget(removal.id)
    return Outcome(removal.id, removal.file, Status.UNMANAGED, removal.reason)


def _quoted(value: object) -> str:
    """A value in a message as JSON text (a title in quotes), as the views show values."""
    return json.dumps(value, ensure_ascii=False)
