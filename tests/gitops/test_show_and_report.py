"""`show PLANFILE` renders a saved plan as `plan` did; `apply --report` writes Markdown."""

from __future__ import annotations

import html
from typing import Any

import yaml

from .conftest import Repo, record

LIVE = [
    record(1, title="Ramirez Solar", primaryEmail="maria.ramirez@example.com", value=100),
    record(2, title="Chen Roof", trades=["Roofing"]),
]
SEED = LIVE


def files(repo: Repo, **changes: Any) -> None:
    repo.dir.mkdir(exist_ok=True)
    for r in LIVE:
        data = {**r, **changes.get(str(r["id"]), {})}
        (repo.dir / f"{r['id']}.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")


def test_show_renders_the_saved_plan_as_plan_printed_it(repo: Repo) -> None:
    files(repo, **{"1": {"primaryEmail": "maria@example.org", "value": 120}})
    text = repo.run("plan", "--out", "plan.json", "--detailed-exitcode")
    assert text.code == 2
    requests = len(repo.sandbox.requests())
    shown = repo.run("show", "plan.json")
    assert shown.code == 0
    assert shown.out == text.out
    markdown = repo.run("show", "plan.json", "--format", "markdown")
    assert markdown.out.startswith("<!-- reconciler-plan -->")
    assert "maria@example.org" not in markdown.out
    assert "maria@example.org" in html.unescape(
        repo.run("show", "plan.json", "--format", "markdown", "--no-mask").out
    )
    as_json = repo.run("show", "plan.json", "--format", "json")
    assert as_json.out == (repo.root / "plan.json").read_text(encoding="utf-8")
    assert len(repo.sandbox.requests()) == requests  # show never talks to the API


def test_show_refuses_an_edited_plan(repo: Repo) -> None:
    files(repo, **{"2": {"title": "Chen Roof 2"}})
    assert repo.run("plan", "--out", "plan.json").code == 0
    path = repo.root / "plan.json"
    path.write_text(path.read_text(encoding="utf-8").replace("Chen Roof 2", "Chen Roof 3"))
    result = repo.run("show", "plan.json")
    assert result.code == 1
    assert "checksum does not match" in result.err


def test_apply_report_lists_outcomes_without_values(repo: Repo) -> None:
    files(repo, **{"1": {"primaryEmail": "maria@example.org", "value": 120}})
    result = repo.run("apply", "--auto-approve", "--report", "out/apply.md")
    assert result.code == 0, result.err
    report = (repo.root / "out/apply.md").read_text(encoding="utf-8")
    assert report.startswith("<!-- reconciler-apply -->\n### Apply: 1 applied, 0 failed,")
    assert "| 1 | <code>opportunities/1.yaml</code> | applied | value, primaryEmail |" in report
    assert "maria@example.org" not in report
    assert "Requests: " in report

    again = repo.run("apply", "--auto-approve", "--report", "out/apply.md")
    assert again.code == 0
    report = (repo.root / "out/apply.md").read_text(encoding="utf-8")
    assert "Apply: nothing to do, the live opportunities match the files" in report


def test_apply_report_shows_failures(repo: Repo) -> None:
    files(repo, **{"2": {"accountId": 999_999}})  # no such account: the API answers 400
    result = repo.run("apply", "--auto-approve", "--report", "apply.md")
    assert result.code == 1
    report = (repo.root / "apply.md").read_text(encoding="utf-8")
    assert "### Apply: 0 applied, 1 failed" in report
    assert "| 2 | <code>opportunities/2.yaml</code> | **failed** | accountId |" in report
