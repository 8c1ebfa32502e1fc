"""apply on a real terminal (a pseudo-terminal): the confirmation prompt and the progress bar."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from typing import Any

from reconciler.errors import ExitCode

from .conftest import record


def run_on_a_terminal(args: list[str], env: dict[str, str], answer: str) -> tuple[int, str]:
    """Run the CLI with stdin, stdout and stderr on a pty; answer the prompt; return the screen."""
    leader, follower = os.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconciler", *args],
        stdin=follower, stdout=follower, stderr=follower, env=env, close_fds=True,
    )  # fmt: skip
    os.close(follower)
    screen = b""
    answered = False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            screen += chunk
        if not answered and b"Only 'yes' is accepted" in screen:
            os.write(leader, answer.encode() + b"\n")
            answered = True
        if proc.poll() is not None and not ready:
            break
    os.close(leader)
    return proc.wait(timeout=10), screen.decode(errors="replace")


def test_apply_asks_on_a_terminal_and_applies_on_yes(make_world: Any) -> None:
    world = make_world([record(1, value=1), record(2)], [record(1, value=2), record(2)])
    env = os.environ | {"COPERNIQ_API_URL": world.sandbox.base_url, "NO_COLOR": "1"}
    args = ["apply", "--dir", str(world.dir), "--state", str(world.state)]
    code, screen = run_on_a_terminal(args, env, "no")
    assert code == ExitCode.ERROR and "apply cancelled: nothing was sent" in screen
    assert world.patches() == []

    code, screen = run_on_a_terminal(args, env, "yes")
    assert code == ExitCode.OK, screen
    assert "Applying" in screen  # the progress bar, on the terminal's stderr
    assert "1 applied, 0 failed" in screen
    assert [p.path for p in world.patches()] == ["/opportunities/1"]
