"""Offline checks of one file against the company's catalogue (`schemas/catalogue.json`).

Pure code, run by `validate` for every file when a catalogue file exists:
- a custom key the catalogue does not know is an error, with the closest known key suggested;
- a value of the wrong type for its property is an error, per the one mapping table in
  `reconciler.property_types`; a type that table does not know is not checked;
- a dropdown or trade value that is not an option is an error, unless the file set opts in to
  new options for that dropdown (`allow_new_options` in the file, in the folder's
  `.reconciler.yaml`, or `--allow-new-options`), where it is a warning: apply will create it;
- an `allow_new_options` entry that names no dropdown is an error.
The plan does not run these checks: it checks against the live catalogue, which wins.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.catalogue import Catalogue, Property, field_of
from reconciler.catalogue_file import sorted_options
from reconciler.document import Key, format_field
from reconciler.fields import MERGED, FieldPath
from reconciler.property_types import (
    Kind,
    check_value,
    has_options,
    is_date,
    kind_of,
    takes_list,
)

ALLOW_KEY = "allow_new_options"
_PULL = "if the property was just created in Coperniq, run `reconciler catalogue pull`"
_LISTED = 8  # options named in a message; the rest are counted

_CUSTOM = MERGED[0]  # the merged field whose keys the catalogue describes (fields.py)


AllowNew = bool | frozenset[str]
"""Which dropdowns may get new options: all (True), none (False) or these keys (`trades`, ...)."""


@dataclass(frozen=True, slots=True)
class Finding:
    keys: tuple[Key, ...]
    field: str
    message: str
    warning: bool = False


def allowed_keys(data: Mapping[str, Any], folder_allows: bool | Collection[str]) -> AllowNew:
    """What the file set allows: the folder's `.reconciler.yaml` widened by the file's own key."""
    own = data.get(ALLOW_KEY)
    if folder_allows is True or own is True:
        return True
    keys: set[str] = set() if folder_allows is False else set(folder_allows)
    if isinstance(own, list):
        keys.update(k for k in own if isinstance(k, str))
    return frozenset(keys)


def covers(allow: AllowNew, field: str) -> bool:
    """Whether `allow` lets a new option be created in `field` (`trades` or `custom.KEY`)."""
    if isinstance(allow, bool):
        return allow
    path = FieldPath.parse(field)
    return (path.top if path.key is None else path.key) in allow


def _closest(word: str, candidates: Collection[str]) -> str | None:
    by_lower: dict[str, str] = {}
    for c in candidates:
        by_lower.setdefault(c.casefold(), c)
    match = difflib.get_close_matches(word.casefold(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[match[0]] if match else None


def _options_text(options: frozenset[str]) -> str:
    shown = sorted_options(options)
    more = f" and {len(shown) - _LISTED} more" if len(shown) > _LISTED else ""
    return ", ".join(shown[:_LISTED]) + more if shown else "none yet"


def _option_finding(
    keys: tuple[Key, ...], name: str, value: str, prop: Property, allow: AllowNew
) -> Finding:
    field = format_field(keys)
    if covers(allow, name):
        return Finding(
            keys,
            field,
            f"{value!r} is not an option of {field_of(name)} yet: apply will create it "
            f"(allow_new_options covers {name})",
            warning=True,
        )
    suggestion = _closest(value, prop.options)
    did_you_mean = f"; did you mean {suggestion!r}? Or," if suggestion else ";"
    return Finding(
        keys,
        field,
        f"{value!r} is not an option of {field_of(name)} (options: {_options_text(prop.options)})"
        f"{did_you_mean} to create it on purpose, add `{ALLOW_KEY}: [{name}]` to this file",
    )


def _check_options(
    keys: tuple[Key, ...], name: str, value: Any, prop: Property, allow: AllowNew
) -> Iterator[Finding]:
    if isinstance(value, str):
        if value not in prop.options:
            yield _option_finding(keys, name, value, prop, allow)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, str) and item not in prop.options:
                yield _option_finding((*keys, i), name, item, prop, allow)


def _check_custom(key: str, value: Any, prop: Property, allow: AllowNew) -> Iterator[Finding]:
    if value is None:
        return  # null clears the key, whatever its type
    if isinstance(value, dict) or (
        isinstance(value, list) and not all(isinstance(v, str) for v in value)
    ):
        return  # no property takes that: the schema reports it already, once is enough
    kind = kind_of(prop.type)
    if kind is None:
        return  # a type reconciler cannot judge: never refuse a file over it
    keys: tuple[Key, ...] = (_CUSTOM, key)
    mismatch = check_value(kind, prop.multiple, value)
    if mismatch is not None:
        yield Finding(
            keys,
            format_field(keys),
            f"{_describe(value)} does not fit this {prop.type} property"
            f"{f' ({prop.name})' if prop.name else ''}: write {mismatch.expected}"
            + _list_hint(kind, prop.multiple, value),
        )
        return
    if has_options(kind):
        yield from _check_options(keys, key, value, prop, allow)


def _list_hint(kind: Kind, multiple: bool, value: Any) -> str:
    if takes_list(kind, multiple) and isinstance(value, str):
        return f": [{value}]"
    return ""


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, list):
        return "a list"
    return "a mapping"


# The fast path's shape of each property, worked out once: a small code, and the options.
_UNCHECKED, _TEXT, _NUMBER, _BOOLEAN, _DATE, _ONE, _MANY = range(7)
_Rule = tuple[int, frozenset[str]]


def _code(kind: Kind | None, multiple: bool) -> int:
    if kind is None:
        return _UNCHECKED
    if takes_list(kind, multiple):
        return _MANY
    return {
        Kind.TEXT: _TEXT,
        Kind.NUMBER: _NUMBER,
        Kind.BOOLEAN: _BOOLEAN,
        Kind.DATE: _DATE,
    }.get(kind, _ONE)


class Rules:
    """A catalogue prepared for checking many files: each property's kind worked out once.

    Plain data (it travels to the validate workers). A value that fits its property is settled
    by one type test and a set lookup, in line; only a problem takes the slow path that words it.
    """

    __slots__ = ("catalogue", "rules")

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.rules: dict[str, _Rule] = {
            key: (_code(kind_of(prop.type), prop.multiple), prop.options)
            for key, prop in catalogue.custom.items()
        }

    def __getstate__(self) -> Catalogue:
        return self.catalogue

    def __setstate__(self, catalogue: Catalogue) -> None:
        self.__init__(catalogue)  # type: ignore[misc]


def _subset(options: frozenset[str], values: list[Any]) -> bool:
    try:
        return options.issuperset(values)
    except TypeError:  # an unhashable item (a mapping): the slow path words it
        return False


def check(
    data: Mapping[str, Any], catalogue: Catalogue | Rules, folder_allows: AllowNew = False
) -> list[Finding]:
    """Every catalogue problem of one file's data (already parsed; shape-checked or not).

    `folder_allows` is the folder's `.reconciler.yaml` setting; the file's own
    `allow_new_options` widens it.
    """
    prepared = catalogue if isinstance(catalogue, Rules) else Rules(catalogue)
    cat = prepared.catalogue
    found: list[Finding] = []
    custom = data.get(_CUSTOM)
    if type(custom) is dict:
        rules = prepared.rules
        for key, value in custom.items():
            rule = rules.get(key)
            if rule is None:
                found.append(_unknown_key(key, cat))
                continue
            code = rule[0]
            if value is None or code == _UNCHECKED:
                continue
            t = type(value)
            if code == _TEXT:
                fits = t is str
            elif code == _NUMBER:
                fits = t is int or t is float
            elif code == _ONE:
                fits = t is str and value in rule[1]
            elif code == _MANY:
                fits = t is list and _subset(rule[1], value)
            elif code == _DATE:
                fits = t is str and is_date(value)
            else:
                fits = t is bool
            if not fits:
                allow = allowed_keys(data, folder_allows)
                found.extend(_check_custom(key, value, cat.custom[key], allow))
    trades = data.get("trades")
    if cat.trades is not None and type(trades) is list and not _subset(cat.trades.options, trades):
        allow = allowed_keys(data, folder_allows)
        found.extend(_check_options(("trades",), "trades", trades, cat.trades, allow))
    own = data.get(ALLOW_KEY)
    if type(own) is list:
        found.extend(_check_allow_list(own, cat))
    return found


def _unknown_key(key: str, catalogue: Catalogue) -> Finding:
    keys: tuple[Key, ...] = (_CUSTOM, key)
    suggestion = _closest(key, catalogue.custom)
    if suggestion is not None:
        message = f"unknown custom field {key!r}; did you mean {suggestion!r}? ({_PULL})"
    else:
        known = ", ".join(sorted(catalogue.custom)[:_LISTED]) or "none"
        more = " ..." if len(catalogue.custom) > _LISTED else ""
        message = (
            f"unknown custom field {key!r}: the company's catalogue has no such property "
            f"(known: {known}{more}); {_PULL}"
        )
    return Finding(keys, format_field(keys), message)


def _check_allow_list(names: list[Any], catalogue: Catalogue) -> Iterator[Finding]:
    dropdowns = [k for k, p in catalogue.custom.items() if has_options(kind_of(p.type))]
    if catalogue.trades is not None:
        dropdowns.append("trades")
    for i, name in enumerate(names):
        if not isinstance(name, str) or name in dropdowns:
            continue
        keys: tuple[Key, ...] = (ALLOW_KEY, i)
        prop = catalogue.custom.get(name)
        if prop is not None and kind_of(prop.type) is None:
            continue  # a property of a type we cannot judge may take options: do not refuse
        suggestion = _closest(name, dropdowns)
        hint = f"; did you mean {suggestion!r}?" if suggestion else ""
        what = "is not a dropdown" if prop is not None else "names no property"
        yield Finding(
            keys,
            format_field(keys),
            f"{name!r} {what}: list trades or the keyNames of dropdown properties{hint}",
        )
