"""The diff: desired state against live state, field by field, for one record.

Pure code. It reads the field model (`reconciler.fields`) and nothing else decides how a field
compares: only the fields a file declares are managed; numbers compare numerically; set-like
fields ignore order; a merged field (`custom`) compares and patches key by key; write-only fields
compare against the live value when the server returns one, else against the value this tool last
applied, else they are planned with "current value cannot be read". The result is the field
changes to show and the exact PATCH body to send.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.fields import FIELDS, REQUIRED_ON_PATCH, Compare, Field, FieldPath


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One managed value that differs: `field` is a `FieldPath` name (`title`, `custom.KEY`)."""

    field: str
    before: Any
    after: Any
    before_known: bool = True  # False for a write-only field whose current value cannot be read


@dataclass(frozen=True, slots=True)
class RecordDiff:
    changes: tuple[FieldChange, ...]
    patch: Mapping[str, Any]  # the exact PATCH body: only what changed (plus --send-required)


def _is_number(value: object) -> bool:
    # bool is an int subclass in Python and DeepDiff treats True like 1: keep them apart.
    return isinstance(value, int | float) and not isinstance(value, bool)


def _kind(value: object) -> object:
    """A value's shape with int and float alike and bool apart, for lists ignoring order."""
    if _is_number(value):
        return "number"
    if isinstance(value, list):
        return ("list", tuple(sorted((_kind(v) for v in value), key=repr)))
    return type(value).__name__


def _same_kind(a: object, b: object) -> bool:
    return _kind(a) == _kind(b)


_SCALARS = (str, int, float, bool)


def _plain_equal(a: object, b: object) -> bool:
    """Equal in value and in kind, decided without DeepDiff: the common case, kept cheap."""
    ta = type(a)
    if ta is not type(b):
        return False
    if ta in _SCALARS:
        return a == b
    if ta is list:
        assert isinstance(a, list) and isinstance(b, list)
        return a == b and all(type(x) is type(y) for x, y in zip(a, b, strict=True))
    return False


def values_equal(compare: Compare, desired: Any, live: Any) -> bool:
    """Whether a desired value already holds live, under the field's comparison rule.

    Equal values of the same kind (the common case) are settled by plain equality; DeepDiff
    settles the rest, with order ignored for set-like values and int/float treated alike.
    """
    if desired is None or live is None:
        return desired is None and live is None
    if compare is Compare.NUMERIC:
        return _is_number(desired) and _is_number(live) and desired == live
    if _plain_equal(desired, live):
        return True
    if _is_number(desired) and _is_number(live):
        return bool(desired == live)
    if not isinstance(desired, list | dict) or not isinstance(live, list | dict):
        return False
    if not _same_kind(desired, live):
        return False
    from deepdiff import DeepDiff  # the rare case; importing it costs every plan ~20 ms

    ignore_order = compare is Compare.SET or compare is Compare.MERGE
    return not DeepDiff(desired, live, ignore_order=ignore_order, ignore_numeric_type_changes=True)


_FAST = frozenset({str, int, float})


def _held(want: Any, have: Any, lists: bool) -> bool:
    """True when `want` plainly already holds live: the same str, int or float, or (`lists`:
    the field does not compare numerically) an equal list whose items have the same types in
    the same order. Equal under every comparison rule, so `values_equal` need not be asked: the
    common case of a plan over thousands of unchanged records, kept to a few operations."""
    kind = want.__class__
    if kind is not have.__class__:
        return False
    if kind in _FAST:
        return bool(want == have)
    return (
        lists
        and kind is list
        and want == have
        and all(x.__class__ is y.__class__ for x, y in zip(want, have, strict=True))
    )


def _diff_merged(
    field: Field, desired: Mapping[str, Any], live: Any
) -> tuple[list[FieldChange], dict[str, Any]]:
    """A merged field key by key: only the keys the file declares are managed."""
    live_map: Mapping[str, Any] = live if isinstance(live, Mapping) else {}
    compare = field.key_compare or Compare.EXACT
    lists = compare is not Compare.NUMERIC
    differ = [
        key
        for key, want in desired.items()
        if not _held(want, have := live_map.get(key), lists)
        and not values_equal(compare, want, have)
    ]
    changes: list[FieldChange] = []
    patch: dict[str, Any] = {}
    for key in sorted(differ):
        want, have = desired[key], live_map.get(key)
        changes.append(FieldChange(str(FieldPath(field.name, key)), have, want))
        patch[key] = want
    return changes, patch


def _diff_write_only(
    field: Field, want: Any, live: Mapping[str, Any], applied: Mapping[str, Any]
) -> FieldChange | None:
    # CONTRACT 4.2: a live record that does carry the field wins over what we remember.
    if live.get(field.name) is not None:
        have = live[field.name]
    elif field.name in applied:
        have = applied[field.name]
    else:
        return FieldChange(field.name, None, want, before_known=False)
    return None if values_equal(field.compare, want, have) else FieldChange(field.name, have, want)


def diff_record(
    desired: Mapping[str, Any],
    live: Mapping[str, Any],
    applied: Mapping[str, Any],
    *,
    send_required: bool = False,
) -> RecordDiff:
    """Compare one desired record with its live record.

    `desired` is a validated file's data (only declared fields are managed); `live` the record
    as read from the API; `applied` the write-only values this tool last applied to it.
    With `send_required`, a record that has changes also sends the desired title, address and
    trades, for servers that enforce the published PATCH schema.
    """
    changes: list[FieldChange] = []
    patch: dict[str, Any] = {}
    for name, field, merged, write_only, lists in _TABLE:
        if name not in desired:
            continue
        want = desired[name]
        if merged:
            merged_changes, merged_patch = _diff_merged(field, want or {}, live.get(name))
            changes.extend(merged_changes)
            if merged_patch:
                patch[name] = merged_patch
            continue
        if write_only:
            change = _diff_write_only(field, want, live, applied)
        elif _held(want, have := live.get(name), lists) or values_equal(field.compare, want, have):
            change = None
        else:
            change = FieldChange(name, have, want)
        if change is not None:
            changes.append(change)
            patch[name] = want
    if send_required and patch:
        for name in REQUIRED_ON_PATCH:
            if name in desired:
                patch.setdefault(name, desired[name])
    return RecordDiff(tuple(changes), _ordered_patch(patch))


# Each field of the table with what the loop asks of it, looked up once: whether it is merged,
# write-only, and whether an equal list plainly holds (see `_held`).
_TABLE = tuple(
    (name, f, f.merged, f.write_only, f.compare is not Compare.NUMERIC)
    for name, f in FIELDS.items()
)


def _ordered_patch(patch: dict[str, Any]) -> dict[str, Any]:
    # Canonical field order, so the same plan always serialises to the same bytes.
    return {name: patch[name] for name in FIELDS if name in patch}


def live_value(live: Mapping[str, Any], field: str) -> Any:
    """The live value of a plan field name (`title`, `custom.KEY`), None where absent."""
    return FieldPath.parse(field).read(live)


def field_still_equal(field: str, expected: Any, live: Mapping[str, Any]) -> bool:
    """Whether a live record still holds `expected` in `field` (the stale-plan check)."""
    path = FieldPath.parse(field)
    return values_equal(path.compare, expected, path.read(live))


def is_readable(field: str) -> bool:
    """Whether GET returns the field (write-only fields cannot be checked by reading)."""
    return FieldPath.parse(field).readable
