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

from reconciler.fields import FIELDS, FieldPath
from reconciler.property_types import has_options, kind_of

# Catalogued fields: a top-level one takes its options from the standard property of its name
# (`trades`); a merged one (`custom`) from the custom property each of its keys names.
_STANDARD = tuple(f.name for f in FIELDS.values() if f.catalogued and not f.merged)
_MERGED = tuple(f.name for f in FIELDS.values() if f.catalogued and f.merged)


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
    """A dropdown value that does not exist yet: `field` is a `FieldPath` name (`trades`,
    `custom.KEY`)."""

    field: str
    value: str


@dataclass(frozen=True, slots=True)
class Catalogue:
    """`standard`: the properties of catalogued top-level fields, by field name; `custom`: the
    company's custom properties (`isCustom`), by key."""

    standard: Mapping[str, Property]
    custom: Mapping[str, Property]

    @classmethod
    def from_api(cls, properties: Sequence[Mapping[str, Any]]) -> Catalogue:
        standard: dict[str, Property] = {}
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
            elif key in _STANDARD:
                standard[key] = prop
        return cls(standard, custom)

    @property
    def trades(self) -> Property | None:
        """The standard `trades` property, if the company's catalogue lists it."""
        return self.standard.get("trades")

    def property_for(self, path: FieldPath) -> Property | None:
        """The property whose options a value at `path` must be one of (None: not catalogued)."""
        return self.custom.get(path.key) if path.key is not None else self.standard.get(path.top)


def field_of(key: str) -> str:
    """The field a catalogue property's options constrain, as plans name it: a standard
    property's own name (`trades`), else the merged field's key (`custom.KEY`)."""
    return key if key in _STANDARD else str(FieldPath(_MERGED[0], key))


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        yield from (v for v in value if isinstance(v, str))


def _catalogued_values(patch: Mapping[str, Any]) -> Iterable[tuple[FieldPath, Any]]:
    """Every value of a PATCH body that the catalogue constrains, with its path, in field order."""
    for name in _STANDARD:
        if name in patch:
            yield FieldPath(name), patch[name]
    for name in _MERGED:
        for key, value in (patch.get(name) or {}).items():
            yield FieldPath(name, key), value


def new_options(patch: Mapping[str, Any], catalogue: Catalogue) -> tuple[NewOption, ...]:
    """The dropdown values a PATCH body would add to the catalogue, in field order."""
    found: list[NewOption] = []
    for path, value in _catalogued_values(patch):
        prop = catalogue.property_for(path)
        if prop is None or (path.key is not None and not prop.is_dropdown):
            continue
        found += [NewOption(str(path), v) for v in _strings(value) if v not in prop.options]
    return tuple(dict.fromkeys(found))


def unknown_custom_keys(patch: Mapping[str, Any], catalogue: Catalogue) -> tuple[str, ...]:
    """Merged-field keys in a PATCH body that the company has no property for (the API says
    400), as `FieldPath` names (`custom.KEY`)."""
    return tuple(
        str(FieldPath(name, key))
        for name in _MERGED
        for key in (patch.get(name) or {})
        if key not in catalogue.custom
    )


def needs_catalogue(patch: Mapping[str, Any]) -> bool:
    """Whether checking this PATCH body needs the catalogue (worth a request only then)."""
    return any(True for _ in _catalogued_values(patch))
