"""Convergence and minimality of the diff, for random desired and live records over the whole
field model (issue 9, property tests).

The PATCH is applied under the contract's semantics by a small model written here from
CONTRACT.md section 2, independent of the reconciler's code: `custom` merges key by key (null
clears a key, which then reads back absent), `status` and `contacts` are write-only (kept
server-side, not returned by GET; the reconciler remembers what it sent), `trades` and `contacts`
are sets (the server may return them in any order), numbers are stored as doubles (1000 reads
back as 1000.0). Then:

- convergence: diffing the same desired record against the record as read back after the
  PATCH finds nothing to change;
- minimality: leaving any field (or custom key) out of the PATCH would change what the server
  holds, i.e. no PATCH field already holds live.
"""

from __future__ import annotations

import copy
import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.diff import diff_record

SETS = ("trades", "contacts")
NUMBERS = ("value", "size", "confidence")
WRITE_ONLY = ("status", "contacts")

# --- values a valid file may hold -----------------------------------------------------------------

text = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), min_size=0, max_size=8)
nonblank = st.sampled_from(["a", "b", "Solar", "Roofing", "x y", "é", "1"]) | text.filter(
    lambda s: s.strip() != ""
)
ids = st.integers(min_value=1, max_value=2**53 - 1) | st.integers(min_value=1, max_value=5)
number = (
    st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False, width=64)
    | st.sampled_from([0, 0.0, 1000, 1000.0, -0.0, 0.1, 1e20])
)
confidence = st.integers(0, 100) | st.floats(0, 100, allow_nan=False)
custom_value = (
    text
    | number
    | st.booleans()
    | st.none()
    | st.lists(st.sampled_from(["A", "B", "C", "é"]), unique=True, max_size=3)
)
custom = st.dictionaries(st.sampled_from(["k1", "k2", "k3", "roof_type"]), custom_value, max_size=4)
emails = st.sampled_from(["ana@example.com", "bo@example.org", "Ana@Example.com"])

DESIRED = st.fixed_dictionaries(
    {
        "title": nonblank,
        "address": st.lists(nonblank, min_size=1, max_size=1),
        "trades": st.lists(nonblank, unique=True, max_size=3),
    },
    optional={
        "description": text | st.none(),
        "accountId": ids | st.none(),
        "workflowId": ids | st.none(),
        "phaseId": ids | st.none(),
        "value": number,
        "size": number,
        "confidence": confidence,
        "status": st.sampled_from(["ACTIVE", "ON_HOLD", "CANCELLED", "COMPLETED"]),
        "primaryEmail": emails,
        "primaryPhone": st.sampled_from(["555-0100", "+15550100"]),
        "contacts": st.lists(st.integers(1, 6), unique=True, max_size=3),
        "custom": custom,
    },
)

# --- the server, as CONTRACT.md describes it ------------------------------------------------


def _as_double(value: Any) -> Any:
    return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


def stored(live: dict[str, Any], hidden: dict[str, Any], patch: dict[str, Any]) -> None:
    """Apply a PATCH to a record: `live` is what GET returns, `hidden` the write-only values."""
    for name, value in patch.items():
        if name == "custom":
            merged = live.setdefault("custom", {})
            for key, item in value.items():
                if item is None:
                    merged.pop(key, None)
                else:
                    merged[key] = _as_double(item)
        elif name in WRITE_ONLY:
            hidden[name] = copy.deepcopy(value)
        elif name in NUMBERS:
            live[name] = _as_double(value)
        else:
            live[name] = copy.deepcopy(value)


def observed(live: dict[str, Any], hidden: dict[str, Any]) -> Any:
    """What the server holds, as a comparable value: sets unordered, numbers as doubles."""

    def norm(name: str, value: Any) -> Any:
        if name in SETS and isinstance(value, list):
            return ("set", frozenset(value))
        if isinstance(value, list):
            return ("set", frozenset(value))  # a multi-select custom value
        if isinstance(value, bool) or value is None or isinstance(value, str):
            return (type(value).__name__, value)
        if isinstance(value, int | float):
            return ("number", float(value))
        return value

    held = {k: norm(k, v) for k, v in live.items() if k != "custom"}
    held["custom"] = {k: norm(k, v) for k, v in (live.get("custom") or {}).items()}
    held.update({f"hidden.{k}": norm(k, v) for k, v in hidden.items()})
    return held


def read_back(live: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """GET: the sets in an order of the server's choosing."""
    out = copy.deepcopy(live)
    for name in SETS:
        if isinstance(out.get(name), list):
            rng.shuffle(out[name])
    return out


# --- live records: unrelated to the file, or the file's values as a server holds them ---


@st.composite
def live_for(draw: st.DrawFn, desired: dict[str, Any]) -> dict[str, Any]:
    other = draw(DESIRED)
    live: dict[str, Any] = {"id": 1, "isActive": True}
    for name in set(desired) | set(other):
        source = draw(st.sampled_from(["same", "other", "absent"]))
        if source == "absent" or name in WRITE_ONLY:
            continue
        chosen = desired if source == "same" and name in desired else other
        if name in chosen:
            value = copy.deepcopy(chosen[name])
            if name == "custom":
                value = {k: _as_double(v) for k, v in value.items() if v is not None}
            live[name] = _as_double(value) if name in NUMBERS else value
    return live


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
@given(data=st.data(), desired=DESIRED, seed=st.integers(0, 2**32 - 1))
def test_one_patch_converges_and_sends_nothing_already_live(
    data: st.DataObject, desired: dict[str, Any], seed: int
) -> None:
    rng = random.Random(seed)
    live = data.draw(live_for(desired))
    hidden: dict[str, Any] = {}
    applied: dict[str, Any] = {}
    for name in WRITE_ONLY:  # what the server holds, and what the state file remembers of it
        if name in desired and data.draw(st.booleans()):
            held = data.draw(st.sampled_from([copy.deepcopy(desired[name]), DESIRED_ALT[name]]))
            hidden[name] = held
            if data.draw(st.booleans()):
                applied[name] = copy.deepcopy(held)

    first = diff_record(desired, read_back(live, rng), applied)
    patch = dict(first.patch)

    after_live, after_hidden = copy.deepcopy(live), copy.deepcopy(hidden)
    stored(after_live, after_hidden, patch)
    now_applied = applied | {k: v for k, v in patch.items() if k in WRITE_ONLY}
    second = diff_record(desired, read_back(after_live, rng), now_applied)
    assert second.changes == (), (patch, second.changes)
    assert not second.patch

    # Minimality: every field (every custom key) of the PATCH changes what the server holds,
    # except a write-only value whose current value cannot be known (nothing to compare with).
    target = observed(after_live, after_hidden)
    for name in patch:
        keys = list(patch[name]) if name == "custom" else [None]
        for key in keys:
            reduced = copy.deepcopy(patch)
            if key is None:
                del reduced[name]
            else:
                del reduced[name][key]
            if name in WRITE_ONLY and name not in applied:
                continue  # unknown: sending it is the only way to be sure
            without_live, without_hidden = copy.deepcopy(live), copy.deepcopy(hidden)
            stored(without_live, without_hidden, reduced)
            assert observed(without_live, without_hidden) != target, (name, key, patch)


DESIRED_ALT: dict[str, Any] = {"status": "ON_HOLD", "contacts": [6, 5]}
