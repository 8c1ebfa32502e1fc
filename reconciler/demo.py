"""The demo's live state: the desired records, drifted the ways real CRMs drift.

`reconciler demo` seeds a throwaway sandbox with these records so that its first plan has real
changes to show: a renamed title and a lower value, a dropdown edited by hand, a reformatted
phone and an edited description; and, on every fourth record, differences that are NOT changes
(trades in another order, 1000 vs 1000.0), which the plan must ignore. Write-only fields are
stored but never returned, as the API does, so the plan shows them as "cannot be read" until
they are applied once.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.fields import FIELDS, MERGED
from reconciler.plan import DesiredRecord

_MERGED = MERGED[0]  # the demo drifts one key of the merged field (`custom`)


def _alternative(value: Any, options: Sequence[str]) -> Any:
    others = [o for o in options if o != value]
    return others[0] if others else value


def _drift_custom(custom: dict[str, Any], catalogue: Mapping[str, Mapping[str, Any]]) -> bool:
    for key, value in custom.items():
        prop = catalogue.get(key)
        if prop is None or not isinstance(value, str):
            continue
        if prop.get("options") and not prop.get("isMultiple"):
            custom[key] = _alternative(value, prop["options"])
            return True
        if str(prop.get("type")).upper() == "TEXT":
            custom[key] = f"{value} (old)"
            return True
    return False


def drifted(
    data: Mapping[str, Any], index: int, catalogue: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """The live version of one desired record; `index` picks how it drifted."""
    live = {k: copy.deepcopy(v) for k, v in data.items() if k == "id" or k in FIELDS}
    kind = index % 4
    changed = False
    if kind == 0:
        live["title"] = f"{data['title']} (old CRM)"
        changed = True
        if isinstance(data.get("value"), int | float):
            live["value"] = round(float(data["value"]) * 0.9, 2)
    elif kind == 1 and isinstance(data.get(_MERGED), Mapping):
        live[_MERGED] = dict(data[_MERGED])
        changed = _drift_custom(live[_MERGED], catalogue)
    elif kind == 2:
        if isinstance(data.get("primaryPhone"), str):
            digits = "".join(c for c in data["primaryPhone"] if c.isdigit())
            live["primaryPhone"] = digits
            changed = True
        if isinstance(data.get("description"), str):
            live["description"] = "Imported from the old spreadsheet."
            changed = True
    else:
        # Not changes: the plan must see through both.
        live["trades"] = list(reversed(data["trades"]))
        if isinstance(data.get("value"), int | float) and not isinstance(data["value"], bool):
            live["value"] = float(data["value"])
        changed = True
    if not changed:
        live["title"] = f"{data['title']} (old CRM)"
    return live


def demo_seed(
    records: Sequence[DesiredRecord], catalogue: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """A sandbox seed (`opportunities` only: the sandbox adds its example catalogue)."""
    by_key = {str(p.get("keyName")): p for p in catalogue}
    ordered = sorted(records, key=lambda r: r.id)
    return {"opportunities": [drifted(r.data, i, by_key) for i, r in enumerate(ordered)]}
