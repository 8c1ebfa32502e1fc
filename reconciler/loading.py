"""From a checked folder to what the commands plan with: the files with an id, the files without
(to create) and every file's digest, under the paths users see.

`begin` starts checking a folder (`checking.begin`: workers forked, the file cache consulted) and
returns at once; `loaded_from` turns the finished check into a `Loaded`. Pure apart from the
check itself; the CLI decides how problems are shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reconciler import checking
from reconciler.filecache import FileCache
from reconciler.paths import below, relative_posix
from reconciler.plan import DesiredRecord, NewRecord
from reconciler.validate import Desired, discover


@dataclass(frozen=True)
class Loaded:
    """The desired state under one folder: files with an id, files without (to create), and
    every file's digest."""

    records: list[DesiredRecord]
    new: list[NewRecord]
    files: dict[str, str]


def begin(directory: Path, cache: FileCache | None = None) -> checking.Pending:
    """Start checking the files under `directory` (see `checking.begin`)."""
    return checking.begin(discover([directory]), cache=cache)


def shown_path(path: Path, cwd: Path | None = None) -> str:
    """A path as users see it in messages and plans: relative to the working folder if below it.

    Lexical only (no symlink resolution): it runs once per file, 10,000 times for a large
    company, and a relative path the user gave is already what they expect to see.
    """
    if not path.is_absolute():
        return path.as_posix()
    fast = below(path, cwd or Path.cwd())
    if fast is not None:
        return fast
    try:
        return path.relative_to(cwd or Path.cwd()).as_posix()
    except ValueError:
        return path.as_posix()


def loaded_from(desired: Desired, directory: Path) -> Loaded:
    """The valid documents of `desired` (read under `directory`), split by whether they have an
    id. A plan records each file's digest under its path relative to `directory`, so that a
    saved plan applies from any working folder (and whatever spelling names the same folder)."""
    cwd = Path.cwd()
    records: list[DesiredRecord] = []
    new: list[NewRecord] = []
    for doc in desired.documents:
        shown = shown_path(doc.path, cwd)
        if "id" in doc.data:
            records.append(DesiredRecord(int(doc.data["id"]), shown, doc.data, doc.digest))
        else:
            new.append(NewRecord(shown, doc.data, doc.digest))
    base = directory if directory.is_dir() else directory.parent
    files = {relative_posix(doc.path, base): doc.digest for doc in desired.documents}
    return Loaded(records, new, files)
