"""A loaded opportunity file and the names of places in it, without the parser.

`Document` is what checking a file gives (its data, the digest of its bytes, the bytes) and
finds where a key starts only when asked (`locate`, which parses again). Split from `loader` so
that a run whose files all come from the file cache never imports the YAML parser.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

MAX_BYTES = 1024 * 1024
"""Files larger than 1 MiB are refused: an opportunity is a few hundred bytes."""

Key = str | int
"""One step of a path into a document: a mapping key or a sequence index."""


@dataclass(frozen=True)
class Location:
    """A 1-based position in a file."""

    path: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"


def format_field(keys: Sequence[Key]) -> str:
    """The dotted name of a path: `custom.hoa_approval`, `trades[1]`; `-` for the whole file."""
    out = ""
    for key in keys:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else key)
    return out or "-"


@dataclass(frozen=True)
class Document:
    """One loaded file: `digest` is the sha256 of its bytes, `source` the bytes for `locate`."""

    path: Path
    data: dict[str, Any]
    digest: str
    source: bytes = field(default=b"", repr=False, compare=False)

    def locate(self, *keys: Key) -> Location:
        """Where the key (in a mapping) or item (in a sequence) at `keys` starts.

        Falls back to the nearest ancestor that exists, and to 1:1 for the file itself.
        """
        positions = self._positions
        path = tuple(keys)
        while path and path not in positions:
            path = path[:-1]
        line, col = positions.get(path, (1, 1))
        return Location(str(self.path), line, col)

    @cached_property
    def _positions(self) -> dict[tuple[Key, ...], tuple[int, int]]:
        # Computed on first use only; cached_property writes straight into the instance dict,
        # which a frozen dataclass allows.
        source = self.source
        if not source:
            # A document checked in a worker process travels without its bytes (they would
            # double what crosses the process boundary): read them again, best effort.
            try:
                source = self.path.read_bytes()
            except OSError:
                return {}
        from reconciler.loader import positions  # the parser: only for a file with a problem

        return positions(source)
