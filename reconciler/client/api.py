"""`ApiClient`: the one place the reconciler talks HTTP to the opportunities API.

It sends every request through a concurrency cap and the shared rate limiter, retries 429, 5xx and
transport failures with exponential backoff and full jitter (capped in attempts and total time),
counts every attempt (each one costs quota), remembers the last `X-RateLimit-*` headers, and turns
failures into `ApiError`s. The key lives in one default header and nowhere else: error text passes
through `_scrub`, and no header is ever logged. How an answer becomes an `ApiError` is in
`client.answers`.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
import urllib.request
from collections.abc import Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Final, Self

import httpx
import orjson
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_random_exponential,
)

from reconciler import __version__
from reconciler.client.answers import (
    error_for,
    gave_up,
    int_header,
    quota_spent,
    sentence,
)
from reconciler.client.network import Permanent, permanent
from reconciler.client.ratelimit import RateLimiter
from reconciler.client.settings import API_URL_ENV, ClientSettings
from reconciler.errors import ApiError, ApiUnreachable, NotFound
from reconciler.escape import terminal

log = logging.getLogger("reconciler.client")

USER_AGENT: Final = f"reconciler/{__version__}"


class ApiClient:
    """An async client for the opportunities API. Use as `async with ApiClient(settings) as api:`.

    Every HTTP attempt, retries included, is counted in `requests_sent`: each is a request the
    user pays for out of the daily quota. `last_remaining` and `last_limit` are the last
    `X-RateLimit-Remaining` / `X-RateLimit-Limit` seen; `throttled` counts 429 answers received.
    `transport` is the seam for an in-process app; by default it is real HTTP.
    """

    def __init__(
        self, settings: ClientSettings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.settings = settings
        self.requests_sent = 0
        self.throttled = 0
        self.last_remaining: int | None = None
        self.last_limit: int | None = None
        # The rest of the answer that last told the quota, for the quota memory
        # (`reconciler.quota`): its reset header and Date as sent, and this machine's clock then.
        self.last_reset: str | None = None
        self.last_date: str | None = None
        self.last_seen_at: datetime | None = None
        self._limiter = RateLimiter(settings.rate_per_second, settings.rate_window)
        self._slots = asyncio.Semaphore(settings.concurrency)
        timeout = httpx.Timeout(
            connect=settings.connect_timeout,
            read=settings.read_timeout,
            write=settings.read_timeout,
            pool=settings.connect_timeout + settings.read_timeout,
        )
        self._http = httpx.AsyncClient(
            base_url=settings.base_url,
            headers={
                "x-api-key": settings.api_key,
                "User-Agent": USER_AGENT,
                "Accept": "application/json",
            },
            timeout=timeout,
            limits=httpx.Limits(
                max_connections=settings.concurrency,
                max_keepalive_connections=settings.concurrency,
            ),
            # A redirect would carry x-api-key to wherever it points (httpx strips only
            # Authorization on a cross-origin redirect): never follow one.
            follow_redirects=False,
            transport=transport,
            verify=_tls_context(settings.base_url),
        )

    @property
    def concurrency(self) -> int:
        return self.settings.concurrency

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- endpoints ------------------------------------------------------------------------------
    # The signatures repeat `protocol.Api`'s on purpose: an implementation must spell its own
    # parameters, and mypy --strict checks them against the Protocol (the one typed description).

    async def list_page(
        self,
        page: int,
        page_size: int = 100,
        *,
        include_archived: bool = True,
        order_by: str = "asc",
        updated_after: str | None = None,
        filters: Mapping[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        """One page of `GET /opportunities` (a bare JSON array; the last page is short or empty).

        `filters`: the API's search parameters (`title`, `address`, `primaryEmail`, ...)."""
        params = {
            "page": str(page),
            "page_size": str(page_size),
            "include_archived": _flag(include_archived),
            "order_by": order_by,
        }
        if updated_after is not None:
            params["updated_after"] = updated_after
        params.update(filters or {})
        body = await self._call("GET", self.settings.base_path, params=params)
        if not isinstance(body, list) or not all(isinstance(r, dict) for r in body):
            raise self._unexpected("GET", self.settings.base_path, "a JSON array of records", body)
        return body

    async def get(self, record_id: int, *, include_archived: bool = True) -> dict[str, Any] | None:
        """One record, or None when the API answers 404 (no such record)."""
        path = f"{self.settings.base_path}/{record_id}"
        params = {"include_archived": _flag(include_archived)}
        try:
            body = await self._call("GET", path, params=params, record_id=record_id)
        except NotFound:
            return None
        if not isinstance(body, dict):
            raise self._unexpected("GET", path, "a JSON object", body, record_id=record_id)
        return body

    async def patch(
        self, record_id: int, body: Mapping[str, Any], *, allow_new_options: bool = False
    ) -> dict[str, Any]:
        """`PATCH` one record with a partial body; returns the updated record.

        Retried after a dropped connection or a 5xx like any other call: a PATCH that sets values
        is idempotent, so applying it twice leaves the same record.
        """
        path = f"{self.settings.base_path}/{record_id}"
        params = {"allow_new_options": _flag(allow_new_options)}
        answer = await self._call("PATCH", path, params=params, json=body, record_id=record_id)
        if not isinstance(answer, dict):
            raise self._unexpected("PATCH", path, "a JSON object", answer, record_id=record_id)
        return answer

    async def create(
        self,
        body: Mapping[str, Any],
        *,
        match_by: str,
        strategy: str,
        allow_new_options: bool = False,
    ) -> dict[str, Any]:
        """`POST /opportunities`: an upsert; returns the record created, or the one it matched.

        Retried after a dropped connection or a 5xx like any other call: with `match_by` and
        the `skip` strategy a repeat matches the record the first attempt made, and the caller
        tells a created record from a matched one by its values.
        """
        path = self.settings.base_path
        params = {
            "match_by": match_by,
            "match_found_strategy": strategy,
            "allow_new_options": _flag(allow_new_options),
        }
        answer = await self._call("POST", path, params=params, json=body)
        if not isinstance(answer, dict):
            raise self._unexpected("POST", path, "a JSON object", answer)
        return answer

    async def delete(self, record_id: int) -> bool:
        """`DELETE /opportunities/{id}`; False when the record was already gone (404)."""
        path = f"{self.settings.base_path}/{record_id}"
        try:
            await self._call("DELETE", path, record_id=record_id)
        except NotFound:
            return False
        return True

    async def properties(self, record_type: str = "opportunity") -> list[dict[str, Any]]:
        """The property catalogue for one record type (`GET /properties?record_type=...`)."""
        body = await self._call("GET", "/properties", params={"record_type": record_type})
        items = body.get(record_type, []) if isinstance(body, dict) else None
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise self._unexpected(
                "GET", "/properties", f"an object with a {record_type!r} array", body
            )
        return items

    # --- the request loop -----------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Mapping[str, Any] | None = None,
        record_id: int | None = None,
    ) -> Any:
        s = self.settings
        retrying = AsyncRetrying(
            stop=stop_after_attempt(s.max_attempts) | stop_before_delay(s.max_retry_seconds),
            wait=wait_random_exponential(multiplier=s.backoff_base, max=s.backoff_max),
            retry=retry_if_exception(
                lambda e: isinstance(e, ApiError) and e.retryable and not quota_spent(e)
            ),
            reraise=True,
            before_sleep=lambda rs: log.debug(
                "retrying %s %s after attempt %d: %s",
                method,
                path,
                rs.attempt_number,
                type(rs.outcome.exception()).__name__ if rs.outcome else "?",
            ),
        )
        started = time.monotonic()
        attempts = 0
        try:
            async for attempt in retrying:
                with attempt:
                    attempts += 1
                    return await self._send(method, path, params, json, record_id)
        except ApiError as e:
            if e.retryable and attempts > 1:
                raise gave_up(e, attempts, time.monotonic() - started) from e.__cause__
            raise
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover

    async def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        json: Mapping[str, Any] | None,
        record_id: int | None,
    ) -> Any:
        where = f"{method} {path}"
        # The concurrency slot first, then the rate slot: a rate slot taken while still queued for
        # a connection would count time the request is not yet on its way.
        async with self._slots, self._limiter.slot():
            self.requests_sent += 1
            try:
                response = await self._http.request(method, path, params=params, json=json)
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as e:
                log.debug("%s: %s", where, type(e).__name__)
                cause = permanent(e, self._http.base_url.host, f"{API_URL_ENV} / --api-url")
                if cause is not None:
                    raise self._unreachable_for_good(where, record_id, cause) from None
                if isinstance(e, httpx.TimeoutException):
                    detail = f"no answer in time ({type(e).__name__})"
                else:
                    detail = f"{type(e).__name__}: {e}".rstrip(": ")
                raise ApiUnreachable(
                    self._scrub(
                        sentence(
                            record_id,
                            f"no complete answer from the API at {self.settings.base_url} "
                            f"({where}): {detail}.",
                        )
                    ),
                    record_id=record_id,
                    hint=f"check {API_URL_ENV} / --api-url and the network; a rerun converges",
                ) from None
            except httpx.HTTPError as e:
                raise ApiError(
                    self._scrub(sentence(record_id, f"{where} failed: {type(e).__name__}: {e}.")),
                    record_id=record_id,
                ) from None
        self._note_limits(response)
        log.debug("%s -> %d", where, response.status_code)
        if response.status_code == 429:
            self.throttled += 1
        if response.is_success:
            if not response.content.strip():
                return None  # a DELETE may answer 200 with no body
            try:
                # orjson: a 10,000-record listing is ~19 MB of JSON, and the standard decoder
                # spent 0.2 s of a plan's 0.7 s read on it. Its errors are ValueErrors too.
                return orjson.loads(response.content)
            except ValueError:
                raise self._unexpected(
                    method, path, "JSON", response.text[:200], record_id=record_id
                ) from None
        raise self._error(response, where, record_id)

    def _unreachable_for_good(
        self, where: str, record_id: int | None, cause: Permanent
    ) -> ApiUnreachable:
        """A transport failure no retry can cure: said once, without "a rerun converges"."""
        error = ApiUnreachable(
            self._scrub(
                sentence(
                    record_id,
                    f"cannot reach the API at {self.settings.base_url} ({where}): "
                    f"{terminal(cause.reason)}; not retried.",
                )
            ),
            record_id=record_id,
            hint=cause.hint,
        )
        error.retryable = False
        return error

    def _note_limits(self, response: httpx.Response) -> None:
        remaining = int_header(response, "X-RateLimit-Remaining")
        if remaining is not None:
            self.last_remaining = remaining
            headers = response.headers
            self.last_reset = headers.get("X-RateLimit-Reset") or headers.get("RateLimit-Reset")
            self.last_date = headers.get("Date")
            self.last_seen_at = datetime.now(UTC)
        limit = int_header(response, "X-RateLimit-Limit")
        if limit is not None:
            self.last_limit = limit

    def _error(self, response: httpx.Response, where: str, record_id: int | None) -> ApiError:
        return error_for(response, where, record_id, self.settings, self._scrub)

    def _unexpected(
        self, method: str, path: str, wanted: str, got: Any, *, record_id: int | None = None
    ) -> ApiError:
        shown = self._scrub(repr(got)[:200])
        return ApiError(
            f"Unexpected answer from {method} {path}: wanted {wanted}, got {shown}.",
            record_id=record_id,
            hint=f"check that {API_URL_ENV} points at the Coperniq API (.../v1)",
        )

    def _scrub(self, text: str) -> str:
        return text.replace(self.settings.api_key, "***")


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _tls_context(base_url: str) -> ssl.SSLContext | bool:
    """The TLS verification for the API: the system's (True) for https. A plain-http API (the
    sandbox) never uses TLS unless through a proxy: without one it gets a context that trusts
    no certificate at all (so any TLS would fail, never pass unchecked), which saves loading
    the CA bundle (about 0.1 s of every command)."""
    if base_url.startswith("http://") and not urllib.request.getproxies():
        return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    return True
