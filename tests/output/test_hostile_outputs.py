"""Every output surface fed a hostile corpus: files, file names and a server crafted to break them.

Terminal text (stdout and stderr, errors included) must hold no control character but newline,
no line a GitHub runner reads as a workflow command (`::x::` at a line's start, `##[` anywhere)
besides validate's own annotations; Markdown must keep mentions, links, images and HTML inert;
JSON must stay JSON holding the same data.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.cli import main
from reconciler.plan import Plan

from .hostile_server import EVIL, MD_EVIL, hostile_server

_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def assert_terminal_safe(text: str, *, annotations: bool = False) -> None:
    assert not _CONTROL.search(text), _CONTROL.findall(text)
    for line in text.split("\n"):
        assert "##[" not in line, line
        if annotations and line.startswith("::error file="):
            continue
        assert not line.lstrip().startswith("::"), line


def assert_markdown_inert(text: str) -> None:
    assert_terminal_safe(text)
    for raw in ("<img", "alert(1)", "](", "![", "https://evil", "www.evil", "*bold*", "`tick`"):
        assert raw not in text, raw
    assert "| pipe" not in text
    assert not re.search(r"@\w", text), re.findall(r".{20}@\w.{10}", text)


def _strings(data: Any) -> Iterator[str]:
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield key
            yield from _strings(value)
    elif isinstance(data, list):
        for item in data:
            yield from _strings(item)


def assert_json_holds_evil(text: str) -> None:
    assert_terminal_safe(text)
    assert any(EVIL in s for s in _strings(json.loads(text)))


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Any:
    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def hostile(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """A folder of files holding hostile text, and the API pointed at a hostile server."""
    folder = tmp_path / "opportunities"
    folder.mkdir()
    data = {
        "id": 1,
        "title": f"git {MD_EVIL}",
        "address": ["1 Main St, Austin, TX 78701"],
        "trades": ["Solar"],
        "description": MD_EVIL,
        "custom": {"notes": MD_EVIL},
    }
    (folder / "1-x.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    with hostile_server(1) as url:
        monkeypatch.setenv("COPERNIQ_API_URL", url)
        monkeypatch.setenv("COPERNIQ_API_KEY", "k" * 20)
        monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
        monkeypatch.setenv("NO_COLOR", "1")
        monkeypatch.chdir(tmp_path)
        yield folder


def test_validate_text_and_github(cli: Any, tmp_path: Path) -> None:
    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "1.yaml").write_text(
        'id: 1\ntitle: t\naddress: ["a"]\ntrades: []\n'
        '"\\n::warning::key\\e[31m ##[error]k @octocat": 1\n'
        f"custom: {{{json.dumps(EVIL)}: 1}}\n",
        encoding="utf-8",
    )
    (folder / f"\x1b[31m\n::warning::file ##[error] {chr(7)}.yaml").write_text(
        "id: [", encoding="utf-8"
    )
    for fmt in ("text", "github"):
        code, out, err = cli("validate", "--format", fmt, str(folder))
        assert code == 1
        assert out.count("\n") >= 2
        assert_terminal_safe(out, annotations=fmt == "github")
        assert_terminal_safe(err)


def test_plan_surfaces(cli: Any, hostile: Path, tmp_path: Path) -> None:
    _, out, err = cli("plan", "--dir", str(hostile), "--out", str(tmp_path / "p.json"))
    assert "live" in out
    assert_terminal_safe(out)
    assert_terminal_safe(err)
    _, out, err = cli("plan", "--dir", str(hostile), "--format", "json")
    assert_json_holds_evil(out)
    _, out, err = cli("plan", "--dir", str(hostile), "--format", "markdown")
    assert "<details>" in out
    assert_markdown_inert(out)
    assert_terminal_safe(err)


def test_show_of_a_crafted_plan(cli: Any, hostile: Path, tmp_path: Path) -> None:
    saved = tmp_path / "p.json"
    cli("plan", "--dir", str(hostile), "--out", str(saved))
    data = json.loads(saved.read_text(encoding="utf-8"))
    data.pop("checksum")
    change = data["changes"][0]
    change["title"] = EVIL
    change["file"] = EVIL
    for f in change["fields"]:
        f["field"] = EVIL
    data["errors"] = [{"id": 9, "file": EVIL, "kind": "missing", "message": EVIL}]
    data["files"] = {EVIL: "0" * 64}
    saved.write_text(Plan.from_dict(data).to_json(), encoding="utf-8")
    for fmt in ("text", "json", "markdown"):
        code, out, err = cli("show", str(saved), "--format", fmt)
        assert code == 0, err
        assert_terminal_safe(out)
        if fmt == "markdown":
            assert_markdown_inert(out)
        if fmt == "json":
            assert_json_holds_evil(out)


def test_drift_surfaces(cli: Any, hostile: Path, tmp_path: Path) -> None:
    for fmt in ("text", "json", "markdown"):
        code, out, err = cli("drift", "--dir", str(hostile), "--format", fmt)
        assert code == 0, err
        assert_terminal_safe(out)
        assert_terminal_safe(err)
        if fmt == "markdown":
            assert_markdown_inert(out)
        if fmt == "json":
            assert_json_holds_evil(out)


def test_apply_outcome_and_report(cli: Any, hostile: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.md"
    code, out, err = cli(
        "apply",
        "--dir",
        str(hostile),
        "--auto-approve",
        "--allow-new-options",
        "--report",
        str(report),
    )
    assert code == 1
    assert "FAILED" in out, err
    assert "\n\\x3a" not in out  # the server message stays on its line
    assert_terminal_safe(out)
    assert_terminal_safe(err)
    assert_markdown_inert(report.read_text(encoding="utf-8"))


def test_adopt_lines(cli: Any, hostile: Path) -> None:
    _, out, err = cli("adopt", "--dir", str(hostile))
    assert_terminal_safe(out)
    assert_terminal_safe(err)


def test_errors(cli: Any, hostile: Path, tmp_path: Path) -> None:
    # A server error message on a record that is missing, and a path holding the corpus.
    (hostile / "2.yaml").write_text(
        yaml.safe_dump({"id": 2, "title": "t", "address": ["a"], "trades": []}), encoding="utf-8"
    )
    code, out, err = cli("plan", "--dir", str(hostile), "--target", "2")
    assert_terminal_safe(out)
    assert_terminal_safe(err)
    blocked = tmp_path / "\x1b[31m\n::warning::p\r##[error] @octocat\x9b"
    blocked.write_text("a file where a folder is needed", encoding="utf-8")
    _, out, err = cli("plan", "--dir", str(hostile), "--out", str(blocked / "plan.json"))
    assert code == 1
    assert "Error" in err
    assert_terminal_safe(out)
    assert_terminal_safe(err)


def test_fmt_diff_lines_are_inert(cli: Any, tmp_path: Path) -> None:
    folder = tmp_path / "fmt"
    folder.mkdir()
    (folder / "1.yaml").write_text(
        "id:     1\ntitle: t\naddress: ['a']\ntrades: []\n"
        "description: |\n    ::warning::from a block\n    ##[error]legacy\n",
        encoding="utf-8",
    )
    code, out, err = cli("fmt", "--diff", str(folder))
    assert code == 1, err
    assert "warning" in out
    assert_terminal_safe(out)
    assert_terminal_safe(err)
