"""What a stored opportunity looks like, what the API shows of it, and when a write changes it.

Pure functions over plain dicts. A *stored* record holds every writable field (the write-only
`status` and `contacts` included, the title as written) plus the server's own fields (`id`,
`number`, `isActive`, timestamps, people). Its *view* is the published `Opportunity` shape: the
derived address parts, geolocation, workflow name, phase and phase instances are computed, a
blank title reads back as the account's title, and `status` and `contacts` are left out.
`same` is the server's notion of "no change": numbers compare numerically, lists as sets.
"""

from __future__ import annotations

import copy
import hashlib
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from reconciler.sandbox.reference import Reference

WRITABLE = (
    "title",
    "description",
    "address",
    "trades",
    "accountId",
    "workflowId",
    "phaseId",
    "value",
    "size",
    "confidence",
    "status",
    "primaryEmail",
    "primaryPhone",
    "contacts",
    "custom",
)
WRITE_ONLY = ("status", "contacts")
# Server-owned fields a seed may set and the view returns as stored.
SERVER_FIELDS = (
    "id",
    "number",
    "isActive",
    "createdAt",
    "updatedAt",
    "createdBy",
    "updatedBy",
    "owner",
    "salesRep",
    "projectManager",
    "jurisdiction",
    "imageUrl",
    "streetViewUrl",
    "lastActivity",
)
DERIVED = (
    "geoLocation",
    "city",
    "zipcode",
    "state",
    "street",
    "phase",
    "phaseInstances",
    "workflowName",
)
READ_ONLY = frozenset(SERVER_FIELDS + DERIVED) - {"id"}

DEFAULTS: dict[str, Any] = {
    "description": None,
    "accountId": None,
    "workflowId": None,
    "phaseId": None,
    "value": None,
    "size": None,
    "confidence": None,
    "status": "ACTIVE",
    "primaryEmail": None,
    "primaryPhone": None,
    "contacts": [],
    "custom": {},
    "isActive": True,
    "createdBy": None,
    "updatedBy": None,
    "owner": None,
    "salesRep": None,
    "projectManager": None,
    "jurisdiction": None,
    "imageUrl": None,
    "streetViewUrl": None,
    "lastActivity": None,
}

# --- time ---------------------------------------------------------------------------------------

_INSTANT = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$"
)


def parse_instant(text: str) -> datetime:
    """An ISO 8601 / RFC 3339 instant as an aware UTC datetime; naive means UTC."""
    m = _INSTANT.match(text.strip())
    if m is None:
        raise ValueError(f"{text!r} is not an ISO 8601 date-time")
    year, month, day, hour, minute, second, frac, _z, sign, off_h, off_m = m.groups()
    # RFC 3339 allows a leap second (:60); Python's datetime does not, so it reads as :59.
    sec = min(int(second or 0), 59)
    micro = int((frac or "0")[:6].ljust(6, "0"))
    # RFC 3339 allows year 0000, which Python's datetime does not: it reads as year 1.
    dt = datetime(
        max(int(year), 1), int(month), int(day), int(hour or 0), int(minute or 0), sec, micro,
        tzinfo=UTC,
    )  # fmt: skip
    if sign:
        offset = timedelta(hours=int(off_h), minutes=int(off_m))
        try:
            dt = dt - offset if sign == "+" else dt + offset
        except OverflowError:  # an offset that leaves year 1..9999: the nearest representable
            dt = (
                datetime.min.replace(tzinfo=UTC)
                if sign == "+"
                else datetime.max.replace(tzinfo=UTC)
            )
    return dt


def to_ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


def format_ms(ms: int) -> str:
    dt = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


# --- address ------------------------------------------------------------------------------------

_STATE_ZIP = re.compile(r"^([A-Za-z]{2})\.?\s+(\d{5}(?:-\d{4})?)$")
_STATE = re.compile(r"^[A-Za-z]{2}$")
_ZIP = re.compile(r"^\d{5}(?:-\d{4})?$")
_COUNTRY = {"usa", "us", "u.s.a.", "united states", "united states of america"}


def split_address(text: str) -> tuple[str, str, str, str]:
    """(street, city, state, zipcode) from one US-style address line; unknown parts are ""."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if len(parts) > 1 and parts[-1].casefold() in _COUNTRY:
        parts.pop()
    state = zipcode = city = ""
    if len(parts) > 1:
        m = _STATE_ZIP.match(parts[-1])
        if m:
            state, zipcode = m.group(1).upper(), m.group(2)
            parts.pop()
        elif _ZIP.match(parts[-1]):
            zipcode = parts.pop()
            if len(parts) > 1 and _STATE.match(parts[-1]):
                state = parts.pop().upper()
        elif _STATE.match(parts[-1]):
            state = parts.pop().upper()
    if len(parts) > 1:
        city = parts.pop()
    return ", ".join(parts), city, state, zipcode


def geolocation(text: str) -> str:
    """A stable "lat,lon" inside the contiguous US, derived from the address text."""
    digest = hashlib.sha256(" ".join(text.casefold().split()).encode()).digest()
    lat = 25.0 + int.from_bytes(digest[:4], "big") / 2**32 * 24.0
    lon = -124.0 + int.from_bytes(digest[4:8], "big") / 2**32 * 57.0
    return f"{lat:.6f},{lon:.6f}"


def phone_digits(text: str) -> str:
    """A phone number for matching: its digits, without the US country code."""
    digits = "".join(c for c in text if c.isdigit())
    return digits[1:] if len(digits) == 11 and digits.startswith("1") else digits


def e164(text: str) -> str:
    """How a normalising server stores a phone: +1 and ten digits for US numbers."""
    digits = phone_digits(text)
    return f"+1{digits}" if len(digits) == 10 else text


# --- views --------------------------------------------------------------------------------------


def effective_title(stored: dict[str, Any], ref: Reference) -> str:
    title = str(stored.get("title") or "")
    if not title.strip():
        account = ref.accounts.get(stored.get("accountId"))  # type: ignore[arg-type]
        if account is not None:
            return account
    return title


def view(stored: dict[str, Any], ref: Reference) -> dict[str, Any]:
    """The record as GET and PATCH answer it (the published `Opportunity` schema)."""
    address = stored["address"][0]
    street, city, state, zipcode = split_address(address)
    workflow = ref.workflows.get(stored.get("workflowId"))  # type: ignore[arg-type]
    phase = ref.phases.get(stored.get("phaseId"))  # type: ignore[arg-type]
    instances: list[dict[str, Any]] = []
    if workflow is not None:
        ids = [p.id for p in workflow.phases]
        current = ids.index(phase.id) if phase is not None and phase.id in ids else -1
        for i, p in enumerate(workflow.phases):
            if current < 0 or i > current:
                status = "NOT_STARTED"
            else:
                status = "IN_PROGRESS" if i == current else "COMPLETED"
            instances.append(
                {
                    "id": stored["id"] * 100 + p.position,
                    "name": p.name,
                    "status": status,
                    "position": p.position,
                    "type": p.type,
                    "phaseTemplateId": p.id,
                    "phaseTemplate": p.template(),
                }
            )
    return {
        "id": stored["id"],
        "createdAt": stored["createdAt"],
        "updatedAt": stored["updatedAt"],
        "title": effective_title(stored, ref),
        "description": stored["description"],
        "address": list(stored["address"]),
        "isActive": stored["isActive"],
        "primaryEmail": stored["primaryEmail"],
        "primaryPhone": stored["primaryPhone"],
        "number": stored["number"],
        "createdBy": stored["createdBy"],
        "updatedBy": stored["updatedBy"],
        "custom": copy.deepcopy(stored["custom"]),
        "trades": list(stored["trades"]),
        "value": stored["value"],
        "size": stored["size"],
        "confidence": stored["confidence"],
        "workflowId": stored["workflowId"],
        "accountId": stored["accountId"],
        "geoLocation": [geolocation(address)],
        "imageUrl": stored["imageUrl"],
        "streetViewUrl": stored["streetViewUrl"],
        "city": city,
        "zipcode": zipcode,
        "state": state,
        "street": street,
        "phase": None if phase is None else phase.summary(),
        "phaseInstances": instances,
        "owner": stored["owner"],
        "salesRep": stored["salesRep"],
        "projectManager": stored["projectManager"],
        "jurisdiction": stored["jurisdiction"],
        "lastActivity": stored["lastActivity"],
        "phaseId": stored["phaseId"],
        # Null without a workflow: update-opportunity.txt (which wins) types it "string or null".
        "workflowName": None if workflow is None else workflow.name,
    }


def full(stored: dict[str, Any], ref: Reference) -> dict[str, Any]:
    """The view plus what the API hides: write-only fields and the title as stored."""
    out = view(stored, ref)
    out["title"] = stored["title"]
    out["status"] = stored["status"]
    out["contacts"] = list(stored["contacts"])
    return out


# --- change detection ---------------------------------------------------------------------------


def same(a: Any, b: Any) -> bool:
    """Whether writing `b` over `a` changes nothing, as the server sees it."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        # Every list field (trades, contacts, multi-select options, address) is a set.
        return all(any(same(x, y) for y in b) for x in a) and all(
            any(same(x, y) for x in a) for y in b
        )
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def apply(
    stored: dict[str, Any], fields: dict[str, Any], custom: dict[str, Any] | None
) -> tuple[dict[str, Any], bool]:
    """`stored` with `fields` written and `custom` merged key by key (None clears a key).

    Returns the new record and whether anything really changed; unchanged values keep their
    stored form (1000 stays 1000 when 1000.0 is written).
    """
    new = copy.deepcopy(stored)
    changed = False
    for name, value in fields.items():
        if not same(new.get(name), value):
            new[name] = copy.deepcopy(value)
            changed = True
    if custom:
        merged = new["custom"]
        for key, value in custom.items():
            if value is None:
                if key in merged:
                    del merged[key]
                    changed = True
            elif key not in merged or not same(merged[key], value):
                merged[key] = copy.deepcopy(value)
                changed = True
    return new, changed
