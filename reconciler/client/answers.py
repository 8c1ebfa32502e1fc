"""From an HTTP answer to an `ApiError`: what failed, where, and what to do.

Split from `client.api` along its seam: the request loop sends and retries, this module words
the failures. The server's words are untrusted (made one inert line by `escape.terminal`) and may
echo the key (scrubbed by the caller's `scrub`). Pure: a response in, an error out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from reconciler.client.settings import API_KEY_ENV, API_URL_ENV, ClientSettings
from reconciler.errors import (
    ApiError,
    AuthError,
    NotFound,
    RateLimited,
    ServerError,
    ValidationFailed,
)
from reconciler.escape import terminal


def error_for(
    response: httpx.Response,
    where: str,
    record_id: int | None,
    settings: ClientSettings,
    scrub: Callable[[str], str],
) -> ApiError:
    """The `ApiError` for an unsuccessful answer to `where` (`METHOD /path`), its text scrubbed
    of the key by `scrub` and made one inert line."""
    status = response.status_code
    code, field_name, detail = error_body(response)
    # The server's words are untrusted text: one inert line (escape).
    detail = terminal(scrub(detail)).rstrip(".")
    answered = f"{where} answered {status}" + (f" {terminal(code)}" if code else "")
    answered += f": {detail}" if detail else ""
    common: dict[str, Any] = {
        "status": status,
        "code": code,
        "field": field_name,
        "record_id": record_id,
    }
    if status in (401, 403):
        return AuthError(
            sentence(record_id, f"the API refused the key ({answered})."),
            hint=f"check {API_KEY_ENV}: it must be a valid key for {settings.base_url}",
            **common,
        )
    if status == 404:
        hint = (
            "check the id in the record's file: the record may have been deleted"
            if record_id is not None
            else f"check --base-path ({settings.base_path}) and {API_URL_ENV}"
        )
        return NotFound(sentence(record_id, f"not found ({answered})."), hint=hint, **common)
    if status == 429:
        remaining = int_header(response, "X-RateLimit-Remaining")
        limit = int_header(response, "X-RateLimit-Limit")
        left = "unknown" if remaining is None else f"{remaining}"
        left += "" if limit is None else f" of {limit}"
        spent = remaining == 0
        return RateLimited(
            sentence(record_id, f"rate limited ({answered}); requests remaining today: {left}."),
            hint=(
                f"the daily quota ({limit or 5000} requests per key, rolling) is spent: wait "
                "some hours before rerunning"
                if spent
                else "wait a minute and rerun (a rerun converges), or lower --concurrency"
            ),
            remaining=remaining,
            limit=limit,
            **common,
        )
    if status >= 500:
        return ServerError(
            sentence(record_id, f"the API failed ({answered})."),
            hint="the service may be degraded; rerun later (a rerun converges)",
            **common,
        )
    if 400 <= status < 500:
        what = f"field {field_name!r}" if field_name else "the request"
        return ValidationFailed(
            sentence(record_id, f"the API rejected {what} ({answered})."),
            hint=(
                f"fix {field_name!r} in the record's file"
                if field_name and record_id is not None
                else None
            ),
            **common,
        )
    return ApiError(sentence(record_id, f"unexpected answer ({answered})."), **common)


def sentence(record_id: int | None, text: str) -> str:
    """`Record 12: text`, or `Text` when the request was about no record."""
    return f"Record {record_id}: {text}" if record_id is not None else text[:1].upper() + text[1:]


def int_header(response: httpx.Response, name: str) -> int | None:
    try:
        return int(response.headers[name])
    except (KeyError, ValueError):
        return None


def error_body(response: httpx.Response) -> tuple[str | None, str | None, str]:
    """`(code, field, message)` from the API's `{message, code, field}` error body."""
    try:
        body = response.json()
    except ValueError:
        return None, None, response.reason_phrase or ""
    if not isinstance(body, dict):
        return None, None, response.reason_phrase or ""
    code, field_name, message = body.get("code"), body.get("field"), body.get("message")
    return (
        code if isinstance(code, str) else None,
        field_name if isinstance(field_name, str) else None,
        message if isinstance(message, str) else (response.reason_phrase or ""),
    )


def quota_spent(e: BaseException) -> bool:
    # A 429 with nothing left of the daily quota will not clear within our retry window:
    # retrying would only spend the user's time (and maybe more quota).
    return isinstance(e, RateLimited) and e.remaining == 0


def gave_up(e: ApiError, attempts: int, elapsed: float) -> ApiError:
    message = f"{e.message.rstrip('.')}, after {attempts} attempts over {elapsed:.1f} s."
    common: dict[str, Any] = {
        "status": e.status,
        "code": e.code,
        "field": e.field,
        "record_id": e.record_id,
        "hint": e.hint,
    }
    if isinstance(e, RateLimited):
        return RateLimited(message, remaining=e.remaining, limit=e.limit, **common)
    return type(e)(message, **common)
