"""Every file reconciler writes reads back as the live values in every YAML reader.

A corpus of string shapes (YAML 1.1 and 1.2 scalars of every implicit type, phones, addresses,
indicators, blanks, line breaks, escapes, Unicode) is put in the sandbox as titles, descriptions,
addresses, phones, trades, custom values and custom keys. `reconciler import` (over real HTTP) and
`reconciler adopt` write files; each file is then read by PyYAML, by a YAML 1.1 reader that types
scalars by the type repository's own regular expressions, by ruamel.yaml in YAML 1.2 mode and by
the strict loader (`yaml_readers`), and each must give back the live value.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.loader import parse
from reconciler.quoting import QUOTED, scalar_style
from reconciler.sandbox.catalogue import reference_seed
from reconciler.yamlfile import dump_document, edit_document

from .conftest import Repo, record
from .yaml_readers import READERS, misreadings, read_spec11, spec11_type

# fmt: off
YAML11 = [
    # bool (yaml.org/type/bool.html), every spelling
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false",
    "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF",
    # null
    "~", "null", "Null", "NULL",
    # int: binary, octal, decimal with underscores, hex, sexagesimal
    "0b1010", "-0b1_0", "0b_", "0755", "0_7", "00", "0", "-0", "+0", "12345", "1_000", "+1_000",
    "1__", "0x1F", "0xdead_BEEF", "-0x_1", "190:20:30", "1:30", "-1:30", "9:05", "12:30:00",
    "1:3",
    # float: base 10 as the repository writes it ([0-9.]*), sexagesimal, inf, nan
    "1.5", "-1.5", "1.", ".5", "-.5", "+.5", "1.2.3", "192.168.1.1", "555.123.4567", ".", "..",
    "...", "-.", "1.0e+5", "1.0E-5", "6.8523015e+5", "685.230_15e+03", "685_230.15",
    "190:20:30.15", "1:30.5", ".inf", "-.Inf", "+.INF", ".nan", ".NaN", ".NAN", "-.nan", "1.0_0",
    "1._", "1e+5",
    # timestamp
    "2026-01-15", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5",
    "2001-12-15T02:59:43.1Z", "2001-12-15 2:59:43.10", "2001-12-14 21:59:43.10 Z",
    "2026-1-5 1:02:03", "2026-1-5", "2026-01-15T10:30:00+01:00",
    # merge, value, and the reserved yaml type
    "<<", "=", "!", "&", "*",
]
YAML12 = [
    "0o17", "0O17", "0123456789", "+1", "-1", "1e5", "1E5", "1e-5", ".5e3", "0x", "0b", "0o",
    "+.inf", "-.NaN", "1_2", "True ", "NULL ",
]
PHONES = [
    "+1 512-555-0101", "(512) 555-0101", "512.555.0101", "5125550101", "512-555-0101",
    "+44 20 7946 0958", "1-800-FLOWERS", "555-0101 ext. 12", "#123", "07700 900123",
    "0044 20 7946 0958", "+1 (512) 555-0101 x2", "+15125550101", "555 0101", "1:555:0101",
]
ADDRESSES = [
    "1418 Cedar Ridge Dr, Austin, TX 78745", "P.O. Box 123", "#5 - 12 Main St", "12 Main St # 4",
    "Apt. 3: rear", "Zürich, Bahnhofstr. 1", "東京都千代田区1-1", "1/2 Main St", "12:30 Main",
    "- 5 Main", "? Main", "@home", "`tick`", "%percent", "|pipe", ">gt", "!bang", "&amp", "*star*",
    "[bracket]", "{brace}", "a, b", "a: b", "a:b", "a #b", "a#b", "'single'", '"double"',
    "key: value # x", "x:", "x :", "-", "--", "---", "--- x", "... x", "- ", ":", "::", "?", "#",
    "# comment", "a  b", "O'Brien", "SDG&E", "100%", "a,b]", "{a: 1}", "[1, 2]", "- [x]", "&a x",
    "*a", "!!str x", "!tag x", "%YAML 1.1", "a\\b", "a\\nb", "ends with \\",
]
TEXT = [
    "trailing space ", " leading", "\ttab first", "tab\there", "  ", "multi\nline",
    "multi\nline\n", "trailing\n\n", "\nleading newline", "  indented\nfirst", "crlf\r\nline",
    "cr\ronly", "nel\x85x", "ls\u2028x", "ps\u2029x", "bom\ufeffx", "\ufeffbom", "nbsp\xa0x",
    "\xa0", "emoji 😀", "bell\x07", "nul\x00", "del\x7f", "zero\u200bwidth", "rtl \u202e",
    "é" * 3, "a\n\nb", "a \nb", "line\n  indented\n", "\n", "\n\n", "x\n ", "  ", "",
    "a" * 5000, " ".join(["word"] * 900), "say \"hi\" # not a comment",
    # A literal block whose first line starts with a tab: libyaml reads the tab as indentation.
    "\t\n", "\tx\ny", "\n\tx\n", "a\n\tb\n",
]
# fmt: on
_ALL = list(dict.fromkeys(YAML11 + YAML12 + PHONES + ADDRESSES + TEXT))
# The API cannot hold control characters other than tab and newline, and import refuses them:
# those shapes are checked on the writers directly (`test_control_characters_...`).
CONTROL = [t for t in _ALL if any(unicodedata.category(c) == "Cc" and c not in "\t\n" for c in t)]
CORPUS = [t for t in _ALL if t not in CONTROL]
SHORT = [text for text in CORPUS if len(text) < 100]  # rotated through the custom keys

# Custom keys the schema allows (`^[A-Za-z_][A-Za-z0-9_]*$`) that YAML would misread.
KEYS = ["y", "Y", "n", "N", "yes", "No", "on", "OFF", "true", "False", "null", "NULL", "_"]
_SOLID = re.compile(r"\S")


def _solid(text: str) -> str:
    """`text` where the schema wants non-blank text (title, address, phone, trades)."""
    return text if _SOLID.search(text) else "blank"


def _seed() -> dict[str, Any]:
    seed = reference_seed()
    props = seed["properties"]["opportunity"]
    solid = [_solid(text) for text in CORPUS]
    for prop in props:
        if prop["keyName"] in ("trades", "panel_brands"):  # every shape as an option too
            prop["options"] = list(dict.fromkeys([*prop["options"], *solid]))
    props.extend(
        {
            "name": f"Key {key}",
            "type": "TEXT",
            "keyName": key,
            "isMultiple": False,
            "options": [],
            "defaultValue": [],
            "isCustom": True,
        }
        for key in KEYS
    )
    seed["opportunities"] = [_record(i, text) for i, text in enumerate(CORPUS)]
    return seed


def _record(i: int, text: str) -> dict[str, Any]:
    other = SHORT[(i * 7 + 3) % len(SHORT)]
    return record(
        i + 1,
        title=_solid(text),
        description=text,
        address=[_solid(other)],
        primaryPhone=_solid(text),
        trades=sorted({_solid(text), "Solar"}),
        custom={
            "utility_company": text,
            "panel_brands": [_solid(other), "REC"],
            **{key: SHORT[(i + j) % len(SHORT)] for j, key in enumerate(KEYS)},
        },
    )


def _expected(live: dict[str, Any], written: dict[str, Any]) -> dict[str, Any]:
    """The live value of every field the file should hold (`written`: what it was given)."""
    return {key: live[key] for key in written}


@pytest.fixture(scope="module")
def corpus_seed() -> dict[str, Any]:
    return _seed()


def _live(repo: Repo) -> dict[int, dict[str, Any]]:
    """Every live record, read page by page over one connection."""
    out: dict[int, dict[str, Any]] = {}
    headers = {"x-api-key": repo.sandbox.api_key}
    with httpx.Client(base_url=f"{repo.sandbox.base_url}/v1", headers=headers) as client:
        for page in itertools.count(1):
            response = client.get("/opportunities", params={"page": page, "page_size": 100})
            response.raise_for_status()
            records = response.json()
            out.update((r["id"], r) for r in records)
            if len(records) < 100:
                return out
    raise AssertionError("unreachable")


def _misread_files(repo: Repo, seed: dict[str, Any]) -> Iterator[str]:
    files = {int(name.split("-", 1)[0]): text for name, text in repo.files().items()}
    assert sorted(files) == [r["id"] for r in seed["opportunities"]]
    everything = _live(repo)
    for rid, text in files.items():
        live = everything[rid]
        fields = ["id", "title", "description", "address", "trades", "primaryPhone", "custom"]
        expected = {key: live[key] for key in fields}
        for problem in misreadings(text, expected):
            yield f"{rid}: {problem}"


def test_imported_files_read_back_as_live_values_in_every_reader(
    make_repo: Any, corpus_seed: dict[str, Any]
) -> None:
    repo = make_repo(corpus_seed)
    result = repo.run("import", "--all")
    assert result.code == 0, result.out + result.err
    assert "warning" not in result.err.lower(), result.err
    problems = list(_misread_files(repo, corpus_seed))
    assert not problems, "\n".join(problems[:40])
    checked = repo.run("fmt", "--check")  # import's output is already canonical
    assert checked.code == 0, checked.out + checked.err


def _neutral_file(rid: int) -> str:
    """A hand-written file for `rid` whose every value differs from the corpus record's."""
    keys = "".join(f'  "{key}": v\n' for key in KEYS)
    return (
        f"id: {rid}\ntitle: Neutral\ndescription: d\naddress: [1 Main St]\ntrades: [Roofing]\n"
        f'primaryPhone: "555-0100"\ncustom:\n  utility_company: v\n  panel_brands: [Qcells]\n'
        f"{keys}"
    )


def test_adopted_files_read_back_as_live_values_in_every_reader(
    make_repo: Any, corpus_seed: dict[str, Any]
) -> None:
    repo = make_repo(corpus_seed)
    repo.dir.mkdir()
    for record_ in corpus_seed["opportunities"]:
        rid = record_["id"]
        (repo.dir / f"{rid}-neutral.yaml").write_text(_neutral_file(rid), encoding="utf-8")
    assert repo.run("catalogue", "pull").code == 0  # the corpus's custom keys
    assert repo.run("validate").code == 0
    assert repo.run("fmt").code == 0  # canonical before, so canonical after: adopt keeps layout
    result = repo.run("adopt")
    assert result.code == 0, result.out + result.err
    assert f"Adopt: {len(CORPUS)} files updated" in result.out
    problems = list(_misread_files(repo, corpus_seed))
    assert not problems, "\n".join(problems[:40])
    checked = repo.run("fmt", "--check")
    assert checked.code == 0, checked.out + checked.err


class _Messy(yaml.SafeDumper):
    """Every string single-quoted where it can be (the emitter falls back to double quotes)."""


def _single(dumper: yaml.SafeDumper, text: str) -> yaml.Node:
    # PyYAML writes NEL, LS and PS raw inside single quotes, where readers fold them.
    style = '"' if re.search("[\x85\u2028\u2029]", text) else "'"
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Messy.add_representer(str, _single)
_FIELDS = ["id", "title", "address", "trades", "description", "primaryPhone", "custom"]


def _messy_file(live: dict[str, Any]) -> str:
    """The live record as somebody might write it: keys reversed, every string single-quoted,
    four-space indentation, lines folded at 60 columns, a comment above every field."""
    out = ["# yaml-language-server: $schema=../schemas/opportunity.schema.json\n"]
    for key in reversed(_FIELDS):
        value = live[key]
        if key == "custom":
            value = dict(reversed(list(value.items())))
        out.append(f"# about {key}\n")
        out.append(
            yaml.dump(
                {key: value},
                Dumper=_Messy,
                indent=4,
                width=60,
                allow_unicode=True,
                sort_keys=False,
                default_flow_style=None if key == "address" else False,
            )
        )
    return "".join(out)


def test_formatted_files_read_back_as_live_values_in_every_reader(
    make_repo: Any, corpus_seed: dict[str, Any]
) -> None:
    repo = make_repo(corpus_seed)
    repo.dir.mkdir()
    for rid, live in _live(repo).items():
        text = _messy_file(live)
        assert parse(text.encode("utf-8"), "messy") == {k: live[k] for k in _FIELDS}
        (repo.dir / f"{rid}-messy.yaml").write_text(text, encoding="utf-8")
    assert repo.run("fmt", "--check").code == 1
    result = repo.run("fmt")
    assert result.code == 0, result.out + result.err
    assert f"fmt: {len(CORPUS)} files reformatted, 0 unchanged." in result.err
    problems = list(_misread_files(repo, corpus_seed))
    assert not problems, "\n".join(problems[:40])
    for text in repo.files().values():
        assert all(f"# about {key}\n" in text for key in _FIELDS)
        assert text.startswith("# yaml-language-server: $schema=")
    assert repo.run("fmt", "--check").code == 0  # idempotent


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("y", "bool"),
        ("OFF", "bool"),
        ("", "null"),
        ("0b_", "int"),
        ("190:20:30", "int"),
        ("1.2.3", "float"),
        (".", "float"),
        ("1e5", "str"),
        ("1.0e+5", "float"),
        ("-.nan", "str"),
        ("2001-12-14 21:59:43.10 -5", "timestamp"),
        ("2026-1-5", "str"),
        ("<<", "merge"),
        ("=", "value"),
        ("hello", "str"),
    ],
)
def test_the_independent_yaml11_reader_follows_the_type_repository(text: str, tag: str) -> None:
    assert spec11_type(text)[0] == tag
    assert read_spec11(f"k: '{text}'") == {"k": text}  # quoted: never typed


@pytest.mark.parametrize("text", CONTROL)
def test_control_characters_are_double_quoted_with_escapes(text: str) -> None:
    # The strict loader refuses them (the API cannot hold them), so no file the tool writes
    # holds one; the rule still quotes them, and the quoted form reads back everywhere else.
    assert scalar_style(text) == QUOTED
    line = yaml.dump({"k": text}, default_style='"', allow_unicode=True)
    assert "\\" in line  # escaped, never raw
    for name, reader in READERS.items():
        if name != "reconciler strict loader":
            assert reader(line) == {"k": text}, name


_FILE = "id: 1\ntitle: x  # kept\naddress: [a]\ntrades: [Solar]\ncustom:\n  k: v\n"


# Text the API can hold: no control characters but tab and newline (the strict loader refuses them).
_HOLDABLE = st.text(
    st.characters(exclude_categories=["Cs", "Cc"], include_characters="\t\n"), max_size=40
)


@given(_HOLDABLE, _HOLDABLE)
@settings(max_examples=300, deadline=None)
def test_any_string_reads_back_in_every_reader(text: str, other: str) -> None:
    data = {"id": 1, "title": text, "address": [other], "trades": [text, other]}
    data |= {"custom": {"k": other, "y": text}}
    written = dump_document(data, None, "<import>")
    assert not misreadings(written, data), written
    edited = edit_document(_FILE, {"title": other, "custom.k": text, "custom.on": other}, "<adopt>")
    expected = data | {"title": other, "address": ["a"], "trades": ["Solar"]}
    expected["custom"] = {"k": text, "on": other}
    assert not misreadings(edited, expected), edited
