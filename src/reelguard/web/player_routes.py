"""The demo player page and the static files built in by the make targets (from npm).

Shaka Player for the demo page; Swagger UI's script and stylesheet for ``/api/docs``.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response

from reelguard.errors import ConfigurationError, NotFound

__all__ = ["SHAKA_PLAYER_JS", "player_router"]

STATIC_DIR = Path(__file__).parent / "static"
SHAKA_PLAYER_JS = STATIC_DIR / "shaka-player.compiled.js"
STATIC_FILES = {SHAKA_PLAYER_JS.name: "text/javascript", "swagger-ui-bundle.js": "text/javascript",
                "swagger-ui.css": "text/css"}
_TEMPLATE = Path(__file__).parent / "templates" / "player.html"


def render_player_page(title: str) -> str:
    page = _TEMPLATE.read_text(encoding="utf-8")
    title_json = json.dumps(title).replace("<", "\\u003c").replace(">", "\\u003e")
    return page.replace("{{TITLE_TEXT}}", html.escape(title)).replace("{{TITLE_JSON}}", title_json)


def player_router() -> APIRouter:
    router = APIRouter()

    @router.get("/play/{title}", response_class=HTMLResponse, summary="Demo player page")
    async def play(title: str) -> HTMLResponse:
        return HTMLResponse(render_player_page(title), headers={"Cache-Control": "no-store"})

    @router.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return Response(status_code=204)

    @router.get("/static/{name}", summary="Player and API-docs static files")
    async def static(name: str) -> FileResponse:
        media_type = STATIC_FILES.get(name)
        if media_type is None:
            raise NotFound(f"no static file {name[:60]!r} (static files: {', '.join(sorted(STATIC_FILES))})")
        path = STATIC_DIR / name
        if not path.is_file():
            raise ConfigurationError(f"{name} is not built into the package; run 'make player' (npm ci + copy)")
        return FileResponse(path, media_type=media_type)

    return router
