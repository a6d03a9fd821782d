"""The licence service: entitlement token in, Clear Key licence (or HLS key) out.

Steps, in order, for every request (numbered again in the code):
(1) authenticate the bearer token; (2) parse and bound the request; (3) the token's title
must exist and be ready; (4) every requested KID must be a key of that title; (5) answer
with only those keys. Nothing is returned on any failure, and keys are never logged::

    service = LicenseService(runtime)
    response = service.issue_clearkey_license(authorization="Bearer ey…", body=b'{"kids": [...]}')
"""

from __future__ import annotations

from typing import Any

from reelguard.clock import Clock
from reelguard.drm.keys import ContentKey, TrackTier
from reelguard.drm.keystore import KeyStore
from reelguard.errors import (
    AuthenticationError,
    NotFound,
    PermissionDenied,
    TitleNotReady,
    UnknownKeyId,
)
from reelguard.license.clearkey import build_license_response, parse_license_request
from reelguard.license.tokens import EntitlementClaims, TokenVerifier
from reelguard.store import repositories
from reelguard.store.database import Database
from reelguard.store.models import TitleRow

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
    def __init__(self, db: Database, keystore: KeyStore, verifier: TokenVerifier, clock: Clock,
                 *, max_body_bytes: int) -> None:
        self._db, self._keystore, self._verifier, self._clock = db, keystore, verifier, clock
        self._max_body_bytes = max_body_bytes

    def authenticate(self, authorization: str | None) -> EntitlementClaims:
        return self._verifier.verify(bearer_token(authorization), now=self._clock())

    def issue_clearkey_license(self, *, authorization: str | None, body: bytes) -> dict[str, Any]:
        claims = self.authenticate(authorization)                                   # (1)
        request = parse_license_request(body, max_bytes=self._max_body_bytes)       # (2)
        with self._db.session() as session:
            title = _ready_title(session, claims.title)                              # (3)
            stored = {s.key.kid: s for s in self._keystore.lookup(session, request.kids)}
        keys: list[ContentKey] = []
        for kid in request.kids:                                                     # (4)
            found = stored.get(kid)
            if found is None:
                raise UnknownKeyId(f"KID {kid} is not in the key store")
            if found.title_id != title.id:
                raise PermissionDenied(f"KID {kid} is not a key of title {title.name!r}; the token covers only that title")
            keys.append(found.key)
        return build_license_response(keys, request.session_type)                    # (5)

    def hls_key(self, *, authorization: str | None, title_name: str, stream: str) -> bytes:
        """The raw 16-byte key of one HLS stream (KEYFORMAT="identity" key delivery)."""
        claims = self.authenticate(authorization)                                   # (1)
        if claims.title != title_name:
            raise PermissionDenied(f"the token covers title {claims.title!r}, not {title_name!r}")
        with self._db.session() as session:
            title = _ready_title(session, title_name)                                # (3)
            tier = _stream_tier(title, stream)
            keys = {k.tier: k for k in self._keystore.keys_of_title(session, title.id)}
        if tier not in keys:                                                         # (4)
            raise NotFound(f"title {title.name!r} has no {tier} key")
        return keys[tier].key                                                        # (5)


def _ready_title(session: Any, name: str) -> TitleRow:
    title = repositories.find_title(session, name)
    if title is None:
        raise NotFound(f"the token's title {name!r} is not in the catalog")
    if title.status != "ready":
        raise TitleNotReady(f"title {name!r} is {title.status} (stage {title.stage}), not ready for playback")
    return title


def _stream_tier(title: TitleRow, stream: str) -> TrackTier:
    streams = (title.package or {}).get("streams", [])
    for entry in streams:
        if entry.get("name") == stream:
            return TrackTier(entry["tier"])
    names = ", ".join(sorted(str(e.get("name")) for e in streams))
    raise NotFound(f"title {title.name!r} has no stream {stream[:60]!r} (streams: {names})")
