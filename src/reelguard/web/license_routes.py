"""Licence endpoints: Clear Key licences (streams and downloads), HLS keys, stream and
download lifecycle.

Every route is guarded by the entitlement token in ``Authorization: Bearer`` and answers
problem+json on every refusal. Bodies are bounded before they are read in full.

They are plain Starlette routes (no FastAPI dependency resolution) because they are the
platform's hottest path: a renewal whose facts are cached is answered on the event loop;
only a cache miss (a stream start, a download, a cold account) hops to a worker thread.

Response headers say what the licence is: ``X-Reelguard-Stream`` (the stream this token
started), ``X-Reelguard-License-Expires``, ``X-Reelguard-Withheld`` (tiers left out for
this device) and, for a persistent licence, ``X-Reelguard-Download``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reelguard.errors import PayloadTooLarge
from reelguard.license.caching import CacheMiss
from reelguard.license.proxy import MAX_CHALLENGE_BYTES, LicenseProxy
from reelguard.license.service import LicenseAnswer, LicenseService
from reelguard.watermark.edge import EdgeSelector

__all__ = ["client_ip", "license_routes", "proxy_routes", "read_bounded_body", "session_key_routes"]

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


def client_ip(request: Request) -> str:
    """The peer address (put reelguard behind a proxy that sets it, not X-Forwarded-For)."""
    return request.client.host if request.client is not None else ""


async def _cached_or_threaded(call: Callable[..., T], **kwargs: object) -> T:
    try:
        return call(cached_only=True, **kwargs)
    except CacheMiss:
        return await run_in_threadpool(call, cached_only=False, **kwargs)


def _licence_headers(answer: LicenseAnswer) -> dict[str, str]:
    headers = dict(_NO_STORE)
    if answer.stream_id:
        headers["X-Reelguard-Stream"] = answer.stream_id
    if answer.download_id:
        headers["X-Reelguard-Download"] = answer.download_id
    if answer.expires_at:
        headers["X-Reelguard-License-Expires"] = answer.expires_at.isoformat()
    if answer.withheld:
        headers["X-Reelguard-Withheld"] = ",".join(answer.withheld)
    return headers


async def answer_hls_key(service: LicenseService, request: Request, title_name: str, stream: str,
                         generation: int = 1) -> Response:
    """The raw 16-byte key of one HLS stream of package ``generation``, after the entitlement token and policy."""
    key = await _cached_or_threaded(service.hls_key, authorization=request.headers.get("authorization"),
                                    title_name=title_name, stream=stream, client_ip=client_ip(request),
                                    generation=generation)
    return Response(key, media_type="application/octet-stream", headers=_NO_STORE)


def license_routes(service: LicenseService, max_body_bytes: int) -> list[Route]:
    async def clearkey_license(request: Request) -> Response:
        """W3C EME Clear Key licence: temporary (a stream) or persistent-license (a download)."""
        body = await read_bounded_body(request, max_body_bytes)
        answer = await _cached_or_threaded(service.issue_clearkey_license,
                                           authorization=request.headers.get("authorization"), body=body,
                                           client_ip=client_ip(request))
        return JSONResponse(answer.body, headers=_licence_headers(answer))

    async def hls_key(request: Request) -> Response:
        """HLS identity key delivery: the stream's raw 16-byte key (``k<N>/``: of the title's package N)."""
        return await answer_hls_key(service, request, request.path_params["title"], request.path_params["stream"],
                                    request.path_params.get("generation", 1))

    async def release_stream(request: Request) -> Response:
        """The player stopped: free the token's stream slot now."""
        ended = await run_in_threadpool(service.release_stream, authorization=request.headers.get("authorization"))
        return JSONResponse({"released": ended}, headers=_NO_STORE)

    return [
        Route("/license/clearkey", clearkey_license, methods=["POST"]),
        Route("/license/stream", release_stream, methods=["DELETE"]),
        Route("/content/{title}/hls/{stream}/key", hls_key, methods=["GET"]),
        Route("/content/{title}/k{generation:int}/hls/{stream}/key", hls_key, methods=["GET"]),
        *download_routes(service, max_body_bytes),
    ]


def session_key_routes(service: LicenseService, selector: EdgeSelector) -> list[Route]:
    """``GET /stream/{token}/hls/{stream}/key``: the HLS key of a per-session A/B stream (the token names the title).

    Listed before the origin's ``/stream/{token}/{path}`` when one app serves both.
    """
    async def session_hls_key(request: Request) -> Response:
        claims = selector.claims(request.path_params["token"])
        return await answer_hls_key(service, request, claims.title_name, request.path_params["stream"],
                                    claims.generation)

    return [Route("/stream/{token}/hls/{stream}/key", session_hls_key, methods=["GET"])]


def proxy_routes(service: LicenseService, proxy: LicenseProxy) -> list[Route]:
    """``POST /license/proxy/{system}``: policy first, then the challenge to the upstream."""

    async def forward(request: Request) -> Response:
        system = request.path_params["system"]
        proxy.require(system)
        challenge = await read_bounded_body(request, MAX_CHALLENGE_BYTES)
        claims, grant = await _cached_or_threaded(service.authorize_proxied,
                                                  authorization=request.headers.get("authorization"),
                                                  client_ip=client_ip(request))
        context = {"X-Reelguard-Account": claims.account, "X-Reelguard-Device": claims.device,
                   "X-Reelguard-Title": claims.title, "X-Reelguard-Tiers": ",".join(sorted(grant.decision.tiers)),
                   "X-Reelguard-Stream": grant.stream_id}
        content_type, answer = await proxy.forward(system, challenge, context)
        return Response(answer, media_type=content_type,
                        headers={**_NO_STORE, "X-Reelguard-Stream": grant.stream_id})

    return [Route("/license/proxy/{system}", forward, methods=["POST"])]


def download_routes(service: LicenseService, max_body_bytes: int) -> list[Route]:
    """The download API for native apps (the same rules as persistent-license requests)."""

    async def renew(request: Request) -> Response:
        body = await read_bounded_body(request, max_body_bytes)
        answer = await run_in_threadpool(service.renew_download, authorization=request.headers.get("authorization"),
                                         download_id=request.path_params["download"], body=body,
                                         client_ip=client_ip(request))
        return JSONResponse(answer.body, headers=_licence_headers(answer))

    async def play(request: Request) -> Response:
        expires = await run_in_threadpool(service.record_download_play,
                                          authorization=request.headers.get("authorization"),
                                          download_id=request.path_params["download"],
                                          client_ip=client_ip(request))
        return JSONResponse({"download": request.path_params["download"], "expires_at": expires.isoformat()},
                            headers=_NO_STORE)

    async def release(request: Request) -> Response:
        await run_in_threadpool(service.release_download, authorization=request.headers.get("authorization"),
                                download_id=request.path_params["download"])
        return Response(status_code=204, headers=_NO_STORE)

    return [
        Route("/license/downloads/{download}/renew", renew, methods=["POST"]),
        Route("/license/downloads/{download}/play", play, methods=["POST"]),
        Route("/license/downloads/{download}", release, methods=["DELETE"]),
    ]
