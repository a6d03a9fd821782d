"""RFC 7807 problem responses: the one place where errors become HTTP.

Every ``ReelguardError`` maps to its class's ``http_status``; Starlette's own HTTP errors
(unknown route, wrong method) and request-validation errors become problem bodies too;
anything else is a 500 problem that says nothing about internals (and is logged).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from reelguard.errors import ReelguardError
from reelguard.web.access_log import loggable_path

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["install_problem_handlers", "problem_handlers", "problem_response"]

Handler = Callable[[Request, Any], Awaitable[Response]]

_LOG = logging.getLogger("reelguard.web")
PROBLEM_JSON = "application/problem+json"


def problem_response(status: int, title: str, detail: str, type_: str = "about:blank",
                     headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"type": type_, "title": title, "status": status, "detail": detail}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def problem_handlers() -> Mapping[Any, Handler]:
    """Exception handlers for any Starlette app (the role apps build on Starlette alone)."""
    async def reelguard(_request: Request, exc: ReelguardError) -> Response:
        headers = {"WWW-Authenticate": 'Bearer realm="reelguard"'} if exc.http_status == 401 else None
        if exc.http_status >= 500:
            _LOG.error("request failed: %s: %s", type(exc).__name__, exc)
        return problem_response(exc.http_status, exc.title, str(exc), exc.problem_type, headers)

    async def http(_request: Request, exc: StarletteHTTPException) -> Response:
        return problem_response(exc.status_code, "HTTP error", str(exc.detail))

    async def gone(request: Request, _exc: ClientDisconnect) -> Response:
        _LOG.debug("client went away during %s %s", request.method, loggable_path(request.url.path))
        return problem_response(400, "Client disconnected", "the client closed the connection")

    async def unexpected(_request: Request, exc: Exception) -> Response:
        _LOG.exception("unexpected error: %s", type(exc).__name__)
        return problem_response(500, "Internal error", "the server failed; see its log")

    return {ReelguardError: reelguard, StarletteHTTPException: http, ClientDisconnect: gone, Exception: unexpected}


def install_problem_handlers(app: FastAPI) -> None:
    """The handlers above, plus FastAPI's request-validation errors as 400 problems."""
    from fastapi.exceptions import RequestValidationError

    for exception, handler in problem_handlers().items():
        app.add_exception_handler(exception, handler)

    async def validation(_request: Request, exc: Exception) -> Response:
        errors = exc.errors()[:3] if isinstance(exc, RequestValidationError) else []
        return problem_response(400, "Invalid input", f"request does not match the API: {errors}")

    app.add_exception_handler(RequestValidationError, validation)
