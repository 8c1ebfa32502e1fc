"""Where a file set's authoring rules come from: its catalogue file and its `.reconciler.yaml`.

The I/O edge of the offline checks. For a folder of opportunity files:
- the catalogue is the nearest `schemas/catalogue.json` at or above the folder (the same walk as
  the schema modeline), unless `--catalogue` names one; without one, `validate` behaves as before
  the catalogue existed;
- the settings file is the nearest `.reconciler.yaml` at or above the folder, not looking past
  the project root (a folder holding `schemas/` or `.git`). It holds one optional key:
  `allow_new_options: true` (every dropdown and trades) or a list of dropdowns
  (`[trades, roof_type]`): the decision to create new options, reviewed in the pull request.
Lookups are cached per folder, so 10,000 files in one folder cost one walk.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from reconciler import catalogue_file
from reconciler.catalogue import Catalogue
from reconciler.catalogue_check import ALLOW_KEY, AllowNew, Finding, Rules, check
from reconciler.catalogue_diff import compare
from reconciler.catalogue_file import CATALOGUE_FILE, read
from reconciler.document import Document
from reconciler.errors import LoadError, ReconcilerError, SettingsError

SETTINGS_FILE = ".reconciler.yaml"


@dataclass(frozen=True, slots=True)
class FolderRules:
    """The rules for the files of one folder."""

    catalogue: Rules | None
    catalogue_path: str | None
    allow: AllowNew


@dataclass(frozen=True)
class Authoring:
    """The rules of every folder a run reads; picklable, for the validate workers."""

    folders: Mapping[str, FolderRules] = field(default_factory=dict)

    def findings(self, path: Path, data: Mapping[str, Any]) -> list[Finding]:
        # os.path.dirname of the path's string: Path.parent costs more than the check itself.
        rules = self.folders.get(os.path.dirname(str(path)) or ".")
        if rules is None or rules.catalogue is None:
            return []
        return check(data, rules.catalogue, rules.allow)

    def catalogues(self) -> list[str]:
        return sorted({r.catalogue_path for r in self.folders.values() if r.catalogue_path})


def _is_project_root(folder: Path) -> bool:
    return (folder / "schemas").is_dir() or (folder / ".git").exists()


def find_catalogue(folder: Path) -> Path | None:
    """The nearest schemas/catalogue.json at or above `folder`."""
    start = folder.absolute()
    for candidate_root in (start, *start.parents):
        candidate = candidate_root / CATALOGUE_FILE
        if candidate.exists():  # not only a regular file: anything else is refused, not skipped
            return candidate
    return None


def find_settings(folder: Path) -> Path | None:
    """The nearest .reconciler.yaml at or above `folder`, below the project root."""
    start = folder.absolute()
    for candidate_root in (start, *start.parents):
        if _is_project_root(candidate_root):
            return None
        candidate = candidate_root / SETTINGS_FILE
        if candidate.is_file():
            return Path(_shown(candidate))
    return None


def read_settings(path: Path) -> AllowNew:
    """The `allow_new_options` of a settings file (False when it does not say)."""
    try:
        data = _load(path).data
    except LoadError as e:
        raise SettingsError(str(e), hint="fix the settings file, or remove it") from None
    unknown = sorted(set(data) - {ALLOW_KEY})
    if unknown:
        where = _load(path).locate(unknown[0])
        raise SettingsError(
            f"{where}: {unknown[0]}: unknown setting; {SETTINGS_FILE} holds only {ALLOW_KEY}",
            hint=f"{ALLOW_KEY}: true (every dropdown) or {ALLOW_KEY}: [trades, roof_type]",
        )
    value = data.get(ALLOW_KEY, False)
    if isinstance(value, bool):
        return value
    if isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value):
        return frozenset(value)
    where = _load(path).locate(ALLOW_KEY)
    raise SettingsError(
        f"{where}: {ALLOW_KEY}: must be true, false or a list of dropdown names",
        hint=f"e.g. {ALLOW_KEY}: [trades, roof_type]",
    )


def settings_allow(folder: Path) -> AllowNew:
    """What the folder's settings file allows (False without one)."""
    found = find_settings(folder)
    return False if found is None else read_settings(found)


def file_catalogue(folder: Path) -> tuple[Path, Catalogue] | None:
    """The catalogue file that applies to `folder`, read; None when there is none."""
    found = find_catalogue(folder)
    return None if found is None else (found, read(found))


def build(
    files: Iterable[Path], *, catalogue: Path | None = None, allow_new_options: bool = False
) -> Authoring:
    """The rules for every folder among `files`. `catalogue` overrides the walk for all."""

    @cache
    def load(path: Path) -> Rules:
        return Rules(read(path))

    folders: dict[str, FolderRules] = {}
    for folder in {f.parent for f in files}:
        found = catalogue if catalogue is not None else find_catalogue(folder)
        allow: AllowNew = True if allow_new_options else settings_allow(folder)
        folders[str(folder)] = FolderRules(
            None if found is None else load(found.absolute()),
            None if found is None else _shown(found),
            allow,
        )
    return Authoring(folders)


def _shown(path: Path) -> str:
    try:
        return path.absolute().relative_to(Path.cwd()).as_posix()
    except ValueError:
        return path.as_posix()


def record_allows(records: Iterable[tuple[int, str]]) -> dict[int, AllowNew]:
    """Each record's folder setting (`records`: id and file path), for plan and apply."""
    by_folder: dict[str, AllowNew] = {}
    out: dict[int, AllowNew] = {}
    for record_id, file in records:
        folder = os.path.dirname(file) or "."  # text, not Path: this runs once per record
        if folder not in by_folder:
            by_folder[folder] = settings_allow(Path(folder))
        out[record_id] = by_folder[folder]
    return out


def live_differs_note(directory: Path, live: Catalogue | None) -> str | None:
    """For plan and apply: a note for the plan (rendered escaped for each surface) when the live
    catalogue read for it is not the file's."""
    if live is None:
        return None
    try:
        found = file_catalogue(directory)
    except ReconcilerError as e:
        return f"{e.message}; this plan was checked against the live catalogue"
    if found is None:
        return None
    path, old = found
    diff = compare(old, catalogue_file.loads(catalogue_file.dumps(live), "the live catalogue"))
    if not diff:
        return None
    return (
        f"the live catalogue differs from {_shown(path)} ({diff.counts()}); this plan "
        "was checked against the live one. Run `reconciler catalogue pull --check` to see how, and "
        "`reconciler catalogue pull` to update the file, so that validate checks offline what "
        "plan checks."
    )


def _load(path: Path) -> Document:
    from reconciler.loader import load_file  # the parser: only when a settings file is read

    return load_file(path)
