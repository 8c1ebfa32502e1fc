"""The file cache: a warm load gives exactly what a cold one gives, parses only changed bytes,
survives what `git checkout` does to mtimes, and is rebuilt, never trusted, when unreadable."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import orjson
import pytest

from reconciler import filecache
from reconciler.filecache import FILE_NAME, FileCache, json_exact
from reconciler.validate import Desired, load_desired

HERE = Path(__file__).parent
CASES = HERE / "cases"
EXAMPLES = HERE.parents[1] / "opportunities"


def snapshot(desired: Desired) -> tuple[object, ...]:
    return (
        [(str(d.path), d.data, d.digest) for d in desired.documents],
        desired.problems,
        desired.warnings,
        desired.files,
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "opportunities"
    shutil.copytree(CASES, target)
    for example in EXAMPLES.glob("*.yaml"):
        shutil.copy(example, target / example.name)
    return target


def load(folder: Path, cache_dir: Path) -> tuple[Desired, FileCache]:
    cache = FileCache.open(cache_dir)
    return load_desired([folder], cache=cache), cache


def test_warm_equals_cold_and_parses_nothing(folder: Path, tmp_path: Path) -> None:
    cold = load_desired([folder])
    first, cache = load(folder, tmp_path / "cache")
    assert cache.hits == 0 and (tmp_path / "cache" / FILE_NAME).is_file()
    warm, cache = load(folder, tmp_path / "cache")
    assert snapshot(first) == snapshot(warm) == snapshot(cold)
    assert cold.problems and cold.documents  # the corpus holds both kinds
    # every file the cache can answer for was answered (non-UTF-8 and the like included)
    assert cache.hits == len(cold.files)


def test_only_changed_bytes_are_parsed_and_mtimes_do_not_matter(
    folder: Path, tmp_path: Path
) -> None:
    load(folder, tmp_path / "cache")
    edited = folder / "1002-chen-roofing.yaml"
    edited.write_text(edited.read_text().replace("Chen", "Chen-Li"))
    for path in folder.iterdir():  # what a checkout does: every mtime moves
        os.utime(path, (1_000_000_000, 1_000_000_000))
    warm, cache = load(folder, tmp_path / "cache")
    assert cache.hits == len(warm.files) - 1
    assert snapshot(warm) == snapshot(load_desired([folder]))
    assert any("Chen-Li" in str(d.data.get("title")) for d in warm.documents)


def test_problems_follow_the_file_to_its_new_name(folder: Path, tmp_path: Path) -> None:
    load(folder, tmp_path / "cache")
    (folder / "bad-email.yaml").rename(folder / "renamed.yaml")
    warm, cache = load(folder, tmp_path / "cache")
    assert cache.hits == len(warm.files)
    assert snapshot(warm) == snapshot(load_desired([folder]))
    assert any(p.path.endswith("renamed.yaml") for p in warm.problems)
    assert not any(p.path.endswith("bad-email.yaml") for p in warm.problems)


@pytest.mark.parametrize(
    "damage",
    ["truncate", "garbage", "other-tool", "malformed-entry", "bad-problem", "directory"],
)
def test_an_unreadable_cache_is_rebuilt_never_trusted(
    folder: Path, tmp_path: Path, damage: str
) -> None:
    cache_dir = tmp_path / "cache"
    load(folder, cache_dir)
    path = cache_dir / FILE_NAME
    data = orjson.loads(path.read_bytes())
    # A planted lie: if trusted, example 1001 would load with another title.
    for record, _ in data["entries"].values():
        if record and record.get("id") == 1001:
            record["title"] = "LIE"
    if damage == "truncate":
        path.write_bytes(orjson.dumps(data)[:-100])
    elif damage == "garbage":
        path.write_bytes(b"\xff\x00 nothing")
    elif damage == "other-tool":
        data["tool"] = "0" * 64
        path.write_bytes(orjson.dumps(data))
    elif damage == "malformed-entry":
        data["entries"]["x" * 64] = "what"
        path.write_bytes(orjson.dumps(data))
    elif damage == "bad-problem":
        data["entries"]["y" * 64] = [None, [[1, "one", "-", "m", False]]]
        path.write_bytes(orjson.dumps(data))
    elif damage == "directory":
        path.unlink()
        path.mkdir()
    warm, cache = load(folder, cache_dir)
    assert cache.hits == 0
    assert len(cache.notices) == 1 if damage != "directory" else len(cache.notices) == 2
    assert "ignored" in cache.notices[0]
    assert snapshot(warm) == snapshot(load_desired([folder]))
    assert not any(d.data.get("title") == "LIE" for d in warm.documents)
    if damage != "directory":  # rebuilt: the next run is warm again and right
        again, cache = load(folder, cache_dir)
        assert cache.hits == len(again.files) and not cache.notices


def test_the_planted_lie_is_read_when_the_cache_is_sound(folder: Path, tmp_path: Path) -> None:
    """The control for the test above: the cache really is what a warm run believes."""
    cache_dir = tmp_path / "cache"
    load(folder, cache_dir)
    path = cache_dir / FILE_NAME
    data = orjson.loads(path.read_bytes())
    for record, _ in data["entries"].values():
        if record and record.get("id") == 1001:
            record["title"] = "LIE"
    path.write_bytes(orjson.dumps(data))
    warm, _ = load(folder, cache_dir)
    assert any(d.data.get("title") == "LIE" for d in warm.documents)


def test_values_json_cannot_hold_exactly_are_never_cached(tmp_path: Path) -> None:
    folder = tmp_path / "opportunities"
    folder.mkdir()
    text = (EXAMPLES / "1001-ramirez-solar.yaml").read_text()
    (folder / "big.yaml").write_text(text.replace("value:", "size: 1e400\nvalue:", 1))
    cold = load_desired([folder])
    load(folder, tmp_path / "cache")
    warm, cache = load(folder, tmp_path / "cache")
    assert snapshot(warm) == snapshot(cold)
    assert cache.hits == (0 if not cold.problems else 1)


def test_json_exact() -> None:
    assert json_exact({"a": [1, 2.5, "x", None, True, {"b": -3}]})
    assert not json_exact({"a": float("inf")})
    assert not json_exact({"a": 2**64})
    assert not json_exact({1: "x"})
    assert not json_exact({"a": (1, 2)})


def test_a_fifo_in_the_folder_does_not_hang_the_cached_load(folder: Path, tmp_path: Path) -> None:
    os.mkfifo(folder / "pipe.yaml")
    cold = load_desired([folder])
    load(folder, tmp_path / "cache")
    warm, _ = load(folder, tmp_path / "cache")
    assert snapshot(warm) == snapshot(cold)
    assert any(p.path.endswith("pipe.yaml") for p in warm.problems)


# --- the stat index: unchanged files are not even read -----------------------------------------


def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files the cache reads (a spy around the real read)."""
    seen: list[str] = []
    real = filecache.read_bounded

    def spy(path: Path) -> bytes | None:
        seen.append(path.name)
        return real(path)

    monkeypatch.setattr(filecache, "read_bounded", spy)
    return seen


def test_files_unchanged_since_well_before_the_cache_was_written_are_not_read(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(filecache, "RACY_NS", 0)  # no margin: the files were just written
    cold = load_desired([folder])
    load(folder, tmp_path / "cache")  # the first run fills the cache
    load(folder, tmp_path / "cache")  # the next reads every file once more, noting its stat
    read = reads(monkeypatch)
    warm, _ = load(folder, tmp_path / "cache")
    assert snapshot(warm) == snapshot(cold)
    assert read == []

    # Same size, other bytes, and the mtime put back as `git checkout` or a tool might: the
    # ctime still moved, so the file is read and its new content seen.
    edited = folder / "1002-chen-roofing.yaml"
    before = edited.stat()
    text = edited.read_text()
    edited.write_text(text.replace("Chen", "Chan"))
    os.utime(edited, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert edited.stat().st_size == before.st_size
    again, _ = load(folder, tmp_path / "cache")
    assert read == [edited.name]
    assert snapshot(again) == snapshot(load_desired([folder]))
    assert "Chan" in str([d.data for d in again.documents if d.path == edited])


def test_a_file_changed_just_before_the_cache_was_written_is_read_again(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(folder, tmp_path / "cache")
    load(folder, tmp_path / "cache")
    read = reads(monkeypatch)
    load(folder, tmp_path / "cache")
    # Every file was written a moment ago, within RACY_NS of the cache: none is trusted unread.
    assert len(read) == len(load_desired([folder]).files)


def test_a_malformed_stat_index_drops_the_cache(folder: Path, tmp_path: Path) -> None:
    load(folder, tmp_path / "cache")
    path = tmp_path / "cache" / FILE_NAME
    data = orjson.loads(path.read_bytes())
    data["stats"] = {"x.yaml": [1, 2, 3, "4", 5, "f" * 64]}
    path.write_bytes(orjson.dumps(data))
    _, cache = load(folder, tmp_path / "cache")
    assert cache.notices and "stat index is malformed" in cache.notices[0]
