"""The licence service: entitlement token in, Clear Key licence (or HLS key) out.

Steps, in order, for every request (numbered again in the code):
(1) authenticate the bearer token; (2) parse and bound the request; (3) the token's title
must exist and be ready; (4) every requested KID must be a key of that title; (5) answer
with only those keys. Nothing is returned on any failure, and keys are never logged::

    service = LicenseService(LicenseLookup(db, keystore, ttl_seconds=2), verifier, clock, max_body_bytes=16384)
    response = service.issue_clearkey_license(authorization="Bearer ey…", body=b'{"kids": [...]}')
"""

from __future__ import annotations

from typing import Any

from reelguard.clock import Clock
from reelguard.drm.keys import ContentKey
from reelguard.errors import (
    AuthenticationError,
    NotFound,
    PermissionDenied,
    TitleNotReady,
    UnknownKeyId,
)
from reelguard.license.clearkey import build_license_response, parse_license_request
from reelguard.license.lookup import LicenseLookup, TitleSnapshot
from reelguard.license.tokens import EntitlementClaims, TokenVerifier

__all__ = ["LicenseService", "bearer_token"]


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header."""
    if not authorization:
        raise AuthenticationError("expected 'Authorization: Bearer <entitlement token>', got no Authorization header")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError(f"expected 'Authorization: Bearer <token>', got a {scheme[:20]!r} credential")
    return token.strip()


class LicenseService:
    def __init__(self, lookup: LicenseLookup, verifier: TokenVerifier, clock: Clock,
                 *, max_body_bytes: int) -> None:
        self._lookup, self._verifier, self._clock = lookup, verifier, clock
        self._max_body_bytes = max_body_bytes

    def authenticate(self, authorization: str | None) -> EntitlementClaims:
        return self._verifier.verify(bearer_token(authorization), now=self._clock())

    def issue_clearkey_license(self, *, authorization: str | None, body: bytes,
                               cached_only: bool = False) -> dict[str, Any]:
        """The licence, or a ReelguardError; ``CacheMiss`` if ``cached_only`` and the DB is needed."""
        claims = self.authenticate(authorization)                                   # (1)
        request = parse_license_request(body, max_bytes=self._max_body_bytes)       # (2)
        title = _ready(self._lookup.title(claims.title, cached_only=cached_only), claims.title)  # (3)
        stored = self._lookup.keys(request.kids, cached_only=cached_only)
        keys: list[ContentKey] = []
        for kid in request.kids:                                                     # (4)
            found = stored.get(kid)
            if found is None:
                raise UnknownKeyId(f"KID {kid} is not in the key store")
            if found.title_id != title.id:
                raise PermissionDenied(
                    f"KID {kid} is not a key of title {title.name!r}; the token covers only that title"
                )
            keys.append(found.key)
        return build_license_response(keys, request.session_type)                    # (5)

    def hls_key(self, *, authorization: str | None, title_name: str, stream: str,
                cached_only: bool = False) -> bytes:
        """The raw 16-byte key of one HLS stream (KEYFORMAT="identity" key delivery)."""
        claims = self.authenticate(authorization)                                   # (1)
        if claims.title != title_name:
            raise PermissionDenied(f"the token covers title {claims.title!r}, not {title_name!r}")
        title = _ready(self._lookup.title(title_name, cached_only=cached_only), title_name)  # (3)
        tier = title.stream_tiers.get(stream)
        if tier is None:
            names = ", ".join(sorted(title.stream_tiers))
            raise NotFound(f"title {title.name!r} has no stream {stream[:60]!r} (streams: {names})")
        keys = self._lookup.title_keys(title.id, cached_only=cached_only)
        if tier not in keys:                                                         # (4)
            raise NotFound(f"title {title.name!r} has no {tier} key")
        return keys[tier].key                                                        # (5)


def _ready(title: TitleSnapshot | None, name: str) -> TitleSnapshot:
    if title is None:
        raise NotFound(f"the token's title {name!r} is not in the catalog")
    if title.status != "ready":
        raise TitleNotReady(f"title {name!r} is {title.status} (stage {title.stage}), not ready for playback")
    return title
