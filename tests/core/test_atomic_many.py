"""`write_atomic_many`: many files, each whole or untouched, with one flush to disk for all."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

from reconciler.atomic import write_atomic_many
from reconciler.errors import NotRegularFile, WriteError

linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="sync() waits on Linux"
)


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """Every sync, fsync and rename, in order (each still done for real)."""
    seen: list[tuple[str, Any]] = []
    real_sync, real_fsync, real_replace = os.sync, os.fsync, os.replace

    def sync() -> None:
        seen.append(("sync", None))
        real_sync()

    def fsync(fd: int) -> None:
        seen.append(("fsync", fd))
        real_fsync(fd)

    def replace(src: str, dst: Any) -> None:
        seen.append(("replace", Path(dst).name))
        real_replace(src, dst)

    monkeypatch.setattr(os, "sync", sync)
    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    return seen


def test_writes_every_file_exactly_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    existing = tmp_path / "b.yaml"
    existing.write_text("old")
    existing.chmod(0o640)
    files = [(tmp_path / "a.yaml", "é\n"), (existing, b"new\n"), (tmp_path / "sub" / "c.yaml", "c")]
    written: list[None] = []
    write_atomic_many(files, on_written=lambda: written.append(None))
    assert (tmp_path / "a.yaml").read_bytes() == "é\n".encode()
    assert existing.read_bytes() == b"new\n"
    assert (tmp_path / "sub" / "c.yaml").read_text() == "c"
    assert stat.S_IMODE((tmp_path / "a.yaml").stat().st_mode) == 0o644
    assert stat.S_IMODE(existing.stat().st_mode) == 0o640  # a replaced file keeps its mode
    assert len(written) == 3
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a.yaml", "b.yaml", "c.yaml", "sub"]


@linux_only
def test_one_flush_before_any_file_is_in_place_then_one_fsync_per_folder(
    tmp_path: Path, calls: list[tuple[str, Any]]
) -> None:
    files = [(tmp_path / f"{i}.yaml", f"{i}\n") for i in range(50)]
    files.append((tmp_path / "sub" / "x.yaml", "x"))
    write_atomic_many(files)
    kinds = [kind for kind, _ in calls]
    # No per-file fsync; the data is on disk before the first rename; then each folder's entry.
    assert kinds == ["sync"] + ["replace"] * 51 + ["fsync"] * 2


def test_a_failure_while_writing_touches_no_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = tmp_path / "0.yaml"
    old.write_text("old")
    real_write = os.write
    writes: list[int] = []

    def full_disk(fd: int, data: Any) -> int:
        writes.append(fd)
        if len(writes) == 3:
            raise OSError(28, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", full_disk)
    files = [(tmp_path / f"{i}.yaml", "new") for i in range(5)]
    with pytest.raises(WriteError, match=r"cannot write .*2\.yaml: No space left"):
        write_atomic_many(files)
    assert old.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0.yaml"]  # no temporary file left


def test_a_failure_while_renaming_says_how_many_files_are_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_replace = os.replace

    def replace(src: str, dst: Any) -> None:
        if Path(dst).name == "2.yaml":
            raise OSError(13, "Permission denied")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    files = [(tmp_path / f"{i}.yaml", "new") for i in range(4)]
    with pytest.raises(WriteError, match=r"2\.yaml: Permission denied") as info:
        write_atomic_many(files)
    assert info.value.hint is not None and "2 of 4 files were written" in info.value.hint
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0.yaml", "1.yaml"]


def test_a_special_file_is_never_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "1.yaml"
    os.mkfifo(fifo)
    with pytest.raises(NotRegularFile):
        write_atomic_many([(tmp_path / "0.yaml", "a"), (fifo, "b")])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["1.yaml"]


def test_modes_are_exact_whatever_the_umask(tmp_path: Path) -> None:
    existing = tmp_path / "kept.yaml"
    existing.write_text("old")
    existing.chmod(0o664)
    old = os.umask(0o077)
    try:
        write_atomic_many([(tmp_path / "new.yaml", "n"), (existing, "e")])
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.yaml").stat().st_mode) == 0o644
    assert stat.S_IMODE(existing.stat().st_mode) == 0o664


def test_ctrl_c_while_renaming_leaves_whole_files_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_replace = os.replace

    def replace(src: str, dst: Any) -> None:
        if Path(dst).name == "1.yaml":
            raise KeyboardInterrupt
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(KeyboardInterrupt):
        write_atomic_many([(tmp_path / f"{i}.yaml", f"{i}") for i in range(3)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0.yaml"]
    assert (tmp_path / "0.yaml").read_text() == "0"
