"""Licence endpoints: Clear Key licences (DASH/EME) and HLS identity-key delivery.

Both are guarded by the entitlement token in ``Authorization: Bearer`` and answer
problem+json on every refusal. Bodies are bounded before they are read in full.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from reelguard.errors import PayloadTooLarge
from reelguard.license.service import LicenseService

__all__ = ["license_router", "read_bounded_body"]


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


def license_router(service: LicenseService, max_body_bytes: int) -> APIRouter:
    router = APIRouter()
    no_store = {"Cache-Control": "no-store"}

    @router.post("/license/clearkey", summary="W3C EME Clear Key licence")
    async def clearkey_license(request: Request) -> JSONResponse:
        body = await read_bounded_body(request, max_body_bytes)
        answer = await run_in_threadpool(
            service.issue_clearkey_license, authorization=request.headers.get("authorization"), body=body
        )
        return JSONResponse(answer, headers=no_store)

    @router.get("/content/{title}/hls/{stream}/key", summary="HLS identity key delivery")
    async def hls_key(title: str, stream: str, request: Request) -> Response:
        key = await run_in_threadpool(
            service.hls_key, authorization=request.headers.get("authorization"), title_name=title, stream=stream
        )
        return Response(key, media_type="application/octet-stream", headers=no_store)

    return router
