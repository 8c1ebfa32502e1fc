"""The shell steps of plan.yml, apply.yml and drift.yml, run with bash against the sandbox.

The workspace is a git repository holding the project's example opportunities/ and schemas/,
with a bare `origin` to push to; the sandbox holds those records drifted the ways the demo
drifts them. Steps that use actions (checkout, setup, comments, artifacts, issues) are skipped;
`reconciler` comes from the test's virtualenv, as the setup action would install it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from reconciler.demo import demo_seed
from reconciler.plan import DesiredRecord
from reconciler.render.drift import TITLE
from reconciler.sandbox import Sandbox, run_sandbox
from reconciler.sandbox.catalogue import properties
from reconciler.validate import load_desired

from .actions import Runner, load_workflow
from .conftest import PROJECT

PLAN, APPLY, DRIFT = (load_workflow(f"{n}.yml") for n in ("plan", "apply", "drift"))


def git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout


@dataclass
class GitOps:
    work: Path
    origin: Path
    sandbox: Sandbox
    runner: Runner

    def edit_live(self, id: int, body: dict[str, object]) -> None:
        httpx.patch(
            f"{self.sandbox.base_url}/v1/opportunities/{id}",
            json=body,
            headers={"x-api-key": self.sandbox.api_key},
        ).raise_for_status()

    def patches(self) -> int:
        return sum(1 for r in self.sandbox.requests() if r.method == "PATCH")

    def origin_log(self) -> list[str]:
        return git(self.origin, "log", "--format=%s", "main").splitlines()


@pytest.fixture
def gitops(tmp_path: Path) -> Iterator[GitOps]:
    work = tmp_path / "work"
    work.mkdir()
    shutil.copytree(PROJECT / "opportunities", work / "opportunities")
    shutil.copytree(PROJECT / "schemas", work / "schemas")
    desired = load_desired([work / "opportunities"])
    assert not desired.problems
    records = [
        DesiredRecord(int(d.data["id"]), str(d.path), d.data, d.digest) for d in desired.documents
    ]
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "--quiet", "--bare", "--initial-branch=main", str(origin))
    git(work, "init", "--quiet", "--initial-branch=main")
    git(work, "add", ".")
    git(work, "commit", "--quiet", "-m", "opportunities")
    git(work, "remote", "add", "origin", str(origin))
    git(work, "push", "--quiet", "origin", "main")
    with run_sandbox(demo_seed(records, properties()["opportunity"])) as sandbox:
        runner = Runner(
            work,
            secrets={"COPERNIQ_API_KEY": sandbox.api_key},
            variables={"COPERNIQ_API_URL": f"{sandbox.base_url}/v1"},
        )
        yield GitOps(work, origin, sandbox, runner)


def test_plan_on_a_pull_request(gitops: GitOps) -> None:
    validate = gitops.runner.run_job(PLAN, "validate")
    assert validate.ok and validate.ran() == ["Validate"]
    job = gitops.runner.run_job(PLAN, "plan")
    assert job.ok, [(s.name, s.stderr) for s in job.steps]
    assert job.ran() == ["Plan", "Render the plan", "Fail when records cannot be planned"]
    assert job.step("Plan").outputs == {"exitcode": "2"}
    plan = json.loads((gitops.work / "plan.json").read_text(encoding="utf-8"))
    assert plan["format_version"] == "2" and plan["summary"]["update"] >= 4
    comment = (gitops.work / "plan.md").read_text(encoding="utf-8")
    assert comment.startswith("<!-- reconciler-plan -->\n")
    assert "maria.ramirez@example.com" not in comment  # masked in the PR comment
    assert job.summary.startswith("### reconciler plan\n\n```text\nreconciler will update")
    assert f"Plan: {plan['summary']['update']} to update" in job.summary
    assert gitops.patches() == 0


def test_invalid_files_are_annotated_and_stop_the_run(gitops: GitOps) -> None:
    bad = gitops.work / "opportunities" / "bad.yaml"
    bad.write_text("id: 7\ntitle: Bad\naddress: [x]\ntrades: Solar\n", encoding="utf-8")
    job = gitops.runner.run_job(PLAN, "validate")
    assert not job.ok
    out = job.step("Validate").stdout
    assert "::error file=opportunities/bad.yaml,line=4,col=1,title=invalid trades::" in out


def test_records_that_cannot_be_planned_still_get_a_comment_then_fail(gitops: GitOps) -> None:
    (gitops.work / "opportunities" / "9999-gone.yaml").write_text(
        "id: 9999\ntitle: Gone\naddress: ['1 Main St, Austin, TX 78701']\ntrades: [Solar]\n",
        encoding="utf-8",
    )
    job = gitops.runner.run_job(PLAN, "plan")
    assert not job.ok
    assert job.step("Plan").outputs == {"exitcode": "1"}
    assert "9999" in (gitops.work / "plan.md").read_text(encoding="utf-8")
    failed = job.step("Fail when records cannot be planned")
    assert failed.code == 1 and "::error title=reconciler plan::" in failed.stdout


def test_apply_on_main_commits_the_state_file_once(gitops: GitOps) -> None:
    planned = gitops.runner.run_job(PLAN, "plan")
    changes = json.loads((gitops.work / "plan.json").read_text(encoding="utf-8"))["changes"]
    assert planned.ok
    (gitops.work / "plan.json").unlink()

    job = gitops.runner.run_job(APPLY, "apply")
    assert job.ok, [(s.name, s.stdout, s.stderr) for s in job.steps]
    assert job.step("Apply").outputs == {"exitcode": "0"}
    assert f"### Apply: {len(changes)} applied, 0 failed" in job.summary
    assert gitops.patches() == len(changes)
    log = gitops.origin_log()
    assert log[0] == "reconciler: state after applying 0123456789ab [skip ci]"
    state = json.loads(git(gitops.origin, "show", "main:.reconciler/state.json"))
    assert state["records"]["1001"]["status"] == "ACTIVE"

    again = gitops.runner.run_job(APPLY, "apply")
    assert again.ok
    assert "Apply: nothing to do" in again.summary
    assert "The state file is unchanged." in again.step("Commit the state file").stdout
    assert gitops.origin_log() == log
    assert gitops.patches() == len(changes)
    assert gitops.runner.run_job(PLAN, "plan").step("Plan").outputs == {"exitcode": "0"}


def test_a_failed_record_still_commits_what_was_applied_then_fails(gitops: GitOps) -> None:
    path = gitops.work / "opportunities" / "1004-patel-hvac.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("accountId: 204", "accountId: 999999"),
        encoding="utf-8",
    )
    git(gitops.work, "commit", "--quiet", "-am", "a merge with an account that does not exist")
    git(gitops.work, "push", "--quiet", "origin", "main")
    job = gitops.runner.run_job(APPLY, "apply")
    assert not job.ok
    assert job.step("Apply").outputs == {"exitcode": "1"}
    assert "| 1004 | <code>opportunities/1004-patel-hvac.yaml</code> | **failed** |" in job.summary
    assert job.step("Commit the state file").code == 0
    assert "state.json" in git(gitops.origin, "ls-tree", "-r", "--name-only", "main")
    assert job.step("Fail when anything failed").code == 1


def test_drift_opens_then_clears(gitops: GitOps) -> None:
    first = gitops.runner.run_job(DRIFT, "drift")
    assert first.ok
    assert first.step("Report drift").outputs == {"drift": "true"}
    report = (gitops.work / "drift.md").read_text(encoding="utf-8")
    assert report.splitlines()[1] == f"## {TITLE}"
    assert first.summary == report

    assert gitops.runner.run_job(APPLY, "apply").ok
    applied = gitops.patches()
    clean = gitops.runner.run_job(DRIFT, "drift")
    assert clean.step("Report drift").outputs == {"drift": "false"}
    assert "No drift: the live opportunities match the files." in clean.summary

    gitops.edit_live(1002, {"value": 39000})
    drifted = gitops.runner.run_job(DRIFT, "drift")
    assert drifted.step("Report drift").outputs == {"drift": "true"}
    assert "| 1002 | Chen Family Trust - Tile Roof Replacement |" in drifted.summary
    assert gitops.patches() == applied + 1  # the hand edit; drift itself never writes


def test_a_drift_run_that_cannot_read_fails(gitops: GitOps) -> None:
    gitops.runner.secrets["COPERNIQ_API_KEY"] = "not-the-key-0123456789"
    job = gitops.runner.run_job(DRIFT, "drift")
    assert not job.ok
    step = job.step("Report drift")
    assert step.code == 1 and step.outputs == {}
    assert "not-the-key-0123456789" not in step.stdout + step.stderr


def test_catalogue_drift_joins_the_drift_issue(gitops: GitOps) -> None:
    assert gitops.runner.run_job(APPLY, "apply").ok
    clean = gitops.runner.run_job(DRIFT, "drift")
    assert clean.step("Report drift").outputs == {"drift": "false"}
    assert "Catalogue drift" not in clean.summary
    items = properties()["opportunity"]
    for item in items:
        if item["keyName"] == "roof_type":
            item["keyName"] = "roof_material"  # an admin renames a property in Coperniq
    httpx.put(
        f"{gitops.sandbox.base_url}/_sandbox/properties",
        json=items,
        headers={"x-api-key": gitops.sandbox.api_key},
    ).raise_for_status()
    job = gitops.runner.run_job(DRIFT, "drift")
    assert job.ok, [(s.name, s.stderr) for s in job.steps]
    assert job.step("Report drift").outputs == {"drift": "true"}
    report = (gitops.work / "drift.md").read_text(encoding="utf-8")
    assert "No drift: the live opportunities match the files." in report
    assert "## Catalogue drift" in report
    assert (
        "- &#126; custom.roof&#95;type renamed to custom.roof&#95;material &#40;same label "
        "&#x27;Roof Type&#x27;&#41;" in report
    )
    assert job.summary == report


def test_a_catalogue_check_that_cannot_read_fails_the_run(gitops: GitOps) -> None:
    (gitops.work / "schemas/catalogue.json").write_text("not json")
    job = gitops.runner.run_job(DRIFT, "drift")
    assert not job.ok
    assert job.step("Report drift").code == 1


def test_apply_commits_the_files_that_received_ids_with_the_state(gitops: GitOps) -> None:
    new = gitops.work / "opportunities" / "nguyen-heat-pump.yaml"
    new.write_text(
        "# no id yet\ntitle: Nguyen Heat Pump\naddress: ['18 Willow Ln, Houston, TX 77002']\n"
        "trades: [HVAC]\n",
        encoding="utf-8",
    )
    git(gitops.work, "add", ".")
    git(gitops.work, "commit", "--quiet", "-m", "a new opportunity")
    git(gitops.work, "push", "--quiet", "origin", "main")
    planned = gitops.runner.run_job(PLAN, "plan")
    assert planned.ok
    assert "+ create" in (gitops.work / "plan.md").read_text(encoding="utf-8")
    (gitops.work / "plan.json").unlink()

    job = gitops.runner.run_job(APPLY, "apply")
    assert job.ok, [(s.name, s.stdout, s.stderr) for s in job.steps]
    (_post,) = [r for r in gitops.sandbox.requests() if r.method == "POST"]
    new_id = max(
        r["id"]
        for r in httpx.get(
            f"{gitops.sandbox.base_url}/v1/opportunities",
            params={"page_size": 100, "order_by": "desc", "include_archived": "true"},
            headers={"x-api-key": gitops.sandbox.api_key},
        ).json()
    )
    subject = git(gitops.origin, "log", "-1", "--format=%s", "main").strip()
    assert subject == f"reconciler: state after applying 0123456789ab; new ids {new_id} [skip ci]"
    body = git(gitops.origin, "log", "-1", "--format=%b", "main")
    assert f"id {new_id}: opportunities/nguyen-heat-pump.yaml" in body
    changed = git(gitops.origin, "show", "--name-only", "--format=", "main").split()
    assert sorted(changed) == [".reconciler/state.json", "opportunities/nguyen-heat-pump.yaml"]
    committed = git(gitops.origin, "show", "main:opportunities/nguyen-heat-pump.yaml")
    assert committed.startswith(f"# no id yet\nid: {new_id}\ntitle: Nguyen Heat Pump\n")
    assert gitops.runner.run_job(PLAN, "plan").step("Plan").outputs == {"exitcode": "0"}


def test_a_removed_file_is_deleted_only_when_the_repository_variable_enables_prune(
    gitops: GitOps,
) -> None:
    assert gitops.runner.run_job(APPLY, "apply").ok  # records the managed ids
    git(gitops.work, "pull", "--quiet", "--rebase", "origin", "main")
    git(gitops.work, "rm", "--quiet", "opportunities/1002-chen-roofing.yaml")
    git(gitops.work, "commit", "--quiet", "-m", "drop a file")
    git(gitops.work, "push", "--quiet", "origin", "main")
    gitops.runner.variables["RECONCILER_PRUNE"] = "false"
    planned = gitops.runner.run_job(PLAN, "plan")
    assert "no longer managed" in (gitops.work / "plan.md").read_text(encoding="utf-8")
    assert planned.ok
    gitops.runner.variables["RECONCILER_PRUNE"] = "true"
    gitops.runner.run_job(PLAN, "plan")
    assert "**delete** 1002" in (gitops.work / "plan.md").read_text(encoding="utf-8")
    (gitops.work / "plan.json").unlink()
    job = gitops.runner.run_job(APPLY, "apply")
    assert job.ok, [(s.name, s.stdout, s.stderr) for s in job.steps]
    assert [r.path for r in gitops.sandbox.requests() if r.method == "DELETE"] == [
        "/v1/opportunities/1002"
    ]


def test_the_daily_drift_run_reads_in_full_and_the_hourly_ones_incrementally(
    gitops: GitOps,
) -> None:
    gitops.runner.github["github.event.schedule"] = "17 6 * * *"
    daily = gitops.runner.run_job(DRIFT, "drift")
    assert daily.ok
    assert "spent reading (full read: --refresh full)" in daily.summary
    gitops.runner.github["github.event.schedule"] = "17 0-5,7-23 * * *"
    hourly = gitops.runner.run_job(DRIFT, "drift")
    assert "spent reading (changes since " in hourly.summary
    assert (gitops.work / ".reconciler" / "cache").is_dir()
