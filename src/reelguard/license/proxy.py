"""Licence proxy for commercial DRMs (Widevine, PlayReady, FairPlay services under contract).

reelguard authorises the request with its own policy first — the same stream slots,
devices, geo and entitlement rules as a Clear Key licence — and only then forwards the
opaque CDM challenge to the configured upstream with the *server's* credential, never
the player's token. The upstream's answer is relayed as is; an upstream that fails,
refuses or does not answer in time becomes a 502/504 problem, never a hang::

    proxy = LicenseProxy({"widevine": "https://license.example/wv"}, credential="…", timeout_seconds=10)
    status, content_type, body = await proxy.forward("widevine", challenge, grant_headers)
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from reelguard.errors import ConfigurationError, NotFound, UpstreamError, UpstreamTimeout
from reelguard.secretfiles import read_secret_text

if TYPE_CHECKING:
    import httpx

__all__ = ["LicenseProxy", "load_credential"]

MAX_CHALLENGE_BYTES = 64 * 1024
MAX_ANSWER_BYTES = 1024 * 1024


def load_credential(path: Path | None) -> str | None:
    """The upstream bearer credential from a 0600 file (None when not configured)."""
    return None if path is None else read_secret_text(path, "licence-proxy credential")


class LicenseProxy:
    def __init__(self, upstreams: Mapping[str, str], *, credential: str | None, timeout_seconds: float) -> None:
        for system, url in upstreams.items():
            if not url.startswith(("http://", "https://")):
                raise ConfigurationError(f"licence-proxy upstream for {system!r} must be an http(s) URL")
        self._upstreams, self._credential, self._timeout = dict(upstreams), credential, timeout_seconds
        self._client: httpx.AsyncClient | None = None  # made at the first forward: most servers proxy nothing

    def _http(self) -> httpx.AsyncClient:
        import httpx

        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout, follow_redirects=False)
        return self._client

    def require(self, system: str) -> None:
        if system not in self._upstreams:
            known = ", ".join(sorted(self._upstreams)) or "none configured"
            raise NotFound(f"no licence-proxy upstream for DRM system {system[:40]!r} ({known})")

    async def forward(self, system: str, challenge: bytes, context: Mapping[str, str]) -> tuple[str, bytes]:
        """POST the challenge upstream; the answer's content type and body."""
        self.require(system)
        headers = {"Content-Type": "application/octet-stream", **context}
        if self._credential is not None:
            headers["Authorization"] = f"Bearer {self._credential}"
        import httpx

        try:
            response = await self._http().post(self._upstreams[system], content=challenge, headers=headers)
        except httpx.TimeoutException as exc:
            raise UpstreamTimeout(f"the {system} licence service did not answer in time") from exc
        except httpx.HTTPError as exc:
            raise UpstreamError(f"the {system} licence service is unreachable ({type(exc).__name__})") from exc
        if response.status_code != 200:
            raise UpstreamError(f"the {system} licence service answered HTTP {response.status_code}; "
                                "the licence was not issued")
        if len(response.content) > MAX_ANSWER_BYTES:
            raise UpstreamError(f"the {system} licence service answered over {MAX_ANSWER_BYTES} bytes")
        return response.headers.get("content-type", "application/octet-stream"), response.content

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
