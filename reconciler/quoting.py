"""The one quoting rule for every file reconciler writes (`import`, `adopt`, `fmt`, created ids).

A desired-state file is read by more than reconciler: editors, linters, CI scripts and other
languages' YAML libraries, some implementing YAML 1.1, some YAML 1.2. A string is therefore written
as a plain scalar only when every one of these readers gives back that same string:

- YAML 1.2, core schema (the 1.2 default): the regular expressions of YAML 1.2.2, section 10.3.2;
- YAML 1.1 with every implicit type of the specification's type repository (yaml.org/type): bool,
  null, int, float, timestamp, merge and value (and `yaml`, whose `!`, `&`, `*` are reserved), with
  the regular expressions as the repository writes them, not as one library implements them:
  `y`, `n`, `1.2.3` and `.` are not strings there, though they are in PyYAML;
- reconciler's own strict loader (`reconciler.loader`);
- the two libraries the tool itself writes with: PyYAML (its YAML 1.1 resolver) and ruamel.yaml in
  YAML 1.2 mode (which adds timestamps, `0b`/`0o` and underscores to the core schema).

Anything else is double-quoted. Multi-line text is a literal block (`|`): block content is a string
in every reader. Text holding a character that some reader takes for a line break and another does
not (`\\r`, NEL, LS, PS) or that YAML cannot hold raw is double-quoted, with escapes.

`scalar_style` is the rule; `needs_quotes` is its yes/no form. Both are pure and cached.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Literal

import yaml
from ruamel.yaml.nodes import ScalarNode as RuamelScalarNode
from ruamel.yaml.resolver import VersionedResolver
from yaml.nodes import ScalarNode

from reconciler.errors import LoadError
from reconciler.loader import parse

ScalarStyle = Literal["", '"', "|"]
"""`""` plain, `'"'` double-quoted, `"|"` literal block (multi-line text)."""

PLAIN: ScalarStyle = ""
QUOTED: ScalarStyle = '"'
LITERAL: ScalarStyle = "|"

# --- YAML 1.1: the type repository, https://yaml.org/type/ (each regexp as the page gives it) ----

# https://yaml.org/type/bool.html
_YAML11_BOOL = r"""
    y|Y|yes|Yes|YES|n|N|no|No|NO
   |true|True|TRUE|false|False|FALSE
   |on|On|ON|off|Off|OFF
"""
# https://yaml.org/type/null.html (the empty alternative is handled by `_EMPTY` below)
_YAML11_NULL = r"""
    ~              # (canonical)
   |null|Null|NULL # (English)
"""
# https://yaml.org/type/int.html
_YAML11_INT = r"""
    [-+]?0b[0-1_]+                    # (base 2)
   |[-+]?0[0-7_]+                     # (base 8)
   |[-+]?(0|[1-9][0-9_]*)             # (base 10)
   |[-+]?0x[0-9a-fA-F_]+              # (base 16)
   |[-+]?[1-9][0-9_]*(:[0-5]?[0-9])+  # (base 60)
"""
# https://yaml.org/type/float.html. Note `[0-9.]*`: the repository's base 10 form takes `1.2.3`,
# `192.168.0.1` and a lone `.` as floats, and its exponent needs a sign (`1.0e+5`, not `1e5`).
_YAML11_FLOAT = r"""
    [-+]?([0-9][0-9_]*)?\.[0-9.]*([eE][-+][0-9]+)?  # (base 10)
   |[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*       # (base 60)
   |[-+]?\.(inf|Inf|INF)                            # (infinity)
   |\.(nan|NaN|NAN)                                 # (not a number)
"""
# https://yaml.org/type/timestamp.html. The page's own example `2001-12-14 21:59:43.10 -5` puts
# blanks before a numeric zone, which its regexp does not allow: `[ \t]*` is taken for both zone
# forms, so that the example is a timestamp too (quoting more is never wrong).
_YAML11_TIMESTAMP = r"""
    [0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]  # (ymd)
   |[0-9][0-9][0-9][0-9]                        # (year)
    -[0-9][0-9]?                                # (month)
    -[0-9][0-9]?                                # (day)
    ([Tt]|[ \t]+)[0-9][0-9]?                    # (hour)
    :[0-9][0-9]                                 # (minute)
    :[0-9][0-9]                                 # (second)
    (\.[0-9]*)?                                 # (fraction)
    ([ \t]*(Z|[-+][0-9][0-9]?(:[0-9][0-9])?))?  # (time zone)
"""
# https://yaml.org/type/merge.html and https://yaml.org/type/value.html
_YAML11_MERGE = r"<<"
_YAML11_VALUE = r"="
# https://yaml.org/type/yaml.html: reserved for YAML's own encoding
_YAML11_YAML = r"!|&|\*"

# --- YAML 1.2 core schema, https://yaml.org/spec/1.2.2/#1032-tag-resolution ---------------------

_YAML12_NULL = r"null|Null|NULL|~"
_YAML12_BOOL = r"true|True|TRUE|false|False|FALSE"
_YAML12_INT = r"""
    [-+]?[0-9]+       # (base 10)
   |0o[0-7]+          # (base 8)
   |0x[0-9a-fA-F]+    # (base 16)
"""
_YAML12_FLOAT = r"""
    [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?  # (number)
   |[-+]?(\.inf|\.Inf|\.INF)                            # (infinity)
   |\.nan|\.NaN|\.NAN                                   # (not a number)
"""

_NOT_A_STRING = re.compile(
    "|".join(
        f"(?:{pattern})"
        for pattern in (
            _YAML11_BOOL,
            _YAML11_NULL,
            _YAML11_INT,
            _YAML11_FLOAT,
            _YAML11_TIMESTAMP,
            _YAML11_MERGE,
            _YAML11_VALUE,
            _YAML11_YAML,
            _YAML12_NULL,
            _YAML12_BOOL,
            _YAML12_INT,
            _YAML12_FLOAT,
        )
    ),
    re.VERBOSE,
).fullmatch

# Characters that YAML 1.1 reads as line breaks and YAML 1.2 does not (NEL, LS, PS), or that one
# reader normalises (CR), and those YAML cannot hold raw: C0/C1 controls (tab and LF aside), DEL,
# the byte order mark, surrogates and the two non-characters. Any of them: double quotes, escaped.
_NEEDS_ESCAPES = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x84\x86-\x9f\x85\u2028\u2029\r\ufeff\ud800-\udfff\ufffe\uffff]"
).search

# In flow context: YAML's flow indicators (`,[]{}`), and `:`, `?`, `#`, which PyYAML's emitter
# never writes plain there while ruamel's (YAML 1.2) does.
_FLOW_INDICATORS = re.compile(r"[,\[\]{}:?#]").search

_PYYAML = yaml.resolver.Resolver()
_RUAMEL12 = VersionedResolver(version=(1, 2))
_STR = "tag:yaml.org,2002:str"

# --- shortcuts: checks skipped only where they cannot fire (tests compare with `full_rule`) ------

# The first characters of every match of `_NOT_A_STRING`: each of its patterns starts with one.
_NOT_A_STRING_FIRST = frozenset("yYnNtTfFoO~-+0123456789.<=!&*")
# Both libraries type a plain scalar only by the implicit resolvers filed under its first
# character (and under `None`, for every character: none by default). A string starting with
# any other character is a string to both, and to `_NOT_A_STRING`.
_PYYAML_TABLE = _PYYAML.yaml_implicit_resolvers
_RUAMEL12_TABLE = _RUAMEL12.versioned_resolver
_MAYBE_TYPED: frozenset[str] | None = (
    None  # a wildcard resolver: no shortcut
    if None in _PYYAML_TABLE or None in _RUAMEL12_TABLE
    else _NOT_A_STRING_FIRST | frozenset(_PYYAML_TABLE) | frozenset(_RUAMEL12_TABLE)
)
_TYPE_MATCHERS: dict[str, tuple[Callable[[str], object], ...]] = {
    first: tuple(
        regexp.match
        for _, regexp in (*_PYYAML_TABLE.get(first, ()), *_RUAMEL12_TABLE.get(first, ()))
    )
    for first in _PYYAML_TABLE.keys() | _RUAMEL12_TABLE.keys()
    if first is not None
}
# Characters that may not start a plain scalar in block context (YAML 1.2, c-indicator), and
# blanks. A string without them at its start, without `: `, ` #` or a tab anywhere and without a
# trailing `:` is one plain scalar to any YAML parser: `v: TEXT` reads back as TEXT unless TEXT is
# typed (null, bool, int, float), which `_NOT_A_STRING` covers for the strict loader's types.
_INDICATOR_FIRST = frozenset("-?:,[]{}#&*!|>'\"%@` \t")


def _plain_syntax(text: str) -> bool:
    return (
        text[0] not in _INDICATOR_FIRST
        and ": " not in text
        and " #" not in text
        and "\t" not in text
        and text[-1] != ":"
    )


def _library_reads_a_string(text: str) -> bool:
    return (
        _PYYAML.resolve(ScalarNode, text, (True, False)) == _STR  # type: ignore[no-untyped-call]
        and str(_RUAMEL12.resolve(RuamelScalarNode, text, (True, False))) == _STR
    )


def _typed_by_a_library(text: str) -> bool:
    """`not _library_reads_a_string(text)` for a non-empty `text`, read off the resolvers' tables
    (each library's `resolve` runs this loop behind per-call overhead: ruamel's looks up its YAML
    version on every call, and its patterns are compiled lazily, behind a proxy)."""
    return any(match(text) for match in _TYPE_MATCHERS.get(text[0], ()))


def _strict_loader_reads(text: str) -> bool:
    """Whether the strict loader reads `key: text` back as `text` (syntax included: `a: b`,
    `x #y`, a leading `- ` or `[` do not survive as plain values)."""
    try:
        return parse(b"v: " + text.encode("utf-8"), "<value>").get("v") == text
    except LoadError:
        return False


def scalar_style(text: str, *, flow: bool = False) -> ScalarStyle:
    """How a string must be written so that every reader gives back `text` (see the module).

    `flow`: the string is an item of a flow list or mapping (`trades: [Solar, HVAC]`), where
    `,[]{}` end a plain scalar, and `:`, `?` and `#` are read differently by YAML 1.1 readers
    (an error in some) and YAML 1.2 ones: such strings are quoted there. `PLAIN` still leaves the
    emitter free to quote for syntax alone; every reader reads a quoted scalar as a string.
    """
    return style_of(text, flow)


@lru_cache(maxsize=16384)
def style_of(text: str, flow: bool) -> ScalarStyle:
    """`scalar_style` with positional arguments (the emitter calls it for every string)."""
    return _style(text, flow, shortcuts=True)


def full_rule(text: str, *, flow: bool = False) -> ScalarStyle:
    """The rule with every check run (`scalar_style` skips those that cannot fire)."""
    return _style(text, flow, shortcuts=False)


def _style(text: str, flow: bool, *, shortcuts: bool) -> ScalarStyle:
    if _NEEDS_ESCAPES(text):
        return QUOTED
    if flow and _FLOW_INDICATORS(text):
        return QUOTED
    if "\n" in text:
        # A blank before a line break or at the end: PyYAML's emitter refuses a literal block
        # there and ruamel's does not; double quotes make both write the same text.
        # A flow collection or a key cannot hold a block scalar either. Trailing blank lines
        # need "keep" chomping (`|+`), after which ruamel's emitter adds a line before a comment.
        # A line that starts with a tab: libyaml takes a first line's tab for indentation and
        # refuses the file, and its emitter quotes any such text where ruamel's writes a block.
        awkward = (
            " \n" in text
            or text.endswith((" ", "\n\n"))
            or not text.strip("\n")
            or text.startswith("\t")
            or "\n\t" in text
        )
        return QUOTED if flow or awkward else LITERAL
    if not text or text != text.strip(" \t"):
        return QUOTED
    if not shortcuts or _MAYBE_TYPED is None:
        if _NOT_A_STRING(text) or not _library_reads_a_string(text):
            return QUOTED
    elif text[0] in _MAYBE_TYPED and (_NOT_A_STRING(text) or _typed_by_a_library(text)):
        return QUOTED
    if not (shortcuts and _plain_syntax(text)) and not _strict_loader_reads(text):
        return QUOTED
    return PLAIN


def needs_quotes(text: str, *, flow: bool = False) -> bool:
    """Whether `text` must be double-quoted (multi-line text goes in a literal block instead)."""
    return scalar_style(text, flow=flow) == QUOTED
