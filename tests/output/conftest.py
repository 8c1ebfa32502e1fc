"""A sandbox on 127.0.0.1 and a folder of files, for the output and robustness tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.cli import main
from reconciler.sandbox import Sandbox, run_sandbox


def record(id: int, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": id,
        "title": f"Deal {id}",
        "address": [f"{id} Main St, Austin, TX 78701"],
        "trades": ["Solar"],
    }
    return base | fields


@dataclass
class Site:
    sandbox: Sandbox
    root: Path
    dir: Path
    capsys: pytest.CaptureFixture[str]

    def write(self, data: dict[str, Any], name: str | None = None) -> Path:
        path = self.dir / (name or f"{data['id']}.yaml")
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        return path

    def run(self, *args: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = main(list(args))
        out, err = self.capsys.readouterr()
        return code, out, err

    def requests(self, method: str | None = None) -> int:
        return sum(1 for r in self.sandbox.requests() if method in (None, r.method))


@pytest.fixture
def site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Site]:
    """Live records 1 and 2 titled "Deal N"; files that retitle them "Changed N"."""
    live = [record(1), record(2)]
    with run_sandbox({"opportunities": live}) as sandbox:
        monkeypatch.setenv("COPERNIQ_API_URL", sandbox.base_url)
        monkeypatch.setenv("COPERNIQ_API_KEY", sandbox.api_key)
        monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
        monkeypatch.chdir(tmp_path)
        folder = tmp_path / "opportunities"
        folder.mkdir()
        site = Site(sandbox, tmp_path, folder, capsys)
        for n in (1, 2):
            site.write(record(n, title=f"Changed {n}"))
        yield site
