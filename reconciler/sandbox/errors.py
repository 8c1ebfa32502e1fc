"""The sandbox's own error types: API errors that become HTTP answers, and start-up errors.

An `ApiError` is what a route raises to answer `{message, code, field}` with a status, exactly as
the Coperniq API does (CONTRACT.md sections 3 and 5). `SeedError` and `SandboxError` are start-up
failures (a bad seed file, a database that already holds data, a refused bind address); the CLI
turns them into a one-line message without a traceback. The sandbox imports nothing from the
reconciler's core, so these do not derive from `reconciler.errors`.
"""

from __future__ import annotations

import enum
from typing import Any


class Code(enum.Enum):
    """The `code` of an error body. RATE_LIMITED is the sandbox's choice: Coperniq documents 429
    but no code for it, and a distinct code lets a client tell a quota from a validation error."""

    VALIDATION_ERROR = "VALIDATION_ERROR"
    INVALID_JSON = "INVALID_JSON"
    NOT_FOUND = "NOT_FOUND"
    UNAUTHORIZED = "UNAUTHORIZED"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
    RATE_LIMITED = "RATE_LIMITED"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"


class ApiError(Exception):
    """An answer other than 2xx, raised anywhere below a route and rendered by the app."""

    def __init__(self, status: int, code: Code, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field

    def body(self) -> dict[str, Any]:
        # `field` is omitted rather than null: the published schemas type it as a plain string.
        out: dict[str, Any] = {"message": self.message, "code": self.code.value}
        if self.field is not None:
            out["field"] = self.field
        return out


def invalid(field: str | None, message: str) -> ApiError:
    """A 400 VALIDATION_ERROR naming the offending field."""
    return ApiError(400, Code.VALIDATION_ERROR, message, field)


def not_found(what: str) -> ApiError:
    return ApiError(404, Code.NOT_FOUND, f"{what} not found")


class SandboxError(Exception):
    """The sandbox cannot start as asked; the message says why and what to do."""


class SeedError(SandboxError):
    """A seed file or mapping is malformed; the message names the file, line and path."""
