"""Only regular files are read or written: FIFOs, sockets, devices and folders are refused.

Opening a FIFO blocks until a writer comes (forever, in CI); reading `/dev/zero` never ends; a
socket or a device is never what a user meant by a state, plan or opportunity file. Every path
reconciler reads a file from goes through `read_regular`, which looks at the path first (without
opening it), opens it without blocking, checks the open file again (the path may have changed in
between) and reads at most a size cap. `check_writable` is the matching check for an output: it
runs before the first request or write of a command, so that a report, a plan or a file that
cannot be written is found before anything was sent or changed, not after.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from reconciler.errors import FileTooLarge, NotRegularFile, WriteError

STATE_LIMIT = 64 * 2**20
"""A state file holds a few dozen bytes per record: 64 MiB is over a million records."""

PLAN_LIMIT = 256 * 2**20
"""A saved plan holds about a kilobyte per changed record: 256 MiB is far beyond any plan."""


def describe(mode: int) -> str:
    """What a non-regular file is, in words."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    return "not a regular file"


def _refuse(path: Path, mode: int, what: str) -> NotRegularFile:
    return NotRegularFile(
        f"{path} is {describe(mode)}, not a regular file: reconciler reads and writes {what} only "
        "as a regular file, and did not open it",
        hint=f"pass the path of {what}",
    )


def _size_mib(limit: int) -> str:
    return f"{limit / 2**20:g} MiB"


def read_regular(path: Path, *, what: str, limit: int) -> bytes:
    """The bytes of the regular file at `path`, at most `limit` of them.

    Raises `FileNotFoundError` (and other `OSError`s) as `open` would, `NotRegularFile` for
    anything but a regular file (never opened), `FileTooLarge` beyond `limit`.
    """
    mode = os.stat(path).st_mode
    if not stat.S_ISREG(mode):
        raise _refuse(path, mode, what)
    # os-level calls, not a file object: this runs once per opportunity file, and a buffered
    # reader costs three times the read itself.
    fd = os.open(path, _READ_FLAGS)
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode):  # replaced between the stat and the open
            raise _refuse(path, opened.st_mode, what)
        if opened.st_size > limit:
            raise _too_large(path, what, limit)
        parts: list[bytes] = []
        wanted = limit + 1  # one byte past the cap tells a file that grew past it
        while wanted > 0:
            chunk = os.read(fd, min(wanted, max(opened.st_size + 1, _CHUNK)))
            if not chunk:
                break
            parts.append(chunk)
            wanted -= len(chunk)
    finally:
        os.close(fd)
    data = parts[0] if len(parts) == 1 else b"".join(parts)
    if len(data) > limit:
        raise _too_large(path, what, limit)
    return data


_READ_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
)
_CHUNK = 1 << 16


CACHE_LIMIT = 2**30
"""A cache file is a few dozen MB at 50,000 records: 1 GiB is far beyond any."""


def read_optional(path: Path, *, limit: int, notice: Callable[[str], None]) -> bytes | None:
    """The bytes of an optional file (a cache): None when there is none, or, with one `notice`
    saying why, when it cannot be read, is not a regular file (a FIFO would block forever) or is
    over `limit`."""
    try:
        return read_regular(path, what="a cache file", limit=limit)
    except FileNotFoundError:
        return None
    except NotRegularFile:
        try:
            notice(f"it is {describe(os.stat(path).st_mode)}, not a regular file")
        except OSError:
            notice("it is not a regular file")
    except FileTooLarge:
        notice(f"it is larger than {_size_mib(limit)}")
    except OSError as e:
        notice(f"cannot be read ({e.strerror})")
    return None


def _too_large(path: Path, what: str, limit: int) -> FileTooLarge:
    return FileTooLarge(
        f"{path} is larger than {_size_mib(limit)}, too large for {what}; it was not read",
        hint=f"pass the path of {what}",
    )


def refuse_special(path: Path, *, what: str) -> None:
    """Refuse a path that exists and is not a regular file (an output about to be replaced)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return
    if not stat.S_ISREG(mode):
        raise _refuse(path, mode, what)


def check_writable(path: Path, *, what: str) -> None:
    """Refuse now an output that could not be written later: not a regular file, a folder that
    cannot be created, or one where no file can be created (read-only, no permission, full).

    It creates the missing folders (the write would) and one empty temporary file, removed at
    once; the output itself is not touched.
    """
    refuse_special(path, what=what)
    check_folder(path.parent, what=what, path=path)


def check_folder(folder: Path, *, what: str, path: Path | None = None) -> None:
    """Refuse now a folder in which no file could be created later (see `check_writable`)."""
    shown = folder if path is None else path
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".reconciler.", suffix=".probe", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise WriteError(
            shown, e, hint=f"{what} is written after the work is done: fix the path or its folder"
        ) from None
