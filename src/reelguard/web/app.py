"""The ASGI apps, one per role: the licence server, the origin, the key server — or all of them.

    app = create_app(Runtime.open(Settings.load()), Role.LICENSE)
    reelguard serve --role license --workers 4        # the hot path alone

=========  ================================================================  ==========
role       routes                                                            framework
=========  ================================================================  ==========
license    /license/*, HLS keys (/content/…/key, /stream/…/key), /healthz    Starlette
keyserver  SPEKE 2.0 / CPIX (/speke/v2/copyProtection), /healthz             Starlette
origin     /content/*, /stream/* (A/B session streams), player, /healthz     Starlette
all        every route above, plus the integration API (/api/v1, /api/docs,  + FastAPI
           /openapi.json)
=========  ================================================================  ==========

Every role's routes are plain Starlette routes, so a process serving them never imports
FastAPI. In ``all`` (the embedded default) the integration API is a FastAPI app built in a
thread once the server is up (``web/deferred.py``): it costs the licence routes nothing at
start. Every role answers errors as problem+json, logs through the access log and bounds
request bodies the same way.

uvicorn calls an ``AppFactory`` in each worker process: the factory carries the settings,
and the worker opens its own database, keys and caches from them.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from reelguard.composition import Runtime
from reelguard.settings import Settings
from reelguard.web.access_log import AccessLog
from reelguard.web.bodies import BodyGuard
from reelguard.web.deferred import DeferredApp, PathSplit
from reelguard.web.license_routes import read_bounded_body
from reelguard.web.problems import problem_handlers

if TYPE_CHECKING:  # FastAPI, the proxy's HTTP client and the watermark edge load only in roles that use them
    from fastapi import FastAPI

    from reelguard.composition.licensing import Licensing
    from reelguard.license.proxy import LicenseProxy
    from reelguard.watermark.edge import EdgeSelector

__all__ = ["AppFactory", "Role", "create_app"]

MAX_CPIX_BYTES = 256 * 1024
API_PREFIXES = ("/api/", "/openapi.json")


class Role(StrEnum):
    LICENSE = "license"
    KEYSERVER = "keyserver"
    ORIGIN = "origin"
    ALL = "all"


def create_app(runtime: Runtime, role: Role = Role.ALL, *, freeze_heap: bool = False) -> Starlette:
    """The app of one role (see the module docstring); ``app.state.runtime`` (and ``.licensing``) for tests.

    ``freeze_heap`` (servers, not tests) moves the start-up heap out of the collector's sight
    once the app is built — and again once the deferred integration API is.
    """
    if role is Role.ALL:
        app = _full_app(runtime, after_api_build=_freeze_startup_heap if freeze_heap else None)
    else:
        builders: dict[Role, Callable[[Runtime], Starlette]] = {
            Role.LICENSE: _license_app, Role.KEYSERVER: _keyserver_app, Role.ORIGIN: _origin_app}
        app = builders[role](runtime)
    app.state.runtime = runtime
    if freeze_heap:
        _freeze_startup_heap()
    return app


@dataclass(frozen=True)
class AppFactory:
    """Builds a worker's app in the worker (uvicorn ``factory=True``); pickled to each worker as settings only."""

    settings: Settings
    role: Role = Role.ALL

    def __call__(self) -> Starlette:
        return create_app(Runtime.open(self.settings), self.role, freeze_heap=True)


# -- roles -----------------------------------------------------------------------------
def _license_app(runtime: Runtime) -> Starlette:
    licensing = runtime.licensing()
    proxy, routes = _licence_routes(runtime, licensing, _edge_selector(runtime))
    app = _role_app(runtime, routes, lifespan=_licensing_lifespan(licensing, proxy))
    app.state.licensing = licensing
    return app


def _keyserver_app(runtime: Runtime) -> Starlette:
    return _role_app(runtime, _key_server_routes(runtime))


def _origin_app(runtime: Runtime) -> Starlette:
    return _role_app(runtime, _origin_routes(runtime, _edge_selector(runtime)))


def _full_app(runtime: Runtime, *, after_api_build: Callable[[], None] | None = None) -> Starlette:
    licensing = runtime.licensing()
    selector = _edge_selector(runtime)  # one per app: the licence role's session keys and the origin's streams
    proxy, licence_routes = _licence_routes(runtime, licensing, selector)
    api = DeferredApp(lambda: _integration_api(runtime, licensing), after_build=after_api_build)
    # the key routes precede the origin's catch-alls /content/{title}/{path} and /stream/{token}/{path}
    routes = [*licence_routes, *_key_server_routes(runtime), *_origin_routes(runtime, selector)]
    app = _role_app(runtime, routes, lifespan=_licensing_lifespan(licensing, proxy, api),
                    extra_middleware=[Middleware(PathSplit, other=api, prefixes=API_PREFIXES)])
    app.state.licensing, app.state.api = licensing, api
    return app


def _role_app(runtime: Runtime, routes: list[BaseRoute], *,
              lifespan: Callable[[Starlette], AbstractAsyncContextManager[None]] | None = None,
              extra_middleware: list[Middleware] | None = None) -> Starlette:
    """A Starlette app with the role's routes and ``/healthz``, the access log, the body guard and problem+json."""
    return Starlette(routes=[*routes, _healthz(runtime)], middleware=[*_middleware(runtime), *(extra_middleware or [])],
                     exception_handlers=dict(problem_handlers()), lifespan=lifespan)


# -- parts -----------------------------------------------------------------------------
def _licence_routes(runtime: Runtime, licensing: Licensing,
                    selector: EdgeSelector) -> tuple[LicenseProxy, list[BaseRoute]]:
    from reelguard.license.proxy import LicenseProxy, load_credential
    from reelguard.web.license_routes import license_routes, proxy_routes, session_key_routes

    settings = runtime.settings
    proxy = LicenseProxy(settings.license_proxy.upstreams,
                         credential=load_credential(settings.license_proxy.credential_file),
                         timeout_seconds=settings.license_proxy.timeout_seconds)
    service = licensing.service
    return proxy, [*license_routes(service, settings.license.max_body_bytes), *proxy_routes(service, proxy),
                   *session_key_routes(service, selector)]


def _key_server_routes(runtime: Runtime) -> list[BaseRoute]:
    from reelguard.drm.api_clients import ApiClients
    from reelguard.drm.keyserver import KeyServer
    from reelguard.store.signatures import SeenSignatures
    from reelguard.web.key_routes import key_routes

    key_server = KeyServer(runtime.db, runtime.keystore, runtime.clock, max_bytes=MAX_CPIX_BYTES)
    clients = ApiClients(runtime.settings.resolved_api_clients_file, seen=SeenSignatures(runtime.db))
    return list(key_routes(key_server, clients, runtime.clock, MAX_CPIX_BYTES))


def _origin_routes(runtime: Runtime, selector: EdgeSelector) -> list[BaseRoute]:
    from reelguard.web.content_routes import content_routes
    from reelguard.web.player_routes import player_routes
    from reelguard.web.stream_routes import stream_routes

    return [*stream_routes(selector, runtime.blobs), *content_routes(runtime.db, runtime.blobs),
            *player_routes()]


def _integration_api(runtime: Runtime, licensing: Licensing) -> FastAPI:
    """/api/v1, /api/docs and /openapi.json on the same services as the CLI.

    A change made through it drops this process's cached facts at once.
    """
    from fastapi import FastAPI

    from reelguard import __version__
    from reelguard.accounts.service import AccountService
    from reelguard.integration.clients import ApiClientRegistry
    from reelguard.integration.idempotency import IdempotencyStore
    from reelguard.license.decisions import DecisionLog
    from reelguard.license.streams import StreamAdmin
    from reelguard.web.api_support import ApiContext
    from reelguard.web.api_v1 import api_router
    from reelguard.web.openapi import install_openapi
    from reelguard.web.problems import install_problem_handlers

    def forget(account: str | None, title: str | None = None) -> None:
        licensing.facts.forget(account_id=account, title=title)

    # FastAPI's native OpenTelemetry off: nothing here configures a provider, and asking whether one
    # exists read the environment on every request (about 30 µs)
    app = FastAPI(title="reelguard", version=__version__, docs_url=None, redoc_url=None,
                  telemetry={"tracing": False, "metrics": False, "logs": False})
    install_problem_handlers(app)
    install_openapi(app)
    app.include_router(api_router(
        ApiContext(ApiClientRegistry(runtime.db, runtime.clock), IdempotencyStore(runtime.db, runtime.clock)),
        AccountService(runtime.db, runtime.clock, on_change=forget),
        StreamAdmin(runtime.db, runtime.clock, on_change=forget), DecisionLog(runtime.db)))
    _warm_up(app)
    return app


def _warm_up(app: FastAPI) -> None:
    """Do FastAPI's lazy work now, in the build thread: the OpenAPI document, and routing resolved by one
    request that matches nothing (see web/deferred.py for why no request thread may do it)."""
    import asyncio

    from starlette.types import Message

    app.openapi()
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": "/api/v1/-warm-up-", "raw_path": b"/api/v1/-warm-up-", "root_path": "", "query_string": b"",
             "headers": [], "client": ("127.0.0.1", 0), "server": ("127.0.0.1", 0)}
    asyncio.run(app(scope, receive, send))


def _edge_selector(runtime: Runtime) -> EdgeSelector:
    from reelguard.watermark.edge import EdgeSelector

    return EdgeSelector(runtime.watermark, clock=lambda: runtime.clock().timestamp(),
                        leeway_seconds=runtime.settings.tokens.leeway_seconds)


def _healthz(runtime: Runtime) -> Route:
    max_bytes = runtime.settings.license.max_body_bytes

    async def healthz(request: Request) -> JSONResponse:
        """Liveness; also the licence benchmark's no-op comparator on the same stack."""
        await read_bounded_body(request, max_bytes)
        return JSONResponse({"status": "ok"})

    return Route("/healthz", healthz, methods=["GET", "POST"])


def _middleware(runtime: Runtime) -> list[Middleware]:
    """Outermost first: the access log sees every answer, the body guard's 408/413 included."""
    settings = runtime.settings
    return [Middleware(AccessLog),
            Middleware(BodyGuard, max_bytes=settings.server.max_request_body_bytes,
                       timeout_seconds=settings.server.body_read_timeout_seconds)]


def _licensing_lifespan(licensing: Licensing, proxy: LicenseProxy,
                        api: DeferredApp | None = None) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        licensing.start()
        if api is not None:
            api.start()
        try:
            yield
        finally:
            licensing.stop()
            await proxy.close()

    return lifespan


def _freeze_startup_heap() -> None:
    """Move everything allocated at start-up out of the collector's sight (gc.freeze).

    The framework, ORM and settings leave a large, permanent heap; without this every
    full collection walks it and stalls the event loop for tens of milliseconds, which
    is what a licence request's p99 latency would see. No collection first: it found about
    20 unreachable objects in a 80,000-object start-up heap and took 45 ms of every start.
    """
    gc.freeze()
