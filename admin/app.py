"""The admin endpoint (`uvicorn admin.app:app`): JSON API under /api, staff pages, /openapi.json."""

from __future__ import annotations

import logging
import time
import uuid
from pathlib import Path
from typing import Any

import redis
import structlog
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from admin import api, pages
from admin.auth import NotAuthenticated, route_name
from admin.errors import Refused, refused
from admin.metrics import metrics
from admin.rate_limits import RateLimited
from admin.schemas import ErrorOut, HealthOut, ReadyOut
from config.logging import configure_from_settings, unit_of_work
from config.services import redis_client_url
from config.settings import get_settings
from matching.refusals import Refusal
from models.db import get_engine

logger = structlog.get_logger(__name__)

HERE = Path(__file__).parent
SECURITY_HEADERS = {
    # every answer may carry student names: never kept by a browser or a proxy
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
}
# the stylesheet and script carry no student data: a browser keeps them and asks again each time
# (a 304 by their ETag when unchanged), so a page is not held up fetching them anew
STATIC_PATH = "/static"
STATIC_CACHE = "no-cache"
# with Secure cookies the service is reached over HTTPS only, and browsers are told to keep to it
HSTS = {"Strict-Transport-Security": "max-age=31536000"}
HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    429: "rate_limited",
}
SERVER_ERROR = (
    "Something went wrong on our side. Please try again; if it keeps happening,"
    " give your administrator the reference {reference}."
)


def route_server_logs() -> None:
    """uvicorn's own records go through our redacting pipeline; its access line is replaced by ours."""
    for name in ("uvicorn", "uvicorn.error"):
        server_logger = logging.getLogger(name)
        server_logger.handlers.clear()
        server_logger.propagate = True
    # the access line would carry the raw path and query; `admin_request` names the route instead
    logging.getLogger("uvicorn.access").disabled = True


def create_app() -> FastAPI:
    configure_from_settings()
    route_server_logs()
    app = FastAPI(
        title="ale-sync admin",
        version="1.0",
        description="Create Student for ALE, the Student Selector, Link Student to ALE and held records.",
        # the interactive docs load scripts from a CDN, which the pages' CSP rightly refuses
        docs_url=None,
        redoc_url=None,
        exception_handlers={
            Refused: refused_answer,
            Refusal: refused_answer,
            RequestValidationError: invalid_request_answer,
            StarletteHTTPException: http_error_answer,
            NotAuthenticated: pages.to_login,
            RateLimited: rate_limited_answer,
        },
    )
    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount(STATIC_PATH, StaticFiles(directory=HERE / "static"), name="static")
    app.add_api_route("/health", health, methods=["GET"], response_model=HealthOut, tags=["ops"])
    app.add_api_route(
        "/ready",
        ready,
        methods=["GET"],
        response_model=ReadyOut,
        tags=["ops"],
        responses={503: {"model": ReadyOut}},
    )
    app.add_api_route("/metrics", metrics, methods=["GET"], include_in_schema=False)
    app.add_middleware(RequestContext)
    return app


def security_headers() -> dict[str, str]:
    return {**SECURITY_HEADERS, **HSTS} if get_settings().cookie_secure else SECURITY_HEADERS


class RequestContext:
    """One canonical log line per request, with its id bound for everything logged inside it; an
    unexpected failure is answered here, so it too has its headers, its body and its line.
    Plain ASGI: no task group or body stream per request, as Starlette's `BaseHTTPMiddleware` adds."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        answered: dict[str, Any] = {}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.update(security_headers())
                if scope["path"].startswith(f"{STATIC_PATH}/") and message["status"] in (200, 304):
                    headers["Cache-Control"] = STATIC_CACHE
                    del headers["Pragma"]
                answered.update(status=message["status"], ms=(time.perf_counter() - started) * 1000)
            await send(message)

        request_id = uuid.uuid4().hex[:16]
        with unit_of_work(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_headers)
            except Exception:
                # type and frames only: the redaction drops the message (driver errors quote values)
                request = Request(scope)
                logger.error("admin_request_failed", route=route_name(request), exc_info=True)
                if answered:  # the answer has begun: nothing else can be sent on this request
                    raise
                await server_error_answer(request, request_id)(scope, receive, send_with_headers)
            logger.info(
                "admin_request",
                method=scope["method"],
                route=route_name(Request(scope)),
                status=answered.get("status"),
                duration_ms=round(answered.get("ms", 0.0), 1),
            )


def _error(
    status: int,
    code: str,
    message: str,
    fields: list[str] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = ErrorOut(code=code, message=message, fields=fields or [])
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def server_error_answer(request: Request, reference: str) -> Response:
    message = SERVER_ERROR.format(reference=reference)
    if pages.is_page(request):
        return pages.error_page(request, 500, message)
    return _error(500, "internal_error", message)


async def rate_limited_answer(request: Request, error: RateLimited) -> Response:
    headers = {"Retry-After": str(error.retry_after)}
    if pages.is_page(request):
        return pages.error_page(request, 429, "Too many requests. Wait a minute and try again.", headers)
    return _error(429, "rate_limited", f"too many requests; retry in {error.retry_after} s", headers=headers)


async def refused_answer(request: Request, error: Refused | Refusal) -> Response:
    """A refused staff action: matching's refusals answered through admin/errors.py's table."""
    if pages.is_page(request):
        return pages.refusal_page(request, error)
    answer = refused(error)
    return _error(answer.status, answer.code, answer.message, list(answer.fields))


async def invalid_request_answer(request: Request, error: RequestValidationError) -> Response:
    # the submitted values are never echoed back or logged: they may be a child's name or id
    if pages.is_page(request):
        return pages.error_page(request, 422, "The request was not valid. Go back and try again.")
    fields = sorted({".".join(str(p) for p in e.get("loc", ())) for e in error.errors()})
    return _error(422, "invalid_request", "some fields are missing or not valid", fields)


async def http_error_answer(request: Request, error: StarletteHTTPException) -> Response:
    if pages.is_page(request):
        return pages.error_page(request, error.status_code, str(error.detail))
    code = HTTP_CODES.get(error.status_code, "error")
    return _error(error.status_code, code, str(error.detail), headers=getattr(error, "headers", None))


def health() -> HealthOut:
    """Liveness: the process answers."""
    return HealthOut(status="ok")


def ready(response: Response) -> ReadyOut:
    """Readiness: the database and Redis both answer."""
    database = redis_state = "ok"
    try:
        with get_engine().connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:  # any failure means not ready; the type is logged, never the message
        logger.warning("ready_check_failed", part="database", exc_info=True)
        database = "unreachable"
    try:
        client = redis.Redis.from_url(redis_client_url(), socket_timeout=2, socket_connect_timeout=2)
        client.ping()
        client.close()
    except Exception:
        logger.warning("ready_check_failed", part="redis", exc_info=True)
        redis_state = "unreachable"
    ok = database == redis_state == "ok"
    response.status_code = 200 if ok else 503
    return ReadyOut(status="ready" if ok else "not_ready", database=database, redis=redis_state)


app = create_app()
