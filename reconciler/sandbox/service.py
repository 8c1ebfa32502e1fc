"""The sandbox's behaviour, independent of HTTP: each API operation as one method.

The service owns the reference data, the store and the clock, and runs every operation under one
lock, so each is atomic with respect to the others: a PATCH validates the whole body, then
writes the record and any new catalogue options in one transaction, or writes nothing. It answers
views as JSON text, ready to send. `updatedAt` moves only when a write really changes something,
and never backwards, even when two writes land in the same millisecond.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from reconciler.sandbox import records
from reconciler.sandbox.contacts import check_contact, contact_view
from reconciler.sandbox.errors import SandboxError, invalid, not_found
from reconciler.sandbox.reference import RECORD_TYPES, Phase, Reference, Workflow
from reconciler.sandbox.rules import Mode, check_body, new_record
from reconciler.sandbox.search import Condition
from reconciler.sandbox.seed import Seed, load_seed
from reconciler.sandbox.store import Filters, Row, Store

MATCH_BY = ("title", "primaryEmail", "primaryPhone", "address")
STRATEGIES = ("skip", "replace", "enrich")
_MATCH_COLUMNS = {
    "title": "title",
    "primaryEmail": "email",
    "primaryPhone": "phone",
    "address": "address",
}


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


_digits = records.phone_digits


class Service:
    def __init__(
        self,
        seed: Seed,
        db: str | Path | None,
        *,
        seed_given: bool,
        require_full_patch: bool = False,
        normalize_phones: bool = False,
        replace_custom: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._lock = threading.RLock()
        self._clock = clock
        self._last_ms = 0
        self.require_full_patch = require_full_patch
        self.normalize_phones = normalize_phones
        self.replace_custom = replace_custom
        self.store = Store(db)
        if self.store.initialised:
            if seed_given:
                raise SandboxError(
                    f"{db} already holds sandbox data; start without a seed to keep it, or "
                    "delete the file to load the seed"
                )
            self._seed = load_seed(json.loads(self.store.meta("seed") or "{}"))
            self.ref = self._read_reference()
        else:
            self._seed = seed
            self.ref = seed.reference()
            self._load()

    # --- state ----------------------------------------------------------------------------------

    def _load(self) -> None:
        self.ref = self._seed.reference()
        rows = [self._row(r) for r in self._seed.opportunities]
        with self.store.transaction():
            self.store.replace_all(rows, self.ref.contacts)
            self.store.set_meta("seed", _dumps(self._seed.raw))
            self._write_reference()

    def reset(self) -> None:
        """Back to the seed: records, contacts and catalogue as they were loaded."""
        with self._lock:
            self._load()

    def close(self) -> None:
        with self._lock:
            self.store.close()

    def _write_reference(self) -> None:
        data = {
            "accounts": [[k, v] for k, v in self.ref.accounts.items()],
            "workflows": [w.to_json() for w in self.ref.workflows.values()],
            "properties": self.ref.properties,
        }
        self.store.set_meta("reference", _dumps(data))

    def _read_reference(self) -> Reference:
        data = json.loads(self.store.meta("reference") or "{}")
        workflows = [
            Workflow(
                w["id"],
                w["name"],
                w["description"],
                tuple(
                    Phase(
                        p["id"], p["name"], p["type"], w["id"], i + 1, p["redSla"], p["yellowSla"]
                    )
                    for i, p in enumerate(w["phases"])
                ),
            )
            for w in data["workflows"]
        ]
        accounts = {int(k): str(v) for k, v in data["accounts"]}
        return Reference(accounts, self.store.contacts(), workflows, data["properties"])

    def _now_ms(self, after: int = 0) -> int:
        now = max(int(self._clock() * 1000), self._last_ms + 1, after + 1)
        self._last_ms = now
        return now

    def _row(self, record: dict[str, Any]) -> Row:
        view = records.view(record, self.ref)
        names = " ".join(self.ref.contact_name(c) for c in record["contacts"]).lower()
        updated = records.to_ms(records.parse_instant(record["updatedAt"]))
        return Row(record, _dumps(view), updated, view["title"].lower(), names)

    def _write(self, record: dict[str, Any], new_options: Sequence[tuple[str, str]]) -> str:
        row = self._row(record)
        with self.store.transaction():
            for key, option in new_options:
                self.ref.add_option(key, option)
            if new_options:
                self._write_reference()
            self.store.put(row)
        return row.view

    def _touch(self, record: dict[str, Any]) -> None:
        previous = records.to_ms(records.parse_instant(record["updatedAt"]))
        record["updatedAt"] = records.format_ms(self._now_ms(after=previous))

    # --- opportunities --------------------------------------------------------------------------

    def list_page(self, filters: Filters, *, page: int, page_size: int, descending: bool) -> str:
        with self._lock:
            views = self.store.page(
                filters, offset=(page - 1) * page_size, limit=page_size, descending=descending
            )
        return "[" + ",".join(views) + "]"

    def get(self, record_id: int, *, include_archived: bool) -> str:
        with self._lock:
            view = self.store.view(record_id, include_archived=include_archived)
        if view is None:
            raise not_found(f"opportunity {record_id}")
        return view

    def count(self) -> int:
        with self._lock:
            return self.store.count()

    def record(self, record_id: int) -> dict[str, Any] | None:
        """The full stored record (write-only fields, raw title) for test assertions."""
        with self._lock:
            stored = self.store.stored(record_id)
            return None if stored is None else records.full(stored, self.ref)

    def patch(self, record_id: int, body: object, *, allow_new_options: bool) -> str:
        with self._lock:
            stored = self.store.stored(record_id, include_archived=False)
            if stored is None:
                raise not_found(f"opportunity {record_id}")
            change = check_body(
                body,
                self.ref,
                Mode.PATCH,
                allow_new_options=allow_new_options,
                require_full=self.require_full_patch,
            )
            fields, custom = change.fields, change.custom
            if self.normalize_phones and isinstance(fields.get("primaryPhone"), str):
                fields = {**fields, "primaryPhone": records.e164(fields["primaryPhone"])}
            if self.replace_custom and custom is not None:
                # The other answer to open question 1: the body's `custom` is the whole object.
                stored = {**stored, "custom": {}}
            new, changed = records.apply(stored, fields, custom)
            if not changed:
                return self.store.view(record_id, include_archived=False) or "null"
            self._touch(new)
            return self._write(new, change.new_options)

    def create(self, body: object, *, match_by: str, strategy: str, allow_new_options: bool) -> str:
        with self._lock:
            change = check_body(body, self.ref, Mode.CREATE, allow_new_options=allow_new_options)
            match = self._match(match_by, change.fields.get(match_by))
            if match is None:
                max_id, max_number = self.store.max_ids()
                now = records.format_ms(self._now_ms())
                record = new_record(change, record_id=max_id + 1, number=max_number + 1, now=now)
                self._link_contact(record)
                return self._write(record, change.new_options)
            if strategy == "skip":
                return self.store.view(match["id"], include_archived=False) or "null"
            if strategy == "replace":
                fields = {k: records.DEFAULTS[k] for k in records.WRITABLE if k in records.DEFAULTS}
                fields.update(change.fields)
                fields["custom"] = {k: v for k, v in (change.custom or {}).items() if v is not None}
                new, changed = records.apply(match, fields, None)
            else:  # enrich: fill only what is empty
                fields = {k: v for k, v in change.fields.items() if records.empty(match.get(k))}
                custom = {
                    k: v
                    for k, v in (change.custom or {}).items()
                    if v is not None and records.empty(match["custom"].get(k))
                }
                new, changed = records.apply(match, fields, custom)
            changed = self._link_contact(new) or changed
            if not changed:
                return self.store.view(match["id"], include_archived=False) or "null"
            self._touch(new)
            return self._write(new, change.new_options)

    def _match(self, match_by: str, value: object) -> dict[str, Any] | None:
        if not isinstance(value, str | list) or not value:
            return None
        text = value[0] if isinstance(value, list) else value
        wanted = _digits(text) if match_by == "primaryPhone" else text.strip().lower()
        if not wanted:
            return None
        return self.store.find(_MATCH_COLUMNS[match_by], wanted)

    def _link_contact(self, record: dict[str, Any]) -> bool:
        """POST's documented side effect: a contact matched (or created) from the primary email
        or phone joins the record's contacts. Returns whether the record changed."""
        email, phone = record.get("primaryEmail"), record.get("primaryPhone")
        if not email and not phone:
            return False
        found = None
        for contact in self.ref.contacts.values():
            emails = [e.lower() for e in contact.get("emails", [])]
            phones = [_digits(p) for p in contact.get("phones", [])]
            if (email and email.lower() in emails) or (phone and _digits(phone) in phones):
                found = contact["id"]
                break
        if found is None:
            found = self.ref.next_contact_id()
            name = email.split("@")[0] if email else phone
            contact = {
                "id": found, "name": name, "firstName": name, "lastName": "",
                "emails": [email] if email else [], "phones": [phone] if phone else [],
                "title": None, "accountIds": [], "projectIds": [],
            }  # fmt: skip
            self.ref.contacts[found] = contact
            self.store.put_contact(contact)
        if found in record["contacts"]:
            return False
        record["contacts"] = [*record["contacts"], found]
        return True

    def delete(self, record_id: int) -> dict[str, Any]:
        with self._lock:
            if self.store.stored(record_id, include_archived=False) is None:
                raise not_found(f"opportunity {record_id}")
            self.store.delete(record_id)
        return {"id": record_id, "deleted": True}

    def search(
        self,
        conditions: Sequence[Condition],
        *,
        any_of: bool,
        page: int,
        page_size: int,
        descending: bool,
        include_archived: bool,
    ) -> str:
        combine = any if any_of else all
        hits: list[str] = []
        with self._lock:
            scan = self.store.scan(include_archived=include_archived, descending=descending)
            for stored, view in scan:
                # The title as read back (account fallback), plus the searchable write-only status.
                full = {
                    **json.loads(view),
                    "status": stored["status"],
                    "contacts": stored["contacts"],
                }
                if combine(c.matches(full) for c in conditions):
                    hits.append(view)
        start = (page - 1) * page_size
        return "[" + ",".join(hits[start : start + page_size]) + "]"

    # --- reference data -------------------------------------------------------------------------

    def properties(self, record_type: str | None) -> dict[str, Any]:
        if record_type is not None and record_type not in RECORD_TYPES:
            raise invalid("record_type", f"record_type must be one of {', '.join(RECORD_TYPES)}")
        with self._lock:
            props = json.loads(_dumps(self.ref.properties))
        if record_type is not None:
            return {record_type: props.get(record_type, [])}
        out = {t: props.get(t, []) for t in RECORD_TYPES}
        out["client"] = out["account"]  # deprecated aliases, documented as identical
        out["request"] = out["opportunity"]
        return out

    def set_properties(self, record_type: str, items: object) -> list[dict[str, Any]]:
        """Replace one record type's catalogue, as an admin editing fields would (control route).

        Stored record values are left as they are: what Coperniq does to the values of a renamed
        or deleted property is not documented.
        """
        if record_type not in RECORD_TYPES:
            raise invalid("record_type", f"record_type must be one of {', '.join(RECORD_TYPES)}")
        if not isinstance(items, list):
            raise invalid(None, "send a JSON array of properties")
        checked = [_property(item, n) for n, item in enumerate(items)]
        with self._lock, self.store.transaction():
            self.ref.properties[record_type] = checked
            self.ref.reindex()
            self._write_reference()
            return checked

    def workflows(self) -> list[dict[str, Any]]:
        with self._lock:
            return [w.to_json() for w in self.ref.workflows.values()]

    def contacts(
        self, *, page: int, page_size: int, descending: bool, q: str | None
    ) -> list[dict[str, Any]]:
        with self._lock:
            items = sorted(self.ref.contacts.values(), key=lambda c: c["id"], reverse=descending)
            if q:
                needle = q.lower()
                items = [
                    c
                    for c in items
                    if needle in c["name"].lower()
                    or any(needle in e.lower() for e in c["emails"])
                    or any(needle in p for p in c["phones"])
                ]
            start = (page - 1) * page_size
            return [contact_view(c, self.ref) for c in items[start : start + page_size]]

    def create_contact(self, body: object) -> dict[str, Any]:
        with self._lock:
            contact = check_contact(body, self.ref)
            contact["id"] = self.ref.next_contact_id()
            self.ref.contacts[contact["id"]] = contact
            self.store.put_contact(contact)
            return contact_view(contact, self.ref)


def _property(item: object, index: int) -> dict[str, Any]:
    where = f"properties[{index}]"
    if not isinstance(item, dict):
        raise invalid(where, f"{where} must be an object")
    for name in ("name", "type", "keyName"):
        if not isinstance(item.get(name), str) or not item[name]:
            raise invalid(f"{where}.{name}", f"{where}.{name} must be a non-empty string")
    options = item.get("options", [])
    if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
        raise invalid(f"{where}.options", f"{where}.options must be an array of strings")
    return {
        "name": item["name"],
        "type": item["type"],
        "keyName": item["keyName"],
        "isMultiple": bool(item.get("isMultiple", False)),
        "options": list(options),
        "defaultValue": list(item.get("defaultValue") or []),
        "isCustom": bool(item.get("isCustom", item["keyName"] != "trades")),
    }
