"""The validate stage: from paths on the command line to documents and every problem they hold.

This module owns which files make up the desired state (files given by name, and `*.yaml` /
`*.yml` under folders, recursively, in sorted order), loading each strictly, checking it against
the schema, and refusing an `id` that two files declare. It collects every problem in every file
in one pass and returns them sorted by file and line, and it owns how problems are shown: one
`FILE:LINE:COL: FIELD: message` line each, GitHub workflow annotations, a summary. Those
formatters are pure, so `plan` and `apply` print problems exactly as `validate` does.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler import checking, escape
from reconciler.checking import Checked, Problem
from reconciler.document import Document
from reconciler.errors import DesiredPathError
from reconciler.escape import workflow_data as escape_data
from reconciler.escape import workflow_property as escape_property
from reconciler.fields import match_value
from reconciler.filecache import FileCache

if TYPE_CHECKING:
    from reconciler.authoring import Authoring

YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Desired:
    """The desired state as read from disk.

    `documents` holds the files without any problem, in path order; `problems` holds every
    problem in every file, sorted by file and line. Callers must refuse to act while `problems`
    is not empty. `files` lists every file that was read; `warnings` never stop anything.
    """

    documents: tuple[Document, ...]
    problems: tuple[Problem, ...]
    files: tuple[Path, ...] = ()
    warnings: tuple[Problem, ...] = ()


def discover(paths: Sequence[Path]) -> list[Path]:
    """The files that `paths` name: files as given, and YAML files under folders.

    Hidden files and folders (names starting with '.') under a folder are skipped.
    """
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            inside = _yaml_files(path)
            if not inside:
                raise DesiredPathError(
                    f"{path}: no .yaml or .yml files in this folder",
                    hint="pass the folder that holds the opportunity files, or the files",
                )
            found.extend(inside)
        elif path.exists():
            found.append(path)
        else:
            raise DesiredPathError(
                f"{path}: no such file or folder",
                hint="pass the folder that holds the opportunity files (by default opportunities/)",
            )
    if len(paths) > 1:  # a file named twice, or a file inside a folder also named, is read once
        unique: dict[Path, Path] = {}
        for file in found:
            unique.setdefault(file.resolve(), file)
        found = list(unique.values())
    return sorted(found, key=str)


def _yaml_files(folder: Path) -> list[Path]:
    files: list[Path] = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        parent = Path(root)
        files.extend(
            parent / name
            for name in names
            if name.lower().endswith(YAML_SUFFIXES) and not name.startswith(".")
        )
    return files


def load_desired(
    paths: Sequence[Path],
    authoring: Authoring | Callable[[list[Path]], Authoring] | None = None,
    cache: FileCache | None = None,
    *,
    match_by: str = "title",
) -> Desired:
    """Read, load and check every file under `paths`. Raises only for a path that holds nothing.

    With `authoring` (validate: the rules, or a function from the files found to the rules),
    files are also checked offline against their company's catalogue. `match_by` is the field a
    create is matched on (`--match-by`): two files without `id` that hold the same value there
    would both match one record, so each is a problem naming the other. With a file
    `cache` (and no `authoring`), only the files whose bytes the cache has not seen are parsed.
    """
    files = discover(paths)
    if callable(authoring):
        authoring = authoring(files)
    return finish_desired(checking.begin(files, authoring, cache), match_by)


def finish_desired(pending: checking.Pending, match_by: str = "title") -> Desired:
    """The desired state once `pending` is checked (see `load_desired`); blocks until it is."""
    return desired_from(pending.files, pending.wait(), match_by)


def desired_from(files: list[Path], checked: list[Checked], match_by: str) -> Desired:
    """Every file's checks, with the clashes between files, as one `Desired`."""
    loaded: list[Document] = []
    problems: list[Problem] = []
    warnings: list[Problem] = []
    invalid: set[int] = set()
    for document, found, _ in checked:
        if any(p.warning for p in found):
            warnings.extend(p for p in found if p.warning)
            found = [p for p in found if not p.warning]
        problems.extend(found)
        if document is None:
            continue
        if found:
            invalid.add(id(document))
        loaded.append(document)
    duplicates = duplicate_id_problems(loaded)
    if duplicates:
        problems.extend(duplicates)
        invalid.update(id(d) for d in _documents_with_duplicate_ids(loaded))
    same_match = [
        d for group in _new_by_match(loaded, match_by).values() if len(group) > 1 for d in group
    ]
    if same_match:
        problems.extend(duplicate_match_problems(loaded, match_by))
        invalid.update(id(d) for d in same_match)
    return Desired(
        documents=tuple(d for d in loaded if id(d) not in invalid),
        problems=tuple(sorted(problems)),
        files=tuple(files),
        warnings=tuple(sorted(warnings)),
    )


def _ids(documents: Iterable[Document]) -> dict[int, list[Document]]:
    by_id: dict[int, list[Document]] = {}
    for document in documents:
        key = document.data.get("id")
        if type(key) is int and key > 0:  # a malformed id is reported by the schema already
            by_id.setdefault(key, []).append(document)
    return by_id


def _documents_with_duplicate_ids(documents: Iterable[Document]) -> list[Document]:
    return [d for group in _ids(documents).values() if len(group) > 1 for d in group]


def duplicate_id_problems(documents: Sequence[Document]) -> list[Problem]:
    """One problem per file whose `id` another file also declares, naming the other files."""
    problems = []
    for key, group in _ids(documents).items():
        if len(group) < 2:
            continue
        problems += _clashes(
            group,
            "id",
            "id",
            (
                f"id {key} is also declared in ",
                "; each opportunity lives in exactly one file: remove or renumber the copy",
            ),
        )
    return problems


def _clashes(
    group: Sequence[Document], key: str, field: str, text: tuple[str, str]
) -> list[Problem]:
    """A problem per document of a group of 2+ at `key`: text[0], where the others are, text[1]."""
    where = [d.locate(key) for d in group] if len(group) > 1 else []  # a new Location each
    others = [", ".join(f"{w.path}:{w.line}" for w in where if w is not h) for h in where]
    return [
        Problem(h.path, h.line, h.col, field, f"{text[0]}{o}{text[1]}")
        for h, o in zip(where, others, strict=True)
    ]


def _new_by_match(documents: Iterable[Document], match_by: str) -> dict[str, list[Document]]:
    groups: dict[str, list[Document]] = {}
    for document in documents:
        if "id" in document.data:
            continue
        value = match_value(document.data, match_by)
        if value is not None:
            groups.setdefault(value, []).append(document)
    return groups


def duplicate_match_problems(documents: Sequence[Document], match_by: str) -> list[Problem]:
    """One problem per new file (no `id`) whose `match_by` value another new file also holds:
    the second POST would match the record the first one created."""
    problems = []
    for value, group in _new_by_match(documents, match_by).items():
        problems += _clashes(
            group,
            match_by,
            match_by,
            (
                "",
                f" also declares a new opportunity with {match_by} "
                f"{json.dumps(value, ensure_ascii=False)}; creating both would make one "
                f"record (the API matches creates on {match_by}): give each its own "
                f"{match_by}, or merge the files",
            ),
        )
    return problems


# --- showing problems (pure) ---------------------------------------------------------------


def format_text(problems: Iterable[Problem]) -> list[str]:
    """One `FILE:LINE:COL: FIELD: message` line per problem."""
    return [str(p) for p in problems]


def format_github(problems: Iterable[Problem]) -> list[str]:
    """One GitHub workflow `::error` (or `::warning`) annotation per problem, escaped."""
    return [
        f"::{'warning' if p.warning else 'error'} "
        f"file={escape_property(escape.terminal(p.path))},line={p.line},col={p.col},"
        f"title={escape_property(escape.terminal(_title(p)))}::"
        f"{escape_data(escape.terminal(p.message))}"
        for p in problems
    ]


def format_problems(problems: Sequence[Problem], output_format: str) -> list[str]:
    """The lines for `--format text` (problem lines) or `github` (those, then annotations)."""
    lines = format_text(problems)
    if output_format == "github":
        lines += format_github(problems)
    return lines


def summary(desired: Desired) -> str:
    """One line: how many problems in how many files, out of how many read."""
    checked = _count(len(desired.files), "file")
    warned = f", {_count(len(desired.warnings), 'warning')}" if desired.warnings else ""
    if not desired.problems:
        return f"{checked} checked: no problems{warned}"
    files = len({p.path for p in desired.problems})
    return (
        f"{_count(len(desired.problems), 'problem')} in {_count(files, 'file')} "
        f"({checked} checked{warned})"
    )


JSON_FORMAT_VERSION = "1"


def to_json(desired: Desired, catalogues: Sequence[str] = ()) -> str:
    """`validate --format json`: every problem and warning, for tools. Stable key order."""
    items = sorted([*desired.problems, *desired.warnings])
    data = {
        "format_version": JSON_FORMAT_VERSION,
        "valid": not desired.problems,
        "files_checked": len(desired.files),
        "errors": len(desired.problems),
        "warnings": len(desired.warnings),
        "catalogues": list(catalogues),
        "problems": [
            {
                "file": p.path,
                "line": p.line,
                "col": p.col,
                "field": p.field,
                "severity": "warning" if p.warning else "error",
                "message": p.message,
            }
            for p in items
        ],
    }
    return escape.json_text(json.dumps(data, indent=2, ensure_ascii=False)) + "\n"


def _title(problem: Problem) -> str:
    return "invalid file" if problem.field == "-" else f"invalid {problem.field}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
