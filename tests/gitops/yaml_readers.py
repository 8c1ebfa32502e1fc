"""Independent YAML readers for checking what reconciler writes.

Deliberately shares nothing with `reconciler.quoting` (the writer's rule): a test that reused the
rule's regular expressions would share its bugs. The YAML 1.1 reader below types plain scalars with
the regular expressions of the YAML 1.1 type repository, transcribed afresh from yaml.org/type/
(bool, null, int, float, timestamp, merge, value), on top of PyYAML's parser and composer, which
only give the node tree and whether a scalar was plain. The YAML 1.2 reader is ruamel.yaml's safe
loader in YAML 1.2 mode; PyYAML's `safe_load` and reconciler's strict loader complete the set.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml
from ruamel.yaml import YAML

from reconciler.loader import parse


@dataclass(frozen=True)
class Typed:
    """A plain scalar the YAML 1.1 reader typed as something this test does not convert."""

    tag: str
    text: str


# Each (tag, regexp) as the type repository's page prints it; `(?x)` keeps the page's layout.
SPEC_11: list[tuple[str, re.Pattern[str]]] = [
    (tag, re.compile(f"(?x)(?:{pattern})"))
    for tag, pattern in [
        # https://yaml.org/type/null.html
        ("null", r"~ | null|Null|NULL | "),
        # https://yaml.org/type/bool.html
        (
            "bool",
            r"""y|Y|yes|Yes|YES|n|N|no|No|NO
                |true|True|TRUE|false|False|FALSE
                |on|On|ON|off|Off|OFF""",
        ),
        # https://yaml.org/type/int.html
        (
            "int",
            r"""[-+]?0b[0-1_]+
                |[-+]?0[0-7_]+
                |[-+]?(0|[1-9][0-9_]*)
                |[-+]?0x[0-9a-fA-F_]+
                |[-+]?[1-9][0-9_]*(:[0-5]?[0-9])+""",
        ),
        # https://yaml.org/type/float.html
        (
            "float",
            r"""[-+]?([0-9][0-9_]*)?\.[0-9.]*([eE][-+][0-9]+)?
                |[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*
                |[-+]?\.(inf|Inf|INF)
                |\.(nan|NaN|NAN)""",
        ),
        # https://yaml.org/type/timestamp.html (the page's regexp; its example with a blank
        # before `-5` is covered by the second, looser alternative)
        (
            "timestamp",
            r"""[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
                |[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?
                 ([Tt]|[\ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](\.[0-9]*)?
                 (([\ \t]*)Z|[-+][0-9][0-9]?(:[0-9][0-9])?)?
                |[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?
                 ([Tt]|[\ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](\.[0-9]*)?
                 [\ \t]+[-+][0-9][0-9]?(:[0-9][0-9])?""",
        ),
        # https://yaml.org/type/merge.html, https://yaml.org/type/value.html
        ("merge", r"<<"),
        ("value", r"="),
    ]
]

_TRUE = {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"}


def spec11_type(text: str) -> tuple[str, Any]:
    """The tag a YAML 1.1 reader with the full type repository gives a plain scalar, and its
    value where this test can convert it."""
    for tag, regexp in SPEC_11:
        if regexp.fullmatch(text):
            return tag, _convert(tag, text)
    return "str", text


def _sexagesimal(text: str) -> float:
    sign = -1 if text.startswith("-") else 1
    total = 0.0
    for part in text.lstrip("+-").split(":"):
        total = total * 60 + float(part)
    return sign * total


def _convert(tag: str, text: str) -> Any:
    digits = text.replace("_", "")
    if tag == "null":
        return None
    if tag == "bool":
        return text in _TRUE
    if tag == "int":
        if ":" in digits:
            return int(_sexagesimal(digits))
        body = digits.lstrip("+-")
        sign = -1 if digits.startswith("-") else 1
        if body.startswith("0b"):
            return sign * int(body[2:] or "0", 2)
        if body.startswith("0x"):
            return sign * int(body[2:], 16)
        if len(body) > 1 and body.startswith("0"):
            return sign * int(body[1:] or "0", 8)
        return sign * int(body)
    if tag == "float":
        lowered = digits.lower()
        if lowered.endswith(".inf"):
            return -math.inf if lowered.startswith("-") else math.inf
        if lowered == ".nan":
            return Typed(tag, text)  # nan equals nothing: keep it recognisable
        if ":" in digits:
            return _sexagesimal(digits)
        try:
            return float(digits)
        except ValueError:
            return Typed(tag, text)  # `1.2.3`: a float to YAML 1.1, not to Python
    return Typed(tag, text)


def _walk(node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        return {_walk(k): _walk(v) for k, v in node.value}
    if isinstance(node, yaml.SequenceNode):
        return [_walk(item) for item in node.value]
    assert isinstance(node, yaml.ScalarNode)
    if not node.style:  # plain (None, or "" from libyaml): implicit typing applies
        return spec11_type(node.value)[1]
    return node.value


def read_spec11(text: str) -> Any:
    """YAML 1.1 with every implicit type of the type repository."""
    return _walk(yaml.compose(text, Loader=yaml.CBaseLoader))


def read_pyyaml(text: str) -> Any:
    return yaml.load(text, Loader=yaml.CSafeLoader)  # safe_load's resolver, libyaml's speed


def read_ruamel12(text: str) -> Any:
    reader = YAML(typ="safe", pure=True)
    reader.version = (1, 2)
    return reader.load(text)


def read_strict(text: str) -> Any:
    return parse(text.encode("utf-8"), "<file>")


READERS: dict[str, Callable[[str], Any]] = {
    "PyYAML safe_load": read_pyyaml,
    "YAML 1.1 type repository": read_spec11,
    "ruamel.yaml YAML 1.2": read_ruamel12,
    "reconciler strict loader": read_strict,
}


def exactly(a: Any, b: Any) -> bool:
    """Equality that tells 1 from 1.0 and True, and a date from its text."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(exactly(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(exactly(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def misreadings(text: str, expected: dict[str, Any]) -> list[str]:
    """What each reader gets wrong when reading `text`, which should hold `expected`."""
    problems = []
    for name, reader in READERS.items():
        try:
            got = reader(text)
        except Exception as e:  # any reader's failure is a finding
            problems.append(f"{name}: cannot read it: {e}")
            continue
        if not isinstance(got, dict):
            problems.append(f"{name}: not a mapping: {got!r}")
            continue
        got = {k: (dict(v) if isinstance(v, dict) else v) for k, v in got.items()}
        for key in expected.keys() | got.keys():
            if key not in got or key not in expected or not exactly(got[key], expected[key]):
                problems.append(
                    f"{name}: {key}: read {got.get(key)!r}, expected {expected.get(key)!r}"
                )
    return problems
