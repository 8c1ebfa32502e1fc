"""The API's failures as errors a user can act on: what failed, where, what to do.

`ApiError` carries the HTTP status, the API's `code` and `field`, and the record id the request was
about. `retryable` tells the client which ones backoff may cure. Messages name the method, path and
record, and are built by the client from scrubbed text: they never contain the API key.
"""

from __future__ import annotations

from typing import Any, Final

from reconciler.errors import ReconcilerError

RETRY_STATUSES: Final = frozenset({429, 500, 502, 503, 504})


class ApiError(ReconcilerError):
    """The API answered with an error, or could not be reached.

    `status` is the HTTP status (None when no answer came), `code` and `field` come from the API's
    `{message, code, field}` body, `record_id` is the record the request was about (if any).
    Subclasses: `AuthError` (401/403), `NotFound` (404), `ValidationFailed` (other 4xx),
    `RateLimited` (429 after retries, or the daily quota), `ServerError` (5xx after retries),
    `ApiUnreachable` (connection failures and timeouts after retries).
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
    """401/403: the key is missing, wrong, or not allowed here."""


class NotFound(ApiError):
    """404: no such record (or archived and asked for without include_archived), or a wrong path."""


class ValidationFailed(ApiError):
    """400 (and other 4xx): the API rejected the request; nothing was written (PATCH is atomic)."""


class RateLimited(ApiError):
    """429 after every retry, or at once when the daily quota is spent (`remaining == 0`)."""

    retryable = True

    def __init__(
        self, message: str, *, remaining: int | None = None, limit: int | None = None, **kw: Any
    ) -> None:
        super().__init__(message, **kw)
        self.remaining = remaining  # X-RateLimit-Remaining on the 429 answer, if it carried one
        self.limit = limit


class ServerError(ApiError):
    """5xx after every retry (500, 502, 503 and 504 are retried; 501 and the like are not)."""

    def __init__(self, message: str, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retryable = self.status in RETRY_STATUSES


class ApiUnreachable(ApiError):
    """No answer: connection refused or dropped, timeouts, DNS, after every retry."""

    retryable = True
