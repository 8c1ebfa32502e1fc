"""A world for end-to-end tests: a sandbox on 127.0.0.1, a folder of files, the CLI in-process."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from reconciler.cli import main
from reconciler.sandbox import LoggedRequest, Sandbox, SandboxConfig, run_sandbox


def record(id: int, **fields: Any) -> dict[str, Any]:
    """A live/desired record with realistic required fields."""
    base: dict[str, Any] = {
        "id": id,
        "title": f"Deal {id}",
        "address": [f"{id} Main St, Austin, TX 78701"],
        "trades": ["Solar"],
    }
    return base | fields


@dataclass
class World:
    sandbox: Sandbox
    dir: Path
    state: Path
    capsys: pytest.CaptureFixture[str]

    def write(self, data: Mapping[str, Any], name: str | None = None) -> Path:
        path = self.dir / (name or f"{data['id']}.yaml")
        path.write_text(yaml.safe_dump(dict(data), sort_keys=False), encoding="utf-8")
        return path

    def run(self, *args: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = main([*args])
        out, err = self.capsys.readouterr()
        return code, out, err

    def plan(self, *args: str) -> tuple[int, str, str]:
        return self.run("plan", "--dir", str(self.dir), "--state", str(self.state), *args)

    def apply(self, *args: str) -> tuple[int, str, str]:
        return self.run(
            "apply", "--dir", str(self.dir), "--state", str(self.state), "--auto-approve", *args
        )

    def plan_json(self, *args: str) -> dict[str, Any]:
        code, out, err = self.plan("--format", "json", *args)
        assert code in (0, 1, 2), err
        data: dict[str, Any] = json.loads(out)
        return data

    def patches(self) -> list[LoggedRequest]:
        return [r for r in self.sandbox.requests() if r.method == "PATCH"]

    def live(self, id: int) -> dict[str, Any]:
        response = httpx.get(
            f"{self.sandbox.base_url}/opportunities/{id}",
            params={"include_archived": "true"},
            headers={"x-api-key": self.sandbox.api_key},
        )
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data

    def edit_live(self, id: int, body: Mapping[str, Any]) -> None:
        """A hand edit in Coperniq: a PATCH that does not come from reconciler."""
        response = httpx.patch(
            f"{self.sandbox.base_url}/opportunities/{id}",
            json=dict(body),
            headers={"x-api-key": self.sandbox.api_key},
        )
        response.raise_for_status()


@pytest.fixture
def make_world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Any]:
    sandboxes: list[Any] = []

    def make(
        live: Sequence[Mapping[str, Any]],
        desired: Sequence[Mapping[str, Any]] = (),
        config: SandboxConfig | None = None,
    ) -> World:
        context = run_sandbox({"opportunities": [dict(r) for r in live]}, config)
        sandbox = context.__enter__()
        sandboxes.append(context)
        monkeypatch.setenv("COPERNIQ_API_URL", sandbox.base_url)
        monkeypatch.setenv("COPERNIQ_API_KEY", sandbox.api_key)
        monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
        folder = tmp_path / "opportunities"
        folder.mkdir(exist_ok=True)
        world = World(sandbox, folder, tmp_path / "state.json", capsys)
        for data in desired:
            world.write(data)
        return world

    yield make
    for context in sandboxes:
        context.__exit__(None, None, None)
