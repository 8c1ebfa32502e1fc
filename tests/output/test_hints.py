"""Hints say what to do (issue 9 point 14)."""

from __future__ import annotations

import httpx
import pytest

from reconciler.sandbox import SandboxConfig, run_sandbox

from .conftest import Site, record


def test_a_server_requiring_title_address_and_trades_suggests_send_required(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = [record(1), record(2)]
    with run_sandbox({"opportunities": live}, SandboxConfig(require_full_patch=True)) as strict:
        monkeypatch.setenv("COPERNIQ_API_URL", strict.base_url)
        monkeypatch.setenv("COPERNIQ_API_KEY", strict.api_key)
        site.write(record(1, description="new"))  # a PATCH without title, address, trades
        site.write(record(2, description="new"))
        code, out, err = site.run("apply", "--auto-approve")
        assert code == 1
        assert "--send-required" in out
        assert "fix 'title' in the record's file" not in out
        code, out, err = site.run("apply", "--auto-approve", "--send-required")
        assert code == 0, out + err


def test_no_changes_is_not_said_above_records_that_could_not_be_planned(site: Site) -> None:
    site.write(record(1))  # in sync
    site.write(record(2))
    site.write(record(99))  # no such record
    for fmt in ("text", "markdown"):
        code, out, _ = site.run("plan", "--format", fmt)
        assert code == 1
        assert "No changes: the live opportunities match the files." not in out
        assert "No changes to the 2 records that could be planned" in out


def test_plurals(site: Site) -> None:
    site.write(record(2))  # in sync; record 1's title differs
    _, out, _ = site.run("plan", "--format", "markdown")
    assert "field(s)" not in out and ": 1 field</summary>" in out
    code, out, _ = site.run("adopt")
    assert code == 0
    assert (
        "Adopt: 1 file updated (1 field), 0 not adopted, 1 already in sync (2 files checked;" in out
    )
    site.write(record(99))  # no such record
    report = site.root / "report.md"
    site.run("apply", "--auto-approve", "--report", str(report))
    assert "1 record cannot be planned" in report.read_text(encoding="utf-8")


def test_a_target_that_is_not_a_number_says_what_a_target_is(site: Site) -> None:
    code, _, err = site.run("plan", "--target", "abc")
    assert code == 64
    assert "'abc' is not an opportunity id" in err
    assert "the `id` of an opportunity file" in err


def test_adopt_of_a_multi_line_title_keeps_the_key_comment_in_place(site: Site) -> None:
    path = site.dir / "1.yaml"
    path.write_text(
        "id: 1\n"
        "title: Changed 1  # the deal's name, as sales wrote it\n"
        "address: ['1 Main St, Austin, TX 78701']\n"
        "trades: [Solar]  # what we install\n",
        encoding="utf-8",
    )
    httpx.patch(
        f"{site.sandbox.base_url}/opportunities/1",
        json={"title": "Line one\nLine two"},
        headers={"x-api-key": site.sandbox.api_key},
    ).raise_for_status()
    code, out, err = site.run("adopt", "1")
    assert code == 0, out + err
    assert path.read_text(encoding="utf-8") == (
        "id: 1\n"
        "title: |-  # the deal's name, as sales wrote it\n"
        "  Line one\n"
        "  Line two\n"
        "address: ['1 Main St, Austin, TX 78701']\n"
        "trades: [Solar]  # what we install\n"
    )
