"""Key server endpoint: AWS SPEKE v2 (CPIX 2.3 over HTTP) for third-party packagers.

``POST /speke/v2/copyProtection`` with ``X-Speke-Version: 2.0``, ``Content-Type:
application/xml`` and a request signature (see ``reelguard.drm.api_clients``). An
unauthenticated or malformed request gets a 4xx problem and never a key.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reelguard import __version__
from reelguard.clock import Clock
from reelguard.drm.api_clients import SPEKE_PATH, ApiClients
from reelguard.drm.keyserver import KeyServer
from reelguard.errors import InvalidInput
from reelguard.web.license_routes import read_bounded_body

__all__ = ["SPEKE_PATH", "key_routes"]

SPEKE_VERSION = "2.0"


def key_routes(server: KeyServer, clients: ApiClients, clock: Clock, max_bytes: int) -> list[Route]:
    async def copy_protection(request: Request) -> Response:
        """SPEKE v2: a CPIX key request in, the CPIX document with keys and signaling out."""
        body = await read_bounded_body(request, max_bytes)
        client = clients.authenticate(request.headers, "POST", SPEKE_PATH, body, clock())
        version = request.headers.get("x-speke-version")
        if version != SPEKE_VERSION:
            raise InvalidInput(f"expected header X-Speke-Version: {SPEKE_VERSION}, got {str(version)[:20]!r}")
        answer = await run_in_threadpool(server.answer, body, client)
        return Response(answer, media_type="application/xml",
                        headers={"X-Speke-Version": SPEKE_VERSION, "X-Speke-User-Agent": f"reelguard/{__version__}",
                                 "Cache-Control": "no-store"})

    return [Route(SPEKE_PATH, copy_protection, methods=["POST"])]
