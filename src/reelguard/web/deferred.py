"""An ASGI app built in a worker thread once the server is up: the integration API behind the hot path.

FastAPI, its models and its route analysis take about 0.4 s to load; built before the
server starts they would delay the licence routes by that much on every start (and a
supervisor's health check waits on it). Built here instead, the server answers at once and
a request for the API that arrives before the build is done waits for it::

    api = DeferredApp(build_api)
    api.start()                      # in the lifespan: the build runs in a thread
    await api(scope, receive, send)  # waits for the build the first time

A build that fails is logged, and the API answers 503 problem+json while the rest serves.

Builds run one at a time in a process, and the builder is expected to warm the app up
(its routes resolved, its OpenAPI document made) before it is handed out: FastAPI hides a
pydantic warning with ``warnings.catch_warnings``, which is not thread-safe — two threads
doing that schema work at once restore each other's warning filters (seen as a 500 under
a test run's warnings-as-errors).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future

from starlette.types import ASGIApp, Receive, Scope, Send

from reelguard.web.problems import problem_response

__all__ = ["DeferredApp", "PathSplit"]

_LOG = logging.getLogger("reelguard.web")
_ONE_BUILD_AT_A_TIME = threading.Lock()


class DeferredApp:
    def __init__(self, build: Callable[[], ASGIApp], *, after_build: Callable[[], None] | None = None) -> None:
        """``after_build`` runs in the build thread once the app exists (the server freezes its heap there)."""
        self._build, self._after_build = build, after_build
        self._lock = threading.Lock()
        self._future: Future[ASGIApp] | None = None

    def start(self) -> Future[ASGIApp]:
        """Begin the build in its own thread (once); the future of the built app."""
        with self._lock:
            if self._future is None:
                self._future = Future()
                threading.Thread(target=self._run, name="reelguard-api-build", daemon=True).start()
            return self._future

    def built(self) -> ASGIApp:
        """The app, building it in this thread's wait if needed (tests, tools)."""
        return self.start().result()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            app = await asyncio.wrap_future(self.start())
        except Exception:  # logged by the build thread
            if scope["type"] == "http":
                await problem_response(503, "Service unavailable", "the integration API failed to start; "
                                       "see the server's log")(scope, receive, send)
            return
        await app(scope, receive, send)

    def _run(self) -> None:
        assert self._future is not None
        try:
            with _ONE_BUILD_AT_A_TIME:
                app = self._build()
            if self._after_build is not None:
                self._after_build()
        except Exception as exc:
            _LOG.exception("the integration API failed to build: %s", type(exc).__name__)
            self._future.set_exception(exc)
        else:
            self._future.set_result(app)


class PathSplit:
    """Middleware: requests under ``prefixes`` go to ``other``; everything else down the stack."""

    def __init__(self, app: ASGIApp, *, other: ASGIApp, prefixes: tuple[str, ...]) -> None:
        self._app, self._other, self._prefixes = app, other, prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and scope["path"].startswith(self._prefixes):
            await self._other(scope, receive, send)
        else:
            await self._app(scope, receive, send)
