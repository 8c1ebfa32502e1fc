"""The company's property catalogue, and the dropdown values a plan would create.

Pure code. `GET /properties?record_type=opportunity` lists the standard `trades` property and the
custom properties (`isCustom`), each with its dropdown options. A plan that sets a trade or a
dropdown value the catalogue does not know would create a new option (only with
`--allow-new-options`), and a custom key the catalogue does not know is rejected by the API: both
are found here, before anything is sent, so that a reviewer sees them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.property_types import has_options, kind_of


@dataclass(frozen=True, slots=True)
class Property:
    key: str
    type: str
    options: frozenset[str]
    multiple: bool
    name: str = ""  # the label people see in Coperniq; kept to recognise a renamed keyName

    @property
    def is_dropdown(self) -> bool:
        return bool(self.options) or has_options(kind_of(self.type))


@dataclass(frozen=True, slots=True)
class NewOption:
    """A dropdown value that does not exist yet: `field` is `trades` or `custom.KEY`."""

    field: str
    value: str


@dataclass(frozen=True, slots=True)
class Catalogue:
    trades: Property | None
    custom: Mapping[str, Property]

    @classmethod
    def from_api(cls, properties: Sequence[Mapping[str, Any]]) -> Catalogue:
        trades: Property | None = None
        custom: dict[str, Property] = {}
        for item in properties:
            key = item.get("keyName")
            if not isinstance(key, str):
                continue
            options = item.get("options") or []
            prop = Property(
                key=key,
                type=str(item.get("type") or ""),
                options=frozenset(str(o) for o in options if isinstance(o, str | int | float)),
                multiple=bool(item.get("isMultiple")),
                name=str(item.get("name") or ""),
            )
            if item.get("isCustom"):
                custom[key] = prop
            elif key == "trades":
                trades = prop
        return cls(trades, custom)


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        yield from (v for v in value if isinstance(v, str))


def new_options(patch: Mapping[str, Any], catalogue: Catalogue) -> tuple[NewOption, ...]:
    """The dropdown values a PATCH body would add to the catalogue, in field order."""
    found: list[NewOption] = []
    if "trades" in patch and catalogue.trades is not None:
        found += [
            NewOption("trades", v)
            for v in _strings(patch["trades"])
            if v not in catalogue.trades.options
        ]
    for key, value in (patch.get("custom") or {}).items():
        prop = catalogue.custom.get(key)
        if prop is None or not prop.is_dropdown:
            continue
        found += [NewOption(f"custom.{key}", v) for v in _strings(value) if v not in prop.options]
    return tuple(dict.fromkeys(found))


def unknown_custom_keys(patch: Mapping[str, Any], catalogue: Catalogue) -> tuple[str, ...]:
    """Custom keys in a PATCH body that the company has no property for (the API says 400)."""
    return tuple(k for k in (patch.get("custom") or {}) if k not in catalogue.custom)


def needs_catalogue(patch: Mapping[str, Any]) -> bool:
    """Whether checking this PATCH body needs the catalogue (worth a request only then)."""
    return "trades" in patch or bool(patch.get("custom"))
