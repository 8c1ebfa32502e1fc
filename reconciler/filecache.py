"""The file cache: a warm run parses only the files whose bytes changed.

`<cache dir>/files.json` maps the sha256 of a file's bytes to what checking those bytes gave: the
loaded record when the file is valid, or its problems (line, column, field, message). It is keyed
by content, never by path or mtime, so it stays right after `git checkout` (which resets mtimes),
a rename, or a copy; the problems are stored without their path and take the current one back.
The whole file is bound to a *tool key*: the digest of reconciler's version, the schema, the
source of the modules that decide what is valid, and the versions of PyYAML and email-validator.
Any other key, or a file that cannot be read or is not exactly this format, is dropped and
rebuilt (with a one-line notice), never trusted.

Only records whose values survive a JSON round trip exactly (strings, finite floats, 64-bit ints,
booleans, null, lists, objects with string keys) are kept; any other file is checked every time.
Checking with a catalogue (`validate` with a catalogue file) does not use the cache.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata, resources
from pathlib import Path
from stat import S_ISREG
from typing import Any, Final, TypeVar

import orjson

from reconciler import __version__
from reconciler.atomic import write_atomic
from reconciler.document import MAX_BYTES, Document
from reconciler.errors import ReconcilerError
from reconciler.regular import CACHE_LIMIT, read_optional, read_regular

FORMAT_VERSION: Final = "1"
FILE_NAME: Final = "files.json"
_INT64: Final = 2**63

# One cached check: (record or None, [(line, col, field, message, warning), ...]).
Entry = tuple[dict[str, Any] | None, list[tuple[int, int, str, str, bool]]]
Hits = dict[int, tuple[str, Entry]]  # a file's position: the digest of its bytes, their entry


@cache
def tool_key() -> str:
    """What the verdict on given bytes depends on besides the bytes."""
    h = hashlib.sha256()
    h.update(f"reconciler {__version__}\n".encode())
    package = resources.files("reconciler")
    h.update(package.joinpath("data/opportunity.schema.json").read_bytes())
    # Every core module (top-level reconciler/*.py): a change to any of them is a new key.
    for module in sorted((p for p in package.iterdir() if p.name.endswith(".py")), key=str):
        h.update(module.name.encode())
        h.update(module.read_bytes())
    for dist in ("PyYAML", "email-validator", "fastjsonschema", "jsonschema"):
        try:
            h.update(f"{dist} {metadata.version(dist)}\n".encode())
        except metadata.PackageNotFoundError:
            h.update(f"{dist} ?\n".encode())
    return h.hexdigest()


@dataclass
class FileCache:
    """The file cache in one folder, loaded once, saved once at the end of a load."""

    directory: Path
    notices: list[str] = field(default_factory=list)
    entries: dict[str, Entry] = field(default_factory=dict)
    hits: int = 0
    # The stat index: a file's path -> its stat signature and the digest of the bytes read after
    # that stat, as last saved (`stats`) and as this run saw them (`seen`); see `known_digest`.
    stats: dict[str, tuple[Signature, str]] = field(default_factory=dict)
    seen: dict[str, tuple[Signature, str]] = field(default_factory=dict)
    written_ns: int = 0  # the cache file's mtime when it was read: the filesystem's clock
    _dirty: bool = False

    @property
    def path(self) -> Path:
        return self.directory / FILE_NAME

    @classmethod
    def open(cls, directory: Path) -> FileCache:
        cache_ = cls(directory)
        raw = read_optional(cache_.path, limit=CACHE_LIMIT, notice=cache_._drop)
        if raw is None:
            return cache_
        try:
            cache_.entries, cache_.stats = _parse(raw)
            cache_.written_ns = os.stat(cache_.path).st_mtime_ns
        except _Unusable as e:
            cache_._drop(str(e))
        except OSError:
            cache_.stats = {}  # replaced since it was read: the index is not trusted
        return cache_

    def _drop(self, why: str) -> None:
        self.notices.append(f"File cache {self.path} ignored: {why}; rebuilding it.")
        self.entries = {}
        self.stats = {}
        self._dirty = True

    def known_digest(self, path: str, signature: Signature) -> str | None:
        """The digest of `path`'s bytes without reading them, when its stat signature is the one
        seen when they were last read and it last changed well before the cache was written
        (`RACY_NS`); None otherwise (then it is read).

        As git's index does: any write or `git checkout` gives a file a new ctime (no tool can
        set it back), and the size, mtime, inode and device must match too. A change in the same
        timestamp tick as the stat, which a filesystem with coarse timestamps could hide, is
        excluded by the margin.
        """
        known = self.stats.get(path)
        if known is None or known[0] != signature:
            return None
        if max(signature[1], signature[2]) >= self.written_ns - RACY_NS:
            return None
        return known[1]

    def note(self, path: str, signature: Signature, digest: str) -> None:
        """`path` had `signature` before the bytes with `digest` were read from it."""
        self.seen[path] = (signature, digest)

    def get(self, digest: str) -> Entry | None:
        entry = self.entries.get(digest)
        if entry is not None:
            self.hits += 1
        return entry

    def put(self, digest: str, entry: Entry) -> None:
        """Keep a verdict. Its record must be JSON-exact (`json_exact`): the strict loader's
        records are, by construction, so this is not checked again for each file."""
        self.entries[digest] = entry
        self._dirty = True

    def keep_only(self, digests: set[str]) -> None:
        """Forget the entries no current file has: the cache holds one entry per file."""
        if self.entries.keys() - digests:
            self.entries = {d: e for d, e in self.entries.items() if d in digests}
            self._dirty = True

    def save(self) -> None:
        """Write it atomically if it changed; a folder that cannot be written only costs speed."""
        if not self._dirty and self.seen == self.stats:
            return
        try:
            data = orjson.dumps(
                {
                    "format_version": FORMAT_VERSION,
                    "tool": tool_key(),
                    "entries": {d: [e[0], e[1]] for d, e in self.entries.items()},
                    "stats": {p: [*sig, d] for p, (sig, d) in self.seen.items()},
                }
            )
        except orjson.JSONEncodeError as e:  # a record that is not JSON-exact: a bug, not data
            self.notices.append(f"File cache {self.path} not updated: {e}.")
            self._dirty = False
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, data, new_mode=0o600, sync_new=False)
        except (OSError, ReconcilerError) as e:
            why = e.strerror if isinstance(e, OSError) else e.message
            self.notices.append(f"File cache {self.path} not updated: {why}.")
        self._dirty = False
        self.stats = dict(self.seen)


class _Unusable(Exception):
    pass


def _parse(raw: bytes) -> tuple[dict[str, Entry], dict[str, tuple[Signature, str]]]:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise _Unusable("not valid JSON (truncated or corrupted?)") from None
    if not isinstance(data, dict) or data.get("format_version") != FORMAT_VERSION:
        raise _Unusable("not a file cache of this format version")
    if data.get("tool") != tool_key():
        raise _Unusable("written by another version of reconciler or of the schema")
    raw_entries = data.get("entries")
    if not isinstance(raw_entries, dict):
        raise _Unusable("it holds no entries")
    entries: dict[str, Entry] = {}
    for digest, value in raw_entries.items():
        # The common entry, a valid file: [record, []], settled in one test.
        if (
            value.__class__ is list
            and len(value) == 2
            and value[1] == []
            and value[0].__class__ is dict
        ):
            entries[digest] = (value[0], [])
            continue
        if not (isinstance(value, list) and len(value) == 2):
            raise _Unusable(f"entry {digest[:12]} is malformed")
        record, problems = value
        if not (record is None or isinstance(record, dict)) or not isinstance(problems, list):
            raise _Unusable(f"entry {digest[:12]} is malformed")
        checked: list[tuple[int, int, str, str, bool]] = []
        for p in problems:
            if not (
                isinstance(p, list)
                and len(p) == 5
                and all(type(x) is int for x in p[:2])
                and all(isinstance(x, str) for x in p[2:4])
                and isinstance(p[4], bool)
            ):
                raise _Unusable(f"entry {digest[:12]} holds a malformed problem")
            checked.append((p[0], p[1], p[2], p[3], p[4]))
        if record is None and not checked:
            raise _Unusable(f"entry {digest[:12]} holds neither a record nor a problem")
        entries[digest] = (record, checked)
    return entries, _parse_stats(data.get("stats", {}))


def _parse_stats(raw: Any) -> dict[str, tuple[Signature, str]]:
    if not isinstance(raw, dict):
        raise _Unusable("its stat index is malformed")
    stats: dict[str, tuple[Signature, str]] = {}
    for path, value in raw.items():
        if not (
            isinstance(value, list)
            and len(value) == 6
            and all(type(x) is int for x in value[:5])
            and isinstance(value[5], str)
            and len(value[5]) == 64
        ):
            raise _Unusable("its stat index is malformed")
        stats[path] = ((value[0], value[1], value[2], value[3], value[4]), value[5])
    return stats


def json_exact(value: Any) -> bool:
    """Whether `value` comes back from a JSON round trip exactly, type for type."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return bool(-_INT64 <= value < _INT64)
    if kind is float:
        return math.isfinite(value)
    if kind is list:
        return all(json_exact(v) for v in value)
    if kind is dict:
        return all(type(k) is str and json_exact(v) for k, v in value.items())
    return False


def digest_of(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


Signature = tuple[int, int, int, int, int]
"""What a stat says of a file's content: size, mtime and ctime (ns), inode, device."""

RACY_NS: Final = 3 * 10**9
"""A file changed less than this before the cache was written is read again whatever its stat
says: on a filesystem with coarse timestamps, a later change could keep the same ones."""


def signature(path: str) -> Signature | None:
    """A regular file's stat signature; None when it cannot be had (the read then says why)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    if not S_ISREG(st.st_mode):
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


def cached_split(files: Sequence[Path], cache_: FileCache) -> tuple[Hits, list[int]]:
    """Which files the cache answers (by position, with their digests), and which must be
    checked. An empty cache (a first run) answers none, and reads no file: the check reads each
    once."""
    hits: Hits = {}
    if not cache_.entries:
        return hits, list(range(len(files)))
    misses: list[int] = []
    for i, path in enumerate(files):
        key = str(path)
        sig = signature(key)
        digest = None if sig is None else cache_.known_digest(key, sig)
        if digest is None:
            raw = read_bounded(path)
            if raw is None:
                misses.append(i)
                continue
            digest = digest_of(raw)
        if sig is not None:
            cache_.note(key, sig, digest)
        entry = cache_.get(digest)
        if entry is None:
            misses.append(i)
        else:
            hits[i] = (digest, entry)
    return hits, misses


P = TypeVar("P")  # the caller's problem type: line, col, field, message, warning


def cached_merge(
    files: list[Path],
    cache: FileCache,
    hits: Hits,
    misses: list[int],
    checked: list[tuple[Document | None, list[P], str | None]],
    problem: Callable[[str, int, int, str, str, bool], P],
) -> list[tuple[Document | None, list[P], str | None]]:
    """Every file's result in order: the cache's `hits`, rebuilt at the file's current path
    (`problem` makes a problem), and the `checked` results of the `misses`, which the cache
    keeps under the digest of the bytes checked. The cache is saved."""
    out: list[tuple[Document | None, list[P], str | None] | None] = [None] * len(files)
    for i, (known, (data, found)) in hits.items():
        problems = [problem(str(files[i]), *p) for p in found]
        out[i] = (None if data is None else Document(files[i], data, known), problems, known)
    for i, (document, problems, digest) in zip(misses, checked, strict=True):
        out[i] = (document, problems, digest)
        if digest is not None:
            # The strict loader yields only JSON-exact values (see `json_exact`).
            record = None if document is None else document.data
            cache.put(digest, (record, [_compact(p) for p in problems]))
    cache.keep_only({item[2] for item in out if item is not None and item[2] is not None})
    cache.save()
    return [item for item in out if item is not None]


def _compact(problem: Any) -> tuple[int, int, str, str, bool]:
    return (problem.line, problem.col, problem.field, problem.message, problem.warning)


def read_bounded(path: Path) -> bytes | None:
    """A file's bytes, or None when it is not a readable regular file within the size limit
    (the loader then says why, and nothing about it is cached)."""
    try:
        return read_regular(path, what="an opportunity file", limit=MAX_BYTES)
    except (OSError, ReconcilerError):
        return None
