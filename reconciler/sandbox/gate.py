"""The gate in front of the API routes: key check, rate limits, injected faults, request log.

A plain ASGI middleware (no background tasks, so one request is one task and its context). For an
API request it reads the body, applies the fault plan's latency, checks the key (401), the limits
(429, rejected requests not counted), injects a 5xx or 429 when the plan says so (before
handling: nothing is written), lets the routes handle the rest, adds the rate-limit headers, and
either sends the answer or, for a dropped answer, sends the headers and half the body and
abandons the connection (uvicorn closes it). Control routes under /_sandbox/ only need the key.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reconciler.sandbox.errors import ApiError, Code
from reconciler.sandbox.faults import FaultInjector, Outcome
from reconciler.sandbox.limits import Decision, RateLimiter
from reconciler.sandbox.requestlog import LoggedRequest, RequestLog
from reconciler.sandbox.service import Service

CONTROL_PREFIX = "/_sandbox"
_logger = logging.getLogger("reconciler.sandbox")
_dropping: contextvars.ContextVar[bool] = contextvars.ContextVar("sandbox_dropping", default=False)


class _QuietDrops(logging.Filter):
    """uvicorn reports an answer cut short as an error; for an injected drop it is intended."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (_dropping.get() and "without completing response" in record.getMessage())


_QUIET = _QuietDrops()


def install_log_filter() -> None:
    logger = logging.getLogger("uvicorn.error")
    if _QUIET not in logger.filters:
        logger.addFilter(_QUIET)


@dataclass(slots=True)
class Runtime:
    """Everything a running sandbox shares between its routes, its gate and its handle."""

    service: Service
    limiter: RateLimiter
    injector: FaultInjector
    log: RequestLog
    keys: frozenset[str]


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def _logged_body(raw: bytes) -> Any | None:
    if not raw:
        return None
    text = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def error_start(status: int, body: bytes, content_type: bytes) -> Message:
    return {
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())],
    }


def _api_error(error: ApiError) -> tuple[Message, bytes]:
    body = json.dumps(error.body()).encode()
    return error_start(error.status, body, b"application/json"), body


def _gateway_error(status: int) -> tuple[Message, bytes]:
    if status == 500:
        return _api_error(ApiError(500, Code.INTERNAL_SERVER_ERROR, "Internal server error"))
    # 502/503 come from the proxy in front of a real API: HTML, not the API's JSON.
    reason = {502: "Bad Gateway", 503: "Service Unavailable"}[status]
    body = f"<html><body><h1>{status} {reason}</h1></body></html>".encode()
    return error_start(status, body, b"text/html; charset=utf-8"), body


class Gate:
    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.rt = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        key = _header(scope, b"x-api-key")
        if path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/"):
            if key not in self.rt.keys:
                await self._send(send, *_api_error(_unauthorized(key)))
                return
            await self.app(scope, receive, send)
            return
        await self._api(scope, receive, send, key)

    async def _api(self, scope: Scope, receive: Receive, send: Send, key: str | None) -> None:
        raw = await _read_body(receive)
        method: str = scope["method"]
        plan = self.rt.injector.plan(method)
        if plan.delay:
            await asyncio.sleep(plan.delay)
        decision: Decision | None = None
        dropped = False
        if key not in self.rt.keys:
            start, body = _api_error(_unauthorized(key))
        else:
            assert key is not None
            decision = self.rt.limiter.check(key, record=plan.outcome is not Outcome.THROTTLE)
            if plan.outcome is Outcome.THROTTLE or not decision.allowed:
                start, body = _api_error(
                    ApiError(429, Code.RATE_LIMITED, "Rate limit exceeded; slow down and retry")
                )
            elif plan.outcome is Outcome.ERROR:
                start, body = _gateway_error(plan.error_status)
            else:
                start, body = await self._handle(scope, raw)
                dropped = plan.drop
        if decision is not None:
            start["headers"] = [
                *start["headers"],
                (b"x-ratelimit-limit", str(decision.limit).encode()),
                (b"x-ratelimit-remaining", str(decision.remaining).encode()),
            ]
        query = dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True))
        self.rt.log.append(
            LoggedRequest(method, scope["path"], query, _logged_body(raw), start["status"], dropped)
        )
        if dropped:
            _dropping.set(True)
            await send(start)
            # Half the body, then return without finishing: the client reads a truncated answer.
            await send(
                {"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True}
            )
            return
        await self._send(send, start, body)

    async def _handle(self, scope: Scope, raw: bytes) -> tuple[Message, bytes]:
        start: Message = {}
        chunks: list[bytes] = []
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return {"type": "http.disconnect"}
            replayed = True
            return {"type": "http.request", "body": raw, "more_body": False}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                start["headers"] = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        try:
            await self.app(scope, replay, capture)
        except Exception:
            # Starlette has already answered 500 (the `_bug` handler) and re-raises; record the
            # bug where an operator looks, and keep the answer so that the request is logged.
            _logger.exception("sandbox bug while handling %s %s", scope["method"], scope["path"])
            if not start:
                return _api_error(ApiError(500, Code.INTERNAL_SERVER_ERROR, "sandbox bug"))
        return start, b"".join(chunks)

    @staticmethod
    async def _send(send: Send, start: Message, body: bytes) -> None:
        await send(start)
        await send({"type": "http.response.body", "body": body, "more_body": False})


def _unauthorized(key: str | None) -> ApiError:
    why = "missing x-api-key header" if key is None else "invalid API key"
    return ApiError(401, Code.UNAUTHORIZED, f"Authentication failed: {why}")


async def _read_body(receive: Receive) -> bytes:
    parts: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(parts)
