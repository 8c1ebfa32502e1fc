"""The live snapshot cache's file: its format, and reading it back without trusting it.

One JSON file per API URL (`live-<digest of the URL>.json`): the format version, the URL
(without any user:password part), when the last full read was made, the high-water mark (the
largest `updatedAt` seen, server clock) and the records, each holding only the fields in `KEPT`.
`parse` refuses anything else with a reason (`Unusable`): the caller then reads in full.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

import orjson

from reconciler.fields import FIELDS, KEY

FORMAT_VERSION: Final = "1"
KEPT: Final = frozenset({KEY, *FIELDS, "updatedAt", "isActive", "updatedBy"})
"""What the snapshot keeps of a record: what the diff, the plan and the drift report read."""


@dataclass(slots=True)
class Stored:
    """The content of one cache file."""

    api_url: str
    full_read_at: datetime
    mark: datetime | None
    records: dict[int, dict[str, Any]]


def parse_instant(value: object) -> datetime | None:
    """An ISO 8601 instant as an aware UTC datetime (naive ones read as UTC); None if not one."""
    if not isinstance(value, str):
        return None
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        return None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(UTC)


def format_instant(instant: datetime) -> str:
    """Whole seconds, rounded down (asking from earlier only re-reads more), in UTC with Z."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def age(delta: timedelta) -> str:
    seconds = max(delta.total_seconds(), 0)
    if seconds < 90:
        return f"{math.floor(seconds)} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    if seconds < 48 * 3600:
        return f"{round(seconds / 3600)} h"
    return f"{round(seconds / 86400)} days"


class Unusable(Exception):
    """Why a cache file cannot be used (one line for the notice)."""


def public_url(url: str) -> str:
    """The URL without any user:password part, query or fragment: what the cache names."""
    parts = urlsplit(url.strip().rstrip("/"))
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port is not None else "")
    return urlunsplit((parts.scheme.lower(), netloc, parts.path, "", ""))


def digest(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def dump(stored: Stored) -> bytes:
    return orjson.dumps(
        {
            "format_version": FORMAT_VERSION,
            "api_url": stored.api_url,
            "full_read_at": stored.full_read_at.isoformat(),
            "mark": None if stored.mark is None else stored.mark.isoformat(),
            "records": list(stored.records.values()),
        }
    )


def parse(raw: bytes, api_url: str, now: datetime) -> Stored:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise Unusable("not valid JSON (truncated or corrupted?)") from None
    if not isinstance(data, dict) or "format_version" not in data:
        raise Unusable("not a reconciler live cache")
    if data["format_version"] != FORMAT_VERSION:
        raise Unusable(f"written by another format version ({data['format_version']!r})")
    if data.get("api_url") != api_url:
        raise Unusable(f"written for another API URL ({data.get('api_url')!r})")
    full_read_at = parse_instant(data.get("full_read_at"))
    if full_read_at is None or full_read_at > now + timedelta(minutes=5):
        raise Unusable("its last full read time is missing or in the future")
    raw_mark = data.get("mark")
    mark = parse_instant(raw_mark)
    if raw_mark is not None and mark is None:
        raise Unusable("its high-water mark is not a timestamp")
    raw_records = data.get("records")
    if not isinstance(raw_records, list):
        raise Unusable("it holds no record list")
    records: dict[int, dict[str, Any]] = {}
    for record in raw_records:
        rid = record.get("id") if isinstance(record, dict) else None
        if not isinstance(rid, int) or isinstance(rid, bool) or rid in records:
            raise Unusable("a record without a valid, unique id")
        if not record.keys() <= KEPT:
            raise Unusable(f"record {rid} holds fields a cache never keeps")
        records[rid] = record
    if records and mark is None:
        raise Unusable("records without a high-water mark")
    return Stored(api_url, full_read_at, mark, records)
