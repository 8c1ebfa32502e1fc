"""The HTTP surface: Starlette routes for the API and for /_sandbox/ control, behind the gate.

Routes are thin: they read and check query parameters (a bad one is a 400 naming it), decode the
JSON body (malformed JSON is INVALID_JSON), call the service and send its JSON. The API is served
at the root and again under /v1 (production's base path), and every /opportunities path also
answers as /requests, the documented alias.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from reconciler.sandbox.config import Faults
from reconciler.sandbox.errors import ApiError, Code, invalid, not_found
from reconciler.sandbox.gate import Gate, Runtime
from reconciler.sandbox.records import parse_instant, phone_digits, to_ms
from reconciler.sandbox.search import parse_condition
from reconciler.sandbox.service import MATCH_BY, STRATEGIES
from reconciler.sandbox.store import Filters

Handler = Callable[[Request], Awaitable[Response]]
_ID = re.compile(r"^[0-9]{1,18}$")
DEFAULT_ORDER = "desc"  # the list prose says desc (the schema default says asc: CONTRACT.md §6)


def _json(value: Any, status: int = 200) -> Response:
    return JSONResponse(value, status_code=status)


def _raw_json(text: str) -> Response:
    return Response(text, media_type="application/json")


# --- query parameters ---------------------------------------------------------------------------


def _int(request: Request, name: str, default: int, low: int, high: int | None = None) -> int:
    text = request.query_params.get(name)
    if text is None:
        return default
    if not re.fullmatch(r"[+-]?[0-9]{1,4300}", text.strip()):
        raise invalid(name, f"{name} must be an integer, got {text!r}")
    value = int(text)
    if value < low or (high is not None and value > high):
        limit = f"{low}..{high}" if high is not None else f"at least {low}"
        raise invalid(name, f"{name} must be {limit}, got {value}")
    return value


def _bool(request: Request, name: str) -> bool:
    text = request.query_params.get(name)
    if text is None:
        return False
    if text.lower() not in ("true", "false"):
        raise invalid(name, f"{name} must be true or false, got {text!r}")
    return text.lower() == "true"


def _choice(request: Request, name: str, choices: tuple[str, ...], default: str) -> str:
    text = request.query_params.get(name)
    if text is None:
        return default
    if text not in choices:
        raise invalid(name, f"{name} must be one of {', '.join(choices)}, got {text!r}")
    return text


def _instant(request: Request, name: str) -> float | None:
    text = request.query_params.get(name)
    if text is None:
        return None
    try:
        return float(to_ms(parse_instant(text)))
    except (ValueError, OverflowError):
        raise invalid(name, f"{name} must be an ISO 8601 date-time, got {text!r}") from None


def _text(request: Request, name: str) -> str | None:
    text = request.query_params.get(name)
    return None if text is None or text == "" else text.lower()


def _paging(request: Request) -> tuple[int, int, bool]:
    page = _int(request, "page", 1, 1)
    page_size = _int(request, "page_size", 20, 1, 100)
    descending = _choice(request, "order_by", ("asc", "desc"), DEFAULT_ORDER) == "desc"
    return page, page_size, descending


def _record_id(request: Request) -> int:
    text = str(request.path_params["record_id"])
    if not _ID.match(text):
        raise not_found(f"opportunity {text!r}")
    return int(text)


async def _body(request: Request) -> object:
    raw = await request.body()
    if not raw.strip():
        raise ApiError(400, Code.INVALID_JSON, "the request body is empty; send a JSON object")

    def no_constants(name: str) -> object:
        raise ValueError(f"{name} is not JSON")

    try:
        return json.loads(raw.decode("utf-8"), parse_constant=no_constants)
    except (UnicodeDecodeError, ValueError) as e:
        raise ApiError(400, Code.INVALID_JSON, f"the request body is not valid JSON: {e}") from None


# --- routes -------------------------------------------------------------------------------------


def _route(path: str, **handlers: Handler) -> Route:
    """One route per path, so that a 405 lists every method the path allows."""

    async def dispatch(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        return await handlers[method](request)

    return Route(path, dispatch, methods=list(handlers))


def _api_routes(rt: Runtime) -> list[BaseRoute]:
    service = rt.service

    async def list_opportunities(request: Request) -> Response:
        page, page_size, descending = _paging(request)
        filters = Filters(
            include_archived=_bool(request, "include_archived"),
            updated_after_ms=_instant(request, "updated_after"),
            updated_before_ms=_instant(request, "updated_before"),
            q=_text(request, "q"),
            title=_text(request, "title"),
            address=_text(request, "address"),
            name=_text(request, "primaryName"),
            phone=phone_digits(_text(request, "primaryPhone") or "") or None,
            email=_text(request, "primaryEmail"),
        )
        _bool(request, "include_virtual_properties")  # accepted; the sandbox has none
        return _raw_json(
            service.list_page(filters, page=page, page_size=page_size, descending=descending)
        )

    async def create_opportunity(request: Request) -> Response:
        allow = _bool(request, "allow_new_options")
        match_by = _choice(request, "match_by", MATCH_BY, "title")
        strategy = _choice(request, "match_found_strategy", STRATEGIES, "skip")
        body = await _body(request)
        text = service.create(body, match_by=match_by, strategy=strategy, allow_new_options=allow)
        # 200 even for a new record: the published document lists no other success status.
        return _raw_json(text)

    async def search_opportunities(request: Request) -> Response:
        page, page_size, descending = _paging(request)
        include_archived = _bool(request, "include_archived")
        logic = _choice(request, "logic", ("and", "or", "AND", "OR"), "and").lower()
        q = request.query_params
        conditions = [
            parse_condition(1, q.get("prop1"), q.get("op1"), q.get("value1"), service.ref)
        ]
        if any(q.get(f"{p}2") is not None for p in ("prop", "op", "value")):
            conditions.append(
                parse_condition(2, q.get("prop2"), q.get("op2"), q.get("value2"), service.ref)
            )
        text = service.search(
            conditions,
            any_of=logic == "or",
            page=page,
            page_size=page_size,
            descending=descending,
            include_archived=include_archived,
        )
        return _raw_json(text)

    async def get_opportunity(request: Request) -> Response:
        record_id = _record_id(request)
        include_archived = _bool(request, "include_archived")
        _bool(request, "include_virtual_properties")
        return _raw_json(service.get(record_id, include_archived=include_archived))

    async def patch_opportunity(request: Request) -> Response:
        record_id = _record_id(request)
        allow = _bool(request, "allow_new_options")
        body = await _body(request)
        return _raw_json(service.patch(record_id, body, allow_new_options=allow))

    async def delete_opportunity(request: Request) -> Response:
        return _json(service.delete(_record_id(request)))

    async def properties(request: Request) -> Response:
        return _json(service.properties(request.query_params.get("record_type")))

    async def list_contacts(request: Request) -> Response:
        page, page_size, descending = _paging(request)
        if request.query_params.get("order_by") is None:
            descending = False  # the contacts schema says asc, and no prose contradicts it
        q = request.query_params.get("q")
        return _json(service.contacts(page=page, page_size=page_size, descending=descending, q=q))

    async def create_contact(request: Request) -> Response:
        return _json(service.create_contact(await _body(request)))

    async def workflows(request: Request) -> Response:
        return _json(service.workflows())

    routes: list[BaseRoute] = []
    for base in ("/opportunities", "/requests"):
        routes += [
            _route(base, GET=list_opportunities, POST=create_opportunity),
            _route(f"{base}/search", GET=search_opportunities),
            _route(
                f"{base}/{{record_id}}",
                GET=get_opportunity,
                PATCH=patch_opportunity,
                DELETE=delete_opportunity,
            ),
        ]
    routes += [
        _route("/properties", GET=properties),
        _route("/contacts", GET=list_contacts, POST=create_contact),
        _route("/workflows", GET=workflows),
    ]
    return routes


def _control_routes(rt: Runtime) -> list[BaseRoute]:
    async def requests(request: Request) -> Response:
        if request.method == "DELETE":
            rt.log.clear()
            return _json({"cleared": True})
        return _json([entry.to_dict() for entry in rt.log.entries()])

    async def reset(request: Request) -> Response:
        rt.service.reset()
        rt.log.clear()
        rt.limiter.reset()
        rt.injector.reseed()
        return _json({"reset": True})

    async def faults(request: Request) -> Response:
        if request.method == "PUT":
            try:
                rt.injector.set(Faults.from_mapping(await _body(request)))
            except (TypeError, ValueError) as e:
                raise invalid(None, f"faults: {e}") from None
        return _json(rt.injector.faults.to_dict())

    async def limits(request: Request) -> Response:
        if request.method == "PUT":
            body = await _body(request)
            if not isinstance(body, dict) or not set(body) <= {"rate_per_second", "rate_per_day"}:
                raise invalid(None, "limits: send {rate_per_second?, rate_per_day?}")
            for name, value in body.items():
                if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                    raise invalid(name, f"{name} must be a positive integer")
            rt.limiter.set_limits(body.get("rate_per_second"), body.get("rate_per_day"))
        return _json({"rate_per_second": rt.limiter.per_second, "rate_per_day": rt.limiter.per_day})

    async def properties(request: Request) -> Response:
        record_type = request.query_params.get("record_type", "opportunity")
        return _json(rt.service.set_properties(record_type, await _body(request)))

    async def record(request: Request) -> Response:
        found = rt.service.record(_record_id(request))
        if found is None:
            raise not_found("opportunity")
        return _json(found)

    return [
        _route("/requests", GET=requests, DELETE=requests),
        _route("/reset", POST=reset),
        _route("/faults", GET=faults, PUT=faults),
        _route("/limits", GET=limits, PUT=limits),
        _route("/records/{record_id}", GET=record),
        _route("/properties", PUT=properties),
    ]


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return _json(exc.body(), exc.status)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        error = ApiError(405, Code.METHOD_NOT_ALLOWED, f"{request.method} is not allowed here")
    else:
        error = ApiError(exc.status_code, Code.NOT_FOUND, f"no route for {request.url.path}")
    return JSONResponse(error.body(), status_code=exc.status_code, headers=exc.headers)


async def _bug(request: Request, exc: Exception) -> Response:
    error = ApiError(500, Code.INTERNAL_SERVER_ERROR, f"sandbox bug: {type(exc).__name__}: {exc}")
    return _json(error.body(), 500)


def build_app(rt: Runtime) -> Gate:
    api = _api_routes(rt)
    app = Starlette(
        routes=[*api, Mount("/v1", routes=api), Mount("/_sandbox", routes=_control_routes(rt))],
        exception_handlers={ApiError: _api_error, HTTPException: _http_error, Exception: _bug},
    )
    return Gate(app, rt)
