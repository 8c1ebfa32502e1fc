"""Checking files: loaded and checked against the schema, in worker processes when there are many,
and begun before anyone waits for the result.

`begin` finds what the file cache already knows, forks the workers and hands them the rest, then
returns at once: a `Pending` check. The caller may do other work meanwhile (`plan` reads the live
records) and collects the results with `wait()`, or `await collect()` from an event loop. A quick
scan of the files' bytes gives each file's `id` before the check ends (`Pending.ids`), so that a
read of the live records can start alongside it; the full check decides what is valid.
"""

from __future__ import annotations

import asyncio
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler import escape, schema
from reconciler.document import Document
from reconciler.errors import LoadError
from reconciler.filecache import FileCache, cached_merge, cached_split, read_bounded

if TYPE_CHECKING:
    from reconciler.authoring import Authoring

PARALLEL_FROM = 1000
"""From this many files on, files are checked in worker processes (one per core, up to 4)."""


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with one file, at a 1-based line and column. `field` is `-` for the file.

    A `warning` does not stop anything (a new dropdown option the file set opts in to).
    """

    path: str
    line: int
    col: int
    field: str
    message: str
    warning: bool = False

    def __str__(self) -> str:
        level = "warning: " if self.warning else ""
        # Paths, keys and values come from the files: shown as inert text (escape).
        return (
            f"{escape.terminal(self.path)}:{self.line}:{self.col}: "
            f"{escape.terminal(self.field)}: {level}{escape.terminal(self.message)}"
        )


Checked = tuple[Document | None, list[Problem], str | None]
"""A checked file: its document (None when it did not load), its problems, and the digest of the
bytes checked (None when they could not be read)."""

# A top-level `id: 123` line, as every file reconciler writes has it. Anything else (a quoted,
# flow-style or missing id) leaves the scan without an answer; the full check still decides.
_ID_LINE = re.compile(rb"^id:[ \t]*([1-9][0-9]{0,15})[ \t]*(?:#[^\r\n]*)?\r?$", re.MULTILINE)


def scan_id(raw: bytes) -> int | None:
    """The `id` a file's bytes declare on one top-level line, if exactly one line does."""
    found = _ID_LINE.findall(raw)
    return int(found[0]) if len(found) == 1 else None


@dataclass
class Pending:
    """Files being checked. `ids`: each file's `id` from the quick scan, when every file gave one
    and no two the same (None otherwise)."""

    files: list[Path]
    _ids: frozenset[int] | None
    _finish: Callable[[list[Checked]], list[Checked]]
    _done: list[Checked] | None = None
    _futures: list[Future[list[_Compact]]] = field(default_factory=list)
    _chunks: list[list[Path]] = field(default_factory=list)
    _pool: Executor | None = None
    _scans: list[Future[list[int | None]]] = field(default_factory=list)
    _known: list[int | None] = field(default_factory=list)  # the ids the cache answered

    @property
    def ids(self) -> frozenset[int] | None:
        """Every file's id, from the quick scan (the workers scan their chunks first: this waits
        for that, a fraction of the check); None unless every file gave one, all distinct."""
        if self._scans:
            scanned = [*self._known, *(i for f in self._scans for i in f.result())]
            self._scans, self._ids = [], _distinct(scanned, len(self.files))
        return self._ids

    def wait(self) -> list[Checked]:
        """Every file checked, in order (blocks until the workers are done)."""
        if self._done is None:
            try:
                parts = [future.result() for future in self._futures]
            finally:
                self.close()
            self._done = self._finish(_rebuild(self._chunks, parts))
        return self._done

    async def collect(self, on_problem: Callable[[], None] = lambda: None) -> list[Checked]:
        """`wait()`, from an event loop: the loop runs on while the workers check. `on_problem`
        is called as soon as a chunk of files is found to hold a problem (before the rest)."""
        if self._done is None and self._futures:
            try:
                waiting = {asyncio.wrap_future(f): f for f in self._futures}
                for next_done in asyncio.as_completed(waiting):
                    part = await next_done
                    if any(problems for _, _, problems in part):
                        on_problem()
            except BaseException:
                self.close()
                raise
        return self.wait()

    def close(self) -> None:
        """Stop the workers (idempotent); results not collected are dropped."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            pool.shutdown(wait=True, cancel_futures=True)


def begin(
    files: list[Path], authoring: Authoring | None = None, cache: FileCache | None = None
) -> Pending:
    """Start checking `files`: the cache answers for the bytes it has seen (not with
    `authoring`), workers take the rest when there are many. Returns at once."""
    use_cache = cache is not None and authoring is None
    if use_cache:
        assert cache is not None
        hits, misses = cached_split(files, cache)
    else:
        hits, misses = {}, list(range(len(files)))
    todo = [files[i] for i in misses]
    parallel = _parallel(len(todo))

    def finish(checked: list[Checked]) -> list[Checked]:
        if not use_cache:
            return checked
        assert cache is not None
        return cached_merge(files, cache, hits, misses, checked, Problem)

    if not parallel:
        done = finish(check_files(todo, authoring))
        ids = _distinct((None if d is None else d.data.get("id") for d, _, _ in done), len(files))
        return Pending(files, ids, finish, done)
    size = max(len(todo) // (parallel * 4), 100)
    chunks = [todo[i : i + size] for i in range(0, len(todo), size)]
    schema.prepare()
    # Imported here: a run whose files all come from the file cache forks nothing.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(parallel, mp_context=multiprocessing.get_context("fork"))
    # The workers first scan their chunks for ids (the live read waits for those alone), then
    # check them; the pool takes tasks in the order they were given.
    scans = [pool.submit(_scan_chunk, chunk) for chunk in chunks]
    work = partial(_check_compact, authoring=authoring)
    futures = [pool.submit(work, chunk) for chunk in chunks]
    known = [None if entry[0] is None else entry[0].get("id") for _, entry in hits.values()]
    return Pending(files, None, finish, None, futures, chunks, pool, scans, known)


def _scan_chunk(files: list[Path]) -> list[int | None]:
    return [_scan(file) for file in files]


def _scan(file: Path) -> int | None:
    """A file's id from a quick scan of its bytes (the read of the live records waits for it:
    nothing more is done here; the stat index is noted by the next run, which reads anyway)."""
    raw = read_bounded(file)
    return None if raw is None else scan_id(raw)


def _distinct(ids: Iterable[Any], count: int) -> frozenset[int] | None:
    valid = [i for i in ids if type(i) is int and i > 0]
    found = frozenset(valid)
    return found if len(valid) == count and len(found) == count else None


def _parallel(count: int) -> int:
    """How many worker processes to check `count` files with; 0: check them here.

    Parsing is CPU-bound Python, so threads would not help; worker processes are forked (cheap:
    the modules are already imported), but only from a process with no other thread, where fork
    is safe (the pool forks every worker before it starts its own thread).
    """
    workers = worker_count()
    if count < PARALLEL_FROM or workers < 2 or threading.active_count() > 1:
        return 0
    return workers


def worker_count() -> int:
    """Cores this process may use, up to 4."""
    return min(len(os.sched_getaffinity(0)), 4) if hasattr(os, "sched_getaffinity") else 1


_Compact = tuple[dict[str, Any] | None, str, list[Problem]]


def _check_compact(files: list[Path], authoring: Authoring | None = None) -> list[_Compact]:
    # Plain values cross the process boundary: Path objects and file bytes cost more to pickle
    # than the parsing they would save.
    return [
        (None if document is None else document.data, digest or "", problems)
        for document, problems, digest in check_files(files, authoring)
    ]


def _rebuild(chunks: list[list[Path]], parts: list[list[_Compact]]) -> list[Checked]:
    def items() -> Iterator[Checked]:
        for chunk, part in zip(chunks, parts, strict=True):
            for file, (data, digest, problems) in zip(chunk, part, strict=True):
                document = None if data is None else Document(file, data, digest)
                yield document, problems, digest or None

    return list(items())


def check_files(files: list[Path], authoring: Authoring | None = None) -> list[Checked]:
    """Load and check each file, here, in order."""
    from reconciler.loader import load_file  # the parser: only when a file must be parsed

    out: list[Checked] = []
    for file in files:
        try:
            document = load_file(file)
        except LoadError as e:
            where = e.location
            problem = Problem(where.path, where.line, where.col, e.field, e.problem)
            out.append((None, [problem], e.digest))
            continue
        problems = document_problems(document)
        if authoring is not None:
            problems += catalogue_problems(document, authoring)
        out.append((document, problems, document.digest))
    return out


def catalogue_problems(document: Document, authoring: Authoring) -> list[Problem]:
    """The offline catalogue problems (and warnings) of one document, located in its file."""
    problems = []
    for finding in authoring.findings(document.path, document.data):
        where = document.locate(*finding.keys)
        problems.append(
            Problem(
                where.path, where.line, where.col, finding.field, finding.message, finding.warning
            )
        )
    return problems


def document_problems(document: Document) -> list[Problem]:
    """The schema problems of one loaded document, located in its file; [] when it is valid."""
    problems = []
    for finding in schema.check(document.data):
        where = document.locate(*finding.keys)
        problems.append(Problem(where.path, where.line, where.col, finding.field, finding.message))
    return problems
