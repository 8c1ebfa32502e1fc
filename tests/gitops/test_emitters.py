"""libyaml's C emitter writes what PyYAML's pure-Python one writes, byte for byte, on the corpus of
hostile strings of the quoting tests (`test_yaml_readers.CORPUS`) and on random text; every string
comes out in the style the one quoting rule gives it; the quoting rule's shortcuts give the rule's
own answers; and without libyaml, `dump_document` writes the same files.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reconciler import emitter
from reconciler.emitter import document_node, emit
from reconciler.fields import FIELDS
from reconciler.loader import parse
from reconciler.quoting import LITERAL, PLAIN, QUOTED, full_rule, scalar_style
from reconciler.yamlfile import dump_document, same_data

from .test_yaml_readers import CONTROL, CORPUS, KEYS, SHORT
from .yaml_readers import misreadings

BLOCK = frozenset(f.name for f in FIELDS.values() if f.block)
EVERYTHING = CORPUS + CONTROL


def _document(i: int, text: str) -> dict[str, Any]:
    """`text` in every place a file holds a string: title, a block list (`address`), a flow
    list, a custom value, a custom flow list, and a key that YAML would misread."""
    other = SHORT[(i * 7 + 3) % len(SHORT)]
    return {
        "id": i + 1,
        "title": text,
        "address": [text, other, f"{other}\n{text}"],
        "trades": [text, "Solar"],
        "description": text,
        "value": 1.0e20 if i % 2 else -12.5,
        "custom": {
            "utility_company": text,
            "panel_brands": [other, text],
            KEYS[i % len(KEYS)]: other,
            "flag": i % 3 == 0,
            "none": None,
        },
    }


def _both(data: dict[str, Any]) -> tuple[str, str]:
    root = document_node(data, BLOCK)
    return emit(root, libyaml=True), emit(root, libyaml=False)


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML built without libyaml")
@pytest.mark.parametrize("i", range(len(EVERYTHING)))
def test_both_emitters_write_the_same_bytes_on_the_corpus(i: int) -> None:
    data = _document(i, EVERYTHING[i])
    c_text, python_text = _both(data)
    assert c_text == python_text
    assert same_data(yaml.load(c_text, Loader=yaml.CSafeLoader), data) or EVERYTHING[i] in CONTROL


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML built without libyaml")
def test_block_lists_are_indented_under_their_key_with_literal_blocks_inside() -> None:
    data = {"id": 1, "address": ["a", "two\nlines", "  indented\nfirst", "last\n"], "trades": []}
    c_text, python_text = _both(data)
    assert (
        c_text
        == python_text
        == (
            "id: 1\naddress:\n  - a\n  - |-\n    two\n    lines\n  - |2-\n      indented\n"
            "    first\n  - |\n    last\ntrades: []\n"
        )
    )


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML built without libyaml")
@pytest.mark.parametrize(
    "key", ["", "k" * 117, "k" * 118, "k" * 122, "k" * 123, "k" * 128, "k" * 129, "鍵" * 43]
)
def test_keys_either_emitter_would_write_as_explicit_keys_come_out_the_same(key: str) -> None:
    # PyYAML writes `? key` from 123 characters (with the tag's `!!str`) and for an empty key;
    # libyaml from 129 bytes, and never for an empty key.
    c_text, python_text = _both({"id": 1, "custom": {key: "v", "x": [1]}})
    assert c_text == python_text


def _styles(node: Node, flow: bool = False) -> list[tuple[str, str | None, bool]]:
    """(text, style, in a flow collection) of every scalar under `node`, keys included."""
    if isinstance(node, ScalarNode):
        return [(node.value, node.style, flow)]
    if isinstance(node, MappingNode):
        inner = flow or bool(node.flow_style)
        return [s for k, v in node.value for s in _styles(k, inner) + _styles(v, inner)]
    assert isinstance(node, SequenceNode)
    inner = flow or bool(node.flow_style)
    return [s for item in node.value for s in _styles(item, inner)]


@pytest.mark.parametrize("i", range(len(CORPUS)))
def test_the_written_file_follows_the_quoting_rule_for_every_string(i: int) -> None:
    data = _document(i, CORPUS[i])
    text = dump_document(data, None, "<import>")  # libyaml's output where PyYAML has it
    expected = dict(data)
    expected["custom"] = dict(data["custom"])
    assert not misreadings(text, expected)
    # The rule decides what may be plain and what must be double-quoted; the emitter may still
    # quote a string the rule leaves plain for syntax alone (`---` at the start of a line, a tab),
    # and every reader reads a quoted scalar as a string.
    for value, style, flow in _styles(yaml.compose(text, Loader=yaml.CSafeLoader)):
        if not style and not isinstance(parse(f"v: {value}".encode(), "<v>")["v"], str):
            continue  # a number, a boolean or null, written plain
        rule = scalar_style(value, flow=flow)
        assert {"": PLAIN, "'": PLAIN, '"': rule, "|": LITERAL}[style] == rule, (value, style)
        assert rule != QUOTED or style == '"', (value, style)


# Text the API can hold (no control characters but tab and newline), with astral characters.
_TEXT = st.text(st.characters(exclude_categories=["Cs", "Cc"], include_characters="\t\n"))
_ANY = st.text(st.characters(exclude_categories=["Cs"]), max_size=30)


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML built without libyaml")
@given(_TEXT, _TEXT, st.sampled_from(KEYS))
@settings(max_examples=400, deadline=None)
def test_both_emitters_write_the_same_bytes_on_any_text(text: str, other: str, key: str) -> None:
    data = {
        "id": 7,
        "title": text,
        "address": [other, text],
        "trades": [text, other],
        "custom": {key: text, "k": [other, text], text or "e": other},
    }
    c_text, python_text = _both(data)
    assert c_text == python_text
    assert same_data(parse(c_text.encode("utf-8"), "<c>"), data)


@given(_ANY, st.booleans())
@settings(max_examples=1500, deadline=None)
def test_the_rules_shortcuts_give_the_rules_answers(text: str, flow: bool) -> None:
    assert scalar_style(text, flow=flow) == full_rule(text, flow=flow)


@pytest.mark.parametrize("flow", [False, True])
def test_the_rules_shortcuts_give_the_rules_answers_on_the_corpus(flow: bool) -> None:
    for text in [*EVERYTHING, *KEYS, "a\t#b", "a:\tb", "x:", "... x", "AT&T", "-x", "é"]:
        assert scalar_style(text, flow=flow) == full_rule(text, flow=flow), text


def test_without_libyaml_the_python_emitter_writes_the_same_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = _document(3, "emoji 😀 and\nno")
    before = dump_document(data, "../schemas/opportunity.schema.json", "<import>")
    monkeypatch.setattr(yaml, "__with_libyaml__", False)
    monkeypatch.setattr(emitter, "CDumper", None)
    assert dump_document(data, "../schemas/opportunity.schema.json", "<import>") == before


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML built without libyaml")
def test_import_writes_with_libyaml(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _document(1, "Ramirez Household - 7.6 kW Solar")

    def refused(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("the pure-Python emitter was used")

    monkeypatch.setattr(emitter.PythonDumper, "__init__", refused)
    assert dump_document(data, None, "<import>").startswith("id: 2\ntitle: Ramirez Household")
