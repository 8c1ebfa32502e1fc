"""One writer at a time: an exclusive OS-level lock tied to the state file.

`state_lock(state_path)` is a context manager. It takes an exclusive `fcntl.flock` on a lock file
next to the state file (`.state.json.lock` for `state.json`) without waiting: when another process
holds it, it raises `StateLocked` at once, naming the holder's pid, host, command and since when.
The kernel releases a flock when its holder's file descriptor closes, so a process that dies
(kill -9 included) leaves nothing to clean up.

Why `fcntl` and not the `filelock` library: filelock opens its lock file with O_TRUNC, so every
*failed* attempt would wipe the holder's pid and start time, which this lock exists to report;
and it deletes the file on release, which lets two processes lock two different inodes of the
same path. The lock file is never deleted here, and the holder's details are written only by the
process that holds the lock.

Why a separate lock file: the state file is replaced by rename on every save, so a lock on the
state file's own inode would stop covering the path after the first save.

Within one process the lock is re-entrant (a count per lock file): the commands take it for the
whole run, and `State.save` takes it again around its read-merge-write, without deadlocking.
POSIX only: on a platform without `fcntl` the commands run without the lock.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import stat
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reconciler.errors import ConfigError, StateLocked

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["StateLocked", "holds", "lock_path", "state_lock"]

_registry_lock = threading.Lock()
_held: dict[str, tuple[int, int]] = {}  # lock file (absolute) -> (fd, depth)


def lock_path(state_path: Path | str) -> Path:
    """The lock file for a state file: a hidden sibling, `.NAME.lock`."""
    state_path = Path(state_path)
    return state_path.with_name(f".{state_path.name}.lock")


def holds(state_path: Path | str) -> bool:
    """Whether this process holds the lock on `state_path`."""
    with _registry_lock:
        return _key(state_path) in _held


@contextlib.contextmanager
def state_lock(state_path: Path | str, *, command: str | None = None) -> Iterator[None]:
    """Hold the exclusive lock on `state_path` for the duration of the block.

    Raises `StateLocked` at once if another process holds it, `ConfigError` if the lock file
    cannot be created. `command` (e.g. "apply") is recorded for the message another run shows.
    """
    key = _key(state_path)
    with _registry_lock:
        if key in _held:
            fd, depth = _held[key]
            _held[key] = (fd, depth + 1)
            reentered = True
        else:
            reentered = False
    if not reentered:
        fd = _acquire(Path(key), state_path, command)
        with _registry_lock:
            _held[key] = (fd, 1)
    try:
        yield
    finally:
        with _registry_lock:
            fd, depth = _held[key]
            if depth > 1:
                _held[key] = (fd, depth - 1)
            else:
                del _held[key]
                _release(fd)


def _key(state_path: Path | str) -> str:
    # Lexically absolute (no symlink resolution needed: flock is on the inode the path names).
    return os.path.abspath(lock_path(state_path))


def _acquire(path: Path, state_path: Path | str, command: str | None) -> int:
    if fcntl is None:  # pragma: no cover - Windows
        return -1
    _refuse_special(state_path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
    except OSError as e:
        raise ConfigError(
            f"Cannot write the state file {state_path}: its lock file {path} cannot be created "
            f"({e.strerror}).",
            hint="check that the state file's directory is writable, or pass another --state",
        ) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _read_holder(fd)
        os.close(fd)
        raise StateLocked(_held_message(state_path, holder), hint=_HINT) from None
    except OSError as e:
        os.close(fd)
        raise ConfigError(
            f"Cannot lock the state file {state_path} ({path}): {e.strerror}.",
            hint="the file system may not support locks (some network file systems do not); "
            "pass a --state on a local disk",
        ) from None
    _write_holder(fd, command)
    return fd


def _refuse_special(state_path: Path | str) -> None:
    """A --state naming a device, FIFO or socket gets no lock file beside it (in /dev, say)."""
    try:
        mode = os.stat(state_path).st_mode
    except OSError:
        return  # absent (a new state) or unreadable: loading the state reports it
    if not stat.S_ISREG(mode):
        kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
        raise ConfigError(
            f"{state_path} is not a reconciler state file: it is {kind}.",
            hint="pass the state file with --state (default .reconciler/state.json)",
        )


def _release(fd: int) -> None:
    if fd < 0:  # pragma: no cover - Windows
        return
    with contextlib.suppress(OSError):
        os.ftruncate(fd, 0)  # the holder's details go with the lock
    os.close(fd)  # closing the descriptor releases the flock


def _write_holder(fd: int, command: str | None) -> None:
    holder = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "command": command or " ".join(Path(a).name for a in sys.argv[:2]) or "reconciler",
        "since": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    data = (json.dumps(holder) + "\n").encode()
    # The details are only a courtesy for the next run's message: a failure to write them must
    # not stop this one.
    with contextlib.suppress(OSError):
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)
        os.fsync(fd)


def _read_holder(fd: int) -> dict[str, Any]:
    try:
        raw = os.pread(fd, 4096, 0)
        data = json.loads(raw.decode("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


_HINT = (
    "wait for that run to finish (CI: one apply at a time per state file); if its process is "
    "gone the lock is already free, so just rerun"
)


def _held_message(state_path: Path | str, holder: dict[str, Any]) -> str:
    pid = holder.get("pid")
    parts = []
    if isinstance(pid, int):
        host = holder.get("host")
        parts.append(f"pid {pid}" + (f" on {host}" if isinstance(host, str) and host else ""))
    command = holder.get("command")
    if isinstance(command, str) and command:
        parts.append(f"running `{_printable(command)}`")
    since = holder.get("since")
    if isinstance(since, str) and since:
        parts.append(f"since {_printable(since)}")
    who = ", ".join(parts) if parts else "a process that has not yet said who it is"
    return f"Another reconciler run holds the lock on the state file {state_path} ({who})"


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in text)[:200]
