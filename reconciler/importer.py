"""Import: live records to desired-state files, one `<id>-<slug>.yaml` per record.

This stage owns what an imported file holds and where it goes. `document_from_live` keeps only
the fields a file may declare (`fields.FIELDS`, in that order, `id` first; nothing read-only),
and leaves out every field whose live value is null: null in Coperniq means "not set", and a
field left out of a file is unmanaged, so a later edit in Coperniq is not reported as drift
(write `field: null` by hand to insist that it stay empty). Custom keys are written in
alphabetical order, write-only fields only when the live record carries them (CONTRACT 4.2). A
value the schema would reject is left out with a warning (a required one fails the record), so
that `validate` passes and `plan` shows no change right after an import. `list_records` reads
every live record at one request per page of 100, plus the closing page. `place` decides which
file each record goes to without ever overwriting one unless asked, and `write` writes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler import schema
from reconciler.atomic import write_atomic_many
from reconciler.errors import LoadError
from reconciler.estimates import full_listing_cost
from reconciler.fields import FIELDS, KEY, REQUIRED_ON_PATCH, is_archived
from reconciler.holdable import unholdable
from reconciler.loader import load_file
from reconciler.protocol import Api
from reconciler.validate import YAML_SUFFIXES
from reconciler.yamlfile import dump_document

PAGE_SIZE = 100
_HANDED_AT_ONCE = 10  # records given to `on_records` between turns of the event loop
_SLUG_MAX = 60
_ID_PREFIX = re.compile(r"^(\d+)-")


# --- what a file holds (pure) --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Imported:
    """One live record as a file's data, or why it cannot be imported (`error`)."""

    id: int
    title: str
    data: Mapping[str, Any] | None
    warnings: tuple[str, ...] = ()
    error: str | None = None


def slug(title: str) -> str:
    """`Ramirez Household - 7.6 kW Solar` -> `ramirez-household-7-6-kw-solar` (ASCII, short)."""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(text) > _SLUG_MAX:
        text = text[:_SLUG_MAX].rsplit("-", 1)[0] or text[:_SLUG_MAX]
    return text or "opportunity"


def file_name(record_id: int, title: str) -> str:
    return f"{record_id}-{slug(title)}.yaml"


def _selected(live: Mapping[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {KEY: live[KEY]}
    for name in FIELDS:
        value = live.get(name)
        if FIELDS[name].merged and isinstance(value, Mapping):
            value = {k: value[k] for k in sorted(value) if value[k] is not None} or None
        if value is not None:
            data[name] = value
    return data


def document_from_live(live: Mapping[str, Any]) -> Imported:
    """The data of the file for one live record, with what had to be left out and why."""
    record_id = live[KEY]
    data = _selected(live)
    title = str(data.get("title") or "")
    warnings: list[str] = []
    # A value a file cannot hold (a control character, an integer a double cannot keep): one
    # walk finds whether there is any (rarely), then each field is checked to say which.
    for name, value in list(data.items()) if unholdable(data) else ():
        is_merged = name in FIELDS and FIELDS[name].merged and isinstance(value, dict)
        pairs: list[tuple[str | None, Any]] = list(value.items()) if is_merged else [(None, value)]
        for key, item in pairs:
            problem = unholdable(item if key is None else {key: item})
            if problem is None:
                continue
            where = f"opportunity {record_id}: {name}{f'.{key}' if key else ''}"
            if name == KEY or name in REQUIRED_ON_PATCH:
                return Imported(
                    record_id,
                    title,
                    None,
                    error=f"{where}: {problem}; not imported: fix it in Coperniq "
                    "or write this file by hand",
                )
            if key is None:
                data.pop(name)
            else:
                del data[name][key]
                if not data[name]:
                    del data[name]
            warnings.append(
                f"{where}: {problem}; left out of the file (unmanaged) until it is fixed in "
                "Coperniq"
            )
    for _ in range(len(FIELDS) + 2):  # each round removes at least one value
        findings = schema.check(data)
        if not findings:
            return Imported(record_id, title, data, tuple(warnings))
        for finding in findings:
            top = str(finding.keys[0]) if finding.keys else KEY
            where = f"opportunity {record_id}: {finding.field}"
            if top == KEY or top in REQUIRED_ON_PATCH or not finding.keys:
                return Imported(
                    record_id,
                    title,
                    None,
                    error=f"{where}: {finding.message}; not imported: fix it in Coperniq "
                    "or write this file by hand",
                )
            spec = FIELDS.get(top)
            merged = data.get(top)
            if spec and spec.merged and len(finding.keys) > 1 and isinstance(merged, dict):
                merged.pop(str(finding.keys[1]), None)
                if not merged:
                    del data[top]
            else:
                data.pop(top, None)
            warnings.append(
                f"{where}: {finding.message}; left out of the file (unmanaged) until it is "
                "fixed in Coperniq"
            )
    raise AssertionError(f"opportunity {record_id}: schema findings did not converge")


# --- reading live records ------------------------------------------------------------------------


async def list_records(
    client: Api,
    *,
    updated_after: str | None = None,
    expected_total: int | None = None,
    on_page: Callable[[int, int], None] = lambda _pages, _records: None,
    on_records: Callable[[list[dict[str, Any]]], None] = lambda _records: None,
) -> list[dict[str, Any]]:
    """Every active live record (updated after `updated_after`, if given), in id order.

    Pages are read one at a time until the first short page, which the API's bare arrays make
    the only sign of the end: so a listing of N records costs N // 100 + 1 requests, never more.
    With `expected_total` (a recent count), the pages it predicts are read concurrently first.
    A record archived or created while the listing runs may shift the pages; rerun to catch it.
    `on_records` is given each record once, as its page arrives: after a full page, the next
    page is requested first, so that the work done with the records overlaps the server's.
    """
    found: dict[int, dict[str, Any]] = {}
    pages_read = 0

    async def page(number: int) -> list[dict[str, Any]]:
        return await client.list_page(
            number,
            PAGE_SIZE,
            include_archived=False,
            order_by="asc",
            updated_after=updated_after,
        )

    def accept(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        nonlocal pages_read
        pages_read += 1
        new = []
        for record in records:
            rid = record.get(KEY)
            if not isinstance(rid, int) or isinstance(rid, bool) or rid in found:
                continue
            if not is_archived(record):
                found[rid] = record
                new.append(record)
        on_page(pages_read, len(found))
        return new

    def accept_now(records: list[dict[str, Any]]) -> bool:
        on_records(accept(records))
        return len(records) < PAGE_SIZE

    ended, number = False, 1
    if expected_total:
        window = full_listing_cost(expected_total, PAGE_SIZE)
        ended = await _read_window(page, range(1, window + 1), accept_now)
        number = window + 1
    pending = None if ended else asyncio.ensure_future(page(number))
    try:
        while pending is not None:
            records = await pending
            number += 1
            pending = None if len(records) < PAGE_SIZE else asyncio.ensure_future(page(number))
            new = accept(records)
            for start in range(0, len(new), _HANDED_AT_ONCE):
                await asyncio.sleep(0)  # the next page's request goes out meanwhile
                on_records(new[start : start + _HANDED_AT_ONCE])
    finally:
        if pending is not None:
            pending.cancel()
            await asyncio.gather(pending, return_exceptions=True)
    return [found[rid] for rid in sorted(found)]


async def _read_window(
    page: Callable[[int], Any],
    numbers: range,
    accept: Callable[[list[dict[str, Any]]], bool],
) -> bool:
    """Read `numbers` concurrently, in order of page; pages after a short one are cancelled
    (those still waiting for a connection slot cost nothing). Whether the listing ended."""
    tasks = [asyncio.ensure_future(page(n)) for n in numbers]
    try:
        for task in tasks:
            if accept(await task):
                return True
        return False
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


# --- where files go ------------------------------------------------------------------------------


class Action(enum.Enum):
    CREATE = "create"
    OVERWRITE = "overwrite"
    SKIP = "skip"  # a file for this id exists and --overwrite was not given
    FAIL = "fail"


@dataclass(frozen=True, slots=True)
class Placement:
    id: int
    path: Path
    action: Action
    message: str = ""


def existing_files(directory: Path) -> dict[int, Path]:
    """The id each YAML file under `directory` declares (by its content, else its `<id>-` name).

    A file that cannot be read and has no id in its name is not anybody's: it is left alone.
    """
    if not directory.is_dir():
        return {}
    by_id: dict[int, Path] = {}
    for path in sorted(p for p in directory.rglob("*") if _is_yaml(p, directory)):
        record_id: object = None
        with contextlib.suppress(LoadError):
            record_id = load_file(path).data.get(KEY)
        if not isinstance(record_id, int) or isinstance(record_id, bool):
            match = _ID_PREFIX.match(path.name)
            record_id = int(match.group(1)) if match else None
        if isinstance(record_id, int):
            by_id.setdefault(record_id, path)
    return by_id


def _is_yaml(path: Path, root: Path) -> bool:
    hidden = any(part.startswith(".") for part in path.relative_to(root).parts)
    return not hidden and path.suffix.lower() in YAML_SUFFIXES and path.is_file()


def place(
    records: Sequence[Imported], directory: Path, existing: Mapping[int, Path], *, overwrite: bool
) -> list[Placement]:
    """Where each importable record goes: a new `<id>-<slug>.yaml`, or the file that already
    declares its id (replaced only with `overwrite`)."""
    taken = {path.name: rid for rid, path in existing.items() if path.parent == directory}
    out = []
    for record in records:
        if record.data is None:
            out.append(Placement(record.id, directory, Action.FAIL, record.error or ""))
            continue
        current = existing.get(record.id)
        if current is not None:
            action = Action.OVERWRITE if overwrite else Action.SKIP
            out.append(Placement(record.id, current, action))
            continue
        name = file_name(record.id, record.title)
        if name in taken:  # cannot happen with `<id>-` names unless a file lies about its id
            out.append(
                Placement(
                    record.id,
                    directory / name,
                    Action.FAIL,
                    f"{directory / name} exists and declares opportunity {taken[name]}: "
                    "not overwritten; rename that file",
                )
            )
            continue
        out.append(Placement(record.id, directory / name, Action.CREATE))
    return out


def write(
    placements: Sequence[Placement],
    records: Mapping[int, Imported],
    schema_ref: str | None,
    *,
    on_written: Callable[[], None] = lambda: None,
) -> None:
    """Write the file of each placement to create or overwrite, all with one flush to disk
    (`atomic.write_atomic_many`: each file is whole or untouched after a crash).

    Every document is made (and checked to read back as its record) before the first file is
    created: the file system's calls, interleaved with that work, slowed both down by half.
    """
    texts = []
    for placement in placements:
        if placement.action in (Action.CREATE, Action.OVERWRITE):
            data = records[placement.id].data
            assert data is not None
            text = dump_document(data, schema_ref, str(placement.path))
            texts.append((placement.path, text.encode("utf-8")))
            on_written()
    write_atomic_many(texts)
