"""`reconciler sandbox`: started as a real process it prints its URL and key, answers curl-style
requests, and stops cleanly on Ctrl-C; bad input is one clear line and no traceback."""

from __future__ import annotations

import json
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from reconciler.cli import main
from reconciler.errors import ExitCode

from .conftest import seed


def read_banner(proc: subprocess.Popen[str], timeout: float = 20.0) -> list[str]:
    """The banner's lines, read on a thread so that a silent process fails the test."""
    assert proc.stdout is not None
    stdout = proc.stdout
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in stdout], daemon=True).start()
    banner: list[str] = []
    deadline = time.monotonic() + timeout
    while not banner or not banner[-1].startswith("Press Ctrl-C"):
        try:
            banner.append(lines.get(timeout=max(0.01, deadline - time.monotonic())).rstrip("\n"))
        except queue.Empty:
            proc.kill()
            pytest.fail(f"no complete banner within {timeout}s; got {banner!r}")
    return banner


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_the_command_serves_and_stops_cleanly(tmp_path: Path, stop: signal.Signals) -> None:
    seed_file = tmp_path / "seed.json"
    seed_file.write_text(json.dumps(seed()))
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "sandbox", "--port", "0", "--seed", str(seed_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        banner = read_banner(proc)
        url = re.search(r"listening on (http://127\.0\.0\.1:\d+)", banner[0])
        key = re.search(r"^API key: (\S+)$", banner[1])
        assert url is not None and key is not None, banner
        assert "5 opportunities" in banner[2]
        answer = httpx.get(
            f"{url.group(1)}/opportunities",
            params={"page_size": 2},
            headers={"x-api-key": key.group(1)},
        )
        assert answer.status_code == 200
        assert [r["id"] for r in answer.json()] == [5, 4]
        assert f"curl -H 'x-api-key: {key.group(1)}'" in banner[4]
    finally:
        proc.send_signal(stop)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0
    assert err.strip() == "Sandbox stopped."


def test_a_bad_seed_file_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_file = tmp_path / "seed.yaml"
    seed_file.write_text(
        "opportunities:\n  - id: 1\n    title: T\n    address: [x]\n    trades: [Sun]\n"
    )
    assert main(["sandbox", "--port", "0", "--seed", str(seed_file)]) == ExitCode.ERROR
    err = capsys.readouterr().err
    assert f"{seed_file}:5:5: opportunities[0].trades" in err
    assert "'Sun' is not an existing option" in err
    assert "Traceback" not in err


def test_a_remote_address_needs_allow_remote(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sandbox", "--host", "0.0.0.0", "--port", "0"]) == ExitCode.USAGE
    assert "--allow-remote" in capsys.readouterr().err


def test_a_busy_port_is_an_error_with_a_hint(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["sandbox", "--port", str(port)]) == ExitCode.ERROR
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err and "--port 0" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--error-rate", "0.8", "--throttle-rate", "0.5"], "must not exceed 1"),
        (["--rate-per-second", "0"], "rate-per-second"),
        (["--api-key", "short"], "at least 8 characters"),
    ],
)
def test_bad_options(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sandbox", "--port", "0", *args]) in (ExitCode.USAGE, ExitCode.ERROR)
    assert message in capsys.readouterr().err
