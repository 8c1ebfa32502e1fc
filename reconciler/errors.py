"""Every error a user can act on, in one tree, and the exit codes every command shares.

Every expected failure is a `ReconcilerError` whose message says what is wrong, where
(file:line, record id, field) and what to do, with an optional `hint`. The CLI prints it without
a traceback and exits `ExitCode.ERROR` (1); anything else is a bug and exits `ExitCode.BUG` (70)
with "this is a bug". Nothing here prints.

The tree (in the manner of httpx's `_exceptions.py`: new errors go here, nowhere else):

    ReconcilerError
    ├── ConfigError          a setting: API key, URL, state file, option combination
    ├── StateLocked          another process holds the state file's lock
    ├── DesiredPathError     a --dir/path argument that holds no desired state
    ├── LoadError            a file that is not strict YAML (carries its `Location`)
    ├── FileEditError        a file `adopt` cannot edit safely
    ├── FormatError          a file `fmt` cannot format without changing its meaning or comments
    ├── WriteError           an output file that cannot be written
    ├── NotRegularFile       a FIFO, socket, device or folder where a file is read or written
    ├── FileTooLarge         a state or plan file over its size cap
    ├── CatalogueFileError   a schemas/catalogue.json that cannot be read
    ├── SettingsError        an opportunities/.reconciler.yaml that cannot be used
    ├── Refused              an apply refused before its first request
    └── ApiError             the API answered with an error, or could not be reached
        ├── AuthError            401/403
        ├── NotFound             404
        ├── ValidationFailed     other 4xx
        ├── RateLimited          429 after retries, or the daily quota spent
        ├── ServerError          5xx after retries
        └── ApiUnreachable       no answer after retries

A plain `ReconcilerError` is raised where no subclass says more (a bad --target, a plan file that
is not a plan). Tests and callers catch the most specific class they mean.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from pathlib import Path

    from reconciler.document import Location


class ExitCode(enum.IntEnum):
    """One convention for every command (documented in `--help` and the README)."""

    OK = 0
    ERROR = 1
    CHANGES = 2  # only with --detailed-exitcode: the plan or drift report is not empty
    BUG = 70  # sysexits EX_SOFTWARE: an unexpected exception, "this is a bug"
    USAGE = 64  # sysexits EX_USAGE: click's own 2 is remapped so that 2 always means changes
    INTERRUPTED = 130


EXIT_CODES_HELP = """\b
Exit codes (every command):
  0    success (with --detailed-exitcode: no changes)
  1    error: invalid files, API failure, anything that failed
  2    changes present (only with --detailed-exitcode on plan and drift)
  64   usage error (unknown option, bad argument)
  70   internal error: a bug in reconciler, please report it
  130  interrupted (Ctrl-C)
"""
"""The `ExitCode` convention as every command's --help ends with it."""


class ReconcilerError(Exception):
    """An expected failure with a message a user can act on.

    The user sees `message`, then `hint: ...` on its own line when there is one, and exit 1.
    """

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if self.hint is None else f"{self.message}\n  hint: {self.hint}"


class ConfigError(ReconcilerError):
    """A missing or invalid setting: API key, URL, state file, option combination.

    Raised by `client.settings` (key, URL, limits) and `state` (a state file that cannot be read,
    parsed or written). The user sees which setting or file, and how to fix it; no request is sent
    (or, for a state write, no further one).
    """


class StateLocked(ReconcilerError):
    """Another process holds the state file's lock (`reconciler.lock`): one writer at a time.

    Raised by `lock.state_lock` before anything is read or sent; the user sees the holder's pid,
    host, command and since when, and waits for it or stops it.
    """


class DesiredPathError(ReconcilerError):
    """A path on the command line that holds no desired state: missing, or no YAML files.

    Raised by `validate.discover` before any file is read; the user sees the path and what to pass.
    """


class LoadError(ReconcilerError):
    """A file that cannot be read as strict YAML.

    Raised by `loader` (syntax, duplicate keys, tags, anchors, depth, encoding) and by `yamlfile`
    when written output would not read back. The user sees `file:line:col: field: problem`;
    `problem` is the message without the location.
    """

    def __init__(self, problem: str, location: Location, *, field: str = "-") -> None:
        super().__init__(f"{location}: {field}: {problem}")
        self.problem = problem
        self.location = location
        self.field = field
        self.digest: str | None = None  # the sha256 of the bytes that did not load, if read


class FileEditError(ReconcilerError):
    """A desired-state file that `adopt` cannot edit safely; it is left exactly as it was.

    The user sees the file and why (a construct round-trip editing cannot keep, or an edit that
    would not read back as meant).
    """


class FormatError(ReconcilerError):
    """A desired-state file `fmt` cannot put in canonical form safely; it is left as it was.

    The user sees the file and why (a comment fmt cannot keep in place, or a result that would
    not read back as the original: a bug).
    """


class WriteError(ReconcilerError):
    """An output file (plan, report, imported or adopted file) that cannot be written.

    Raised by `atomic.write_atomic`; the previous content of the file, if any, is untouched (the
    temporary file is removed). The user sees the path and the OS's reason; `os_error` keeps it.
    """

    def __init__(self, path: Path, os_error: OSError, *, hint: str | None = None) -> None:
        super().__init__(
            f"cannot write {path}: {os_error.strerror or os_error}",
            hint=hint or "check the folder and its permissions",
        )
        self.path = path
        self.os_error = os_error


class NotRegularFile(ReconcilerError):
    """A path that names a FIFO, socket, device or folder where reconciler reads or writes a file.

    Raised by `regular` before the path is opened (opening a FIFO blocks forever, reading
    /dev/zero never ends): the user sees the path, what it is, and which file was expected.
    """


class FileTooLarge(ReconcilerError):
    """A state or plan file larger than its cap (`regular.STATE_LIMIT`, `regular.PLAN_LIMIT`).

    Raised by `regular.read_regular` from the file's size, before reading it.
    """


class CatalogueFileError(ReconcilerError):
    """A `schemas/catalogue.json` that cannot be read (not JSON, not the format, not UTF-8).

    Raised by `catalogue_file.read`; the user sees the file and to run `catalogue pull` again.
    Nothing is validated against it.
    """


class SettingsError(ReconcilerError):
    """An `opportunities/.reconciler.yaml` that cannot be used: not strict YAML, an unknown key,
    or an `allow_new_options` that is not true, false or a list of names. The user sees the file
    and line; nothing is checked or sent."""


class Refused(ReconcilerError):
    """An apply refused before any request was sent (or, for a saved plan, before any PATCH).

    Raised by `apply.check_guards`: too many changes without --force, new dropdown options without
    --allow-new-options, or too little daily quota left. The user sees the limit and the option
    that overrides it; nothing was changed.
    """


# --- the API's failures ---------------------------------------------------------------------------

RETRY_STATUSES: Final = frozenset({429, 500, 502, 503, 504})


class ApiError(ReconcilerError):
    """The API answered with an error, or could not be reached.

    Raised by `client.ApiClient` only; messages name the method, path and record and are built
    from scrubbed text, so they never contain the API key. `status` is the HTTP status (None when
    no answer came), `code` and `field` come from the API's `{message, code, field}` body,
    `record_id` is the record the request was about (if any). `retryable` tells the client which
    ones backoff may cure. During an apply, a failed PATCH is reported for its record and the
    others go on; a spent daily quota (`RateLimited`, remaining 0) stops every further PATCH.
    """

    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        field: str | None = None,
        record_id: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.retryable = type(self).retryable
        self.status = status
        self.code = code
        self.field = field
        self.record_id = record_id

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, "
            f"field={self.field!r}, record_id={self.record_id!r}, message={self.message!r})"
        )


class AuthError(ApiError):
    """401/403: the key is missing, wrong, or not allowed here; the hint names the variable."""


class NotFound(ApiError):
    """404: no such record (or archived and asked for without include_archived), or a wrong path.

    A GET of one record turns it into None ("missing"); elsewhere the user sees the path to check.
    """


class ValidationFailed(ApiError):
    """400 (and other 4xx): the API rejected the request; nothing was written (PATCH is atomic).

    The user sees the API's code and field, and which file to fix.
    """


class RateLimited(ApiError):
    """429 after every retry, or at once when the daily quota is spent (`remaining == 0`).

    The user sees the requests remaining and whether to wait a minute or some hours.
    """

    retryable = True

    def __init__(
        self, message: str, *, remaining: int | None = None, limit: int | None = None, **kw: Any
    ) -> None:
        super().__init__(message, **kw)
        self.remaining = remaining  # X-RateLimit-Remaining on the 429 answer, if it carried one
        self.limit = limit


class ServerError(ApiError):
    """5xx after every retry (500, 502, 503 and 504 are retried; 501 and the like are not).

    The user sees the status and that a rerun converges.
    """

    def __init__(self, message: str, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retryable = self.status in RETRY_STATUSES


class ApiUnreachable(ApiError):
    """No answer: connection refused or dropped, timeouts, DNS, after every retry.

    The user sees the API URL and to check it and the network.
    """

    retryable = True


class QuotaTooLow(ReconcilerError):
    """A read that would cost more requests than the API key has left today.

    Raised by `snapshot.LiveCache.read` before the first request of a read that the quota the
    last run was told (`quota.QuotaMemory`, while trustworthy) cannot cover, and by
    `budget.Budgeted` before a request the remaining quota (the last X-RateLimit-Remaining)
    cannot cover; the user sees the requests the read needs, the quota left (and when it was
    said), and what to do. Nothing more was read; nothing was sent.
    """
