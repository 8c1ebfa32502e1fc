"""Seeds: reading a seed file or mapping into validated reference data and records, and
generating a realistic seed of any size.

A seed has five sections: `accounts`, `contacts`, `workflows`, `properties` (the catalogue, keyed
by record type) and `opportunities`. A section left out gets the example company's default
(`catalogue.py`); a section present is used as is. Each record passes the same rules as a POST
(plus server fields such as `isActive` and `updatedAt`), so a seed cannot hold what the API would
refuse. Errors name the file, the line and column (YAML), and the path of the offending value.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from reconciler.sandbox import catalogue
from reconciler.sandbox.errors import ApiError, SeedError
from reconciler.sandbox.records import format_ms, to_ms
from reconciler.sandbox.reference import RECORD_TYPES, TRADES, Phase, Reference, Workflow
from reconciler.sandbox.rules import Mode, check_body, new_record

SECTIONS = ("accounts", "contacts", "workflows", "properties", "opportunities")
PathKey = tuple[str | int, ...]


class _Loader(yaml.SafeLoader):
    """YAML 1.2 scalars: only true/false are booleans (`no` stays the string "no", as the
    `hoa_approval` options need) and dates stay strings (as the API sends them)."""


_Loader.yaml_implicit_resolvers = {
    first: [
        (tag, rx)
        for tag, rx in resolvers
        if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def _marks(
    node: yaml.Node,
    path: PathKey,
    out: dict[PathKey, tuple[int, int]],
    at: yaml.Mark | None = None,
) -> None:
    """Where each path starts: a mapping entry at its key, a list item at the item."""
    mark = at or node.start_mark
    out[path] = (mark.line + 1, mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            _marks(value, (*path, str(key.value)), out, key.start_mark)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _marks(item, (*path, i), out)


@dataclass(frozen=True, slots=True)
class Seed:
    """A validated seed: reference data plus stored-shape records, and the raw mapping it came
    from (kept in a --db file so that `reset` works after a restart)."""

    accounts: dict[int, str]
    contacts: dict[int, dict[str, Any]]
    workflows: tuple[Workflow, ...]
    properties: dict[str, list[dict[str, Any]]]
    opportunities: tuple[dict[str, Any], ...]
    raw: dict[str, Any]

    def reference(self) -> Reference:
        return Reference(self.accounts, self.contacts, self.workflows, self.properties)


class _Reader:
    def __init__(self, source: str, marks: dict[PathKey, tuple[int, int]]) -> None:
        self.source = source
        self.marks = marks

    def error(self, path: PathKey, message: str) -> SeedError:
        where = self.source
        for n in range(len(path), -1, -1):
            if path[:n] in self.marks:
                line, col = self.marks[path[:n]]
                where = f"{where}:{line}:{col}"
                break
        dotted = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
        return SeedError(f"{where}: {dotted or 'seed'}: {message}")

    def items(self, data: Mapping[str, Any], section: str) -> list[Mapping[str, Any]]:
        value = data[section]
        if not isinstance(value, list):
            raise self.error((section,), "must be a list")
        for i, item in enumerate(value):
            if not isinstance(item, Mapping):
                raise self.error((section, i), "must be a mapping")
        return value

    def ident(self, path: PathKey, item: Mapping[str, Any], seen: set[int]) -> int:
        value = item.get("id")
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self.error((*path, "id"), f"id must be a positive integer, got {value!r}")
        if value in seen:
            raise self.error((*path, "id"), f"duplicate id {value}")
        seen.add(value)
        return value

    def text(self, path: PathKey, value: object, *, optional: bool = False) -> str | None:
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.error(path, f"must be a non-empty string, got {value!r}")
        return value

    def strings(self, path: PathKey, value: object) -> list[str]:
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(path, "must be a list of strings")
        return list(value)


def _read(data: Mapping[str, Any], r: _Reader) -> Seed:
    unknown = [k for k in data if k not in SECTIONS]
    if unknown:
        raise r.error((str(unknown[0]),), f"unknown section (expected {', '.join(SECTIONS)})")
    full = {**catalogue.reference_seed(), **{k: v for k, v in data.items() if v is not None}}

    accounts: dict[int, str] = {}
    for i, item in enumerate(r.items(full, "accounts")):
        ident = r.ident(("accounts", i), item, set(accounts))
        accounts[ident] = str(r.text(("accounts", i, "title"), item.get("title")))

    workflows: list[Workflow] = []
    seen_phases: set[int] = set()
    for i, item in enumerate(r.items(full, "workflows")):
        ident = r.ident(("workflows", i), item, {w.id for w in workflows})
        phases = item.get("phases", [])
        if not isinstance(phases, list):
            raise r.error(("workflows", i, "phases"), "must be a list")
        built = []
        for j, phase in enumerate(phases):
            path: PathKey = ("workflows", i, "phases", j)
            if not isinstance(phase, Mapping):
                raise r.error(path, "must be a mapping")
            pid = r.ident(path, phase, seen_phases)
            kind = r.text((*path, "type"), phase.get("type", "DEFAULT"))
            built.append(
                Phase(pid, str(r.text((*path, "name"), phase.get("name"))), str(kind), ident, j + 1)
            )
        name = str(r.text(("workflows", i, "name"), item.get("name")))
        description = r.text(
            ("workflows", i, "description"), item.get("description"), optional=True
        )
        workflows.append(Workflow(ident, name, description, tuple(built)))

    contacts: dict[int, dict[str, Any]] = {}
    for i, item in enumerate(r.items(full, "contacts")):
        path = ("contacts", i)
        ident = r.ident(path, item, set(contacts))
        first = r.text((*path, "firstName"), item.get("firstName"), optional=True) or ""
        last = r.text((*path, "lastName"), item.get("lastName"), optional=True) or ""
        name = item.get("name") or f"{first} {last}".strip()
        r.text((*path, "name"), name)
        account_ids = item.get("accountIds", [])
        if "contacts" not in data and isinstance(account_ids, list):
            # Default contacts with the seed's own accounts: keep the links that still exist.
            account_ids = [a for a in account_ids if a in accounts]
        if not isinstance(account_ids, list) or any(a not in accounts for a in account_ids):
            raise r.error((*path, "accountIds"), "must list ids of accounts in this seed")
        contacts[ident] = {
            "id": ident,
            "name": name,
            "firstName": first,
            "lastName": last,
            "emails": r.strings((*path, "emails"), item.get("emails")),
            "phones": r.strings((*path, "phones"), item.get("phones")),
            "title": r.text((*path, "title"), item.get("title"), optional=True),
            "accountIds": list(account_ids),
            "projectIds": [],
        }

    properties = _read_properties(full["properties"], r)
    ref = Reference(accounts, contacts, workflows, properties)

    records: list[dict[str, Any]] = []
    now = format_ms(to_ms(datetime.now(UTC)))
    seen: set[int] = set()
    for i, item in enumerate(r.items(full, "opportunities")):
        ident = r.ident(("opportunities", i), item, seen)
        try:
            change = check_body(dict(item), ref, Mode.SEED)
        except ApiError as e:
            path = ("opportunities", i, *(e.field.split(".", 1) if e.field else ()))
            raise r.error(path, f"(id {ident}) {e.message}") from None
        records.append(
            new_record(change, record_id=ident, number=change.server.get("number", ident), now=now)
        )
    raw = json.loads(json.dumps(dict(data), default=str))
    return Seed(accounts, contacts, tuple(workflows), properties, tuple(records), raw)


def _read_properties(value: object, r: _Reader) -> dict[str, list[dict[str, Any]]]:
    if not isinstance(value, Mapping):
        raise r.error(("properties",), "must be a mapping of record type to a list of properties")
    out: dict[str, list[dict[str, Any]]] = {}
    for record_type, props in value.items():
        base: PathKey = ("properties", str(record_type))
        if record_type not in RECORD_TYPES:
            raise r.error(base, f"unknown record type (expected {', '.join(RECORD_TYPES)})")
        if not isinstance(props, list):
            raise r.error(base, "must be a list of properties")
        keys: set[str] = set()
        out[record_type] = []
        for i, prop in enumerate(props):
            path: PathKey = (*base, i)
            if not isinstance(prop, Mapping):
                raise r.error(path, "must be a mapping")
            key = str(r.text((*path, "keyName"), prop.get("keyName")))
            if key in keys:
                raise r.error((*path, "keyName"), f"duplicate keyName {key!r}")
            keys.add(key)
            for flag in ("isMultiple", "isCustom"):
                if not isinstance(prop.get(flag, False), bool):
                    raise r.error((*path, flag), "must be true or false")
            default = prop.get("defaultValue", [])
            if not isinstance(default, list):
                raise r.error((*path, "defaultValue"), "must be a list")
            out[record_type].append(
                {
                    "name": r.text((*path, "name"), prop.get("name", key)),
                    "type": str(r.text((*path, "type"), prop.get("type"))).upper(),
                    "keyName": key,
                    "isMultiple": prop.get("isMultiple", False),
                    "options": r.strings((*path, "options"), prop.get("options")),
                    "defaultValue": default,
                    "isCustom": prop.get("isCustom", key != TRADES),
                }
            )
    if not any(p["keyName"] == TRADES for p in out.get("opportunity", [])):
        raise r.error(
            ("properties",), "the opportunity catalogue needs the standard property 'trades'"
        )
    return out


def load_seed(source: str | Path | Mapping[str, Any] | None) -> Seed:
    """A validated seed from a YAML/JSON file, a mapping, or None (reference data only)."""
    if source is None:
        return _read({}, _Reader("<default seed>", {}))
    if isinstance(source, Mapping):
        return _read(source, _Reader("<seed mapping>", {}))
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise SeedError(f"{path}: cannot read the seed file: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise SeedError(f"{path}: the seed file is not UTF-8 text") from None
    marks: dict[PathKey, tuple[int, int]] = {}
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            node = yaml.compose(text, Loader=_Loader)
            if node is not None:
                _marks(node, (), marks)
            data = yaml.load(text, Loader=_Loader)
    except json.JSONDecodeError as e:
        raise SeedError(f"{path}:{e.lineno}:{e.colno}: invalid JSON: {e.msg}") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
        problem = getattr(e, "problem", None) or str(e)
        raise SeedError(f"{where}: invalid YAML: {problem}") from None
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise SeedError(f"{path}: a seed must be a mapping with sections {', '.join(SECTIONS)}")
    return _read(data, _Reader(str(path), marks))


# --- generated seeds ----------------------------------------------------------------------------

_BASE = datetime(2025, 1, 1, 8, 0, tzinfo=UTC)


def generate(n: int, rng_seed: int = 0) -> dict[str, Any]:
    """A realistic seed of `n` opportunities (ids 1..n) over the example company's catalogue.

    Deterministic for a given `rng_seed`: the benchmarks and tests get the same data every run.
    About 3% of the records are archived; about 5% have a blank title (read back as the
    account's title).
    """
    rng = random.Random(rng_seed)
    opportunities: list[dict[str, Any]] = []
    for i in range(1, n + 1):
        first, last = rng.choice(catalogue.FIRST_NAMES), rng.choice(catalogue.LAST_NAMES)
        city, state, zip3, utility = rng.choice(catalogue.CITIES)
        suffix, workflow_id, trades = rng.choice(catalogue.KINDS)
        street = f"{rng.choice(catalogue.STREETS)} {rng.choice(catalogue.SUFFIXES)}"
        address = (
            f"{rng.randint(100, 9899)} {street}, {city}, {state} {zip3}{rng.randint(0, 99):02d}"
        )
        created = _BASE + timedelta(minutes=rng.randint(0, 60 * 24 * 540))
        updated = created + timedelta(minutes=rng.randint(0, 60 * 24 * 90))
        account_id = rng.choice((201, 202, 203, 204, 205, None, None, None))
        title = f"{last} {suffix}" if account_id is None or rng.random() > 0.05 else ""
        lead = rng.choice(("referral", "web", "home show"))
        owner = rng.randrange(len(catalogue.USERS))
        record: dict[str, Any] = {
            "id": i,
            "title": title,
            "address": [address],
            "trades": list(trades),
            "description": rng.choice(
                (
                    None,
                    f"{first} {last} asked for a quote after a {lead} lead.",
                )
            ),
            "accountId": account_id,
            "workflowId": workflow_id,
            "value": round(rng.uniform(8_000, 65_000), 2)
            if rng.random() > 0.1
            else rng.randint(8, 65) * 1000,
            "size": round(rng.uniform(3.0, 16.0), 1),
            "confidence": rng.choice((10, 25, 40, 50, 60, 75, 90)),
            "status": rng.choices(("ACTIVE", "ON_HOLD", "CANCELLED", "COMPLETED"), (80, 8, 5, 7))[
                0
            ],
            "primaryEmail": f"{first}.{last}{i}@example.com".lower().replace("'", ""),
            "primaryPhone": f"+1 {rng.randint(201, 989)}-555-{rng.randint(0, 9999):04d}",
            "contacts": sorted(rng.sample(range(501, 511), rng.randint(0, 2))),
            "custom": _custom(rng, trades, utility, created),
            "isActive": rng.random() > 0.03,
            "owner": catalogue.user(owner),
            "salesRep": catalogue.user(rng.randrange(len(catalogue.USERS))),
            "createdBy": {k: v for k, v in catalogue.user(owner).items() if k != "phone"},
            "createdAt": format_ms(to_ms(created)),
            "updatedAt": format_ms(to_ms(updated)),
        }
        if workflow_id is not None:
            phases = {301: (3011, 3012, 3013, 3014), 302: (3021, 3022, 3023), 303: (3031, 3032)}
            record["phaseId"] = rng.choice(phases[workflow_id])
        opportunities.append(record)
    return {**catalogue.reference_seed(), "opportunities": opportunities}


def _custom(
    rng: random.Random, trades: tuple[str, ...], utility: str, created: datetime
) -> dict[str, Any]:
    custom: dict[str, Any] = {
        "financing_type": rng.choice(("Cash", "Loan", "Lease", "PPA")),
        "lead_source": rng.choice(("Referral", "Website", "Door-to-door", "Home Show")),
        "hoa_approval": rng.choice(("yes", "no", "pending")),
    }
    if "Solar" in trades:
        custom["utility_company"] = utility
        custom["system_size_kw"] = round(rng.uniform(3.0, 16.0), 2)
        custom["panel_brands"] = rng.sample(
            ("REC", "Qcells", "Panasonic", "SunPower"), rng.randint(1, 2)
        )
        custom["site_survey_date"] = (
            (created + timedelta(days=rng.randint(3, 30))).date().isoformat()
        )
    if "Solar" in trades or "Roofing" in trades:
        custom["roof_type"] = rng.choice(("Asphalt Shingle", "Metal", "Tile", "Flat", "Membrane"))
    return custom
