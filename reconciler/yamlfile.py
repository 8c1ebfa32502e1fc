"""Writing desired-state files: fresh ones for `import`, surgical edits for `adopt`.

This module owns how reconciler writes YAML. A fresh file (`dump_document`) starts with the schema
modeline, lists the fields in canonical order, puts `address` in block style and other lists in
flow style, and styles every string by the one quoting rule (`reconciler.quoting`): multi-line text
as a literal block, double quotes for anything a YAML 1.1, YAML 1.2 or strict reader would read as
something else (`no`, `y`, `2026-01-15`, `0123`, `1:30`, `1.2.3`); libyaml's C emitter writes it
(`reconciler.emitter`). An edit (`edit_document`) goes
through ruamel.yaml's round-trip mode, so comments, key order, flow or block style and the quoting
of untouched values survive. Both check their own output by loading it back with the strict loader:
a file whose data would differ from what was meant is never written; `atomic.write_atomic` writes
it.
"""

from __future__ import annotations

import io
import itertools
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

import orjson
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError as RuamelError
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    LiteralScalarString,
    PlainScalarString,
)

from reconciler.company_schema import COMPANY_SCHEMA_FILE
from reconciler.emitter import WIDTH, document_node, emit, float_text
from reconciler.errors import FileEditError, LoadError
from reconciler.fields import FIELDS, FILE_SETTINGS, KEY, FieldPath
from reconciler.loader import parse
from reconciler.quoting import LITERAL, PLAIN, QUOTED, scalar_style

SCHEMA_FILE = Path("schemas/opportunity.schema.json")
MODELINE = "# yaml-language-server: $schema={}"
_BLOCK = frozenset(f.name for f in FIELDS.values() if f.block)


# --- quoting -------------------------------------------------------------------------------------


def same_data(a: Any, b: Any) -> bool:
    """Equality that also tells 1 from 1.0 and from True: what a file holds, exactly."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_data(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same_data(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _same_json(a: Any, b: Any) -> bool:
    """A quick `same_data` that only says yes: the same JSON bytes tell 1 from 1.0 and from true
    too (a file never reads back as NaN or infinity, which JSON cannot show)."""
    try:
        return bool(orjson.dumps(a) == orjson.dumps(b))
    except (TypeError, orjson.JSONEncodeError):
        return False


def _check_reads_back(text: str, expected: Mapping[str, Any], name: str) -> None:
    try:
        got = parse(text.encode("utf-8"), name)
    except LoadError as e:
        raise FileEditError(f"{name}: reconciler produced YAML it cannot read back ({e})") from e
    if not _same_json(got, expected) and not same_data(got, dict(expected)):
        raise FileEditError(
            f"{name}: the YAML reconciler produced does not read back as the intended values; "
            "the file was not written (this is a bug in reconciler: please report it)"
        )


# --- fresh files (import) ------------------------------------------------------------------------


def dump_document(data: Mapping[str, Any], schema_ref: str | None, name: str) -> str:
    """The text of a new file holding `data` (keys already in canonical order)."""
    body = emit(document_node(data, _BLOCK))
    head = MODELINE.format(schema_ref) + "\n" if schema_ref else ""
    text = head + body
    _check_reads_back(text, data, name)
    return text


def schema_reference(directory: Path) -> str | None:
    """The modeline path from `directory` to the nearest schemas/ at or above it: the company's
    generated schema when `catalogue pull` wrote one, else the base schema (None: neither)."""
    start = directory.resolve()
    for folder in (start, *start.parents):
        for name in (COMPANY_SCHEMA_FILE, SCHEMA_FILE):
            candidate = folder / name
            if candidate.is_file():
                return Path(os.path.relpath(candidate, start)).as_posix()
    return None


_TOP_ORDER = {name: i for i, name in enumerate((KEY, *FIELDS, *FILE_SETTINGS))}


def canonical_order(key: str) -> int:
    """Where a top-level key goes: `id`, the field table's order, file settings, then the rest."""
    return _TOP_ORDER.get(key, len(_TOP_ORDER))


# --- edits (adopt) -------------------------------------------------------------------------------

_KEY_ONLY = re.compile(r"^( *)[^\s#-][^#]*:\s*(?:#.*)?$")
_ITEM = re.compile(r"^( *)- ")
_CHILD = re.compile(r"^( *)[^\s#-]")


def _indents(text: str) -> tuple[int, int, int]:
    """(mapping, sequence, offset) indentation as this file already uses it, for ruamel."""
    lines = [
        line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]
    mapping, offset = 2, 2
    found_map = found_seq = False
    for line, following in itertools.pairwise(lines):
        key = _KEY_ONLY.match(line)
        if key is None:
            continue
        base = len(key.group(1))
        item = _ITEM.match(following)
        if item and not found_seq and len(item.group(1)) >= base:
            offset, found_seq = len(item.group(1)) - base, True
        child = _CHILD.match(following)
        if child and not found_map and len(child.group(1)) > base:
            mapping, found_map = len(child.group(1)) - base, True
    return mapping, offset + 2, offset


def _round_trip(text: str) -> YAML:
    rt = YAML(typ="rt")
    rt.preserve_quotes = True
    rt.width = WIDTH
    mapping, sequence, offset = _indents(text)
    rt.indent(mapping=mapping, sequence=sequence, offset=offset)
    # `null`, not an empty value: an adopted "cleared" field should read as cleared.
    rt.representer.add_representer(
        type(None), lambda r, _: r.represent_scalar("tag:yaml.org,2002:null", "null")
    )
    # ruamel writes 1e20 as `1e+20`, a string to YAML 1.1: floats are written as import writes them.
    rt.representer.add_representer(
        float, lambda r, v: r.represent_scalar("tag:yaml.org,2002:float", float_text(v))
    )
    return rt


def styled_string(text: str, *, flow: bool = False) -> str:
    """`text` dressed for ruamel by the one quoting rule (`flow`: inside a flow collection)."""
    style = scalar_style(text, flow=flow)
    if style == LITERAL:
        return cast(str, LiteralScalarString(text))
    if style == QUOTED:
        return cast(str, DoubleQuotedScalarString(text))
    # Plain, explicitly: ruamel gives a plain str assigned over a quoted value the old quotes.
    # The emitter still quotes what YAML's syntax forbids plain at that spot.
    return cast(str, PlainScalarString(text))


def styled_key(text: str, *, flow: bool = False) -> str:
    """A mapping key by the rule: never a literal block (a key is one line)."""
    if scalar_style(text, flow=flow) == PLAIN:
        return text
    return cast(str, DoubleQuotedScalarString(text))


def _styled(value: Any, old: Any, *, flow: bool = False) -> Any:
    """`value` styled by the one quoting rule; a list keeps the block style of the one it
    replaces (flow otherwise)."""
    if isinstance(value, str):
        return styled_string(value, flow=flow)
    if isinstance(value, list):
        block = not flow and isinstance(old, CommentedSeq) and not old.fa.flow_style()
        seq = CommentedSeq(_styled(v, None, flow=not block) for v in value)
        if not block:
            seq.fa.set_flow_style()
        return seq
    if isinstance(value, Mapping):
        mapping = CommentedMap(
            (styled_key(k, flow=flow), _styled(v, None, flow=flow)) for k, v in value.items()
        )
        if flow:
            mapping.fa.set_flow_style()
        return mapping
    return value


def _comment_after_block_header(mapping: CommentedMap, key: str) -> None:
    """Keep a key's end-of-line comment on the key's line when its value becomes a block.

    ruamel writes a comment that followed a one-line value after the block, on a line of its
    own; YAML allows it after the `|-` header instead, where the author put it.
    """
    item = mapping.ca.items.get(key)
    if not item or len(item) < 3 or item[2] is None:
        return
    text = str(item[2].value).strip()
    if not text.startswith("#") or "\n" in text:
        return
    mapping.ca.items[key] = [item[0], item[1], None, [f"  {text}"]]


def edit_document(text: str, updates: Mapping[str, Any], name: str) -> str:
    """`text` with each field of `updates` (`title`, `custom.KEY`) set to its value.

    Everything else (comments, key order, blank lines, the quoting and style of other values)
    is kept. Raises `FileEditError` when the file cannot be read or the result would not read
    back as the old data with exactly these values changed.
    """
    rt = _round_trip(text)
    try:
        doc = rt.load(text)
        expected = parse(text.encode("utf-8"), name)
    except (RuamelError, LoadError) as e:
        raise FileEditError(f"{name}: cannot edit the file: {e}") from None
    if not isinstance(doc, CommentedMap):
        raise FileEditError(f"{name}: cannot edit the file: the top level is not a mapping")
    for field, value in updates.items():
        path = FieldPath.parse(field)
        target, expected_target, key = doc, expected, path.top
        if path.key is not None:
            key = path.key
            if not isinstance(doc.get(path.top), CommentedMap):
                doc[path.top] = CommentedMap()
                expected[path.top] = {}
            target, expected_target = doc[path.top], expected[path.top]
        if key in target:
            target[key] = _styled(value, target[key])
        else:  # a new key (an id written back, a custom key): where fmt would put it
            keys = [str(k) for k in target]
            if target is doc:
                after = [canonical_order(k) > canonical_order(key) for k in keys]
            else:
                after = [k > key for k in keys]
            position = after.index(True) if True in after else len(keys)
            target.insert(position, styled_key(key), _styled(value, None))
        expected_target[key] = value
        if isinstance(target[key], LiteralScalarString):
            _comment_after_block_header(target, key)
    out = io.StringIO()
    rt.dump(doc, out)
    result = out.getvalue()
    _check_reads_back(result, expected, name)
    return result


def insert_id(text: str, record_id: int, name: str) -> str:
    """`text` with `id: <record_id>` as its first key; everything else is kept as written
    (the `edit_document` round trip, so the one quoting rule and canonical placement apply).
    Raises `FileEditError` if the file already has an `id`."""
    try:
        existing = parse(text.encode("utf-8"), name)
    except LoadError as e:
        raise FileEditError(f"{name}: cannot edit the file: {e}") from None
    if KEY in existing:
        raise FileEditError(f"{name}: the file already declares id {existing[KEY]}")
    return edit_document(text, {KEY: record_id}, name)
