"""The ASGI app: licence, key delivery, origin, demo player and integration API, in one process.

    app = create_app(Runtime.open(Settings.load()))
    # uvicorn reelguard.web.app:create_app_from_env --factory
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from reelguard import __version__
from reelguard.accounts.service import AccountService
from reelguard.drm.api_clients import ApiClients
from reelguard.drm.keyserver import KeyServer
from reelguard.integration.clients import ApiClientRegistry
from reelguard.integration.idempotency import IdempotencyStore
from reelguard.license.assembly import Licensing
from reelguard.license.decisions import DecisionLog
from reelguard.license.proxy import LicenseProxy, load_credential
from reelguard.license.streams import StreamAdmin
from reelguard.runtime import Runtime
from reelguard.settings import Settings
from reelguard.store.signatures import SeenSignatures
from reelguard.watermark.edge import EdgeSelector
from reelguard.web.access_log import AccessLog
from reelguard.web.api_support import ApiContext
from reelguard.web.api_v1 import api_router
from reelguard.web.bodies import BodyGuard
from reelguard.web.content_routes import content_router
from reelguard.web.key_routes import key_routes
from reelguard.web.license_routes import answer_hls_key, license_routes, proxy_routes, read_bounded_body
from reelguard.web.openapi import install_openapi
from reelguard.web.player_routes import player_router
from reelguard.web.problems import install_problem_handlers
from reelguard.web.stream_routes import stream_router

__all__ = ["create_app", "create_app_from_env"]

MAX_CPIX_BYTES = 256 * 1024


def create_app(runtime: Runtime) -> FastAPI:
    settings = runtime.settings
    licensing = Licensing.build(runtime)

    proxy = LicenseProxy(settings.license_proxy_upstreams,
                         credential=load_credential(settings.license_proxy_credential_file),
                         timeout_seconds=settings.license_proxy_timeout_seconds)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        licensing.start()
        try:
            yield
        finally:
            licensing.stop()
            await proxy.close()

    # FastAPI's native OpenTelemetry off: nothing here configures a provider, and asking whether one
    # exists read the environment on every request (about 30 µs, a tenth of a cached renewal)
    app = FastAPI(title="reelguard", version=__version__, docs_url=None, redoc_url=None, lifespan=lifespan,
                  telemetry={"tracing": False, "metrics": False, "logs": False})
    install_problem_handlers(app)
    install_openapi(app)
    service = licensing.service

    async def healthz(request: Request) -> JSONResponse:
        """Liveness; also the licence benchmark's no-op comparator on the same stack."""
        await read_bounded_body(request, settings.max_license_body_bytes)
        return JSONResponse({"status": "ok"})

    # Hot paths first, as plain Starlette routes (see license_routes); the key route must
    # precede the origin's catch-all /content/{title}/{path}.
    app.router.routes.extend(license_routes(service, settings.max_license_body_bytes))
    app.router.routes.extend(proxy_routes(service, proxy))
    app.router.routes.append(Route("/healthz", healthz, methods=["GET", "POST"]))
    key_server = KeyServer(runtime.db, runtime.keystore, runtime.clock, max_bytes=MAX_CPIX_BYTES)
    clients = ApiClients(settings.resolved_api_clients_file, seen=SeenSignatures(runtime.db))
    app.router.routes.extend(key_routes(key_server, clients, runtime.clock, MAX_CPIX_BYTES))
    selector = EdgeSelector(runtime.watermark, clock=lambda: runtime.clock().timestamp(),
                            leeway_seconds=settings.token_leeway_seconds)
    app.include_router(stream_router(selector, runtime.blobs,
                                     lambda request, title, stream: answer_hls_key(service, request, title, stream)))
    app.include_router(content_router(runtime.db, runtime.blobs))
    app.include_router(_integration_api(runtime, licensing))
    app.include_router(player_router())

    # outermost last: the access log sees every answer, the body guard's 408/413 included
    app.add_middleware(BodyGuard, max_bytes=settings.max_request_body_bytes,
                       timeout_seconds=settings.body_read_timeout_seconds)
    app.add_middleware(AccessLog)
    app.state.runtime = runtime
    app.state.licensing = licensing
    return app


def _integration_api(runtime: Runtime, licensing: Licensing) -> APIRouter:
    """/api/v1 on the same services as the CLI; a change drops this process's cached facts at once."""
    def forget(account: str | None, title: str | None = None) -> None:
        licensing.facts.forget(account_id=account, title=title)

    return api_router(
        ApiContext(ApiClientRegistry(runtime.db, runtime.clock), IdempotencyStore(runtime.db, runtime.clock)),
        AccountService(runtime.db, runtime.clock, on_change=forget),
        StreamAdmin(runtime.db, runtime.clock, on_change=forget), DecisionLog(runtime.db))


def _freeze_startup_heap() -> None:
    """Move everything allocated at start-up out of the collector's sight (gc.freeze).

    The framework, ORM and settings leave a large, permanent heap; without this every
    full collection walks it and stalls the event loop for tens of milliseconds, which
    is what a licence request's p99 latency would see.
    """
    gc.collect()
    gc.freeze()


def create_app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` (and multi-worker serving): settings from the environment."""
    app = create_app(Runtime.open(Settings.load()))
    _freeze_startup_heap()
    return app
