"""SQLite persistence: opportunity rows, contacts, and the reference data and seed as metadata.

Each opportunity row keeps the stored record as JSON, its ready-to-send view as JSON text (so a
page of 100 records is one indexed query and a string join, with no re-encoding), and a few
lowercased columns that the list filters search. The store knows nothing of the API's rules; the
service decides what to write and calls it under its lock. One connection serves every thread;
the service's lock serialises it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.sandbox.errors import SandboxError
from reconciler.sandbox.records import phone_digits

SCHEMA_VERSION = "1"
MAX_OFFSET = 2**62

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS opportunity (
    id INTEGER PRIMARY KEY,
    number INTEGER NOT NULL,
    is_active INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    title TEXT NOT NULL,        -- the title as read back (account fallback applied), lowercased
    address TEXT NOT NULL,      -- lowercased
    email TEXT NOT NULL,        -- lowercased primaryEmail
    phone TEXT NOT NULL,        -- primaryPhone digits only
    names TEXT NOT NULL,        -- lowercased names of the linked contacts
    fulltext TEXT NOT NULL,     -- lowercased text that `q` searches
    stored TEXT NOT NULL,
    view TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS opportunity_active ON opportunity (is_active, id);
CREATE INDEX IF NOT EXISTS opportunity_updated ON opportunity (updated_ms);
CREATE TABLE IF NOT EXISTS contact (id INTEGER PRIMARY KEY, data TEXT NOT NULL);
"""


@dataclass(frozen=True, slots=True)
class Row:
    """The searchable columns of one opportunity, computed by the service."""

    record: dict[str, Any]
    view: str
    updated_ms: int
    title: str
    names: str

    def columns(self) -> tuple[Any, ...]:
        r = self.record
        email = (r.get("primaryEmail") or "").lower()
        phone = phone_digits(r.get("primaryPhone") or "")
        address = r["address"][0].lower()
        fulltext = "\n".join(
            (self.title, address, email, (r.get("primaryPhone") or ""), self.names,
             (r.get("description") or "").lower(), str(r["number"]))
        )  # fmt: skip
        return (
            r["id"], r["number"], int(r["isActive"]), self.updated_ms, self.title, address,
            email, phone, self.names, fulltext, json.dumps(r), self.view,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Filters:
    """`GET /opportunities` filters; text ones are lowercased substrings."""

    include_archived: bool = False
    updated_after_ms: float | None = None
    updated_before_ms: float | None = None
    q: str | None = None
    title: str | None = None
    address: str | None = None
    name: str | None = None
    phone: str | None = None
    email: str | None = None


class Store:
    def __init__(self, path: str | Path | None) -> None:
        self.path = None if path is None else Path(path)
        try:
            self._db = sqlite3.connect(
                ":memory:" if path is None else str(path),
                check_same_thread=False,
                isolation_level=None,
            )
            if path is not None:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            version = self.meta("schema")
        except sqlite3.DatabaseError as e:
            raise SandboxError(f"{path}: not a usable sandbox database: {e}") from None
        if version is not None and version != SCHEMA_VERSION:
            raise SandboxError(
                f"{path}: written by another sandbox version (schema {version}); delete it"
            )

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # --- metadata -------------------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    @property
    def initialised(self) -> bool:
        return self.meta("seed") is not None

    # --- bulk -----------------------------------------------------------------------------------

    def replace_all(self, rows: Sequence[Row], contacts: dict[int, dict[str, Any]]) -> None:
        """Wipe every opportunity and contact and write these (inside a transaction)."""
        self.set_meta("schema", SCHEMA_VERSION)
        self._db.execute("DELETE FROM opportunity")
        self._db.execute("DELETE FROM contact")
        self._db.executemany(
            "INSERT INTO opportunity VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (row.columns() for row in rows),
        )
        self._db.executemany(
            "INSERT INTO contact (id, data) VALUES (?, ?)",
            ((cid, json.dumps(c)) for cid, c in contacts.items()),
        )

    # --- opportunities --------------------------------------------------------------------------

    def put(self, row: Row) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO opportunity VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            row.columns(),
        )

    def delete(self, record_id: int) -> None:
        self._db.execute("DELETE FROM opportunity WHERE id = ?", (record_id,))

    def stored(self, record_id: int, *, include_archived: bool = True) -> dict[str, Any] | None:
        row = self._db.execute(
            "SELECT stored FROM opportunity WHERE id = ? AND (is_active = 1 OR ?)",
            (record_id, int(include_archived)),
        ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def view(self, record_id: int, *, include_archived: bool) -> str | None:
        row = self._db.execute(
            "SELECT view FROM opportunity WHERE id = ? AND (is_active = 1 OR ?)",
            (record_id, int(include_archived)),
        ).fetchone()
        return None if row is None else str(row[0])

    def page(self, filters: Filters, *, offset: int, limit: int, descending: bool) -> list[str]:
        where: list[str] = ["1 = 1"]
        args: list[Any] = []
        if not filters.include_archived:
            where.append("is_active = 1")
        if filters.updated_after_ms is not None:
            where.append("updated_ms > ?")
            args.append(filters.updated_after_ms)
        if filters.updated_before_ms is not None:
            where.append("updated_ms < ?")
            args.append(filters.updated_before_ms)
        for column, value in (
            ("fulltext", filters.q),
            ("title", filters.title),
            ("address", filters.address),
            ("names", filters.name),
            ("phone", filters.phone),
            ("email", filters.email),
        ):
            if value is not None:
                where.append(f"instr({column}, ?) > 0")
                args.append(value)
        if offset > MAX_OFFSET:  # past any page SQLite can count to: past the end
            return []
        order = "DESC" if descending else "ASC"
        sql = (
            f"SELECT view FROM opportunity WHERE {' AND '.join(where)} "
            f"ORDER BY id {order} LIMIT ? OFFSET ?"
        )
        return [str(r[0]) for r in self._db.execute(sql, (*args, limit, offset))]

    def scan(
        self, *, include_archived: bool, descending: bool
    ) -> Iterator[tuple[dict[str, Any], str]]:
        order = "DESC" if descending else "ASC"
        rows = self._db.execute(
            f"SELECT stored, view FROM opportunity WHERE (is_active = 1 OR ?) ORDER BY id {order}",
            (int(include_archived),),
        )
        for stored, view in rows.fetchall():
            yield json.loads(stored), str(view)

    def find(self, column: str, value: str) -> dict[str, Any] | None:
        """The first active record whose match column equals `value` (POST's `match_by`)."""
        if column not in ("title", "email", "phone", "address"):
            raise ValueError(f"not a match column: {column}")
        row = self._db.execute(
            f"SELECT stored FROM opportunity WHERE is_active = 1 AND trim({column}) = ? "
            "ORDER BY id LIMIT 1",
            (value,),
        ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def max_ids(self) -> tuple[int, int]:
        row = self._db.execute("SELECT MAX(id), MAX(number) FROM opportunity").fetchone()
        return int(row[0] or 0), int(row[1] or 0)

    def count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM opportunity").fetchone()[0])

    # --- contacts -------------------------------------------------------------------------------

    def put_contact(self, contact: dict[str, Any]) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO contact (id, data) VALUES (?, ?)",
            (contact["id"], json.dumps(contact)),
        )

    def contacts(self) -> dict[int, dict[str, Any]]:
        rows = self._db.execute("SELECT id, data FROM contact ORDER BY id")
        return {int(cid): dict(json.loads(data)) for cid, data in rows}
