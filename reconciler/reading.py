"""Reading the live records a run needs: at the least cost (`read_records`), and begun early, while
the files are still being checked (`Prefetch`).

A cold `plan` spends about as long reading the live records as checking its files; neither needs
the other until the diff. `Prefetch` starts the read for the ids a quick scan of the files found
(`checking.Pending.ids`, or the `--target` ids); once the check is done, the ids it confirms are
taken from that read, and any it did not foresee are read then. When the check finds a problem,
the read is stopped at once: what an invalid file set can waste is the requests made until then.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Collection, Iterable, Sequence
from types import MappingProxyType

from reconciler.lifecycle import under
from reconciler.live import LiveSnapshot, read_live
from reconciler.protocol import Api
from reconciler.snapshot import LiveCache
from reconciler.state import State


async def read_records(
    client: Api,
    ids: Sequence[int],
    state: State,
    cache: LiveCache | None = None,
    *,
    lookups: int = 0,
) -> LiveSnapshot:
    """The live records for `ids` at the least cost; remembers the live count when it learns it.

    With no count remembered, live is assumed to mirror git: as many records as ids; with no
    ids either, the count is unknown, and `lookups` (the match checks of new files, see
    `read_live`) are never traded for a listing of unknown length.
    With a `cache` (and no lookups, which need the whole listing), only what moved since its
    snapshot is read; and a read its quota memory knows is too costly is refused before it starts.
    """
    known = state.live_total if state.live_total is not None else (len(ids) or None)
    if cache is None:
        snapshot = await read_live(client, ids, known_total=known, lookups=lookups)
    else:
        snapshot = await cache.read(client, ids, known_total=known, lookups=lookups)
    if snapshot.total_seen is not None:
        state.live_total = snapshot.total_seen
    return snapshot


def removed_ids(state: State, ids: Iterable[int], folder: str | None) -> list[int]:
    """Managed ids from files in `folder` that `ids` (every file's) do not name any more."""
    if folder is None:
        return []
    declared = set(ids)
    return sorted(
        rid for rid, file in state.managed.items() if rid not in declared and under(file, folder)
    )


class Prefetch:
    """A read of the live records started before the files' check ends."""

    def __init__(self, client: Api, ids: Collection[int], state: State, cache: LiveCache | None):
        self.ids = frozenset(ids)
        self._state = state
        self._cache = cache
        self._task = asyncio.ensure_future(read_records(client, sorted(self.ids), state, cache))

    def stop(self) -> None:
        """Send no further request (a file is invalid: the read would be wasted)."""
        self._task.cancel()

    async def close(self) -> None:
        """Stop it and wait for it to end; its outcome is dropped."""
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task

    async def snapshot(self, client: Api, ids: Sequence[int]) -> LiveSnapshot:
        """The live records for `ids`: from the read begun early, plus a read of the ids it did
        not foresee (a file whose id the scan could not see)."""
        early = await self._task
        extra = [i for i in ids if i not in self.ids]
        late = await read_records(client, extra, self._state, self._cache) if extra else None
        records = {i: r for i in ids if (r := early.records.get(i)) is not None}
        if late is not None:
            records.update(late.records)
        wanted = frozenset(ids)
        return LiveSnapshot(
            records=MappingProxyType(records),
            missing=wanted - records.keys(),
            archived=early.archived.union(() if late is None else late.archived) & wanted,
            requests=early.requests + (0 if late is None else late.requests),
            total_seen=early.total_seen,
        )
