"""Origin route for per-session A/B streams: ``/stream/{token}/{path}``.

The token alone decides which variant of each video segment is served
(``watermark/edge.py``): no database lookup per request, exactly what a CDN edge does.
Manifests and init segments are the variant-A tree's; an HLS stream's ``key`` URI resolves
here too and is answered by the licence service for the session's title.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from starlette.concurrency import run_in_threadpool

from reelguard.errors import NotFound
from reelguard.store.blobs import BlobStore, validate_blob_key
from reelguard.watermark.edge import EdgeSelector
from reelguard.web.content_routes import MEDIA_TYPES

__all__ = ["stream_router"]

HlsKey = Callable[[Request, str, str], Awaitable[Response]]


def stream_router(selector: EdgeSelector, blobs: BlobStore, hls_key: HlsKey) -> APIRouter:
    router = APIRouter()

    @router.get("/stream/{token}/hls/{stream}/key", summary="HLS key of a session stream")
    async def session_hls_key(request: Request, token: str, stream: str) -> Response:
        return await hls_key(request, selector.claims(token).title_name, stream)

    @router.get("/stream/{token}/{path:path}", summary="A session's A/B stream")
    async def session_stream(token: str, path: str) -> Response:
        suffix = "." + path.rsplit(".", 1)[-1] if "." in path else ""
        media_type = MEDIA_TYPES.get(suffix)
        if media_type is None:
            raise NotFound(f"{path[:80]!r} is not a packaged media file")
        key = validate_blob_key(selector.blob_key(token, path))
        local = blobs.local_path(key)
        if local is not None and local.is_file():
            return FileResponse(local, media_type=media_type)
        if not blobs.exists(key):
            raise NotFound(f"the session's title has no file {path[:80]!r}")
        return Response(await run_in_threadpool(blobs.get_bytes, key), media_type=media_type)

    return router
