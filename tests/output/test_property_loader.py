"""Loader fuzzing (issue 9, property tests): for arbitrary bytes, YAML-like text, deep nesting and
huge scalars, `validate` accepts the file or reports problems located in it (file:line:col). It
never raises, and every problem line is inert on a terminal.

Example counts are bounded so that the suite stays fast; the sizes are bounded by the loader's
own 1 MiB cap, which the huge-scalar cases straddle.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.errors import LoadError
from reconciler.filecache import json_exact
from reconciler.loader import MAX_BYTES, load_file
from reconciler.validate import format_problems, load_desired

FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)

YAML_PIECES = st.sampled_from(
    [
        *"abcxyz019 :-,[]{}#&*!|>'\"?%@`.\\~\t\n",
        *("\n  ", "\n- ", ": ", "id: 1\n", "title: ", "address: [", "trades:\n  - ", "custom:\n  "),
        *("true", "null", "~", "yes", "0x1F", "0123", "1e400", "1e-400", "12345678901234567890"),
        *("2026-01-15", "1.000000000000000000001", '"\\e"', '"\\x00"', "'a''b'", "|\n  x", ">-"),
        *("---\n", "...\n", "<<: ", "!!int ", "!x ", "&a ", "*a", "? ", "%YAML 1.2\n", "\ufeff"),
        *("é", "\u2028", "\x85", "\x00", "\x1b[31m", "\r\n", "\ud7ff", "\U0001f600"),
    ]
)


def check(raw: bytes) -> None:
    """Validate one file holding `raw`; every outcome must be a located problem or a document."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "f.yaml")
        path.write_bytes(raw)
        desired = load_desired([path])
        # YAML breaks lines at CR, LF, NEL, LS and PS: an upper bound of the file's lines.
        breaks = (b"\n", b"\r", "\x85".encode(), "\u2028".encode(), "\u2029".encode())
        lines = sum(raw.count(b) for b in breaks) + 1
        for p in desired.problems:
            assert p.path == str(path)
            assert 1 <= p.line <= lines and p.col >= 1, p
            assert p.message.strip(), p
        assert (len(desired.documents), bool(desired.problems)) in ((1, False), (0, True))
        for line in format_problems(desired.problems, "github"):
            assert "\x1b" not in line and "\x00" not in line and "\r" not in line
            assert "\n" not in line
        # The file cache keeps loaded records as JSON without checking each one again: every
        # record the strict loader yields must come back from a JSON round trip exactly.
        # Records with schema problems are cached too, so this asks the loader, not validate.
        try:
            loaded = load_file(path)
        except LoadError:
            return
        assert json_exact(loaded.data), loaded.data


@FUZZ
@given(st.binary(max_size=600))
def test_arbitrary_bytes(raw: bytes) -> None:
    check(raw)


@FUZZ
@given(st.lists(YAML_PIECES, max_size=120).map("".join))
def test_yaml_like_text(text: str) -> None:
    check(text.encode("utf-8", "surrogatepass"))


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)


@FUZZ
@given(
    st.fixed_dictionaries(
        {"id": st.integers(), "title": st.text(max_size=10)},
        optional={"custom": JSONISH, "trades": JSONISH, "value": JSONISH, "extra": JSONISH},
    )
)
def test_documents_a_yaml_writer_makes(data: dict[str, object]) -> None:
    check(yaml.dump(data, allow_unicode=True).encode("utf-8", "surrogatepass"))


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    depth=st.integers(min_value=1, max_value=200_000),
    shape=st.sampled_from(["[", "{a: ", "- ", "a:\n", "? "]),
)
def test_deep_nesting(depth: int, shape: str) -> None:
    if shape == "a:\n":
        raw = "".join("  " * i + "a:\n" for i in range(min(depth, 2000)))
    else:
        closing = {"[": "]", "{a: ": "}"}.get(shape, "")
        raw = "id: " + shape * depth + "x" + closing * depth
    check(raw.encode())


@pytest.mark.parametrize("size", [MAX_BYTES - 100, MAX_BYTES - 5, MAX_BYTES + 1, 3 * MAX_BYTES])
@pytest.mark.parametrize("quoted", [False, True])
def test_huge_scalars(size: int, quoted: bool) -> None:
    head = b'id: 1\naddress: ["a"]\ntrades: []\ntitle: '
    body = b"x" * max(size - len(head) - 2, 0)
    check(head + (b'"' + body + b'"' if quoted else body))
