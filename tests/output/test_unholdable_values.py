"""Values the API cannot hold are refused by `validate`, with file:line and field.

A string with a control character other than tab and newline, an integer beyond +-(2^53-1) and a
number whose digits a double does not keep would otherwise pass validation and then show as a
change on every plan forever (the API stores JSON numbers as doubles).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.importer import document_from_live

HEAD = 'id: 1\ntitle: "Deal"\naddress: ["1 Main St"]\ntrades: ["Solar"]\n'


def validate(tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str) -> tuple[int, str]:
    path = tmp_path / "1.yaml"
    path.write_text(HEAD + body, encoding="utf-8")
    capsys.readouterr()
    code = main(["validate", "--format", "text", str(path)])
    return code, capsys.readouterr().out


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ("value: 123456789012345678901234567890\n", "value", "2^53"),
        ("value: 9007199254740992\n", "value", "2^53"),
        ("size: -9007199254740992\n", "size", "2^53"),
        ("custom:\n  big: 18446744073709551616\n", "custom.big", "2^53"),
        ("value: 1.00000000000000000001\n", "value", "read back as 1.0"),
        ("value: 0.30000000000000001\n", "value", "read back as 0.3"),
        ("value: 1e-400\n", "value", "read back as 0.0"),
        ('description: "bell \\a"\n', "description", "U+0007"),
        ('description: "esc \\e[31m"\n', "description", "U+001B"),
        ('description: "nul \\0"\n', "description", "U+0000"),
        ('description: "cr \\r"\n', "description", "U+000D"),
        ('description: "del \\x7f"\n', "description", "U+007F"),
        ('description: "c1 \\x9b"\n', "description", "U+009B"),
        ('description: "nel \\N"\n', "description", "U+0085"),
        ('custom:\n  tags: ["ok", "bad \\e"]\n', "custom.tags[1]", "U+001B"),
        ('custom:\n  "k\\e": 1\n', "custom.k\\x1b", "U+001B"),
    ],
)
def test_unholdable_values_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str, field: str, words: str
) -> None:
    code, out = validate(tmp_path, capsys, body)
    assert code == 1
    line = HEAD.count("\n") + body.count("\n")
    problems = out.strip().splitlines()
    assert len(problems) == 1, out
    assert problems[0].startswith(f"{tmp_path / '1.yaml'}:"), out
    where, _, rest = problems[0].partition(": ")
    assert int(where.split(":")[1]) <= line
    assert rest.startswith(f"{field}: "), out
    assert words in rest, out


@pytest.mark.parametrize(
    "body",
    [
        "value: 9007199254740991\n",
        "value: -9007199254740991\n",
        "value: 0.1\n",
        "value: 1.50\n",
        "value: 1e20\n",
        "value: 1.7976931348623157e308\n",
        'description: "tab\\tand\\nnewline"\n',
        "description: |\n  two\n  lines\n",
        "description: café ☀ 日本\n",
    ],
)
def test_holdable_values_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str
) -> None:
    code, out = validate(tmp_path, capsys, body)
    assert (code, out) == (0, "")


def test_import_leaves_out_live_values_a_file_cannot_hold() -> None:
    live = {
        "id": 8,
        "title": "Deal",
        "address": ["1 Main St"],
        "trades": ["Solar"],
        "description": "esc \x1b[31m",
        "value": 2**60,
        "custom": {"ok": "x", "bad": "bell \x07", "k\x1b": 1},
    }
    imported = document_from_live(live)
    assert imported.error is None and imported.data is not None
    assert "description" not in imported.data and "value" not in imported.data
    assert imported.data["custom"] == {"ok": "x"}
    assert len(imported.warnings) == 4
    assert all("left out of the file (unmanaged)" in w for w in imported.warnings)
    failed = document_from_live(live | {"title": "null \x00"})
    assert failed.data is None and failed.error is not None
    assert failed.error.startswith("opportunity 8: title: the text holds the control character")
