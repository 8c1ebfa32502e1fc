"""The state file: what this tool last applied for the fields the API never returns.

`status` and `contacts` are write-only (`fields.FIELDS`): a GET does not show them, so the diff
compares a desired value with the last value this tool applied, kept here per record, written
atomically (`atomic.write_atomic`) after every successful PATCH so that
an interrupted apply loses nothing it did. It also keeps the last live record count, which
`read_live` uses to estimate what a listing costs. It holds nothing else: no key, no live data.

Format (`format_version` "1"):
`{"format_version": "1", "records": {"<id>": {"status": ..., "contacts": [...]}}, "live_total": N}`
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from reconciler.atomic import write_atomic
from reconciler.errors import ConfigError, WriteError
from reconciler.fields import WRITE_ONLY
from reconciler.lock import state_lock

DEFAULT_PATH: Final = Path(".reconciler/state.json")
FORMAT_VERSION: Final = "1"

_WITHOUT_IT = (
    "without it, write-only fields (status, contacts) show as 'current value cannot be read' "
    "and are sent once more"
)


class State:
    """The state file's content, loaded once and saved after each change.

    Safe to call from several tasks or threads: every read and write holds one lock, and `save`
    writes a consistent snapshot.
    """

    def __init__(
        self,
        path: Path,
        records: Mapping[int, Mapping[str, Any]] | None = None,
        live_total: int | None = None,
    ) -> None:
        self.path = Path(path)
        self._records: dict[int, dict[str, Any]] = {
            rid: {k: copy.deepcopy(v) for k, v in fields.items() if k in WRITE_ONLY}
            for rid, fields in (records or {}).items()
        }
        self._live_total = live_total
        self._lock = threading.RLock()
        # What this process changed since it loaded the file: `save` merges exactly this into
        # what is on disk then, so that it never drops what another process wrote meanwhile.
        # Values given here count as this process's own (`load` clears them).
        self._dirty: dict[int, dict[str, Any]] = copy.deepcopy(self._records)
        self._dirty_total = live_total is not None

    @classmethod
    def load(cls, path: Path | str = DEFAULT_PATH) -> State:
        """The state at `path`; a missing file is an empty state, a corrupt one a ConfigError."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls(path)
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigError(
                f"Cannot read the state file {path}: {e}.",
                hint=f"check its permissions, or pass another file with --state; {_WITHOUT_IT}",
            ) from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise ConfigError(
                f"{path}:{e.lineno}:{e.colno}: the state file is not valid JSON ({e.msg}).",
                hint=f"restore it from a backup, or delete it; {_WITHOUT_IT}",
            ) from None
        state = cls(path, *_parse(path, data))
        state._dirty.clear()
        state._dirty_total = False
        return state

    @property
    def live_total(self) -> int | None:
        """How many live records the last full listing saw (None: never read to the end)."""
        with self._lock:
            return self._live_total

    @live_total.setter
    def live_total(self, value: int | None) -> None:
        with self._lock:
            self._live_total = value
            self._dirty_total = True

    def applied(self, record_id: int) -> Mapping[str, Any]:
        """The write-only values this tool last applied to a record (empty if none)."""
        with self._lock:
            return MappingProxyType(copy.deepcopy(self._records.get(record_id, {})))

    def record_applied(self, record_id: int, fields: Mapping[str, Any]) -> None:
        """Remember the write-only values of a PATCH that succeeded; other fields are ignored.

        Fields not in `fields` keep their earlier applied value: a PATCH that sends `status` alone
        leaves the remembered `contacts` as they were.
        """
        kept = {k: copy.deepcopy(v) for k, v in fields.items() if k in WRITE_ONLY}
        if not kept:
            return
        with self._lock:
            self._records.setdefault(record_id, {}).update(kept)
            self._dirty.setdefault(record_id, {}).update(copy.deepcopy(kept))

    def to_dict(self) -> dict[str, Any]:
        """The JSON form, records sorted by id so that the file diffs cleanly."""
        with self._lock:
            return {
                "format_version": FORMAT_VERSION,
                "records": {
                    str(rid): copy.deepcopy(self._records[rid])
                    for rid in sorted(self._records)
                    if self._records[rid]
                },
                "live_total": self._live_total,
            }

    def save(self) -> None:
        """Merge this process's changes into the file and write it atomically.

        Under the state file's lock (`reconciler.lock`, re-entrant: the commands already hold
        it): the file is read again, the values this process recorded since it loaded are laid
        over it, and the result replaces the file (a reader sees the old content or the new,
        never a mix). An entry another process wrote is kept.
        """
        with self._lock, state_lock(self.path):
            self._merge_from_disk()
            text = json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n"
            try:
                write_atomic(self.path, text, new_mode=0o600)
            except WriteError as e:
                raise ConfigError(
                    f"Cannot write the state file {self.path}: {e.os_error}.",
                    hint="check that its directory is writable, or pass another file with --state",
                ) from None
            self._dirty.clear()
            self._dirty_total = False

    def _merge_from_disk(self) -> None:
        """Take what is on disk now as the base, and lay this process's changes over it."""
        try:
            on_disk = State.load(self.path)
        except ConfigError as e:
            raise ConfigError(
                f"Cannot save the state file {self.path}: it changed since it was read and can "
                f"no longer be read ({e.message})",
                hint="restore it from a backup, or delete it; the write-only values applied by "
                "this run are in its report",
            ) from None
        records = on_disk._records
        for rid, fields in self._dirty.items():
            records.setdefault(rid, {}).update(copy.deepcopy(fields))
        self._records = records
        if not self._dirty_total:
            self._live_total = on_disk._live_total


def _parse(path: Path, data: Any) -> tuple[dict[int, dict[str, Any]], int | None]:
    def bad(what: str) -> ConfigError:
        return ConfigError(
            f"{path}: the state file is malformed: {what}.",
            hint=f"restore it from a backup, or delete it; {_WITHOUT_IT}",
        )

    if not isinstance(data, dict):
        raise bad("the top level must be a JSON object")
    version = data.get("format_version")
    if version != FORMAT_VERSION:
        raise ConfigError(
            f"{path}: state file format_version {version!r} is not {FORMAT_VERSION!r}.",
            hint="it was written by another version of reconciler: upgrade reconciler, "
            f"or delete the file ({_WITHOUT_IT})",
        )
    raw_records = data.get("records", {})
    if not isinstance(raw_records, dict):
        raise bad('"records" must be an object keyed by record id')
    records: dict[int, dict[str, Any]] = {}
    for key, fields in raw_records.items():
        if not (isinstance(key, str) and key.isdigit()):
            raise bad(f'"records" key {key!r} is not a record id')
        if not isinstance(fields, dict):
            raise bad(f'"records"."{key}" must be an object')
        records[int(key)] = fields
    live_total = data.get("live_total")
    if live_total is not None and (
        not isinstance(live_total, int) or isinstance(live_total, bool) or live_total < 0
    ):
        raise bad('"live_total" must be a non-negative integer or null')
    return records, live_total
