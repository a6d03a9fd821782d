"""RFC 7807 problem responses: the one place where errors become HTTP.

Every ``ReelguardError`` maps to its class's ``http_status``; Starlette's own HTTP errors
(unknown route, wrong method) and request-validation errors become problem bodies too;
anything else is a 500 problem that says nothing about internals (and is logged).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from reelguard.errors import ReelguardError
from reelguard.web.access_log import loggable_path

__all__ = ["install_problem_handlers", "problem_response"]

_LOG = logging.getLogger("reelguard.web")
PROBLEM_JSON = "application/problem+json"


def problem_response(status: int, title: str, detail: str, type_: str = "about:blank",
                     headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"type": type_, "title": title, "status": status, "detail": detail}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(ReelguardError)
    async def _reelguard(_request: Request, exc: ReelguardError) -> JSONResponse:
        headers = {"WWW-Authenticate": 'Bearer realm="reelguard"'} if exc.http_status == 401 else None
        if exc.http_status >= 500:
            _LOG.error("request failed: %s: %s", type(exc).__name__, exc)
        return problem_response(exc.http_status, exc.title, str(exc), exc.problem_type, headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem_response(exc.status_code, "HTTP error", str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(400, "Invalid input", f"request does not match the API: {exc.errors()[:3]}")

    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, _exc: ClientDisconnect) -> JSONResponse:
        _LOG.debug("client went away during %s %s", request.method, loggable_path(request.url.path))
        return problem_response(400, "Client disconnected", "the client closed the connection")

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        _LOG.exception("unexpected error: %s", type(exc).__name__)
        return problem_response(500, "Internal error", "the server failed; see its log")
