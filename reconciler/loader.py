"""Strict YAML loading: bytes on disk to a plain dict, or an error with file:line:col.

This module owns how a desired-state file is read. It parses with libyaml (PyYAML's C parser)
but replaces PyYAML's resolver and constructor with a small strict one: YAML 1.2-like scalars
(only `true`/`false` are booleans, `null`/`~`/empty are null, integers are plain decimals without a
leading zero, floats are decimal or exponent; dates, times, `yes`/`no`/`on`/`off`, octal, hex and
`.inf` stay strings), string keys only, and no duplicate keys, anchors, aliases, merge keys, tags,
non-UTF-8 bytes, empty files or files over `MAX_BYTES`. Positions are not kept on the fast path: a
`Document` keeps its raw bytes and re-parses them for line and column only when `locate()` is first
called, so a file that validates never pays for positions it never shows. The wording of
libyaml's own errors lives in `reconciler.loader_errors`.
"""

from __future__ import annotations

import codecs
import hashlib
import math
import os
import re
from collections.abc import Iterator
from pathlib import Path
from sys import intern
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reconciler import holdable
from reconciler.document import MAX_BYTES as MAX_BYTES
from reconciler.document import Document as Document
from reconciler.document import Key as Key
from reconciler.document import Location as Location
from reconciler.document import format_field as format_field
from reconciler.errors import FileTooLarge, LoadError, NotRegularFile, ReconcilerError
from reconciler.loader_errors import reader_problem, syntax_problem
from reconciler.regular import describe, read_regular

try:  # libyaml is bundled with PyYAML's wheels; a source build without it has no CParser.
    from yaml._yaml import CParser
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    CParser = None  # type: ignore[assignment,misc]

MAX_DEPTH = 32
"""Nesting deeper than this is refused (a valid file nests three levels deep)."""


def positions(source: bytes) -> dict[tuple[Key, ...], tuple[int, int]]:
    """Where each key and item of a document starts (line, column), for `Document.locate`."""
    if CParser is None:
        return {}
    try:
        root = _StrictParser(source).get_single_node()
    except yaml.YAMLError:  # cannot happen for bytes that loaded; positions are best effort
        return {}
    found: dict[tuple[Key, ...], tuple[int, int]] = {}
    if root is not None:
        _index(root, (), found)
    return found


def load_file(path: Path) -> Document:
    """Read and parse one file. Raises `LoadError` with the file's location on any problem."""
    name = str(path)
    try:
        raw = read_regular(path, what="an opportunity file", limit=MAX_BYTES)
    except FileNotFoundError:
        raise LoadError("no such file", Location(name, 1, 1)) from None
    except NotRegularFile:
        # A FIFO would block validate forever, a device never end: never opened.
        raise LoadError(
            f"this is {describe(os.stat(path).st_mode)}, not a regular file; reconciler did "
            "not open it: remove it from the folder",
            Location(name, 1, 1),
        ) from None
    except OSError as e:
        raise LoadError(f"cannot read the file: {e.strerror}", Location(name, 1, 1)) from None
    except FileTooLarge:
        raise LoadError(
            f"the file is larger than {MAX_BYTES / 2**20:g} MiB; an opportunity file holds one "
            "record of a few hundred bytes: split it or remove what does not belong",
            Location(name, 1, 1),
        ) from None
    digest = hashlib.sha256(raw).hexdigest()
    try:
        data = parse(raw, name)
    except LoadError as e:
        e.digest = digest  # the verdict is on these bytes: the file cache keeps it under them
        raise
    return Document(path, data, digest, raw)


def parse(raw: bytes, name: str) -> dict[str, Any]:
    """Parse the bytes of one file (`name` is used in error locations)."""
    if CParser is None:  # pragma: no cover - depends on how PyYAML was built
        raise ReconcilerError(
            "PyYAML was built without libyaml, which reconciler needs",
            hint="reinstall PyYAML from a wheel: pip install --force-reinstall pyyaml",
        )
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # libyaml would silently decode UTF-16; the files are specified as UTF-8.
        raise LoadError("the file is UTF-16 encoded; save it as UTF-8", Location(name, 1, 1))
    if _MAYBE_ANCHOR(raw):
        _reject_anchors(raw, name)
    try:
        root = _StrictParser(raw).get_single_node()
    except yaml.MarkedYAMLError as e:
        problem, line, col = syntax_problem(e, raw)
        raise LoadError(problem, Location(name, line, col)) from None
    except yaml.reader.ReaderError as e:
        problem, line, col = reader_problem(e, raw)
        raise LoadError(problem, Location(name, line, col)) from None
    if root is None:
        raise LoadError(
            "the file is empty: it must hold one opportunity, a mapping of fields "
            "(id, title, address, trades, ...)",
            Location(name, 1, 1),
        )
    if root.__class__ is not MappingNode:
        raise LoadError(
            f"the top level is {_describe_node(root)}; it must be a mapping of fields "
            "(id: ..., title: ..., ...)",
            _location(name, root),
        )
    try:
        return _mapping(root, 1)
    except _Rejected as r:
        raise LoadError(r.problem, _location(name, r.node), field=_field_of(root, r.node)) from None


# --- the strict parser and constructor ---------------------------------------------------------

# One tag object for every node the document did not tag itself; an explicit tag (`!!int`,
# `!foo`) yields a different string, so the constructor can refuse it with an identity test.
_IMPLICIT = " implicit"

_CONSTANTS: dict[str, bool | None] = {
    "true": True,
    "false": False,
    "null": None,
    "~": None,
    "": None,
}
_MISSING = object()
_NUMBER_START = frozenset("0123456789+-.")
_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)").fullmatch
_FLOAT = re.compile(
    r"[-+]?(?:(?:0|[1-9][0-9]*)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
).fullmatch
# An anchor or alias is `&` or `*` followed by a name character. Files without that byte pair
# (most files) skip the event scan; files with it (`AT&T`, `*urgent*`) get the exact check.
_MAYBE_ANCHOR = re.compile(rb"[&*][\w-]").search


if CParser is not None:

    class _StrictParser(CParser):
        """libyaml's parser and composer with a resolver that decides nothing.

        Every node gets the `_IMPLICIT` tag; the constructor below types plain scalars itself.
        """

        def resolve(self, kind: type[Node], value: str | None, implicit: object) -> str:
            return _IMPLICIT

        def descend_resolver(self, parent: Node | None, index: object) -> None:
            pass

        def ascend_resolver(self) -> None:
            pass


class _Rejected(Exception):
    """Raised inside the constructor; turned into a LoadError with the node's location."""

    def __init__(self, node: Node, problem: str) -> None:
        super().__init__(problem)
        self.node = node
        self.problem = problem


def _node(node: Node, depth: int) -> Any:
    if node.tag is not _IMPLICIT:
        raise _Rejected(node, _tag_problem(node.tag))
    if isinstance(node, ScalarNode):
        value: str = node.value
        if node.style:  # quoted, literal or folded: always a string
            return _text(node, value)
        typed = _CONSTANTS.get(value, _MISSING)
        if typed is not _MISSING:
            return typed
        if value[0] in _NUMBER_START:
            if _INT(value):
                integer = int(value)
                if -holdable.MAX_SAFE_INTEGER <= integer <= holdable.MAX_SAFE_INTEGER:
                    return integer
                raise _Rejected(node, holdable.integer_problem(value))
            if _FLOAT(value):
                number = float(value)
                if math.isinf(number):
                    problem = f"the number {value} is too large (quote it if it is text)"
                    raise _Rejected(node, problem)
                if holdable.loses_digits(value, number):
                    raise _Rejected(node, holdable.precision_problem(value, number))
                return number
        return _text(node, value)
    if depth >= MAX_DEPTH:
        raise _Rejected(node, f"nested more than {MAX_DEPTH} levels deep")
    if isinstance(node, MappingNode):
        return _mapping(node, depth + 1)
    return [_node(item, depth + 1) for item in node.value]


def _text(node: Node, value: str) -> str:
    bad = holdable.CONTROL.search(value)
    if bad is not None:
        raise _Rejected(node, holdable.control_problem(value, bad.start(), key=False))
    return intern(value) if len(value) <= _INTERN_UP_TO else value


_INTERN_UP_TO = 32
"""Strings this short are interned (`_mapping`): the values files repeat are short."""


def _mapping(node: Node, depth: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key_node, value_node in node.value:
        if key_node.__class__ is not ScalarNode:
            raise _Rejected(key_node, f"a key must be a string, not {_describe_node(key_node)}")
        if key_node.tag is not _IMPLICIT:
            raise _Rejected(key_node, _tag_problem(key_node.tag))
        key: str = key_node.value
        bad = holdable.CONTROL.search(key)
        if bad is not None:
            raise _Rejected(key_node, holdable.control_problem(key, bad.start(), key=True))
        if not key_node.style:
            if key == "<<":
                raise _Rejected(
                    key_node, "merge keys (<<) are not allowed: write the fields out in full"
                )
            if not key:
                raise _Rejected(key_node, "a key is missing (an empty key); write the field name")
            if key in _CONSTANTS or (
                key[0] in _NUMBER_START and (_INT(key) is not None or _FLOAT(key) is not None)
            ):
                raise _Rejected(
                    key_node,
                    f"the key {key} is not a string; keys are field names "
                    f'(quote it, "{key}", if you mean the text)',
                )
        if key in out:
            raise _Rejected(key_node, _duplicate_problem(node, key))
        # Interned: 50,000 files repeat the same few dozen field names (and the same short
        # values: trades, dropdown options); one string each instead of one per file.
        out[intern(key)] = _node(value_node, depth)
    return out


def _duplicate_problem(mapping: Node, key: str) -> str:
    first = next(k for k, _ in mapping.value if k.value == key)
    return (
        f"duplicate key '{key}' (first set on line {first.start_mark.line + 1}); "
        "a later value would silently win: keep one"
    )


def _tag_problem(tag: str) -> str:
    if tag.startswith(_CORE_TAG_PREFIX):
        tag = "!!" + tag[len(_CORE_TAG_PREFIX) :]
    return f"YAML tags ({tag}) are not allowed: write the plain value (quote it to force text)"


_CORE_TAG_PREFIX = "tag:yaml.org,2002:"


def _reject_anchors(raw: bytes, name: str) -> None:
    parser = CParser(raw)
    try:
        while (event := parser.get_event()) is not None:
            anchor = getattr(event, "anchor", None)
            if anchor is None:
                continue
            if isinstance(event, yaml.AliasEvent):
                problem = f"YAML aliases (*{anchor}) are not allowed: write the value out in full"
            else:
                problem = f"YAML anchors (&{anchor}) are not allowed: write the value out in full"
            mark = event.start_mark
            line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            raise LoadError(problem, Location(name, line, col))
    except yaml.YAMLError:
        return  # a syntax error: the full parse reports it with its own location


# --- positions and errors (slow path) ----------------------------------------------------------


def _index(node: Node, path: tuple[Key, ...], out: dict[tuple[Key, ...], tuple[int, int]]) -> None:
    if not path:
        out[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            key_path = (*path, key_node.value)
            out[key_path] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            _index(value_node, key_path, out)
    elif isinstance(node, SequenceNode):
        for i, item in enumerate(node.value):
            item_path = (*path, i)
            out[item_path] = (item.start_mark.line + 1, item.start_mark.column + 1)
            _index(item, item_path, out)


def _walk(node: Node, path: tuple[Key, ...]) -> Iterator[tuple[Node, tuple[Key, ...]]]:
    yield node, path
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                yield key_node, path  # a complex key has no name of its own
                continue
            yield key_node, (*path, key_node.value)
            yield from _walk(value_node, (*path, key_node.value))
    elif isinstance(node, SequenceNode):
        for i, item in enumerate(node.value):
            yield from _walk(item, (*path, i))


def _field_of(root: Node, target: Node) -> str:
    for node, path in _walk(root, ()):
        if node is target:
            return format_field(path)
    return "-"  # pragma: no cover - the target always comes from this tree


def _location(name: str, node: Node) -> Location:
    return Location(name, node.start_mark.line + 1, node.start_mark.column + 1)


def _describe_node(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return f"the scalar {node.value!r}"
