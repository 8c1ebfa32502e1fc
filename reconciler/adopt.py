"""Adopt: accept the hand edits made in Coperniq by writing the live values into the files.

This stage turns a drift report into file edits. For each drifted record it sets every drifted
managed field to its live value in that record's file, through `yamlfile.edit_document`, so the
rest of the file (comments, key order, quoting, layout) stays as its author wrote it, and the file
is replaced atomically. Write-only fields are never touched: nothing read can justify a value for
them. A record is refused, its file left alone, when the file changed since it was read, or when
the live values would make a file the schema rejects (a required field cleared live, say).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler import schema
from reconciler.atomic import write_atomic
from reconciler.drift import DriftedRecord
from reconciler.errors import FileTooLarge, NotRegularFile, ReconcilerError
from reconciler.fields import FIELDS
from reconciler.loader import MAX_BYTES, parse
from reconciler.regular import read_regular
from reconciler.yamlfile import edit_document


@dataclass(frozen=True, slots=True)
class Adopted:
    """What adopting one drifted record did: `fields` written, `skipped` write-only fields."""

    id: int
    file: str
    fields: tuple[str, ...]
    skipped: tuple[str, ...] = ()
    error: str | None = None


def _write_only(field: str) -> bool:
    spec = FIELDS.get(field)
    return spec is not None and spec.write_only


def updates_for(record: DriftedRecord) -> dict[str, Any]:
    """The live value of every drifted field adopt may write (write-only fields excluded)."""
    return {f.field: f.before for f in record.fields if not _write_only(f.field)}


def adopt_record(record: DriftedRecord, path: Path, digest: str) -> Adopted:
    """Write one record's live values into its file; `digest` is the sha256 the file had when
    the drift was computed."""
    skipped = tuple(f.field for f in record.fields if _write_only(f.field))
    updates = updates_for(record)
    if not updates:
        return Adopted(record.id, record.file, (), skipped)
    try:
        raw = read_regular(path, what="an opportunity file", limit=MAX_BYTES)
    except OSError as e:
        return _refused(record, skipped, f"cannot read the file: {e.strerror or e}")
    except (NotRegularFile, FileTooLarge) as e:  # swapped since it was loaded
        return _refused(record, skipped, e.message)
    if hashlib.sha256(raw).hexdigest() != digest:
        return _refused(record, skipped, "the file changed while adopting; run adopt again")
    try:
        text = edit_document(raw.decode("utf-8"), updates, record.file)
        problems = schema.check(parse(text.encode("utf-8"), record.file))
    except (ReconcilerError, UnicodeDecodeError) as e:
        return _refused(record, skipped, str(e))
    if problems:
        listed = "; ".join(f"{p.field}: {p.message}" for p in problems)
        return _refused(
            record,
            skipped,
            f"the live values would make the file invalid ({listed}); fix the record in "
            "Coperniq or edit the file by hand",
        )
    try:
        write_atomic(path, text)
    except ReconcilerError as e:
        return _refused(record, skipped, str(e))
    return Adopted(record.id, record.file, tuple(updates), skipped)


def _refused(record: DriftedRecord, skipped: tuple[str, ...], why: str) -> Adopted:
    return Adopted(record.id, record.file, (), skipped, error=f"{record.file}: {why}")
