"""The demo player page and its static files (Shaka Player, built in by the make targets)."""

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

    @router.get("/static/{name}", summary="Player static files")
    async def static(name: str) -> FileResponse:
        path = STATIC_DIR / name
        if name != SHAKA_PLAYER_JS.name:
            raise NotFound(f"no static file {name[:60]!r}")
        if not path.is_file():
            raise ConfigurationError(
                "Shaka Player is not built into the package; run 'make player' (npm ci + copy)"
            )
        return FileResponse(path, media_type="text/javascript")

    return router
