"""A saved plan is data to check, not orders to follow.

`apply PLANFILE` sends nothing a plan file says merely because it says it. The caller has
verified that the files under --dir still hash to the plan's digests; here each planned record
is judged against those files, the live record read again and the state file:

- **already applied**: the live record (and, for write-only fields, the state file) already
  holds what the file wants; nothing is sent. This is how a rerun after an interrupted apply
  resumes: what went through is not "stale".
- **stale**: a field the plan read has moved live since; or the plan sets a write-only field
  (`status`, `contacts`), which no read can check, and the record's `updatedAt` moved since the
  plan (a hand edit of that field would otherwise be overwritten unseen).
- **refused**: the plan's PATCH (or the fields it shows a reviewer) is not the one rebuilt from
  the verified file and the live values: the plan file was edited, checksum recomputed or not.
- otherwise the change is sent, with the **rebuilt** PATCH.

Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from reconciler.apply import Outcome, Status, stale_fields, write_only_values
from reconciler.diff import diff_record
from reconciler.fields import MERGED, FieldPath, is_archived, updated_at
from reconciler.plan import Change, DesiredRecord


def _canonical(value: Any) -> str:
    # JSON text, so that True and 1, or 1 and 1.0, are told apart as the API would.
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _shown(change: Change) -> str:
    return _canonical(sorted(([f.field, f.after] for f in change.fields), key=lambda p: p[0]))


def check_saved_change(
    saved: Change,
    record: DesiredRecord | None,
    live: Mapping[str, Any] | None,
    applied: Mapping[str, Any],
) -> Change | Outcome:
    """The change to send (with its rebuilt PATCH), or the outcome that holds it back."""
    file = record.file if record is not None else saved.file

    def held(status: Status, message: str) -> Outcome:
        return Outcome(saved.id, file, status, message)

    if record is None:
        return held(
            Status.REFUSED,
            f"the saved plan changes opportunity {saved.id}, but no file under --dir declares "
            "it: not sent (the plan file was edited; make a new plan)",
        )
    moved = stale_fields(saved, live)
    stale = (
        f"changed in Coperniq since the plan was made ({', '.join(moved)}); "
        "not sent: make a new plan"
    )
    if live is None or is_archived(live):
        return held(Status.STALE, stale)
    rebuilt = [
        diff_record(record.data, live, applied, send_required=required)
        for required in (False, True)
    ]
    if not rebuilt[0].changes:
        return held(
            Status.ALREADY_APPLIED,
            "already applied: the live record holds what the file wants; nothing sent",
        )
    if moved:
        return held(Status.STALE, stale)
    writes_blind = sorted(write_only_values(saved.patch))
    live_updated_at = updated_at(live)
    if writes_blind and live_updated_at != saved.live_updated_at:
        return held(
            Status.STALE,
            f"the plan sets {', '.join(writes_blind)}, which cannot be read back, and the record "
            f"was updated in Coperniq since the plan was made (updatedAt "
            f"{saved.live_updated_at} -> {live_updated_at}); not sent, so that a hand edit is not "
            "overwritten unseen: make a new plan",
        )
    for diff in rebuilt:
        candidate = dataclasses.replace(
            saved, file=record.file, fields=diff.changes, patch=diff.patch
        )
        if _canonical(dict(saved.patch)) == _canonical(diff.patch) and _shown(saved) == _shown(
            candidate
        ):
            return candidate
    differ = _differing(saved, rebuilt[0].patch)
    return held(
        Status.REFUSED,
        "the saved plan's PATCH for this record is not the one rebuilt from its file and the "
        f"live record ({', '.join(differ) or 'the fields it shows'} differ); not sent: the plan "
        "file was edited after planning, make a new plan",
    )


def _differing(saved: Change, rebuilt: Mapping[str, Any]) -> list[str]:
    """The PATCH fields whose saved value is not the rebuilt one (custom keys one by one)."""
    names = []
    for name in sorted(saved.patch.keys() | rebuilt.keys()):
        mine, theirs = saved.patch.get(name), rebuilt.get(name)
        if name in MERGED and isinstance(mine, Mapping) and isinstance(theirs, Mapping):
            names += [
                str(FieldPath(name, k))
                for k in sorted(mine.keys() | theirs.keys())
                if k not in mine or k not in theirs or _canonical(mine[k]) != _canonical(theirs[k])
            ]
        elif (
            name not in saved.patch or name not in rebuilt or _canonical(mine) != _canonical(theirs)
        ):
            names.append(name)
    return ["".join(c if c.isprintable() else "?" for c in n)[:100] for n in names[:10]]
