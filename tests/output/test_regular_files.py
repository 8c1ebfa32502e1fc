"""Only regular files are read (issue 9 point 10) and every output is checked before the first
request or write (point 11).

A FIFO, socket or device in the folder, or named by --state, --out, --report or a plan file, is
reported and never opened; state and plan files have a size cap. The commands that could hang
are run in a child process with a timeout and a memory limit, so that the old behaviour fails
the test instead of hanging it or eating the machine's memory.
"""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from reconciler.adopt import Adopted, adopt_record
from reconciler.diff import FieldChange
from reconciler.drift import DriftedRecord

from .conftest import Site


def child(site: Site, *args: str) -> subprocess.CompletedProcess[str]:
    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, 2 * 2**30))

    return subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        cwd=site.root,
        capture_output=True,
        text=True,
        timeout=20,
        preexec_fn=limit_memory,
        check=False,
    )


def test_a_fifo_in_the_folder_is_reported_and_never_opened(site: Site) -> None:
    os.mkfifo(site.dir / "x.yaml")
    result = child(site, "validate", "opportunities")
    assert result.returncode == 1, result.stderr
    assert (
        "opportunities/x.yaml:1:1: -: this is a FIFO (named pipe), not a regular file; "
        "reconciler did not open it: remove it from the folder"
    ) in result.stdout
    assert "1 problem in 1 file (3 files checked)" in result.stderr


def test_a_socket_in_the_folder_is_reported(site: Site) -> None:
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(site.dir / "s.yaml"))
        code, out, _ = site.run("validate", "opportunities")
    assert code == 1
    assert "opportunities/s.yaml:1:1: -: this is a socket, not a regular file" in out


@pytest.mark.parametrize("command", ["plan", "drift"])
def test_a_fifo_as_state_is_refused(site: Site, command: str) -> None:
    os.mkfifo(site.root / "state.fifo")
    result = child(site, command, "--state", "state.fifo")
    assert result.returncode == 1, result.stderr
    assert "state.fifo is a FIFO (named pipe), not a regular file" in result.stderr
    assert site.requests() == 0


def test_dev_zero_as_state_is_refused_without_reading_it(site: Site) -> None:
    result = child(site, "plan", "--state", "/dev/zero")
    assert result.returncode == 1, result.stderr
    assert "/dev/zero" in result.stderr and "character device" in result.stderr
    assert "MemoryError" not in result.stderr


def test_a_state_file_over_the_cap_is_refused(site: Site) -> None:
    with open(site.root / "big.json", "wb") as f:
        f.truncate(65 * 2**20)  # sparse: costs no disk
    code, _, err = site.run("plan", "--state", "big.json")
    assert code == 1
    assert "big.json is larger than 64 MiB, too large for a state file; it was not read" in err
    assert site.requests() == 0


@pytest.mark.parametrize("command", [["show"], ["apply", "--auto-approve"]])
def test_a_fifo_as_plan_file_is_refused(site: Site, command: list[str]) -> None:
    os.mkfifo(site.root / "plan.json")
    result = child(site, *command, "plan.json")
    assert result.returncode == 1, result.stderr
    assert "plan.json is a FIFO (named pipe), not a regular file" in result.stderr


def test_a_plan_file_over_the_cap_is_refused(site: Site) -> None:
    with open(site.root / "plan.json", "wb") as f:
        f.truncate(257 * 2**20)
    result = child(site, "show", "plan.json")
    assert result.returncode == 1, result.stderr
    assert "plan.json is larger than 256 MiB, too large for a plan file" in result.stderr


@pytest.mark.parametrize("command", ["plan", "drift"])
def test_a_fifo_as_out_is_refused_before_any_request(site: Site, command: str) -> None:
    os.mkfifo(site.root / "out.json")
    code, _, err = site.run(command, "--out", "out.json")
    assert code == 1
    assert "out.json is a FIFO (named pipe), not a regular file" in err
    assert site.requests() == 0
    assert (site.root / "out.json").is_fifo()


# --- point 11: outputs are checked before the first request or write ----------------------------


@pytest.fixture
def blocked(site: Site) -> Path:
    """A path no file can be written under: its parent is a file."""
    path = site.root / "not-a-folder"
    path.write_text("a file where a folder is needed", encoding="utf-8")
    return path


def test_apply_report_that_cannot_be_written_stops_before_the_first_patch(
    site: Site, blocked: Path
) -> None:
    code, _, err = site.run("apply", "--auto-approve", "--report", str(blocked / "report.md"))
    assert code == 1
    assert f"cannot write {blocked / 'report.md'}" in err
    assert site.requests("PATCH") == 0
    assert site.requests() == 0


@pytest.mark.parametrize("command", ["plan", "drift"])
def test_out_that_cannot_be_written_stops_before_any_request(
    site: Site, blocked: Path, command: str
) -> None:
    code, _, err = site.run(command, "--out", str(blocked / "out"))
    assert code == 1
    assert f"cannot write {blocked / 'out'}" in err
    assert site.requests() == 0


def test_import_into_a_folder_that_cannot_be_written_stops_before_any_request(
    site: Site, blocked: Path
) -> None:
    code, _, err = site.run("import", "--all", "--dir", str(blocked / "opportunities"))
    assert code == 1
    assert f"cannot write {blocked / 'opportunities'}" in err
    assert site.requests() == 0


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_adopt_writes_nothing_when_one_file_cannot_be_written(site: Site) -> None:
    locked = site.dir / "locked"
    locked.mkdir()
    (site.dir / "2.yaml").rename(locked / "2.yaml")
    before = (site.dir / "1.yaml").read_bytes()
    locked.chmod(0o555)
    try:
        code, _, err = site.run("adopt", "--dir", "opportunities")
    finally:
        locked.chmod(0o755)
    assert code == 1
    assert "cannot write opportunities/locked" in err
    assert (site.dir / "1.yaml").read_bytes() == before  # not half the files
    assert site.requests() == 0


def test_fmt_reports_a_fifo_in_the_folder_without_opening_it(site: Site) -> None:
    os.mkfifo(site.dir / "x.yaml")
    result = child(site, "fmt", "--check", "opportunities")
    assert result.returncode == 1, result.stderr
    assert "x.yaml is a FIFO (named pipe), not a regular file" in result.stderr


def test_adopt_refuses_a_file_swapped_for_a_fifo_since_it_was_loaded(tmp_path: Path) -> None:
    fifo = tmp_path / "1.yaml"
    os.mkfifo(fifo)
    record = DriftedRecord(1, str(fifo), "t", (FieldChange("title", "live", "git"),), None, None)
    done: list[Adopted] = []
    worker = threading.Thread(target=lambda: done.append(adopt_record(record, fifo, "0" * 64)))
    worker.start()
    worker.join(10)
    if worker.is_alive():  # blocked opening the FIFO: give it a writer so the thread can end
        with open(fifo, "wb"):
            pass
        worker.join(10)
    assert done and done[0].error is not None
    assert "is a FIFO (named pipe), not a regular file" in done[0].error
