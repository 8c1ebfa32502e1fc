"""What the workflows, the setup action and the pre-commit hook must be, checked statically:
GitHub's schema (offline), least privilege, the key only as a secret, maintained actions pinned
to a major version, and the shape each workflow promises."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.loader import parse
from reconciler.render.drift import TITLE

from .actions import VENV_BIN, WORKFLOWS, load_workflow
from .conftest import PROJECT

NAMES = ("plan.yml", "apply.yml", "drift.yml", "ci.yml")
ACTION = PROJECT / ".github" / "actions" / "setup-reconciler" / "action.yml"
PINNED = re.compile(r"^(\./[\w./-]+|[\w-]+/[\w.-]+(/[\w./-]+)?@v\d+)$")


def check_jsonschema(schema: str, *files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VENV_BIN / "check-jsonschema"), "--builtin-schema", schema, *map(str, files)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for job in workflow["jobs"].values() for s in job["steps"]]


def test_the_workflows_and_the_action_match_githubs_schemas_offline() -> None:
    workflows = check_jsonschema("vendor.github-workflows", *(WORKFLOWS / n for n in NAMES))
    assert workflows.returncode == 0, workflows.stdout + workflows.stderr
    action = check_jsonschema("vendor.github-actions", ACTION)
    assert action.returncode == 0, action.stdout + action.stderr


def test_the_schema_check_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "plan.yml"
    text = (WORKFLOWS / "plan.yml").read_text(encoding="utf-8")
    broken.write_text(text.replace("pull-requests: write", "pull-requests: writ"), "utf-8")
    result = check_jsonschema("vendor.github-workflows", broken)
    assert result.returncode == 1
    assert "pull-requests" in result.stdout


def test_ci_script_runs_the_schema_checks_after_the_tests() -> None:
    script = (PROJECT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    check = ".venv/bin/check-jsonschema --builtin-schema vendor.github-workflows "
    check += ".github/workflows/*.yml"
    assert script.index(check) > script.index(".venv/bin/python -m pytest")


@pytest.mark.parametrize("name", NAMES)
def test_least_privilege_and_pinned_maintained_actions(name: str) -> None:
    workflow = load_workflow(name)
    if name != "ci.yml":
        assert workflow["permissions"] == {}  # nothing by default; each job asks for its own
    for job in workflow["jobs"].values():
        assert "permissions" in job or workflow["permissions"] == {"contents": "read"}
        assert "timeout-minutes" in job
    for step in steps(workflow):
        if "uses" in step:
            assert PINNED.match(step["uses"]), step["uses"]
        else:
            script = step["run"]
            assert not re.search(r"\bcurl\b|\bwget\b|api\.github\.com|\bgh\s+api\b", script)


@pytest.mark.parametrize("name", NAMES)
def test_the_key_is_only_ever_the_secret(name: str) -> None:
    text = (WORKFLOWS / name).read_text(encoding="utf-8")
    assert set(re.findall(r"secrets\.(\w+)", text)) <= {"COPERNIQ_API_KEY"}
    workflow = load_workflow(name)
    for job in workflow["jobs"].values():
        for key, value in (job.get("env") or {}).items():
            if "KEY" in key:
                assert value == "${{ secrets.COPERNIQ_API_KEY }}"


def test_plan_workflow_shape() -> None:
    plan = load_workflow("plan.yml")
    assert plan["on"] == {"pull_request": {"paths": ["opportunities/**", "schemas/**"]}}
    job = plan["jobs"]["plan"]
    assert job["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert plan["jobs"]["validate"]["permissions"] == {"contents": "read"}
    assert job["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    uses = [s["uses"] for s in job["steps"] if "uses" in s]
    assert "marocchino/sticky-pull-request-comment@v2" in uses
    assert "actions/upload-artifact@v4" in uses
    (comment,) = [s for s in job["steps"] if s.get("uses", "").startswith("marocchino/")]
    assert comment["with"] == {"header": "reconciler-plan", "path": "plan.md"}


def test_apply_workflow_shape() -> None:
    apply = load_workflow("apply.yml")
    assert apply["on"]["push"]["branches"] == ["main"]
    assert apply["concurrency"] == {"group": "reconciler-apply", "cancel-in-progress": False}
    job = apply["jobs"]["apply"]
    assert job["environment"] == "coperniq"
    assert job["permissions"] == {"contents": "write"}
    runs = " ".join(s.get("run", "") for s in job["steps"])
    assert "reconciler apply --auto-approve --report apply.md" in runs
    assert "[skip ci]" in runs


def test_drift_workflow_shape() -> None:
    drift = load_workflow("drift.yml")
    assert set(drift["on"]) == {"schedule", "workflow_dispatch"}
    job = drift["jobs"]["drift"]
    assert job["permissions"] == {"contents": "read", "issues": "write"}
    by_uses = {s["uses"].split("@")[0]: s for s in job["steps"] if "uses" in s}
    opened = by_uses["peter-evans/create-issue-from-file"]
    assert opened["with"]["title"] == TITLE  # the Markdown's heading: one rolling issue
    assert opened["with"]["content-filepath"] == "drift.md"
    assert opened["if"] == "steps.drift.outputs.drift == 'true'"
    closed = by_uses["peter-evans/close-issue"]
    assert (
        closed["if"] == "steps.drift.outputs.drift == 'false' && steps.issue.outputs.result != ''"
    )


def test_ci_workflow_runs_the_project_checks() -> None:
    ci = load_workflow("ci.yml")
    assert [s["run"] for s in steps(ci) if "run" in s] == ["bash .ci/run"]


def test_setup_action_installs_from_the_repository() -> None:
    action = parse(ACTION.read_bytes(), str(ACTION))
    assert action["runs"]["using"] == "composite"
    (install,) = [s for s in action["runs"]["steps"] if "run" in s]
    assert install["run"].strip().startswith("python -m pip install")
    assert install["run"].strip().endswith(" .")


def test_pre_commit_hook_validates_the_folder(tmp_path: Path) -> None:
    (hook,) = [h for h in _hooks() if h["id"] == "reconciler-validate"]
    assert hook["language"] == "python" and hook["pass_filenames"] is False
    assert re.search(hook["files"], "opportunities/1001-ramirez-solar.yaml")
    shutil.copytree(PROJECT / "opportunities", tmp_path / "opportunities")
    shutil.copytree(PROJECT / "schemas", tmp_path / "schemas")
    command = ["bash", "-c", f'PATH="{VENV_BIN}:$PATH" {hook["entry"]}']
    ok = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    (tmp_path / "opportunities" / "copy.yaml").write_text(
        (PROJECT / "opportunities" / "1003-oakridge-battery.yaml").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    bad = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1
    assert "id 1003 is also declared in" in bad.stdout


def _hooks() -> list[dict[str, Any]]:
    hooks = yaml.safe_load((PROJECT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert isinstance(hooks, list)
    return hooks


def test_pre_commit_validate_hook_checks_the_catalogue_offline(tmp_path: Path) -> None:
    (hook,) = [h for h in _hooks() if h["id"] == "reconciler-validate"]
    assert re.search(hook["files"], "schemas/catalogue.json")  # a pulled catalogue re-checks
    shutil.copytree(PROJECT / "opportunities", tmp_path / "opportunities")
    shutil.copytree(PROJECT / "schemas", tmp_path / "schemas")
    path = tmp_path / "opportunities" / "1002-chen-roofing.yaml"
    path.write_text(path.read_text().replace("roof_type: Tile", "roof_typ: Tile"))
    command = ["bash", "-c", f'PATH="{VENV_BIN}:$PATH" {hook["entry"]}']
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPERNIQ_")}
    bad = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=60, env=env)
    assert bad.returncode == 1
    line = path.read_text().splitlines().index("  roof_typ: Tile") + 1
    assert bad.stdout.startswith(
        f"opportunities/1002-chen-roofing.yaml:{line}:3: custom.roof_typ: unknown custom field "
        "'roof_typ'; did you mean 'roof_type'?"
    )


@pytest.mark.parametrize(
    ("name", "job"), [("plan.yml", "plan"), ("apply.yml", "apply"), ("drift.yml", "drift")]
)
def test_the_jobs_that_read_live_keep_the_snapshot_cache_per_company(name: str, job: str) -> None:
    workflow = load_workflow(name)
    job_steps = workflow["jobs"][job]["steps"]
    (cache,) = [s for s in job_steps if s.get("uses", "").startswith("actions/cache@")]
    assert cache["with"]["path"] == ".reconciler/cache"
    company = "${{ vars.RECONCILER_COMPANY || github.repository }}"
    assert cache["with"]["key"].startswith(f"reconciler-live-{company}-${{{{ github.run_id }}}}")
    assert cache["with"]["restore-keys"].strip() == f"reconciler-live-{company}-"
    reader = next(i for i, s in enumerate(job_steps) if "reconciler " + job in s.get("run", ""))
    assert job_steps.index(cache) < reader


def test_drift_reads_in_full_once_a_day_and_incrementally_otherwise() -> None:
    drift = load_workflow("drift.yml")
    crons = [c["cron"] for c in drift["on"]["schedule"]]
    assert crons == ["17 6 * * *", "17 0-5,7-23 * * *"]  # every hour, one of them the full read
    (step,) = [s for s in drift["jobs"]["drift"]["steps"] if s.get("id") == "drift"]
    assert step["env"]["SCHEDULE"] == "${{ github.event.schedule }}"
    assert 'if [ "$SCHEDULE" = "17 6 * * *" ]; then refresh=full; fi' in step["run"]
    assert 'reconciler drift --refresh "$refresh"' in step["run"]
