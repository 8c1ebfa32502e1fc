"""The one durable file writer: every file reconciler writes goes through `write_atomic`.

The state file, plan files (`plan --out`), reports (`--report`, drift `--out`), imported and
adopted opportunity files all use it, so a crash or a full disk leaves each file with its old
content or its new, never a mix or an empty file, and two concurrent runs never share a
temporary name. The steps: a unique temporary file in the same directory (so the rename cannot
cross a file system), write, fsync, rename over the target, fsync the directory (so the rename
itself survives a power cut).
"""

from __future__ import annotations

import os
import stat
import tempfile
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
    try:
        st_mode = path.stat().st_mode
        mode: int | None = st_mode & 0o7777
    except FileNotFoundError:
        mode = None
    except OSError as e:
        raise WriteError(path, e) from None
    else:
        if not stat.S_ISREG(st_mode):  # a FIFO or device named as an output: never replaced
            refuse_special(path, what="an output file")
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
