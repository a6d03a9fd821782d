"""Request bodies read in full, bounded in size and time, before any route sees them.

A client that announces a body and stops sending (or sends a byte a minute) would hold a
route — and, before this existed, made Starlette raise ``ClientDisconnect`` out of the
route: 6 KB of tracebacks in the log per aborted POST, even unauthenticated. This ASGI
middleware reads the body first: a body that does not arrive within the timeout is
answered 408, one over the server-wide bound 413, and a client that goes away is one
debug line and no answer. The app then reads the buffered body as if from the socket;
routes keep their own tighter bounds (``read_bounded_body``)::

    app = BodyGuard(app, max_bytes=1 << 20, timeout_seconds=10)
"""

from __future__ import annotations

import asyncio
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reelguard.errors import PayloadTooLarge, ReelguardError, RequestTimeout
from reelguard.web.access_log import loggable_path
from reelguard.web.problems import problem_response

__all__ = ["BodyGuard"]

_log = logging.getLogger("reelguard.web")


class _ClientGone(Exception):
    pass


class _TooLarge(Exception):
    pass


class BodyGuard:
    def __init__(self, app: ASGIApp, *, max_bytes: int, timeout_seconds: float) -> None:
        self.app, self.max_bytes, self.timeout_seconds = app, max_bytes, timeout_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _has_body(scope):
            await self.app(scope, receive, send)
            return
        try:
            async with asyncio.timeout(self.timeout_seconds):
                body = await self._read(receive)
        except TimeoutError:
            _log.info("request body not received within %g s: %s %s from %s", self.timeout_seconds,
                      scope["method"], _path(scope), _client(scope))
            await _refuse(RequestTimeout(f"expected the request body within {self.timeout_seconds:g} s; "
                                         "it did not arrive"), scope, receive, send)
            return
        except _TooLarge:
            await _refuse(PayloadTooLarge(f"request body exceeds {self.max_bytes} bytes"), scope, receive, send)
            return
        except _ClientGone:
            _log.debug("client %s went away before sending its %s %s body", _client(scope), scope["method"],
                       _path(scope))
            return
        await self.app(scope, _replaying(body, receive), send)

    async def _read(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _ClientGone
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                raise _TooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


async def _refuse(error: ReelguardError, scope: Scope, receive: Receive, send: Send) -> None:
    """The error's problem response; the connection closes (the rest of the body is not read)."""
    response = problem_response(error.http_status, error.title, str(error), error.problem_type,
                                headers={"Connection": "close"})
    await response(scope, receive, send)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands over the buffered body once, then listens to the socket again."""
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if delivered:
            return await receive()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def _has_body(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return bool(value != b"0")
        if name == b"transfer-encoding":
            return True
    return False


def _path(scope: Scope) -> str:
    return loggable_path(scope.get("path", ""))


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "-"
