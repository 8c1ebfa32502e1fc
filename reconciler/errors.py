"""The errors a user can act on, and the exit codes every command shares.

Every expected failure is a `ReconcilerError` whose message says what is wrong, where
(file:line, record id, field) and what to do. The CLI prints it without a traceback and exits
1; anything else is a bug and exits `EXIT_BUG`. Nothing here prints.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """One convention for every command (documented in `--help` and the README)."""

    OK = 0
    ERROR = 1
    CHANGES = 2  # only with --detailed-exitcode: the plan or drift report is not empty
    BUG = 70  # sysexits EX_SOFTWARE: an unexpected exception, "this is a bug"
    USAGE = 64  # sysexits EX_USAGE: click's own 2 is remapped so that 2 always means changes
    INTERRUPTED = 130


class ReconcilerError(Exception):
    """An expected failure with a message a user can act on."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if self.hint is None else f"{self.message}\n  hint: {self.hint}"


class ConfigError(ReconcilerError):
    """A missing or invalid setting: API key, URL, state file, option combination."""


class StateLocked(ReconcilerError):
    """Another process holds the state file's lock (`reconciler.lock`): one writer at a time."""
