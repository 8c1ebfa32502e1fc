"""The state file: what this tool last applied for the fields the API never returns.

`status` and `contacts` are write-only (`fields.FIELDS`): a GET does not show them, so the diff
compares a desired value with the last value this tool applied, kept here per record, written
atomically (`atomic.write_atomic`) after every successful PATCH so that an interrupted apply
loses nothing it did. It also keeps the last live record count (`read_live` estimates what a
listing costs from it); the managed ids with their files; and the creates in flight (recorded
before each POST: a rerun binds what a crash left). Nothing else.

A state file belongs to one API: `api_url` (scheme, host, port and path of the API base URL,
nothing else) says which. Loaded for a run against another URL (`bind`), its values are not
used: the write-only fields show as "current value cannot be read", `notes` says why once, and
the first save rebinds the file to the new URL. Its content is checked against its own schema
(`state_schema`) before any of it is used.

Format (`format_version` "1"; `api_url` absent in files written before it was recorded;
`managed` and `pending_creates` absent when empty):
`{"format_version": "1", "api_url": "https://api.coperniq.io/v1",
"records": {"<id>": {"status": ..., "contacts": [...]}}, "live_total": N,
"managed": {"<id>": "<file>"}, "pending_creates": {"<file>": {"digest": ..., "match_by": ...,
"value": ...}}}`
"""

from __future__ import annotations

import copy
import json
import threading
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from reconciler.atomic import write_atomic
from reconciler.errors import ConfigError, WriteError
from reconciler.fields import WRITE_ONLY, WRITE_ONLY_NAMES
from reconciler.lock import state_lock
from reconciler.regular import STATE_LIMIT, read_regular
from reconciler.state_schema import state_problems

DEFAULT_PATH: Final = Path(".reconciler/state.json")
FORMAT_VERSION: Final = "1"

_WITHOUT_IT = (
    f"without it, write-only fields ({WRITE_ONLY_NAMES}) show as 'current value cannot be read' "
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
        api_url: str | None = None,
        *,
        managed: Mapping[int, str] | None = None,
        pending: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self.path = Path(path)
        self._api_url = api_url  # the API the values were recorded against (None: not known)
        self._bound: str | None = None  # the API this run talks to (`bind`)
        self._records: dict[int, dict[str, Any]] = {
            rid: {k: copy.deepcopy(v) for k, v in fields.items() if k in WRITE_ONLY}
            for rid, fields in (records or {}).items()
        }
        self._live_total = live_total
        self._managed: dict[int, str] = dict(managed or {})
        self._pending: dict[str, dict[str, Any]] = {k: dict(v) for k, v in (pending or {}).items()}
        self._lock = threading.RLock()
        # What this process changed since it loaded the file: `save` merges exactly this into
        # what is on disk then, so that it never drops what another process wrote meanwhile.
        # Values given here count as this process's own (`load` clears them).
        self._dirty: dict[int, dict[str, Any]] = copy.deepcopy(self._records)
        self._dirty_total = live_total is not None
        self._dirty_managed: dict[int, str | None] = dict(self._managed)  # None: forgotten
        self._dirty_pending: dict[str, dict[str, Any] | None] = copy.deepcopy(
            dict(self._pending)
        )  # None: ended

    @classmethod
    def load(cls, path: Path | str = DEFAULT_PATH) -> State:
        """The state at `path`; a missing file is an empty state, a corrupt one a ConfigError."""
        path = Path(path)
        try:
            text = read_regular(path, what="a state file", limit=STATE_LIMIT).decode("utf-8")
        except FileNotFoundError:
            return cls(path)
        except PermissionError as e:
            raise ConfigError(
                f"Cannot read the state file {path}: {e.strerror}.",
                hint=f"check its permissions, or pass another file with --state; {_WITHOUT_IT}",
            ) from None
        except UnicodeDecodeError:
            raise _not_a_state_file(path, "its bytes are not UTF-8 text") from None
        except OSError as e:
            raise _not_a_state_file(path, f"it cannot be read as a file: {e.strerror}") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise _not_a_state_file(
                path, f"it is not valid JSON ({e.msg})", f"{path}:{e.lineno}:{e.colno}"
            ) from None
        if not isinstance(data, dict) or "format_version" not in data:
            raise _not_a_state_file(path, "it is not a JSON object with a format_version")
        records, live_total, managed, pending = _parse(path, data)
        problems = state_problems(data)
        if problems:
            raise ConfigError(
                f"{path}: the state file is malformed: {'; '.join(problems)}.",
                hint=f"fix or remove those entries (the values reconciler last applied), "
                f"restore the file from a backup, or delete it; {_WITHOUT_IT}",
            )
        recorded = data.get("api_url")
        state = cls(
            path,
            records,
            live_total,
            api_identity(recorded) if recorded else None,
            managed=managed,
            pending=pending,
        )
        state._dirty.clear()
        state._dirty_total = False
        state._dirty_managed.clear()
        state._dirty_pending.clear()
        return state

    def bind(self, base_url: str) -> None:
        """Say which API this run talks to. Values recorded against another API are not used
        (`foreign`), and the next save records this one."""
        with self._lock:
            self._bound = api_identity(base_url)

    @property
    def api(self) -> str | None:
        """The API this run talks to, as `api_identity` names it (None: not bound)."""
        with self._lock:
            return self._bound

    @property
    def foreign(self) -> bool:
        """Whether the file's values were recorded against another API than the bound one."""
        with self._lock:
            return (
                self._bound is not None
                and self._api_url is not None
                and self._api_url != self._bound
            )

    @property
    def notes(self) -> tuple[str, ...]:
        """What a plan should say once about this state (why write-only values are not used)."""
        if not self.foreign:
            return ()
        return (
            f"The state file {self.path} holds the write-only values applied through "
            f"{self._api_url}, not {self._bound}: they are not used, so status and contacts "
            "show as 'current value cannot be read' and an apply sends them (and then records "
            f"them for {self._bound} in place of the others).",
        )

    @property
    def live_total(self) -> int | None:
        """How many live records the last full listing saw (None: never read to the end)."""
        with self._lock:
            if self.foreign and not self._dirty_total:
                return None  # another API's count
            return self._live_total

    @live_total.setter
    def live_total(self, value: int | None) -> None:
        with self._lock:
            self._live_total = value
            self._dirty_total = True

    def applied(self, record_id: int) -> Mapping[str, Any]:
        """The write-only values this tool last applied to a record (empty if none, or if they
        were applied through another API), copied: an apply may record new ones meanwhile."""
        with self._lock:
            found = (self._dirty if self.foreign else self._records).get(record_id)
            return MappingProxyType(copy.deepcopy(found) if found else {})

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

    @property
    def managed(self) -> Mapping[int, str]:
        """The ids this tool manages, each with the file that declared it when last seen; none
        when the file belongs to another API (its ids are not this API's records)."""
        with self._lock:
            return MappingProxyType({} if self.foreign else dict(self._managed))

    def manage(self, files: Mapping[int, str]) -> None:
        """Record these ids as managed from these files (a moved file updates its path)."""
        with self._lock:
            self._managed.update(files)
            self._dirty_managed.update(files)

    def forget(self, record_id: int) -> None:
        """Stop managing a record: its managed entry and its applied values go."""
        with self._lock:
            self._managed.pop(record_id, None)
            self._records.pop(record_id, None)
            self._dirty.pop(record_id, None)
            self._dirty_managed[record_id] = None

    @property
    def pending_creates(self) -> Mapping[str, Mapping[str, Any]]:
        """Creates recorded before their POST and not yet bound, by file (none when the file
        belongs to another API)."""
        with self._lock:
            return MappingProxyType({} if self.foreign else copy.deepcopy(self._pending))

    def begin_create(self, file: str, *, digest: str, match_by: str, value: str | None) -> None:
        entry = {"digest": digest, "match_by": match_by, "value": value}
        with self._lock:
            self._pending[file] = entry
            self._dirty_pending[file] = dict(entry)

    def end_create(self, file: str) -> None:
        with self._lock:
            self._pending.pop(file, None)
            self._dirty_pending[file] = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form, records sorted by id so that the file diffs cleanly."""
        with self._lock:
            data: dict[str, Any] = {"format_version": FORMAT_VERSION}
            api_url = self._bound or self._api_url
            if api_url is not None:
                data["api_url"] = api_url
            data["records"] = {
                str(rid): copy.deepcopy(self._records[rid])
                for rid in sorted(self._records)
                if self._records[rid]
            }
            data["live_total"] = self._live_total
            return data | self._lifecycle_dict()

    def _lifecycle_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self._managed:
            out["managed"] = {str(rid): self._managed[rid] for rid in sorted(self._managed)}
        if self._pending:
            out["pending_creates"] = {k: dict(self._pending[k]) for k in sorted(self._pending)}
        return out

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
            if self._bound is not None:
                self._api_url = self._bound
            self._dirty_managed.clear()
            self._dirty_pending.clear()

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
        rebinding = (
            self._bound is not None
            and on_disk._api_url is not None
            and on_disk._api_url != self._bound
        )
        # Values recorded against another API mean nothing for this one: a file rebound to
        # this run's API keeps only what this run applied.
        records = {} if rebinding else on_disk._records
        for rid, fields in self._dirty.items():
            records.setdefault(rid, {}).update(copy.deepcopy(fields))
        # Ids managed, and creates pending, against another API are not this API's either.
        managed = {} if rebinding else on_disk._managed
        pending = {} if rebinding else on_disk._pending
        for rid, file in self._dirty_managed.items():
            if file is None:
                managed.pop(rid, None)
                if rid not in self._dirty:
                    records.pop(rid, None)
            else:
                managed[rid] = file
        for name, entry in self._dirty_pending.items():
            if entry is None:
                pending.pop(name, None)
            else:
                pending[name] = copy.deepcopy(entry)
        self._records, self._managed, self._pending = records, managed, pending
        if not self._dirty_total:
            self._live_total = None if rebinding else on_disk._live_total
        if self._bound is None:
            self._api_url = on_disk._api_url


def api_identity(base_url: str) -> str:
    """The API a base URL names, as a state file records it: scheme, host, port (when not the
    scheme's default) and path; never user-info, query or fragment (they may hold secrets)."""
    parts = urllib.parse.urlsplit(base_url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    default = {"http": 80, "https": 443}.get(scheme)
    netloc = host if port is None or port == default else f"{host}:{port}"
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}"


def _not_a_state_file(path: Path, why: str, where: str | None = None) -> ConfigError:
    return ConfigError(
        f"{where + ': ' if where else ''}{path} is not a reconciler state file: {why}.",
        hint="pass the state file with --state (default .reconciler/state.json), or restore it "
        f"from a backup, or delete it; {_WITHOUT_IT}",
    )


def _parse(
    path: Path, data: Any
) -> tuple[dict[int, dict[str, Any]], int | None, dict[int, str], dict[str, dict[str, Any]]]:
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
    # `managed` and `pending_creates` are checked against the state schema (`state_problems`).
    raw_managed, raw_pending = data.get("managed", {}), data.get("pending_creates", {})
    if not isinstance(raw_managed, dict) or not isinstance(raw_pending, dict):
        raise bad('"managed" and "pending_creates" must be objects')
    managed = {int(k): str(v) for k, v in raw_managed.items() if str(k).isdigit()}
    return records, live_total, managed, raw_pending
