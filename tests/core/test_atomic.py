"""The one durable writer: unique temporary file, fsync, rename, fsync of the directory."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from reconciler.atomic import write_atomic
from reconciler.cli.common import write_text
from reconciler.errors import WriteError


def test_writes_text_and_bytes_exactly(tmp_path: Path) -> None:
    write_atomic(tmp_path / "a.txt", "é\nline\n")
    write_atomic(tmp_path / "b.bin", b"\x00\xff")
    assert (tmp_path / "a.txt").read_bytes() == "é\nline\n".encode()
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\xff"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.bin"]  # no temp left


def test_creates_parent_folders_and_keeps_an_existing_mode(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "er" / "f.yaml"
    write_atomic(target, "x")
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    target.chmod(0o640)
    write_atomic(target, "y")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    write_atomic(tmp_path / "secret", "s", new_mode=0o600)
    assert stat.S_IMODE((tmp_path / "secret").stat().st_mode) == 0o600


def test_fsyncs_the_file_and_the_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real(fd))[1])
    write_atomic(tmp_path / "f", "one")
    assert len(synced) == 2  # the data, then the directory entry
    synced.clear()
    write_atomic(tmp_path / "new", "two", sync_new=False)
    assert synced == []  # a new file may skip it (import) ...
    write_atomic(tmp_path / "new", "three", sync_new=False)
    assert len(synced) == 2  # ... a replaced one never does


def test_a_leftover_temp_name_does_not_block_the_write(tmp_path: Path) -> None:
    # The old plan/report writer used the fixed name `.NAME.tmp`: a leftover (or a concurrent
    # run's) temp file made it fail or clobbered the other run's output.
    (tmp_path / ".plan.json.tmp").mkdir()
    write_text(tmp_path / "plan.json", "{}\n")
    assert (tmp_path / "plan.json").read_text() == "{}\n"


def test_a_failed_write_keeps_the_old_content_and_says_where(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "report.md"
    target.write_text("old")

    def broken(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(WriteError, match=r"cannot write .*report\.md: No space left") as info:
        write_atomic(target, "new")
    assert info.value.hint
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.md"]
