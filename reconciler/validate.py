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
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler import escape, schema
from reconciler.errors import DesiredPathError, LoadError
from reconciler.escape import workflow_data as escape_data
from reconciler.escape import workflow_property as escape_property
from reconciler.fields import match_value
from reconciler.filecache import FileCache, check_cached
from reconciler.loader import Document, load_file

if TYPE_CHECKING:
    from reconciler.authoring import Authoring

YAML_SUFFIXES = (".yaml", ".yml")


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
        files.extend(
            Path(root, name)
            for name in names
            if name.lower().endswith(YAML_SUFFIXES) and not name.startswith(".")
        )
    return files


PARALLEL_FROM = 1000
"""From this many files on, files are checked in worker processes (one per core, up to 4)."""

_Checked = tuple[Document | None, list[Problem]]


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
    loaded: list[Document] = []
    problems: list[Problem] = []
    warnings: list[Problem] = []
    invalid: set[int] = set()
    if cache is not None and authoring is None:
        checked = check_cached(files, cache, _check_all, Problem)
    else:
        checked = _check_all(files, authoring)
    for document, found in checked:
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


def _check_all(files: list[Path], authoring: Authoring | None = None) -> list[_Checked]:
    """Every file checked, in order; in parallel when there are many files and cores.

    Parsing is CPU-bound Python, so threads would not help; worker processes are forked (cheap:
    the modules are already imported), but only from a process with no other thread, where fork
    is safe. Each worker takes contiguous chunks so the results come back in file order.
    """
    workers = worker_count()
    if len(files) < PARALLEL_FROM or workers < 2 or threading.active_count() > 1:
        return _check_chunk(files, authoring)
    size = max(len(files) // (workers * 4), 100)
    chunks = [files[i : i + size] for i in range(0, len(files), size)]
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        results = pool.map(partial(_check_chunk_compact, authoring=authoring), chunks)
        checked = [item for part in results for item in part]
    # Rebuilt here from plain values: Path objects and file bytes cost more to pickle than
    # the parsing they would save.
    return [
        (None if data is None else Document(file, data, digest), problems)
        for file, (data, digest, problems) in zip(files, checked, strict=True)
    ]


def _check_chunk_compact(
    files: list[Path], authoring: Authoring | None = None
) -> list[tuple[dict[str, Any] | None, str, list[Problem]]]:
    return [
        (None, "", problems) if document is None else (document.data, document.digest, problems)
        for document, problems in _check_chunk(files, authoring)
    ]


def worker_count() -> int:
    """Cores this process may use, up to 4."""
    return min(len(os.sched_getaffinity(0)), 4) if hasattr(os, "sched_getaffinity") else 1


def _check_chunk(files: list[Path], authoring: Authoring | None = None) -> list[_Checked]:
    out: list[_Checked] = []
    for file in files:
        try:
            document = load_file(file)
        except LoadError as e:
            where = e.location
            out.append((None, [Problem(where.path, where.line, where.col, e.field, e.problem)]))
            continue
        problems = document_problems(document)
        if authoring is not None:
            problems += catalogue_problems(document, authoring)
        out.append((document, problems))
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
