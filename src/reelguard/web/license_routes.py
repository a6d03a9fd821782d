"""Licence endpoints: Clear Key licences (DASH/EME) and HLS identity-key delivery.

Both are guarded by the entitlement token in ``Authorization: Bearer`` and answer
problem+json on every refusal. Bodies are bounded before they are read in full.

They are plain Starlette routes (no FastAPI dependency resolution) because they are the
platform's hottest path: a request whose title and keys are in the licence cache is
answered on the event loop; only a cache miss hops to a worker thread for the database.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reelguard.errors import PayloadTooLarge
from reelguard.license.lookup import CacheMiss
from reelguard.license.service import LicenseService

__all__ = ["license_routes", "read_bounded_body"]

T = TypeVar("T")
_NO_STORE = {"Cache-Control": "no-store"}


async def read_bounded_body(request: Request, max_bytes: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLarge(f"request body is {declared} bytes; at most {max_bytes} accepted")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLarge(f"request body exceeds {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def _cached_or_threaded(call: Callable[..., T], **kwargs: object) -> T:
    try:
        return call(cached_only=True, **kwargs)
    except CacheMiss:
        return await run_in_threadpool(call, cached_only=False, **kwargs)


def license_routes(service: LicenseService, max_body_bytes: int) -> list[Route]:
    async def clearkey_license(request: Request) -> Response:
        """W3C EME Clear Key licence."""
        body = await read_bounded_body(request, max_body_bytes)
        answer = await _cached_or_threaded(service.issue_clearkey_license,
                                           authorization=request.headers.get("authorization"), body=body)
        return JSONResponse(answer, headers=_NO_STORE)

    async def hls_key(request: Request) -> Response:
        """HLS identity key delivery: the stream's raw 16-byte key."""
        key = await _cached_or_threaded(service.hls_key, authorization=request.headers.get("authorization"),
                                        title_name=request.path_params["title"],
                                        stream=request.path_params["stream"])
        return Response(key, media_type="application/octet-stream", headers=_NO_STORE)

    return [
        Route("/license/clearkey", clearkey_license, methods=["POST"]),
        Route("/content/{title}/hls/{stream}/key", hls_key, methods=["GET"]),
    ]
