"""What every integration-API route shares: the caller, bounded JSON bodies, idempotent writes, pages.

``ApiContext`` holds the API-key registry and the idempotency store; a route asks it for
the caller (``client(request, scope)``), for its body validated into a pydantic model
(``body(request, Model)``: bounded JSON first, then the model, every error a 400 that says
which field was wrong), and runs a write through ``write(...)``, which honours
``Idempotency-Key``. Pages carry an opaque ``next_cursor``::

    client = await ctx.client(request, "accounts:write")
    return await ctx.write(request, client, lambda: (201, service.create_account(...).to_json()))
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pydantic
from pydantic import TypeAdapter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from reelguard.errors import InvalidInput, ReelguardError
from reelguard.integration.clients import ApiClient, ApiClientRegistry
from reelguard.integration.idempotency import IdempotencyStore, request_hash
from reelguard.jsonbounds import parse_bounded_json

__all__ = ["ApiContext", "decode_cursor", "encode_cursor", "json_body_schema", "json_response", "page"]

M = TypeVar("M", bound=pydantic.BaseModel)
MAX_BODY_BYTES = 64 * 1024
_JSON = "application/json"


@dataclass(frozen=True)
class ApiContext:
    clients: ApiClientRegistry
    idempotency: IdempotencyStore

    async def client(self, request: Request, scope: str) -> ApiClient:
        """The caller, authenticated by its API key (off the event loop: a database read), with ``scope``."""
        client = await run_in_threadpool(self.clients.authenticate, request.headers.get("authorization"))
        client.require(scope)
        return client

    @staticmethod
    async def body(request: Request, model: type[M]) -> tuple[bytes, M]:
        raw = await request.body()
        if len(raw) > MAX_BODY_BYTES:
            raise InvalidInput(f"expected a body of at most {MAX_BODY_BYTES} bytes, got {len(raw)}")
        document = parse_bounded_json(raw or b"{}", what=f"a JSON object ({model.__name__})")
        try:
            return raw, model.model_validate(document)
        except pydantic.ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
                                 for e in exc.errors()[:5])
            raise InvalidInput(f"the {model.__name__} body does not validate: {problems}") from exc

    async def write(self, request: Request, client: ApiClient, raw: bytes,
                    do: Callable[[], tuple[int, Any]]) -> Response:
        """Run a write once per ``Idempotency-Key`` (answers to 4xx kept too; a 5xx frees the key)."""
        key = request.headers.get("idempotency-key")
        if key is None:
            status, payload = await run_in_threadpool(do)
            return _answer(status, payload)
        fingerprint = request_hash(request.method, request.url.path, raw)
        stored = await run_in_threadpool(self.idempotency.claim, client.id, key, fingerprint)
        if stored is not None:
            return Response(stored.body or None, stored.status, media_type=_media_type(stored.status),
                            headers={"Idempotent-Replayed": "true"})
        try:
            status, payload = await run_in_threadpool(do)
        except ReelguardError as exc:
            if exc.http_status < 500:
                problem = {"type": exc.problem_type, "title": exc.title, "status": exc.http_status,
                           "detail": str(exc)}
                await run_in_threadpool(self.idempotency.record, client.id, key, exc.http_status,
                                        json.dumps(problem))
            else:
                await run_in_threadpool(self.idempotency.release, client.id, key)
            raise
        except BaseException:
            await run_in_threadpool(self.idempotency.release, client.id, key)
            raise
        answer = _answer(status, payload)
        await run_in_threadpool(self.idempotency.record, client.id, key, status, bytes(answer.body).decode())
        return answer


def _answer(status: int, payload: Any) -> Response:
    if status == 204:
        return Response(status_code=204)
    return Response(json.dumps(payload), status, media_type=_JSON, headers={"Cache-Control": "no-store"})


def _media_type(status: int) -> str | None:
    return None if status == 204 else ("application/problem+json" if status >= 400 else _JSON)


def encode_cursor(value: str | int) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, kind: type[str] | type[int]) -> Any:
    """The position an opaque ``cursor`` names (None for the first page)."""
    if cursor is None:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("expected a cursor as returned in next_cursor, got something else") from exc
    if not isinstance(value, kind) or isinstance(value, bool):
        raise InvalidInput("expected a cursor as returned in next_cursor, got one of another list")
    return value


def page(items: list[dict[str, Any]], limit: int, position: Callable[[dict[str, Any]], str | int]) -> dict[str, Any]:
    """A page: its items and the cursor of the next one (null on the last page)."""
    full = len(items) == limit and items
    return {"items": items, "next_cursor": encode_cursor(position(items[-1])) if full else None}


def json_body_schema(model: type[pydantic.BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` declaring a route's JSON body (the route reads it itself, bounded)."""
    return {"requestBody": {"required": True, "content": {_JSON: {"schema": model.model_json_schema()}}}}


def json_response(kind: Any, *, status: int = 200, paged: bool = False,
                  description: str = "OK") -> dict[int | str, dict[str, Any]]:
    """A ``responses`` entry for FastAPI's OpenAPI, from a dataclass or model type."""
    schema = TypeAdapter(kind).json_schema()
    if paged:
        schema = {"type": "object", "properties": {"items": {"type": "array", "items": schema},
                                                   "next_cursor": {"type": ["string", "null"]}}}
    return {status: {"description": description, "content": {_JSON: {"schema": schema}}}}
