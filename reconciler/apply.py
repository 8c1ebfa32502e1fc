"""Apply: send one PATCH per planned change, with bounded concurrency, and account for each one.

This stage owns what happens between an approved plan and the API: the guards that refuse to
start (too many changes, too few requests left today, new dropdown options not allowed), the
stale check of a saved plan against the live records, the PATCHes themselves, the check of each
PATCH response against what was sent (a value the server rewrote is a warning, custom keys that
vanished are an error), and saving the write-only values to the state file after every success,
so that a failure or Ctrl-C halfway leaves an exact account and a rerun converges.
"""

from __future__ import annotations

import asyncio
import enum
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from reconciler.diff import field_still_equal, is_readable, live_value
from reconciler.errors import RateLimited, ReconcilerError, Refused, ValidationFailed
from reconciler.fields import MERGED, REQUIRED_ON_PATCH, WRITE_ONLY, is_archived
from reconciler.plan import Change, Plan
from reconciler.protocol import Api


class Status(enum.Enum):
    APPLIED = "applied"
    CREATED = "created"  # a new file's record was created (or bound) and its id written
    DELETED = "deleted"
    UNMANAGED = "unmanaged"  # dropped from the state; nothing sent
    MATCHED = "matched"  # the create matched an existing record: nothing bound
    FAILED = "failed"
    STALE = "stale"  # the live record moved since the plan was made: not sent
    NOT_SENT = "not_sent"  # interrupted (Ctrl-C, daily quota spent) before this record's turn
    ALREADY_APPLIED = "already_applied"  # a saved plan's record already holds what it wants
    REFUSED = "refused"  # a saved plan's PATCH is not the one its files and live values give


DONE = frozenset(
    {Status.APPLIED, Status.ALREADY_APPLIED, Status.CREATED, Status.DELETED, Status.UNMANAGED}
)
"""The outcomes of an apply that did what the plan said."""


@dataclass(frozen=True, slots=True)
class Rewritten:
    """A value the server stored other than the one sent: the PATCH applied, but every plan will
    show the field as a change until the file holds `stored` (views word it)."""

    id: int
    file: str
    field: str
    sent: Any
    stored: Any


@dataclass(frozen=True, slots=True)
class Outcome:
    id: int | None  # None: a new file whose create did not give it an id
    file: str
    status: Status
    message: str = ""
    warnings: tuple[Rewritten, ...] = ()
    errors: tuple[str, ...] = ()  # problems found after a PATCH that did apply


@dataclass(frozen=True, slots=True, repr=False)
class ApplyReport:
    outcomes: tuple[Outcome, ...]
    requests: int
    remaining: int | None
    interrupted: bool

    def __repr__(self) -> str:  # see Plan.__repr__
        return f"ApplyReport({len(self.outcomes)} outcomes, interrupted={self.interrupted})"

    def count(self, status: Status) -> int:
        return sum(1 for o in self.outcomes if o.status is status)

    @property
    def ok(self) -> bool:
        return not self.interrupted and all(
            o.status in DONE and not o.errors for o in self.outcomes
        )


class AppliedState(Protocol):
    """What apply needs from the state file."""

    def record_applied(self, record_id: int, fields: Mapping[str, Any]) -> None: ...

    def save(self) -> None: ...


def default_max_changes(managed: int) -> int:
    """10% of the managed records, at least 10."""
    return max(10, managed // 10)


def check_guards(
    plan: Plan,
    *,
    max_changes: int | None,
    force: bool,
    allow_new_options: bool,
    remaining: int | None,
) -> None:
    """Refuse, before anything is sent, an apply that should not start."""
    count = plan.sending
    managed = len(plan.changes) + plan.unchanged + len(plan.errors) + len(plan.deletes)
    limit = default_max_changes(managed) if max_changes is None else max_changes
    if count > limit and not force:
        raise Refused(
            f"the plan changes {count} records (creates, updates and deletes), more than the "
            f"limit of {limit} "
            f"({'10% of the managed records, at least 10' if max_changes is None else 'set'})",
            hint="review the plan, then rerun with --force (or raise --max-changes)",
        )
    options = plan.unapproved_options
    if options and not allow_new_options:
        listed = ", ".join(
            f"{o.field}={json.dumps(o.value, ensure_ascii=False)}" for o in options[:10]
        )
        more = f" and {len(options) - 10} more" if len(options) > 10 else ""
        raise Refused(
            f"the plan would create {len(options)} new dropdown "
            f"{'option' if len(options) == 1 else 'options'} in records whose files "
            f"do not allow them all: {listed}{more}",
            hint="if they are intended, add `allow_new_options: [FIELD]` to the files (reviewed "
            "in the pull request) or rerun with --allow-new-options; otherwise fix the files",
        )
    if remaining is not None and count > remaining:
        raise Refused(
            f"this apply needs {count} requests but the API key has {remaining} left today",
            hint="wait for the daily quota to recover (it is a rolling 24 hours), "
            "or apply fewer records with --target",
        )


def stale_fields(change: Change, live: Mapping[str, Any] | None) -> list[str]:
    """The planned fields whose live value is no longer what the plan saw."""
    if live is None:
        return ["(record no longer exists)"]
    if is_archived(live):
        return ["(record was archived)"]
    moved = []
    for f in change.fields:
        if not f.before_known:
            continue
        if not is_readable(f.field) and live.get(f.field) is None:
            continue  # a write-only value remembered from state: nothing to read back
        if not field_still_equal(f.field, f.before, live):
            moved.append(f.field)
    return moved


def check_response(
    change: Change, before: Mapping[str, Any] | None, after: Mapping[str, Any]
) -> tuple[tuple[Rewritten, ...], tuple[str, ...]]:
    """Warnings (values the server rewrote) and errors (custom keys that vanished)."""
    where = f"opportunity {change.id} ({change.file})"
    warnings: list[Rewritten] = []
    for f in change.fields:
        if not is_readable(f.field) and after.get(f.field) is None:
            continue
        if not field_still_equal(f.field, f.after, after):
            warnings.append(
                Rewritten(change.id, change.file, f.field, f.after, live_value(after, f.field))
            )
    errors = []
    for name in MERGED:
        vanished = _vanished_keys(name, change.patch, before or {}, after)
        if vanished:
            errors.append(
                f"{where}: {name} keys {', '.join(vanished)} vanished after the PATCH: the server "
                f"replaced `{name}` instead of merging it (CONTRACT assumption 1); restore them in "
                "Coperniq and report this"
            )
    return tuple(warnings), tuple(errors)


def _vanished_keys(
    name: str, patch: Mapping[str, Any], before: Mapping[str, Any], after: Mapping[str, Any]
) -> list[str]:
    """Keys of merged field `name` that held a value before the PATCH, were not cleared by it,
    and are gone after it."""
    had, kept = before.get(name), after.get(name)
    if not isinstance(had, Mapping):
        return []
    cleared = {k for k, v in (patch.get(name) or {}).items() if v is None}
    kept = kept if isinstance(kept, Mapping) else {}
    return sorted(k for k, v in had.items() if v is not None and k not in cleared and k not in kept)


def write_only_values(patch: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in patch.items() if k in WRITE_ONLY}


SEND_REQUIRED_HINT = (
    "this server requires {names} on every PATCH: rerun the plan and apply with --send-required"
)


def failure_text(error: ReconcilerError, change: Change) -> str:
    """What to tell about a PATCH the API refused.

    A 400 about a required field (`title`, `address`, `trades`) that the PATCH did not carry
    comes from a server enforcing the published schema: the fix is --send-required, not the file.
    """
    if (
        isinstance(error, ValidationFailed)
        and error.field in REQUIRED_ON_PATCH
        and error.field not in change.patch
    ):
        names = ", ".join(REQUIRED_ON_PATCH)
        return f"{error.message}\n  hint: {SEND_REQUIRED_HINT.format(names=names)}"
    return str(error)


async def apply_changes(
    client: Api,
    changes: list[Change],
    state: AppliedState,
    *,
    live: Mapping[int, Mapping[str, Any]],
    allow_new_options: bool,
    concurrency: int,
    stop: asyncio.Event,
    on_outcome: Callable[[Outcome], None] = lambda _: None,
) -> list[Outcome]:
    """PATCH each change, at most `concurrency` at once, until done or `stop` is set.

    Requests already in flight when `stop` is set finish and are accounted for; changes not yet
    started are reported as not sent. The state file is saved after every successful PATCH.
    """
    queue: asyncio.Queue[Change] = asyncio.Queue()
    for change in changes:
        queue.put_nowait(change)
    outcomes: dict[int | None, Outcome] = {}
    # Set when a 429 says the daily quota is spent: every further PATCH would fail the same
    # way (and spend the user's time), so none is started; those in flight finish.
    quota_spent = asyncio.Event()

    def done(outcome: Outcome) -> None:
        outcomes[outcome.id] = outcome
        on_outcome(outcome)

    async def one(change: Change) -> Outcome:
        try:
            response = await client.patch(
                change.id,
                dict(change.patch),
                allow_new_options=allow_new_options or change.allow_new_options,
            )
        except ReconcilerError as e:
            if isinstance(e, RateLimited) and e.remaining == 0:
                quota_spent.set()
            return Outcome(change.id, change.file, Status.FAILED, failure_text(e, change))
        warnings, errors = check_response(change, live.get(change.id), response)
        written = write_only_values(change.patch)
        if written:
            state.record_applied(change.id, written)
            try:
                state.save()
            except ReconcilerError as e:  # the PATCH did apply: say so, and what was not kept
                errors += (f"opportunity {change.id} ({change.file}): applied, but {e}",)
        return Outcome(change.id, change.file, Status.APPLIED, "", warnings, errors)

    async def worker() -> None:
        while not stop.is_set() and not quota_spent.is_set():
            try:
                change = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            done(await one(change))

    await asyncio.gather(*(worker() for _ in range(max(1, concurrency))))
    why = QUOTA_EXHAUSTED if quota_spent.is_set() else "interrupted before sending"
    for change in changes:
        if change.id not in outcomes:
            done(Outcome(change.id, change.file, Status.NOT_SENT, why))
    return [outcomes[c.id] for c in changes]


QUOTA_EXHAUSTED = "daily quota exhausted"
