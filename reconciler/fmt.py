"""`fmt`: an opportunity file in canonical form, with its meaning and its comments unchanged.

Canonical means: `id` first, then the fields in the field table's order (`fields.FIELDS`), then
the file settings (`fields.FILE_SETTINGS`), then any other key as it came; `custom` keys sorted;
every string (key or value) quoted by the one quoting rule (`reconciler.quoting`), and only by it;
numbers, booleans and nulls written as `import` writes them (`1.0e+20`, `true`, `null`); two-space
indentation (`address:\\n  - ...`). Flow or block style, blank lines, comments and the
yaml-language-server modeline are kept.

It works in two passes. Key order is changed on the text: each key moves with its lines, the
comment lines directly above it (at its own indentation) and its end-of-line comments, so that a
comment keeps describing the field it described; the lines before the first key (the modeline)
and after the last value stay where they are. Styling goes through ruamel.yaml's round trip,
which keeps comments, and whose types are not trusted: the values come from the strict loader
(`True` is a string to reconciler, a boolean to ruamel), paired with ruamel's nodes by position.
A result whose data differs from the input's, or that lost a comment, is refused as a bug.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import Comment, CommentedMap, CommentedSeq, Format
from ruamel.yaml.error import YAMLError as RuamelError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reconciler.emitter import WIDTH, float_text
from reconciler.errors import FormatError
from reconciler.fields import MERGED
from reconciler.loader import parse
from reconciler.yamlfile import canonical_order, same_data, styled_key, styled_string

try:
    from yaml import CBaseLoader as _Composer
except ImportError:  # pragma: no cover - PyYAML without libyaml: the loader already refuses it
    from yaml import BaseLoader as _Composer  # type: ignore[assignment]

MODELINE_START = re.compile(r"\s*#\s*yaml-language-server:")


def format_text(text: str, name: str) -> str:
    """`text` in canonical form. Raises `LoadError` when the file is not strict YAML, and
    `FormatError` when the result would not mean the same or would lose a comment."""
    data = parse(text.encode("utf-8"), name)  # first: an unreadable file is the user's problem
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.endswith("\n"):
        text += "\n"
    reordered = _reorder(text)
    # Blank lines before the first line and after the last one mean nothing (the rule never
    # writes a `|+` block, whose trailing blank lines would be content).
    out = _restyle(reordered, name).lstrip("\n").rstrip("\n") + "\n"
    if not same_data(parse(out.encode("utf-8"), name), data):
        raise FormatError(
            f"{name}: fmt produced a file that does not read back as the original; the file "
            "was not changed (this is a bug in reconciler: please report it)"
        )
    if Counter(comments(out)) != Counter(comments(text)):
        raise FormatError(
            f"{name}: fmt cannot keep every comment of this file in place (a comment inside a "
            "flow list or mapping, say); the file was not changed",
            hint="move the comment to its own line, or format the file by hand",
        )
    return out


# --- pass 1: key order, on the text --------------------------------------------------------------


def _compose(text: str) -> MappingNode:
    root = yaml.compose(text, Loader=_Composer)
    assert isinstance(root, MappingNode)  # `parse` accepted it
    return root


def _last_line(node: Node) -> int:
    """The last line (0-based) holding any part of `node`'s content."""
    if isinstance(node, ScalarNode) or getattr(node, "flow_style", False):
        end = node.end_mark
        return int(
            end.line - 1 if end.column == 0 and end.line > node.start_mark.line else end.line
        )
    children: list[Node] = []
    if isinstance(node, MappingNode):
        for key, value in node.value:
            children += (key, value)
    elif isinstance(node, SequenceNode):
        children = list(node.value)
    return max((_last_line(c) for c in children), default=int(node.start_mark.line))


def _is_free(line: str, column: int) -> bool:
    """A blank line, or a comment line starting at or left of `column`."""
    stripped = line.lstrip(" \t")
    return not stripped.strip() or (
        stripped.startswith("#") and len(line) - len(stripped) <= column
    )


def _is_nested_comment(line: str, column: int) -> bool:
    stripped = line.lstrip(" \t")
    return stripped.startswith("#") and len(line) - len(stripped) > column


def _is_own_comment(line: str, column: int) -> bool:
    return _is_free(line, column) and bool(line.strip()) and not MODELINE_START.match(line)


def _reordered_lines(
    lines: list[str], node: MappingNode, floor: int, order: Any, *, keep_head: bool
) -> list[str]:
    """`lines` with the entries of the block mapping `node` in `order` (a sort key on the key
    text). `floor`: the first line the mapping's entries may claim (after its parent's key)."""
    entries = [(k.value, int(k.start_mark.line), _last_line(v)) for k, v in node.value]
    column = int(node.value[0][0].start_mark.column)
    starts = []
    previous_end = floor - 1
    for i, (_, key_line, _) in enumerate(entries):
        start = key_line
        if i or not keep_head:
            while start - 1 > previous_end and _is_free(lines[start - 1], column):
                start -= 1
        else:  # the file's head stays; a comment block right above the first key is the key's
            while start - 1 > previous_end and _is_own_comment(lines[start - 1], column):
                start -= 1
        starts.append(start)
        previous_end = entries[i][2]
    last_end = entries[-1][2] + 1
    while last_end < len(lines) and _is_nested_comment(lines[last_end], column):
        last_end += 1  # indented comments closing the last entry's nested block
    bounds = [*starts[1:], last_end]
    segments = [(entries[i][0], lines[starts[i] : bounds[i]]) for i in range(len(entries))]
    ordered = sorted(segments, key=lambda s: order(s[0]))
    if [s[0] for s in ordered] == [s[0] for s in segments]:
        return lines
    return lines[: starts[0]] + [line for _, seg in ordered for line in seg] + lines[last_end:]


def _reorder(text: str) -> str:
    lines = text.splitlines(keepends=True)
    root = _compose(text)
    if not root.value:
        return text
    # `custom` first: its lines stay inside its own entry, so the top level's positions hold.
    for key, value in root.value:
        if key.value in MERGED and isinstance(value, MappingNode) and not value.flow_style:
            floor = int(key.start_mark.line) + 1
            lines = _reordered_lines(lines, value, floor, str, keep_head=False)
    if not root.flow_style:
        lines = _reordered_lines(lines, root, 0, canonical_order, keep_head=True)
    return "".join(lines)


# --- pass 2: styling, through ruamel's round trip ------------------------------------------------


def _round_trip() -> YAML:
    rt = YAML(typ="rt")
    rt.width = WIDTH
    rt.indent(mapping=2, sequence=4, offset=2)
    representer = rt.representer
    representer.add_representer(
        type(None), lambda r, _: r.represent_scalar("tag:yaml.org,2002:null", "null")
    )
    representer.add_representer(
        float, lambda r, v: r.represent_scalar("tag:yaml.org,2002:float", float_text(v))
    )
    return rt


def _styled(node: Any, value: Any, *, flow: bool = False) -> Any:
    """`value` (the strict loader's) dressed for ruamel, keeping `node`'s comments and style.
    `flow`: `node` is inside a flow collection."""
    if isinstance(value, dict):
        assert isinstance(node, CommentedMap)
        inner = flow or bool(node.fa.flow_style())
        out = CommentedMap()
        setattr(out, Format.attrib, node.fa)  # flow or block, as written
        comments = node.ca
        old_items = dict(comments.items)
        comments.items.clear()
        for (old_key, old_value), (new_key, new_value) in zip(
            node.items(), value.items(), strict=True
        ):
            key = styled_key(new_key, flow=inner)
            out[key] = _styled(old_value, new_value, flow=inner)
            if old_key in old_items:
                comments.items[key] = old_items[old_key]
        setattr(out, Comment.attrib, comments)
        return out
    if isinstance(value, list):
        assert isinstance(node, CommentedSeq)
        inner = flow or bool(node.fa.flow_style())
        for i, item in enumerate(value):
            node[i] = _styled(node[i], item, flow=inner)
        return node
    if isinstance(value, str):
        return styled_string(value, flow=flow)
    return value  # int, float, bool, None: the representers write 1, 1.0e+20, true, null


def _sorted_flow(node: CommentedMap, order: Callable[[str], Any]) -> CommentedMap:
    if not node.fa.flow_style() or list(node) == sorted(node, key=lambda k: order(str(k))):
        return node
    out = CommentedMap(sorted(node.items(), key=lambda item: order(str(item[0]))))
    setattr(out, Format.attrib, node.fa)
    setattr(out, Comment.attrib, node.ca)
    return out


def _restyle(text: str, name: str) -> str:
    rt = _round_trip()
    try:
        doc = rt.load(text)
    except RuamelError as e:  # strict YAML that ruamel cannot read (a tab before a comment)
        mark = getattr(e, "problem_mark", None)
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise FormatError(
            f"{where}: fmt cannot keep this file's comments and layout: ruamel.yaml, which it "
            f"uses for that, cannot read it ({problem}); the file was not changed",
            hint="a tab between a value and its comment is the usual cause: use spaces",
        ) from None
    styled = _styled(doc, parse(text.encode("utf-8"), name))
    # Mappings in flow style (`{b: 1, a: 2}`) were left to this pass: their order is set here.
    styled = _sorted_flow(styled, canonical_order)
    for name in MERGED:  # `custom`: its keys in alphabetical order
        merged = styled.get(name)
        if isinstance(merged, CommentedMap):
            styled[name] = _sorted_flow(merged, str)
    out = io.StringIO()
    rt.dump(styled, out)
    return out.getvalue()


# --- comments ------------------------------------------------------------------------------------

_COMMENT_START = re.compile(r"(?:^|(?<=[ \t]))#")


def comments(text: str) -> list[str]:
    """Every comment of a YAML text (without surrounding blanks): `#` at a line's start or after
    a blank, outside every scalar."""
    root = yaml.compose(text, Loader=_Composer)
    covered: dict[int, list[tuple[int, int]]] = {}
    for node in _scalars(root):
        start, end = node.start_mark, node.end_mark
        for row in range(start.line, end.line + 1):
            first = start.column if row == start.line else 0
            last = end.column if row == end.line else 1 << 30
            covered.setdefault(row, []).append((first, last))
    found = []
    for number, line in enumerate(text.splitlines()):
        spans = covered.get(number, [])
        for match in _COMMENT_START.finditer(line):
            if not any(a <= match.start() < b for a, b in spans):
                found.append(line[match.start() :].rstrip())
                break
    return found


def _scalars(node: Node | None) -> Iterator[ScalarNode]:
    if isinstance(node, ScalarNode):
        yield node
    elif isinstance(node, MappingNode):
        for key, value in node.value:
            yield from _scalars(key)
            yield from _scalars(value)
    elif isinstance(node, SequenceNode):
        for item in node.value:
            yield from _scalars(item)


def changed(texts: Mapping[str, str]) -> Sequence[str]:
    """The names of the texts `fmt` would change (for tests and `--check`)."""
    return [name for name, text in texts.items() if format_text(text, name) != text]
