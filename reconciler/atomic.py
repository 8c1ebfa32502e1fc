"""The one durable file writer: every file reconciler writes goes through `write_atomic`.

The state file, plan files (`plan --out`), reports (`--report`, drift `--out`), imported and
adopted opportunity files all use it, so a crash or a full disk leaves each file with its old
content or its new, never a mix or an empty file, and two concurrent runs never share a
temporary name. The steps: a unique temporary file in the same directory (so the rename cannot
cross a file system), write, fsync, rename over the target, fsync the directory (so the rename
itself survives a power cut). `write_atomic_many` does the same for many files with one flush.
"""

from __future__ import annotations

import os
import random
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from reconciler.errors import WriteError
from reconciler.regular import refuse_special


def write_atomic(
    path: Path | str,
    data: bytes | str,
    *,
    new_mode: int = 0o644,
    sync_new: bool = True,
) -> None:
    """Replace (or create) `path` with `data` in one rename; raise `WriteError` on failure.

    Text is written as UTF-8 with `\\n` line ends, byte for byte as given. An existing file keeps
    its mode; a new one gets `new_mode`. `sync_new=False` skips the fsyncs when the file is new
    (an import of thousands of new files would spend most of its time there); a replaced file is
    always synced, since losing it would lose content that existed before.
    """
    path = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    mode = _existing_mode(path)
    sync = mode is not None or sync_new
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(raw)
                if sync:
                    f.flush()
                    os.fsync(f.fileno())
            # mkstemp creates 0600.
            os.chmod(tmp, new_mode if mode is None else mode)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as e:
        raise WriteError(path, e) from None
    if sync:
        fsync_dir(path.parent)


def fsync_dir(directory: Path) -> None:
    """Make a rename in `directory` durable (POSIX); a no-op where a directory cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic_many(
    files: Iterable[tuple[Path, bytes | str]],
    *,
    new_mode: int = 0o644,
    on_written: Callable[[], None] = lambda: None,
) -> None:
    """`write_atomic` for many files at once (`import`), with one flush to disk for all of them.

    An fsync per file costs a disk round trip each (milliseconds: most of an import of 10,000
    files). Here every file is first written to its own temporary file; then one `sync()` makes
    all of them durable; then each is renamed over its target; then each folder is fsynced once,
    so the renames survive a power cut too. A crash at any point leaves each target with its old
    content or its complete new one (never a torn or empty file, since no rename happens before
    the flush), plus at worst some hidden `.NAME.*.tmp` files. Where `sync()` may return before
    the data is on disk (POSIX allows it; Linux waits), each temporary file is fsynced instead.

    A failure while writing the temporary files removes them all and raises `WriteError`:
    no target was touched. A failure while renaming raises it for that target and says how many
    were already in place. `on_written` is called after each temporary file is written.
    """
    batch_sync = sys.platform.startswith("linux")
    umask = _umask()
    done: list[tuple[str, Path]] = []
    folders: set[str] = set()
    try:
        for path, data in files:
            path = Path(path)
            mode = _existing_mode(path)
            raw = data.encode("utf-8") if isinstance(data, str) else data
            folder, name = os.path.split(os.fspath(path))
            try:
                if folder not in folders:
                    os.makedirs(folder or ".", exist_ok=True)
                    folders.add(folder)
                fd, tmp = _temporary(folder, name, new_mode if mode is None else mode, umask)
                done.append((tmp, path))
                try:
                    view = memoryview(raw)
                    while view:
                        view = view[os.write(fd, view) :]
                    if not batch_sync:
                        os.fsync(fd)
                finally:
                    os.close(fd)
            except OSError as e:
                raise WriteError(path, e) from None
            on_written()
        if batch_sync:
            os.sync()
    except BaseException:
        for tmp, _ in done:
            Path(tmp).unlink(missing_ok=True)
        raise
    renamed = 0
    try:
        for tmp, path in done:
            try:
                os.replace(tmp, path)
            except OSError as e:
                raise WriteError(
                    path,
                    e,
                    hint=f"{renamed} of {len(done)} files were written before it, the others "
                    "were not: fix the folder and run the command again",
                ) from None
            renamed += 1
    finally:  # an error or Ctrl-C: the files not renamed leave no temporary file behind
        for left, _ in done[renamed:]:
            Path(left).unlink(missing_ok=True)
        for folder in folders:
            fsync_dir(Path(folder or "."))


_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL
_CREATE |= getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
_NAMES = random.Random()  # seeded from the OS; O_EXCL, not the name, makes the file ours


def _temporary(folder: str, name: str, mode: int, umask: int | None) -> tuple[int, str]:
    """A new, empty `.NAME.XXXXXXXX.tmp` beside the target, open for writing with exactly `mode`:
    what `tempfile.mkstemp` makes, without its path handling and a system call per random name,
    and without a chmod when the umask (if known) leaves `mode` alone."""
    while True:
        tmp = os.path.join(folder, f".{name}.{_NAMES.getrandbits(32):08x}.tmp")
        try:
            fd = os.open(tmp, _CREATE, 0o600 if umask is None else mode)
        except FileExistsError:
            continue
        if umask is None or mode & umask:
            try:
                os.fchmod(fd, mode)
            except BaseException:
                os.close(fd)
                os.unlink(tmp)
                raise
        return fd, tmp


def _umask() -> int | None:
    """The process's umask, read without changing it (Linux); None where it cannot be."""
    try:
        with open("/proc/self/status", "rb") as status:
            for line in status:
                if line.startswith(b"Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return None


def _existing_mode(path: Path) -> int | None:
    """The permission bits of the file at `path` (None: no file); a special file is refused."""
    try:
        st_mode = path.stat().st_mode
    except FileNotFoundError:
        return None
    except OSError as e:
        raise WriteError(path, e) from None
    if not stat.S_ISREG(st_mode):  # a FIFO or device named as an output: never replaced
        refuse_special(path, what="an output file")
    return st_mode & 0o7777
