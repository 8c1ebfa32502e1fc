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


def _library_reads_a_string(text: str) -> bool:
    return (
        _PYYAML.resolve(ScalarNode, text, (True, False)) == _STR  # type: ignore[no-untyped-call]
        and str(_RUAMEL12.resolve(RuamelScalarNode, text, (True, False))) == _STR
    )


def _strict_loader_reads(text: str) -> bool:
    """Whether the strict loader reads `key: text` back as `text` (syntax included: `a: b`,
    `x #y`, a leading `- ` or `[` do not survive as plain values)."""
    try:
        return parse(b"v: " + text.encode("utf-8"), "<value>").get("v") == text
    except LoadError:
        return False


@lru_cache(maxsize=8192)
def scalar_style(text: str, *, flow: bool = False) -> ScalarStyle:
    """How a string must be written so that every reader gives back `text` (see the module).

    `flow`: the string is an item of a flow list or mapping (`trades: [Solar, HVAC]`), where
    `,[]{}` end a plain scalar, and `:`, `?` and `#` are read differently by YAML 1.1 readers
    (an error in some) and YAML 1.2 ones: such strings are quoted there. `PLAIN` still leaves the
    emitter free to quote for syntax alone; every reader reads a quoted scalar as a string.
    """
    if _NEEDS_ESCAPES(text):
        return QUOTED
    if flow and _FLOW_INDICATORS(text):
        return QUOTED
    if "\n" in text:
        # A blank before a line break or at the end: PyYAML's emitter refuses a literal block
        # there and ruamel's does not; double quotes make both write the same text.
        # A flow collection or a key cannot hold a block scalar either. Trailing blank lines
        # need "keep" chomping (`|+`), after which ruamel's emitter adds a line before a comment.
        awkward = " \n" in text or text.endswith((" ", "\n\n")) or not text.strip("\n")
        return QUOTED if flow or awkward else LITERAL
    if (
        not text
        or text != text.strip(" \t")
        or _NOT_A_STRING(text)
        or not _library_reads_a_string(text)
        or not _strict_loader_reads(text)
    ):
        return QUOTED
    return PLAIN


def needs_quotes(text: str, *, flow: bool = False) -> bool:
    """Whether `text` must be double-quoted (multi-line text goes in a literal block instead)."""
    return scalar_style(text, flow=flow) == QUOTED
