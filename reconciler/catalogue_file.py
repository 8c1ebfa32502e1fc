"""`schemas/catalogue.json`: the company's property catalogue, checked into git.

This module owns the file's format: what `reconciler catalogue pull` writes and what `validate`
reads offline. The text is stable (keys sorted, options sorted case-insensitively, two-space
indentation, one trailing newline, no timestamp) so that pulling an unchanged catalogue rewrites
the same bytes and a change reads well in a diff. It holds, for every custom property, its
keyName, label, type, whether it takes several values, and its options; and the options of the
standard `trades` dropdown. Nothing personal: no default values, no record data. Reading is
strict, with an error that names the file and says what to do. Pure but for `read`.

    {
      "custom": {
        "roof_type": {"multiple": false, "name": "Roof Type", "options": ["Flat", ...],
                      "type": "DROPDOWN"}, ...
      },
      "format_version": "1",
      "record_type": "opportunity",
      "trades": ["Battery Storage", ...]
    }
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from reconciler.catalogue import Catalogue, Property
from reconciler.errors import CatalogueFileError
from reconciler.regular import read_regular

FORMAT_VERSION = "1"
CATALOGUE_FILE = Path("schemas/catalogue.json")
"""Where `catalogue pull` writes, relative to the project root (the folder above opportunities/)."""

_PULL_HINT = "run `reconciler catalogue pull` to write it again from the live catalogue"


def sorted_options(options: Iterable[str]) -> list[str]:
    """Options in a stable, human order: case-insensitive, ties broken by the exact text."""
    return sorted(set(options), key=lambda o: (o.casefold(), o))


def to_dict(catalogue: Catalogue) -> dict[str, Any]:
    custom = {
        key: {
            "multiple": prop.multiple,
            "name": prop.name,
            "options": sorted_options(prop.options),
            "type": prop.type,
        }
        for key, prop in sorted(catalogue.custom.items())
    }
    return {
        "custom": custom,
        "format_version": FORMAT_VERSION,
        "record_type": "opportunity",
        "trades": None if catalogue.trades is None else sorted_options(catalogue.trades.options),
    }


def dumps(catalogue: Catalogue) -> str:
    """The file's exact text."""
    return json.dumps(to_dict(catalogue), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def loads(text: str, source: str) -> Catalogue:
    """Read the file's text back; `source` names the file in errors."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise CatalogueFileError(
            f"{source}:{e.lineno}:{e.colno}: not valid JSON ({e.msg})", hint=_PULL_HINT
        ) from None
    try:
        return _from_dict(data)
    except (KeyError, TypeError, ValueError) as e:
        raise CatalogueFileError(
            f"{source}: not a reconciler catalogue file ({e})",
            hint=f"the file is generated, never edited by hand: {_PULL_HINT}",
        ) from None


LIMIT = 16 * 2**20
"""A catalogue file is a few kilobytes; anything past 16 MiB is not one."""


def read(path: Path) -> Catalogue:
    """Read a catalogue file (a regular file only: a FIFO or device is refused, never opened)."""
    try:
        text = read_regular(path, what="a catalogue file", limit=LIMIT).decode("utf-8")
    except UnicodeDecodeError:
        raise CatalogueFileError(f"{path}: not UTF-8 text", hint=_PULL_HINT) from None
    except OSError as e:
        raise CatalogueFileError(
            f"{path}: cannot read the catalogue file: {e.strerror}", hint=_PULL_HINT
        ) from None
    return loads(text, str(path))


def _strings(value: Any, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"{what} must be a list of strings")
    return list(value)


def _from_dict(data: Any) -> Catalogue:
    if not isinstance(data, dict):
        raise TypeError("the top level must be an object")
    version = data.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError(f"format_version is {version!r}, this reconciler reads {FORMAT_VERSION!r}")
    custom_data = data["custom"]
    if not isinstance(custom_data, dict):
        raise TypeError("custom must be an object keyed by keyName")
    custom: dict[str, Property] = {}
    for key, item in custom_data.items():
        if not isinstance(item, dict):
            raise TypeError(f"custom.{key} must be an object")
        kind, name, multiple = item["type"], item.get("name", ""), item["multiple"]
        if not isinstance(kind, str) or not isinstance(name, str) or type(multiple) is not bool:
            raise TypeError(f"custom.{key}: type and name must be strings, multiple a boolean")
        options = frozenset(_strings(item["options"], f"custom.{key}.options"))
        custom[key] = Property(key, kind, options, multiple, name)
    trades_data = data["trades"]
    trades = None
    if trades_data is not None:
        options = frozenset(_strings(trades_data, "trades"))
        trades = Property("trades", "DROPDOWN", options, True, "Trades")
    return Catalogue({} if trades is None else {"trades": trades}, custom)
