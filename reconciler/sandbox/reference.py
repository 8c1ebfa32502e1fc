"""The company's reference data: accounts, contacts, workflows and the property catalogue.

Opportunities point at these by id or keyName, and the rules check every such reference. The
sandbox holds them in memory (they are small) and mirrors them into SQLite; they change only
through `POST /contacts` and through new dropdown options (`allow_new_options=true`).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

TRADES = "trades"
RECORD_TYPES = ("account", "opportunity", "project", "vendor", "ahj")


@dataclass(frozen=True, slots=True)
class Phase:
    id: int
    name: str
    type: str
    workflow_id: int
    position: int
    red_sla: int | None = None
    yellow_sla: int | None = None

    def summary(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "type": self.type}

    def template(self) -> dict[str, Any]:
        return {**self.summary(), "redSla": self.red_sla, "yellowSla": self.yellow_sla}


@dataclass(frozen=True, slots=True)
class Workflow:
    id: int
    name: str
    description: str | None
    phases: tuple[Phase, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "type": "PROJECT",
            "phases": [{**p.template(), "description": None} for p in self.phases],
        }


class Reference:
    """Lookups by id and keyName. Mutated only under the service's lock."""

    def __init__(
        self,
        accounts: dict[int, str],
        contacts: dict[int, dict[str, Any]],
        workflows: Iterable[Workflow],
        properties: dict[str, list[dict[str, Any]]],
    ) -> None:
        self.accounts = dict(accounts)
        self.contacts = {k: copy.deepcopy(v) for k, v in contacts.items()}
        self.workflows = {w.id: w for w in workflows}
        self.phases = {p.id: p for w in self.workflows.values() for p in w.phases}
        self.properties = {k: copy.deepcopy(v) for k, v in properties.items()}
        self.reindex()

    def reindex(self) -> None:
        """Rebuild the keyName lookup after `properties` was replaced."""
        self._by_key = {p["keyName"]: p for p in self.properties.get("opportunity", [])}

    def property(self, key: str) -> dict[str, Any] | None:
        return self._by_key.get(key)

    def custom_property(self, key: str) -> dict[str, Any] | None:
        prop = self._by_key.get(key)
        return prop if prop is not None and prop.get("isCustom") else None

    def custom_keys(self) -> list[str]:
        return [k for k, p in self._by_key.items() if p.get("isCustom")]

    def options(self, key: str) -> list[str]:
        prop = self._by_key.get(key)
        return [] if prop is None else list(prop.get("options") or [])

    def add_option(self, key: str, value: str) -> None:
        prop = self._by_key[key]
        if value not in prop["options"]:
            prop["options"].append(value)

    def next_contact_id(self) -> int:
        return max(self.contacts, default=0) + 1

    def contact_name(self, contact_id: int) -> str:
        contact = self.contacts.get(contact_id)
        return "" if contact is None else str(contact.get("name") or "")
