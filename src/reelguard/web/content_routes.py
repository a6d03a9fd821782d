"""Origin: serves a ready title's packaged DASH/HLS files from the blob store.

Segments are encrypted, so the origin needs no token; it refuses titles that are not
ready and any path that is not a packaged file. Plain Starlette routes: the origin role
loads no FastAPI.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from reelguard.errors import NotFound, PermissionDenied, TitleNotReady
from reelguard.store import repositories
from reelguard.store.blobs import BlobStore, validate_blob_key
from reelguard.store.database import Database
from reelguard.titles import generation_path

__all__ = ["MEDIA_TYPES", "blob_response", "content_routes"]

MEDIA_TYPES = {
    ".mpd": "application/dash+xml",
    ".m3u8": "application/vnd.apple.mpegurl",
    ".mp4": "video/mp4",
    ".m4s": "video/iso.segment",
}


def media_type_of(path: str) -> str:
    """The packaged file's media type; NotFound for anything that is not a packaged media file."""
    suffix = "." + path.rsplit(".", 1)[-1] if "." in path else ""
    media_type = MEDIA_TYPES.get(suffix)
    if media_type is None:
        raise NotFound(f"{path[:80]!r} is not a packaged media file")
    return media_type


async def blob_response(blobs: BlobStore, key: str, media_type: str, missing: str) -> Response:
    """A blob as a response: the file itself when the store is local, its bytes otherwise."""
    local = blobs.local_path(key)
    if local is not None and local.is_file():
        return FileResponse(local, media_type=media_type)
    if not blobs.exists(key):
        raise NotFound(missing)
    return Response(await run_in_threadpool(blobs.get_bytes, key), media_type=media_type)


def content_routes(db: Database, blobs: BlobStore) -> list[Route]:
    def _blob_key(title_name: str, path: str) -> tuple[str, str | None]:
        """The file's blob key, or (after a key rotation) where the title's entry manifest now is."""
        with db.session() as session:
            title = repositories.lookup_title(session, title_name)
            if title is None:
                raise NotFound(f"no title named {title_name[:60]!r}")
            if not title.ready or title.package is None:
                raise TitleNotReady(f"title {title_name!r} is {title.status}, not ready")
            if title.watermark is not None:
                raise PermissionDenied(f"title {title_name!r} is forensically watermarked and plays only as a "
                                       "session stream (/stream/<session token>/...; 'reelguard sessions start')")
            package = title.package
            if package.generation > 1 and path in (package.dash_manifest, package.hls_master):
                return "", generation_path(package.generation) + path
            return validate_blob_key(f"packages/{title.id}/{path}"), None

    async def content(request: Request) -> Response:
        """Packaged DASH/HLS files; the entry manifests of a rotated title redirect to its current package.

        Every generation of the package stays where it was, so a player that loaded an older
        manifest keeps its segments (and its keys, until their grace period ends).
        """
        title, path = request.path_params["title"], request.path_params["path"]
        key, moved = await run_in_threadpool(_blob_key, title, path)
        if moved is not None:
            return RedirectResponse(f"/content/{quote(title)}/{moved}", status_code=302,
                                    headers={"Cache-Control": "no-store"})
        return await blob_response(blobs, key, media_type_of(path), f"title {title!r} has no file {path[:80]!r}")

    return [Route("/content/{title}/{path:path}", content, methods=["GET"])]
