"""Origin route for per-session A/B streams: ``/stream/{token}/{path}``.

The token alone decides which variant of each video segment is served
(``watermark/edge.py``): no database lookup per request, exactly what a CDN edge does.
Manifests and init segments are the variant-A tree's. An HLS stream's ``key`` URI under the
same path is the licence role's (``license_routes.session_key_routes``): keys leave through
the licence service only.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reelguard.store.blobs import BlobStore, validate_blob_key
from reelguard.watermark.edge import EdgeSelector
from reelguard.web.content_routes import blob_response, media_type_of

__all__ = ["stream_routes"]


def stream_routes(selector: EdgeSelector, blobs: BlobStore) -> list[Route]:
    async def session_stream(request: Request) -> Response:
        """A session's A/B stream."""
        token, path = request.path_params["token"], request.path_params["path"]
        media_type = media_type_of(path)
        key = validate_blob_key(selector.blob_key(token, path))
        return await blob_response(blobs, key, media_type, f"the session's title has no file {path[:80]!r}")

    return [Route("/stream/{token}/{path:path}", session_stream, methods=["GET"])]
