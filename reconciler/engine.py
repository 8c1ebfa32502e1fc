"""The plan and apply runs: wiring the stages together around one API client.

This module owns the order of the I/O: read the live records for the desired ids at the least
cost, diff them (pure), fetch the property catalogue only when a change touches a catalogued
field (it costs a request), assemble the plan; and for apply, the stale check of a saved plan
and the guarded, accounted PATCH run. It talks to the API only through `protocol.Api` (the CLI
passes an `ApiClient`; tests may pass one over an in-process transport). It prints nothing and
knows nothing of click.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from reconciler.apply import (
    QUOTA_EXHAUSTED,
    ApplyReport,
    Outcome,
    Status,
    apply_changes,
    check_guards,
)
from reconciler.catalogue import Catalogue, needs_catalogue
from reconciler.catalogue_check import AllowNew
from reconciler.creating import create_one, delete_one, find_candidates, unmanage_one
from reconciler.drift import DriftReport, find_drift
from reconciler.errors import ReconcilerError
from reconciler.fields import match_value
from reconciler.lifecycle import (
    check_saved_creates,
    check_saved_removals,
    plan_creates,
    plan_removals,
)
from reconciler.live import LiveSnapshot
from reconciler.plan import (
    Action,
    Change,
    Create,
    DesiredRecord,
    NewRecord,
    Plan,
    Removal,
    RequestCounts,
    assemble,
    check_catalogue,
    check_create_catalogue,
    diff_all,
    recheck_opt_in,
)
from reconciler.protocol import Api
from reconciler.reading import Prefetch, read_records, removed_ids
from reconciler.saved_plan import check_saved_change
from reconciler.snapshot import LiveCache, read_kind
from reconciler.state import State


@dataclass(frozen=True, slots=True, repr=False)
class PlanRun:
    plan: Plan
    live: LiveSnapshot
    catalogue: Catalogue | None = None  # the live catalogue, when the plan needed to read it

    def __repr__(self) -> str:  # see Plan.__repr__: never format 10,000 records by accident
        return f"PlanRun({self.plan!r}, live={len(self.live.records)} records)"


def select(desired: Sequence[DesiredRecord], targets: Collection[int]) -> list[DesiredRecord]:
    """The desired records named by --target (all when none); an unknown id is an error."""
    if not targets:
        return list(desired)
    known = {r.id for r in desired}
    unknown = sorted(set(targets) - known)
    if unknown:
        raise ReconcilerError(
            f"--target {', '.join(map(str, unknown))}: no file declares this id",
            hint="--target takes the `id` of an opportunity file under --dir",
        )
    wanted = set(targets)
    return [r for r in desired if r.id in wanted]


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """What a plan needs beyond the files with ids: the new files, how a create is matched,
    and the folder whose removed files are planned (None: none, as with --target)."""

    new: Sequence[NewRecord] = ()
    match_by: str = "title"
    prune: bool = False
    folder: str | None = None


async def compute_plan(
    client: Api,
    desired: Sequence[DesiredRecord],
    state: State,
    *,
    files: Mapping[str, str],
    send_required: bool = False,
    folder_allows: Mapping[int, AllowNew] | None = None,
    life: Lifecycle = Lifecycle(),
    cache: LiveCache | None = None,
    prefetch: Prefetch | None = None,
) -> PlanRun:
    """`folder_allows`: each record's `allow_new_options` from its folder's .reconciler.yaml;
    `life`: the new files to create and the folder whose removed files are planned;
    `prefetch`: the read begun while the files were checked, if one was."""
    removed = removed_ids(state, [r.id for r in desired], life.folder)
    lookups = sum(1 for r in life.new if match_value(r.data, life.match_by) is not None)
    ids = [r.id for r in desired] + removed
    if prefetch is not None and not lookups:
        snapshot = await prefetch.snapshot(client, ids)
    else:  # new files to match need the whole listing: a read of its own
        if prefetch is not None:
            await prefetch.close()
        snapshot = await read_records(client, ids, state, cache, lookups=lookups)
    applied = {r.id: state.applied(r.id) for r in desired}
    changes, errors, unchanged = diff_all(
        desired, snapshot.records, applied, send_required=send_required
    )
    candidates = await find_candidates(client, life.new, life.match_by, snapshot.everything)
    creates, more = plan_creates(life.new, candidates, state.pending_creates, life.match_by)
    errors += more
    removals = (
        []
        if life.folder is None
        else plan_removals(
            state.managed, [r.id for r in desired], life.folder, snapshot.records, prune=life.prune
        )
    )
    catalogue = None
    if any(needs_catalogue(c.patch) for c in changes) or any(
        needs_catalogue(c.body) for c in creates if c.bind_id is None
    ):
        catalogue = Catalogue.from_api(await client.properties())
        by_id = {r.id: r for r in desired}
        changes, more = check_catalogue(changes, by_id, catalogue, folder_allows)
        errors += more
        creates, more = check_create_catalogue(creates, catalogue)
        errors += more
    plan = assemble(
        changes,
        errors,
        unchanged,
        requests=RequestCounts(
            client.requests_sent, 0, client.last_remaining, read=read_kind(cache)
        ),
        files=files,
        notes=state.notes,
        api_url=state.api,
        creates=creates,
        removals=removals,
        prune=life.prune,
        match_by=life.match_by,
    )
    return PlanRun(plan, snapshot, catalogue)


def now_utc() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def compute_drift(
    client: Api,
    desired: Sequence[DesiredRecord],
    state: State,
    cache: LiveCache | None = None,
    *,
    folder: str | None = None,
) -> DriftReport:
    """Read the live records the files name, at the least cost, and compare them (drift and
    adopt). `checked_at` is when the read started. With `folder`, the managed records whose file
    in that folder is gone (the state file's) are reported too; they are not read."""
    checked_at = now_utc()
    removed = removed_ids(state, [r.id for r in desired], folder)
    snapshot = await read_records(client, [r.id for r in desired], state, cache)
    return find_drift(
        desired,
        snapshot.records,
        removed={rid: state.managed[rid] for rid in removed},
        requests=client.requests_sent,
        remaining=client.last_remaining,
        checked_at=checked_at,
        read=read_kind(cache),
    )


@dataclass(frozen=True, slots=True)
class ApplyOptions:
    allow_new_options: bool = False
    max_changes: int | None = None
    force: bool = False
    concurrency: int = 8


async def verify_saved_plan(
    client: Api,
    plan: Plan,
    state: State,
    desired: Sequence[DesiredRecord],
    folder_allows: Mapping[int, AllowNew] | None = None,
    cache: LiveCache | None = None,
) -> tuple[list[Change], list[Outcome], LiveSnapshot]:
    """Re-read the planned records and rebuild each PATCH: the changes to send, and the rest.

    A saved plan is data to check, not orders to follow: its files were verified (digests) by
    the caller, and every PATCH is rebuilt here from those files, the live records read again
    and the state file. A record is sent only with its rebuilt PATCH, and only when that equals
    the saved one; otherwise it gets an outcome saying why not (see `check_saved_change`).
    """
    binds = [c.bind_id for c in plan.creates if c.bind_id is not None]
    ids = [c.id for c in plan.changes] + [r.id for r in plan.deletes] + binds
    snapshot = await read_records(client, ids, state, cache)
    by_id = {r.id: r for r in desired}
    counts = Counter(c.id for c in plan.changes)
    fresh: list[Change] = []
    held: list[Outcome] = []
    for change in plan.changes:
        record = by_id.get(change.id)
        if counts[change.id] > 1:
            held.append(
                Outcome(
                    change.id,
                    record.file if record is not None else change.file,
                    Status.REFUSED,
                    f"the saved plan changes opportunity {change.id} {counts[change.id]} times: "
                    "not sent (the plan file was edited; make a new plan)",
                )
            )
            continue
        verdict = check_saved_change(
            change,
            record,
            snapshot.records.get(change.id),
            state.applied(change.id) if record is not None else {},
        )
        if isinstance(verdict, Outcome):
            held.append(verdict)
        else:
            fresh.append(verdict)
    if any(c.allow_new_options for c in fresh):  # one request, only for a plan that opts in
        catalogue = Catalogue.from_api(await client.properties())
        fresh = recheck_opt_in(fresh, by_id, catalogue, folder_allows)
    return fresh, held, snapshot


async def run_apply(
    client: Api,
    plan: Plan,
    state: State,
    options: ApplyOptions,
    *,
    live: Mapping[int, Mapping[str, Any]] | None,
    stop: asyncio.Event,
    desired: Sequence[DesiredRecord] = (),
    folder_allows: Mapping[int, AllowNew] | None = None,
    on_outcome: Callable[[Outcome], None] = lambda _: None,
    declared: Mapping[int, str] | None = None,
    new: Sequence[NewRecord] = (),
    cache: LiveCache | None = None,
) -> ApplyReport:
    """Apply a plan. `live` is the snapshot the plan was just computed from; None for a saved
    plan, whose records are read again and whose PATCHes are rebuilt from `desired` (the
    verified files) before anything is sent, as are its creates (from `new`, the verified files
    without id) and its removals (from the state's managed ids). `declared` (id -> file, every
    file with an id the plan was made from) is recorded as managed."""
    # Refuse what can be refused for free first; the request quota is known only once a
    # request has been answered, so a saved plan is checked again after its stale check.
    check_guards(
        plan,
        max_changes=options.max_changes,
        force=options.force,
        allow_new_options=options.allow_new_options,
        remaining=client.last_remaining,
    )
    stale: list[Outcome] = []
    changes = list(plan.changes)
    removals = list(plan.removals)
    creates = list(plan.creates)
    if live is None:
        changes, stale, snapshot = await verify_saved_plan(
            client, plan, state, desired, folder_allows, cache
        )
        live = snapshot.records
        removals, held = check_saved_removals(removals, state.managed, desired, live)
        creates, held_creates = check_saved_creates(creates, new, state.pending_creates, live)
        stale += held + held_creates
        check_guards(
            replace(plan, changes=tuple(changes), removals=tuple(removals), creates=tuple(creates)),
            max_changes=None,
            force=True,
            allow_new_options=options.allow_new_options,
            remaining=client.last_remaining,
        )
    if declared:
        state.manage(declared)
    # A state file that cannot be written stops the apply before anything is sent.
    state.save()
    for outcome in stale:
        on_outcome(outcome)
    outcomes = await apply_changes(
        client,
        changes,
        state,
        live=live,
        allow_new_options=options.allow_new_options,
        concurrency=options.concurrency,
        stop=stop,
        on_outcome=on_outcome,
    )
    outcomes += await _lifecycle(client, creates, removals, state, options, stop, on_outcome)
    state.save()
    if cache is not None:  # a 404 (deleted since, unseen by updated_after) or a delete
        cache.forget([o.id for o in outcomes if o.status in (Status.FAILED, Status.DELETED)])
    ordered = sorted([*stale, *outcomes], key=lambda o: (o.id is None, o.id or 0, o.file))
    return ApplyReport(
        tuple(ordered), client.requests_sent, client.last_remaining, interrupted=stop.is_set()
    )


async def _lifecycle(
    client: Api,
    creates: Sequence[Create],
    removals: Sequence[Removal],
    state: State,
    options: ApplyOptions,
    stop: asyncio.Event,
    on_outcome: Callable[[Outcome], None],
) -> list[Outcome]:
    """The creates (at most `concurrency` at once), then the deletes and unmanages."""
    slots = asyncio.Semaphore(max(1, options.concurrency))

    def held_back() -> str | None:
        """Why no further request may start: Ctrl-C, or the API said the daily quota is spent
        (a 429 with 0 remaining, or a last answer leaving 0): every further request would fail."""
        if stop.is_set():
            return "interrupted before sending"
        return QUOTA_EXHAUSTED if client.last_remaining == 0 else None

    async def create(c: Create) -> Outcome:
        async with slots:
            why = held_back()
            if why is not None:
                outcome = Outcome(c.bind_id, c.file, Status.NOT_SENT, why)
            else:
                outcome = await create_one(
                    client, c, state, allow_new_options=options.allow_new_options
                )
        on_outcome(outcome)
        return outcome

    outcomes = list(await asyncio.gather(*(create(c) for c in creates)))
    for removal in removals:
        why = held_back()
        if removal.action is Action.UNMANAGE:
            outcome = unmanage_one(removal, state)
        elif why is not None:
            outcome = Outcome(removal.id, removal.file, Status.NOT_SENT, why)
        else:
            outcome = await delete_one(client, removal, state)
        on_outcome(outcome)
        outcomes.append(outcome)
    return outcomes
