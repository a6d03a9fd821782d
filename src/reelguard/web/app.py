"""The ASGI app: licence, key delivery, origin and demo player, in one process.

    app = create_app(Runtime.open(Settings.load()))
    # uvicorn reelguard.web.app:create_app_from_env --factory
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from reelguard.license.service import LicenseService
from reelguard.runtime import Runtime
from reelguard.settings import Settings
from reelguard.web.content_routes import content_router
from reelguard.web.license_routes import license_router, read_bounded_body
from reelguard.web.player_routes import player_router
from reelguard.web.problems import install_problem_handlers

__all__ = ["create_app", "create_app_from_env"]


def create_app(runtime: Runtime) -> FastAPI:
    settings = runtime.settings
    app = FastAPI(title="reelguard", version="0.1.0", docs_url="/api/docs", redoc_url=None)
    install_problem_handlers(app)
    service = LicenseService(runtime.db, runtime.keystore, runtime.verifier, runtime.clock,
                             max_body_bytes=settings.max_license_body_bytes)
    app.include_router(license_router(service, settings.max_license_body_bytes))
    app.include_router(content_router(runtime.db, runtime.blobs))
    app.include_router(player_router())

    @app.api_route("/healthz", methods=["GET", "POST"], summary="Liveness (and the benchmark's no-op)")
    async def healthz(request: Request) -> JSONResponse:
        await read_bounded_body(request, settings.max_license_body_bytes)
        return JSONResponse({"status": "ok"})

    app.state.runtime = runtime
    return app


def create_app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` (and multi-worker serving): settings from the environment."""
    return create_app(Runtime.open(Settings.load()))
