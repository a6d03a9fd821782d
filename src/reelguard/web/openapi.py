"""The OpenAPI document of every route, and the API docs page served without a network.

FastAPI describes its own routes; the licence, download, proxy, key-server and health
routes are plain Starlette routes (the hot path skips FastAPI's dependency resolution),
so their operations are written here and merged in. Swagger UI's script and stylesheet
come from npm (``swagger-ui-dist``) into ``web/static`` like Shaka Player, so
``/api/docs`` works on a machine with no internet::

    install_openapi(app)      # /openapi.json covers every route; /api/docs renders it
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse

from reelguard import __version__

__all__ = ["DOCS_URL", "install_openapi", "plain_route_operations"]

DOCS_URL = "/api/docs"
_PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
_BEARER: list[dict[str, list[str]]] = [{"entitlementToken": []}]


def _problems(*statuses: int) -> dict[str, Any]:
    reasons = {400: "Malformed request", 401: "No valid entitlement token", 403: "Refused by policy or scope",
               404: "Unknown title, key, stream or download", 408: "Request body not received in time",
               409: "Title not ready", 413: "Body too large", 422: "Unprocessable document",
               502: "Upstream failed", 504: "Upstream timed out"}
    return {str(status): {"description": reasons[status], "content": _PROBLEM} for status in statuses}


def _json(schema_name: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}}


def _path_parameter(name: str, description: str = "") -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"},
            **({"description": description} if description else {})}


_MEDIA = {media_type: {"schema": {"type": "string", "format": "binary"}} for media_type in (
    "application/dash+xml", "application/vnd.apple.mpegurl", "video/mp4", "video/iso.segment")}
_LICENCE_PROBLEMS = _problems(400, 401, 403, 404, 408, 409, 413)
_DOWNLOAD = {"name": "download", "in": "path", "required": True, "schema": {"type": "string"}}

PLAIN_ROUTES: dict[str, dict[str, Any]] = {
    "/license/clearkey": {"post": {
        "tags": ["licence"], "summary": "W3C EME Clear Key licence", "security": _BEARER,
        "description": "A temporary licence starts or renews the token's stream; a persistent-license request "
                       "acquires a download. Only keys of the token's title and of the tiers the policy allows "
                       "this device are returned (X-Reelguard-Withheld names the others).",
        "requestBody": {"required": True, "content": _json("ClearKeyRequest")},
        "responses": {"200": {"description": "The licence", "content": _json("ClearKeyLicense")},
                      **_LICENCE_PROBLEMS}}},
    "/license/stream": {"delete": {
        "tags": ["licence"], "summary": "Release the token's stream slot now", "security": _BEARER,
        "responses": {"200": {"description": "Whether a running stream was ended",
                              "content": {"application/json": {"schema": {
                                  "type": "object", "properties": {"released": {"type": "boolean"}}}}}},
                      **_problems(401)}}},
    "/content/{title}/hls/{stream}/key": {"get": {
        "tags": ["licence"], "summary": "HLS identity key of one stream (16 raw bytes)", "security": _BEARER,
        "parameters": [{"name": "title", "in": "path", "required": True, "schema": {"type": "string"}},
                       {"name": "stream", "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "The key", "content": {"application/octet-stream": {
            "schema": {"type": "string", "format": "binary", "minLength": 16, "maxLength": 16}}}},
            **_LICENCE_PROBLEMS}}},
    "/content/{title}/k{generation}/hls/{stream}/key": {"get": {
        "tags": ["licence"], "summary": "HLS identity key of one stream of the title's package generation N "
                                       "(after a key rotation; 16 raw bytes)", "security": _BEARER,
        "parameters": [{"name": "title", "in": "path", "required": True, "schema": {"type": "string"}},
                       {"name": "generation", "in": "path", "required": True,
                        "schema": {"type": "integer", "minimum": 1}},
                       {"name": "stream", "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "The key", "content": {"application/octet-stream": {
            "schema": {"type": "string", "format": "binary", "minLength": 16, "maxLength": 16}}}},
            **_LICENCE_PROBLEMS}}},
    "/stream/{token}/hls/{stream}/key": {"get": {
        "tags": ["licence"], "summary": "HLS identity key of one stream of a watermarked session (16 raw bytes)",
        "security": _BEARER,
        "parameters": [{"name": "token", "in": "path", "required": True, "schema": {"type": "string"},
                        "description": "The session's watermarking token (it names the title)"},
                       {"name": "stream", "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "The key", "content": {"application/octet-stream": {
            "schema": {"type": "string", "format": "binary", "minLength": 16, "maxLength": 16}}}},
            **_LICENCE_PROBLEMS}}},
    "/license/downloads/{download}/renew": {"post": {
        "tags": ["downloads"], "summary": "A fresh persistent licence for a held download", "security": _BEARER,
        "parameters": [_DOWNLOAD], "requestBody": {"required": True, "content": _json("ClearKeyRequest")},
        "responses": {"200": {"description": "The licence", "content": _json("ClearKeyLicense")},
                      **_LICENCE_PROBLEMS}}},
    "/license/downloads/{download}/play": {"post": {
        "tags": ["downloads"], "summary": "Record a download's first play (starts its playback window)",
        "security": _BEARER, "parameters": [_DOWNLOAD],
        "responses": {"200": {"description": "When the download's licence ends", "content": {"application/json": {
            "schema": {"type": "object", "properties": {"download": {"type": "string"},
                                                        "expires_at": {"type": "string", "format": "date-time"}}}}}},
            **_problems(401, 403, 404)}}},
    "/license/downloads/{download}": {"delete": {
        "tags": ["downloads"], "summary": "Return a download (frees its slot)", "security": _BEARER,
        "parameters": [_DOWNLOAD], "responses": {"204": {"description": "Released"}, **_problems(401, 404)}}},
    "/license/proxy/{system}": {"post": {
        "tags": ["licence"], "summary": "Commercial-DRM licence proxy: policy first, then the upstream",
        "security": _BEARER,
        "parameters": [{"name": "system", "in": "path", "required": True,
                        "schema": {"type": "string", "enum": ["widevine", "playready", "fairplay"]}}],
        "requestBody": {"required": True, "content": {"application/octet-stream": {
            "schema": {"type": "string", "format": "binary", "maxLength": 65536}}}},
        "responses": {"200": {"description": "The upstream's licence, relayed", "content": {
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
            **_problems(400, 401, 403, 404, 408, 413, 502, 504)}}},
    "/speke/v2/copyProtection": {"post": {
        "tags": ["key server"], "summary": "AWS SPEKE v2: CPIX 2.3 key request in, keys and signaling out",
        "security": [{"signedRequest": []}],
        "parameters": [{"name": "X-Speke-Version", "in": "header", "required": True,
                        "schema": {"type": "string", "enum": ["2.0"]}}],
        "requestBody": {"required": True, "content": {"application/xml": {"schema": {"type": "string"}}}},
        "responses": {"200": {"description": "The CPIX document with keys",
                              "content": {"application/xml": {"schema": {"type": "string"}}}},
                      **_problems(400, 401, 403, 408, 413, 422)}}},
    "/healthz": {
        "get": {"tags": ["health"], "summary": "Liveness",
                "responses": {"200": {"description": "Serving", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"status": {"type": "string", "enum": ["ok"]}}}}}}}},
        "post": {"tags": ["health"], "summary": "Liveness, reading a body (the licence benchmark's comparator)",
                 "responses": {"200": {"description": "Serving"}, **_problems(408, 413)}},
    },
    "/content/{title}/{path}": {"get": {
        "tags": ["origin"], "summary": "Packaged DASH/HLS files of a ready title (segments are encrypted)",
        "parameters": [_path_parameter("title"),
                       _path_parameter("path", "A file of the package, e.g. dash/manifest.mpd")],
        "responses": {"200": {"description": "The file", "content": _MEDIA},
                      "302": {"description": "After a key rotation, an entry manifest (dash/manifest.mpd, "
                                             "hls/master.m3u8) redirects to the current package, k<N>/…"},
                      **_problems(403, 404, 409)}}},
    "/stream/{token}/{path}": {"get": {
        "tags": ["origin"], "summary": "A watermarked session's A/B stream (the token picks each segment's variant)",
        "parameters": [_path_parameter("token", "The session's watermarking token"), _path_parameter("path")],
        "responses": {"200": {"description": "The file", "content": _MEDIA}, **_problems(401, 404)}}},
    "/play/{title}": {"get": {
        "tags": ["player"], "summary": "Demo player page", "parameters": [_path_parameter("title")],
        "responses": {"200": {"description": "The page", "content": {"text/html": {"schema": {"type": "string"}}}}}}},
    "/static/{name}": {"get": {
        "tags": ["player"], "summary": "Player and API-docs static files", "parameters": [_path_parameter("name")],
        "responses": {"200": {"description": "The file"}, **_problems(404)}}},
}

SCHEMAS: dict[str, Any] = {
    "Problem": {"type": "object", "description": "RFC 7807 problem details", "required": ["title", "status"],
                "properties": {"type": {"type": "string"}, "title": {"type": "string"},
                               "status": {"type": "integer"}, "detail": {"type": "string"}}},
    "ClearKeyRequest": {"type": "object", "required": ["kids"], "properties": {
        "kids": {"type": "array", "minItems": 1, "maxItems": 32,
                 "items": {"type": "string", "description": "base64url KID (16 bytes)"}},
        "type": {"type": "string", "enum": ["temporary", "persistent-license"], "default": "temporary"}}},
    "ClearKeyLicense": {"type": "object", "properties": {
        "keys": {"type": "array", "items": {"type": "object", "properties": {
            "kty": {"type": "string", "enum": ["oct"]}, "kid": {"type": "string"}, "k": {"type": "string"}}}},
        "type": {"type": "string"}}},
}

SECURITY_SCHEMES: dict[str, Any] = {
    "integrationKey": {"type": "http", "scheme": "bearer", "bearerFormat": "rgk.<client>.<secret>",
                       "description": "An integration-API key ('reelguard api-clients add'), with scopes."},
    "entitlementToken": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                         "description": "An entitlement token the platform's backend signed (ES256/EdDSA)."},
    "signedRequest": {"type": "apiKey", "in": "header", "name": "X-Reelguard-Signature",
                      "description": "HMAC-SHA256 over method, path, X-Reelguard-Date and the body's SHA-256, "
                                     "with X-Reelguard-Client (docs/key-server.md)."},
}


def plain_route_operations() -> dict[str, dict[str, Any]]:
    """The operations written for the plain Starlette routes, by path."""
    return PLAIN_ROUTES


def install_openapi(app: FastAPI) -> None:
    """``app.openapi()`` describes every route; ``/api/docs`` renders it from local assets."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title="reelguard", version=__version__, routes=app.routes,
                                 description="Licences, keys, origin, session streams and the integration API.")
            schema.setdefault("paths", {}).update(PLAIN_ROUTES)
            components = schema.setdefault("components", {})
            components.setdefault("schemas", {}).update(SCHEMAS)
            components.setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.get(DOCS_URL, include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="reelguard API",
                                   swagger_js_url="/static/swagger-ui-bundle.js",
                                   swagger_css_url="/static/swagger-ui.css", swagger_favicon_url="/favicon.ico")
