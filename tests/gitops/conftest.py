"""A GitOps repository for tests: a working folder with schemas/ and opportunities/, the CLI run
in-process from its root (so the defaults `--dir opportunities` and `--state
.reconciler/state.json` apply, as in CI), and a sandbox on 127.0.0.1 holding the live records."""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.cli import main
from reconciler.sandbox import Sandbox, SandboxConfig, run_sandbox

PROJECT = Path(__file__).resolve().parents[2]


def record(id: int, **fields: Any) -> dict[str, Any]:
    """A live record with realistic required fields (the sandbox adds the server's own)."""
    base: dict[str, Any] = {
        "id": id,
        "title": f"Deal {id}",
        "address": [f"{id} Main St, Austin, TX 78701"],
        "trades": ["Solar"],
    }
    return base | fields


@dataclass
class Result:
    code: int
    out: str
    err: str


@dataclass
class Repo:
    root: Path
    sandbox: Sandbox
    capsys: pytest.CaptureFixture[str]

    @property
    def dir(self) -> Path:
        return self.root / "opportunities"

    def run(self, *args: str) -> Result:
        self.capsys.readouterr()
        code = main(list(args))
        out, err = self.capsys.readouterr()
        return Result(code, out, err)

    def files(self) -> dict[str, str]:
        return {
            p.relative_to(self.dir).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(self.dir.rglob("*.yaml"))
        }

    def _url(self, id: int) -> str:
        return f"{self.sandbox.base_url}/v1/opportunities/{id}"

    def live(self, id: int) -> dict[str, Any]:
        response = httpx.get(
            self._url(id),
            params={"include_archived": "true"},
            headers={"x-api-key": self.sandbox.api_key},
        )
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data

    def edit_live(self, id: int, body: Mapping[str, Any]) -> None:
        """A hand edit in Coperniq: a PATCH that does not come from reconciler."""
        response = httpx.patch(
            self._url(id),
            json=dict(body),
            params={"allow_new_options": "true"},
            headers={"x-api-key": self.sandbox.api_key},
        )
        response.raise_for_status()


def _prepare(
    sandbox: Sandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Repo:
    root = tmp_path / "repo"
    root.mkdir(exist_ok=True)
    shutil.copytree(PROJECT / "schemas", root / "schemas", dirs_exist_ok=True)
    monkeypatch.chdir(root)
    monkeypatch.setenv("COPERNIQ_API_URL", f"{sandbox.base_url}/v1")
    monkeypatch.setenv("COPERNIQ_API_KEY", sandbox.api_key)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("RECONCILER_DEBUG", raising=False)
    return Repo(root, sandbox, capsys)


def _seed(live: Sequence[Mapping[str, Any]] | Mapping[str, Any]) -> dict[str, Any]:
    return dict(live) if isinstance(live, Mapping) else {"opportunities": [dict(r) for r in live]}


@pytest.fixture
def make_repo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Any]:
    """`make_repo(live_records_or_seed, config=None) -> Repo`, stopped after the test."""
    contexts: list[Any] = []

    def make(
        live: Sequence[Mapping[str, Any]] | Mapping[str, Any],
        config: SandboxConfig | None = None,
    ) -> Repo:
        context = run_sandbox(_seed(live), config)
        sandbox = context.__enter__()
        contexts.append(context)
        return _prepare(sandbox, tmp_path, monkeypatch, capsys)

    yield make
    for context in reversed(contexts):
        context.__exit__(None, None, None)


@pytest.fixture(scope="module")
def module_sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    """One sandbox for a test module, seeded with the module's `SEED` (records or a seed)."""
    with run_sandbox(_seed(request.module.SEED)) as sandbox:
        yield sandbox


@pytest.fixture
def repo(
    module_sandbox: Sandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Repo:
    """A fresh repository over the module's sandbox, reset to its seed (log cleared)."""
    module_sandbox.reset()
    return _prepare(module_sandbox, tmp_path, monkeypatch, capsys)
