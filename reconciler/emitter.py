"""Emitting a fresh desired-state file (`import`): the data as YAML text, by libyaml's C emitter.

This module owns the bytes of a new file. The data becomes a node tree in which every choice is
already made: each string carries its style from the one quoting rule (`quoting.scalar_style`),
`address` (a field with `block=True`) is a block list, other lists are flow lists, numbers are in
their canonical forms (`float_text`). The emitter only lays the tree out. libyaml's C emitter
does it (PyYAML's `CSafeDumper`); where PyYAML was built without libyaml
(`yaml.__with_libyaml__` is false), PyYAML's pure-Python emitter does, with the same bytes
(tests/gitops/test_emitters.py compares them). Three things differ between them, and are taken
out here:

- Block lists under a key: libyaml always writes them at the key's indentation (`address:\\n- a`)
  and has no setting for it; the Python emitter is told to indent them (`address:\\n  - a`), as
  people write them and as `fmt` does. libyaml's lines are indented after the fact
  (`_indent_block_lists`): each line of such a list, literal block lines included, moves right by
  two spaces, which YAML reads the same (the list and everything in it move together).
- Tags: both emitters ask PyYAML's resolver, twice per scalar, whether a tag may stay implicit,
  which costs more than the C emitter itself. Here every tag is implicit by construction: a
  string the rule leaves plain is a string to PyYAML's resolver (the rule checks it), and
  numbers, booleans and null are written in forms every reader types as meant. So the dumpers'
  resolver answers "implicit" at once (`_Implicit`). The strict loader reads every file back
  before it is written (`yamlfile.dump_document`), so a mistake here is refused, never written.
- Characters beyond U+FFFF (emoji): libyaml cannot write them raw, and double-quotes the string
  with escapes where the rule says plain or literal; and keys that are empty or over 120 bytes,
  which one emitter writes as `? key` and the other not. Such a document is written by the
  Python emitter instead (`_ESCAPED_ASTRAL`, `_LONGEST_KEY`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reconciler.quoting import style_of

# Never fold a long line: a folded scalar reads back the same but diffs badly, and PyYAML's and
# ruamel's emitters fold (and place long values) differently, which import and fmt must not.
WIDTH = 1 << 30

# libyaml takes a character beyond U+FFFF (an emoji) for one it cannot write raw: it writes the
# string double-quoted with a `\\U0001F600` escape, where the rule (and the Python emitter) writes
# it plain or as a literal block. A document where libyaml wrote that escape is written again by
# the Python emitter, which also escapes such characters inside double quotes (so a document that
# has them there, or a backslash and a `U` in its text, costs the slow emitter, never a change).
_ESCAPED_ASTRAL = "\\U"

# The one tag of every node built here, and the resolver's one answer: "no tag to write". The
# Python emitter counts the tag's short form (`!!str`) in a key's length, so it is the string tag.
_IMPLICIT = "tag:yaml.org,2002:str"

# A key longer than this (UTF-8 bytes), or empty, is written `? key` by one emitter and `key:` by
# the other (PyYAML: fewer than 128 characters with the tag's `!!str`, and never empty; libyaml:
# at most 128 bytes): such a document is written by the Python emitter.
_LONGEST_KEY = 120


def float_text(value: float) -> str:
    """A float as every reader takes it back: `1.0e+20`, not Python's `1e+20` (a string to
    YAML 1.1, whose floats need a dot)."""
    text = repr(value)
    mantissa, e, exponent = text.partition("e")
    if e and "." not in mantissa:
        text = f"{mantissa}.0e{exponent}"
    return text


def _scalar(value: Any, flow: bool) -> ScalarNode:
    # Exact types first: this runs for every value of every file (`isinstance` on an ABC is slow).
    cls = value.__class__
    if cls is str:
        return ScalarNode(_IMPLICIT, value, None, None, style_of(value, flow) or None)
    if cls is int:
        return ScalarNode(_IMPLICIT, str(value))
    if cls is float:
        return ScalarNode(_IMPLICIT, float_text(value))
    if value is None:
        return ScalarNode(_IMPLICIT, "null")
    if cls is bool:
        return ScalarNode(_IMPLICIT, "true" if value else "false")
    if isinstance(value, str):
        return _scalar(str(value), flow)
    if isinstance(value, int):
        return _scalar(int(value), flow)
    if isinstance(value, float):
        return _scalar(float(value), flow)
    raise TypeError(f"cannot write a {type(value).__name__} value")


_SCALARS = frozenset((str, int, float, bool, type(None)))


def _node(value: Any, block_list: bool = False, flow: bool = False) -> Node:
    cls = value.__class__
    if cls in _SCALARS:
        return _scalar(value, flow)
    if cls is list or (cls is not dict and isinstance(value, list)):
        items = flow or not block_list
        return SequenceNode(_IMPLICIT, [_node(v, False, items) for v in value], None, None, items)
    if cls is dict or isinstance(value, Mapping):
        return MappingNode(
            _IMPLICIT,
            [(_scalar(str(k), flow), _node(v, False, flow)) for k, v in value.items()],
            None,
            None,
            flow,
        )
    return _scalar(value, flow)


def document_node(data: Mapping[str, Any], block_lists: Collection[str]) -> MappingNode:
    """The tree of a file holding `data`: `block_lists` name the top-level keys whose lists are
    written one item a line; every other list, and everything inside a list, is in flow style."""
    return MappingNode(
        _IMPLICIT,
        [(_scalar(k, False), _node(v, k in block_lists)) for k, v in data.items()],
        flow_style=False,
    )


class _Implicit:
    """The resolver of the dumpers below: every node here has the implicit tag (see module)."""

    def resolve(self, kind: type[Node], value: Any, implicit: Any) -> str:
        return _IMPLICIT


class PythonDumper(_Implicit, yaml.SafeDumper):
    """PyYAML's pure-Python emitter, with block lists indented under their key."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


if yaml.__with_libyaml__:

    class CDumper(_Implicit, yaml.CSafeDumper):
        """libyaml's C emitter."""

else:  # pragma: no cover - depends on how PyYAML was built
    CDumper = None  # type: ignore[assignment,misc]


def emit(root: Node, *, libyaml: bool | None = None) -> str:
    """The YAML text of `root` (a `document_node`): by libyaml when PyYAML has it (or as
    `libyaml` says), else by the Python emitter; the same text either way."""
    use_c = yaml.__with_libyaml__ if libyaml is None else libyaml
    if use_c and CDumper is not None and not _keys_libyaml_writes_otherwise(root):
        text: str = yaml.serialize(root, Dumper=CDumper, allow_unicode=True, width=WIDTH, indent=2)
        if _ESCAPED_ASTRAL not in text:
            return _indent_block_lists(text)
    return str(yaml.serialize(root, Dumper=PythonDumper, allow_unicode=True, width=WIDTH, indent=2))


def _keys_libyaml_writes_otherwise(node: Node) -> bool:
    if node.__class__ is MappingNode:
        return any(
            not key.value
            or len(key.value.encode("utf-8")) > _LONGEST_KEY
            or _keys_libyaml_writes_otherwise(value)
            for key, value in node.value
        )
    if node.__class__ is SequenceNode:
        return any(_keys_libyaml_writes_otherwise(item) for item in node.value)
    return False


def _indent_block_lists(text: str) -> str:
    """libyaml's `key:\\n- a\\n- |-\\n  b\\n  c\\n` as `key:\\n  - a\\n  - |-\\n    b\\n    c\\n`.

    In a document of `document_node`, a line at column 0 that starts with `- ` (or is `-`)
    is an item of a block list under a top-level key; the lines after it that start with a blank
    (an item's literal block) belong to it too, up to the next line at column 0. Blank lines
    inside a literal block stay empty, as the Python emitter writes them.
    """
    if "\n-" not in text:
        return text
    lines = text.split("\n")
    inside = False
    for i, line in enumerate(lines):
        if line.startswith("- ") or line == "-":
            inside = True
        elif line[:1] not in ("", " "):
            inside = False
        if inside and line:
            lines[i] = "  " + line
    return "\n".join(lines)
