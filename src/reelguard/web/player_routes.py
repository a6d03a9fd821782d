"""The demo player page and the static files built in by the make targets (from npm).

Shaka Player for the demo page; Swagger UI's script and stylesheet for ``/api/docs``.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Route

from reelguard.errors import ConfigurationError, NotFound

__all__ = ["SHAKA_PLAYER_JS", "player_routes"]

STATIC_DIR = Path(__file__).parent / "static"
SHAKA_PLAYER_JS = STATIC_DIR / "shaka-player.compiled.js"
STATIC_FILES = {SHAKA_PLAYER_JS.name: "text/javascript", "swagger-ui-bundle.js": "text/javascript",
                "swagger-ui.css": "text/css"}
_TEMPLATE = Path(__file__).parent / "templates" / "player.html"


def render_player_page(title: str) -> str:
    page = _TEMPLATE.read_text(encoding="utf-8")
    title_json = json.dumps(title).replace("<", "\\u003c").replace(">", "\\u003e")
    return page.replace("{{TITLE_TEXT}}", html.escape(title)).replace("{{TITLE_JSON}}", title_json)


def player_routes() -> list[Route]:
    async def play(request: Request) -> Response:
        """Demo player page."""
        return HTMLResponse(render_player_page(request.path_params["title"]), headers={"Cache-Control": "no-store"})

    async def favicon(_request: Request) -> Response:
        return Response(status_code=204)

    async def static(request: Request) -> Response:
        """Player and API-docs static files."""
        name = request.path_params["name"]
        media_type = STATIC_FILES.get(name)
        if media_type is None:
            raise NotFound(f"no static file {name[:60]!r} (static files: {', '.join(sorted(STATIC_FILES))})")
        path = STATIC_DIR / name
        if not path.is_file():
            raise ConfigurationError(f"{name} is not built into the package; run 'make player' (npm ci + copy)")
        return FileResponse(path, media_type=media_type)

    return [Route("/play/{title}", play, methods=["GET"]), Route("/favicon.ico", favicon, methods=["GET"]),
            Route("/static/{name}", static, methods=["GET"])]
