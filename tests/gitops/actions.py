"""Run a workflow job's shell steps the way a GitHub runner does, for tests.

Each `run:` step is written to a file and run with `bash --noprofile --norc -eo pipefail` (what
`shell: bash` means on a runner) in the workspace, with the job's and the step's `env:`, a fresh
`GITHUB_OUTPUT` and `GITHUB_STEP_SUMMARY` file per step, and the outputs of earlier steps
available to later `${{ steps.ID.outputs.NAME }}` expressions. Steps that use an action are
skipped (they need GitHub). Only the expressions the workflows are allowed to use in `env:` are
evaluated (`secrets.*`, `vars.*`, `steps.*.outputs.*`); anything else fails the test, which keeps
the workflows' shell plain enough for this to mean something. A failing step ends the job, as
on GitHub.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.loader import parse

WORKFLOWS = Path(__file__).resolve().parents[2] / ".github" / "workflows"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
VENV_BIN = Path(sys.executable).parent


def load_workflow(name: str) -> dict[str, Any]:
    return parse((WORKFLOWS / name).read_bytes(), name)


@dataclass
class StepRun:
    name: str
    skipped: bool
    code: int = 0
    stdout: str = ""
    stderr: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    summary: str = ""


@dataclass
class JobRun:
    steps: list[StepRun]

    @property
    def ok(self) -> bool:
        return all(s.skipped or s.code == 0 for s in self.steps)

    @property
    def summary(self) -> str:
        return "".join(s.summary for s in self.steps)

    def step(self, name: str) -> StepRun:
        (found,) = [s for s in self.steps if s.name == name]
        return found

    def ran(self) -> list[str]:
        return [s.name for s in self.steps if not s.skipped]


def _outputs(text: str) -> dict[str, str]:
    """`name=value` lines and `name<<DELIMITER` blocks, as the runner reads GITHUB_OUTPUT."""
    out: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            value = []
            for more in lines:
                if more == delimiter:
                    break
                value.append(more)
            out[name] = "\n".join(value)
        elif "=" in line:
            name, value_text = line.split("=", 1)
            out[name] = value_text
    return out


class Runner:
    """Runs jobs in `workspace` with `secrets` and `vars` for the expressions."""

    def __init__(
        self,
        workspace: Path,
        *,
        secrets: Mapping[str, str],
        variables: Mapping[str, str] | None = None,
        env: Mapping[str, str] | None = None,
        github: Mapping[str, str] | None = None,
    ) -> None:
        self.workspace = workspace
        self.github = dict(github or {})  # e.g. {"github.event.schedule": "17 6 * * *"}
        self.secrets = dict(secrets)
        self.variables = dict(variables or {})
        self.base_env = {
            "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "HOME": str(workspace.parent / "home"),
            "LANG": "C.UTF-8",
            "GIT_CONFIG_NOSYSTEM": "1",
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_REF_NAME": "main",
            "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567",
            "RUNNER_TEMP": str(workspace.parent / "runner-temp"),
            **(env or {}),
        }
        for folder in ("home", "runner-temp"):
            (workspace.parent / folder).mkdir(exist_ok=True)
        self.runs = 0

    def _evaluate(self, text: str, steps: Mapping[str, StepRun]) -> str:
        def value(match: re.Match[str]) -> str:
            expr = match.group(1)
            parts = expr.split(".")
            if len(parts) == 2 and parts[0] == "secrets":
                return self.secrets.get(parts[1], "")
            if len(parts) == 2 and parts[0] == "vars":
                return self.variables.get(parts[1], "")
            if parts[0] == "github":
                return self.github.get(expr, "")
            if len(parts) == 4 and parts[0] == "steps" and parts[2] == "outputs":
                step = steps.get(parts[1])
                return "" if step is None else step.outputs.get(parts[3], "")
            raise AssertionError(f"expression not allowed in a shell step's env: {expr!r}")

        return EXPRESSION.sub(value, text)

    def run_job(self, workflow: Mapping[str, Any], job_id: str) -> JobRun:
        job = workflow["jobs"][job_id]
        by_id: dict[str, StepRun] = {}
        done: list[StepRun] = []
        for index, step in enumerate(job["steps"]):
            name = str(step.get("name") or step.get("uses") or f"step {index}")
            if "uses" in step:
                done.append(StepRun(name, skipped=True))
                continue
            assert "if" not in step, f"{name}: shell steps must not be conditional"
            assert "${{" not in step["run"], f"{name}: pass expressions through env:, not run:"
            env = dict(self.base_env)
            for scope in (workflow.get("env") or {}, job.get("env") or {}, step.get("env") or {}):
                env.update({k: self._evaluate(str(v), by_id) for k, v in scope.items()})
            result = self._run(name, step["run"], env)
            done.append(result)
            if "id" in step:
                by_id[str(step["id"])] = result
            if result.code != 0:
                break
        return JobRun(done)

    def _run(self, name: str, script: str, env: dict[str, str]) -> StepRun:
        self.runs += 1
        scratch = self.workspace.parent / "runner-temp"
        script_file = scratch / f"step-{self.runs}.sh"
        output_file = scratch / f"output-{self.runs}"
        summary_file = scratch / f"summary-{self.runs}"
        script_file.write_text(script, encoding="utf-8")
        output_file.write_text("", encoding="utf-8")
        summary_file.write_text("", encoding="utf-8")
        env = {**env, "GITHUB_OUTPUT": str(output_file), "GITHUB_STEP_SUMMARY": str(summary_file)}
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script_file)],
            cwd=self.workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return StepRun(
            name,
            skipped=False,
            code=proc.returncode,
            stdout=proc.stdout,
            stderr=proc.stderr,
            outputs=_outputs(output_file.read_text(encoding="utf-8")),
            summary=summary_file.read_text(encoding="utf-8"),
        )
