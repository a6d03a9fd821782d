"""The licence service: entitlement token in, Clear Key licence (or HLS key) out.

Steps, in order, for every request (numbered again in the code):
(1) authenticate the bearer token (an expired one only renews the stream it started);
(2) parse and bound the request; (3) the token's title must exist and be ready;
(4) every requested KID must be a key of that title; (5) the policy decides — start or
renew the token's stream, or, for a ``persistent-license`` request, a download — and
names the tiers the device may have; (6) answer with the requested keys of those tiers
only (a weak device gets SD and audio, not HD). Nothing is returned on any failure,
and keys are never logged::

    service = LicenseService(lookup, verifier, clock, entitlements, downloads, max_body_bytes=16384)
    answer = service.issue_clearkey_license(authorization="Bearer ey…", body=b'{"kids": [...]}',
                                            client_ip="203.0.113.7")
    answer.body, answer.stream_id, answer.withheld
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from reelguard.clock import Clock
from reelguard.drm.keys import ContentKey, KeyId, TrackTier
from reelguard.errors import (
    AuthenticationError,
    KeyRetired,
    NotFound,
    PermissionDenied,
    TitleNotReady,
    UnknownKeyId,
)
from reelguard.license.caching import CacheMiss
from reelguard.license.clearkey import ClearKeyRequest, build_license_response, parse_license_request
from reelguard.license.downloads import DownloadService
from reelguard.license.entitlements import EntitlementService, StreamGrant
from reelguard.license.lookup import LicenseLookup, TitleSnapshot
from reelguard.license.tokens import EntitlementClaims, TokenVerifier

__all__ = ["LicenseAnswer", "LicenseService", "UnsafeNoPolicy", "bearer_token"]

_log = logging.getLogger(__name__)


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header."""
    if not authorization:
        raise AuthenticationError("expected 'Authorization: Bearer <entitlement token>', got no Authorization header")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError(f"expected 'Authorization: Bearer <token>', got a {scheme[:20]!r} credential")
    return token.strip()


@dataclass(frozen=True, slots=True)
class LicenseAnswer:
    body: dict[str, Any]
    stream_id: str | None = None
    download_id: str | None = None
    expires_at: datetime | None = None
    withheld: tuple[TrackTier, ...] = ()


class UnsafeNoPolicy:
    """The unsafe bare path (``[license] unsafe_skip_policy``): a valid token alone gets every key it asks for.

    No entitlement, device, geo or stream check and no decision record: the licence
    benchmark's comparator and a debugging switch, never a deployment. Every grant is
    warned about — the first at once, then one warning per ``warn_every`` that counts the
    grants since the last (a line per grant would be thousands a second, and its cost
    would become part of what the comparator measures)::

        service = LicenseService(lookup, verifier, clock, UnsafeNoPolicy(clock), None, max_body_bytes=16384)
    """

    def __init__(self, clock: Clock, *, warn_every: timedelta = timedelta(seconds=10)) -> None:
        self._clock, self._warn_every = clock, warn_every
        self._lock = threading.Lock()
        self._unwarned = 0
        self._next_warning: datetime | None = None

    def grant(self, claims: EntitlementClaims) -> None:
        """Count a grant made without the policy; warn now if the last warning is old enough."""
        with self._lock:
            self._unwarned += 1
            now = self._clock()
            if self._next_warning is not None and now < self._next_warning:
                return
            count, self._unwarned, self._next_warning = self._unwarned, 0, now + self._warn_every
        _log.warning("UNSAFE: %d licence(s) granted without the licence policy (last: account %s, title %s); "
                     "[license] unsafe_skip_policy is on", count, claims.account, claims.title)


class LicenseService:
    def __init__(self, lookup: LicenseLookup, verifier: TokenVerifier, clock: Clock,
                 entitlements: EntitlementService | UnsafeNoPolicy, downloads: DownloadService | None,
                 *, max_body_bytes: int) -> None:
        """``UnsafeNoPolicy`` instead of the entitlements is the unsafe bare path: a valid token alone gets keys."""
        self._lookup, self._verifier, self._clock = lookup, verifier, clock
        self._entitlements, self._downloads = entitlements, downloads
        # with the policy on, an expired token may still renew within grace (the policy decides)
        self._policy_applies = not isinstance(entitlements, UnsafeNoPolicy)
        self._max_body_bytes = max_body_bytes

    def authenticate(self, authorization: str | None, *, allow_expired: bool = False) -> EntitlementClaims:
        return self._verifier.verify(bearer_token(authorization), now=self._clock(), allow_expired=allow_expired)

    def issue_clearkey_license(self, *, authorization: str | None, body: bytes, client_ip: str = "",
                               cached_only: bool = False) -> LicenseAnswer:
        """The licence, or a ReelguardError; ``CacheMiss`` if ``cached_only`` and the DB is needed."""
        claims = self.authenticate(authorization, allow_expired=self._policy_applies)          # (1)
        request, title, keys = self._requested_keys(claims, body, cached_only)                   # (2)-(4)
        if request.session_type == "persistent-license":
            if cached_only:
                raise CacheMiss
            return self._download_license(claims, keys, title, client_ip)
        if isinstance(self._entitlements, UnsafeNoPolicy):
            self._entitlements.grant(claims)
            return LicenseAnswer(build_license_response(keys, request.session_type))
        grant = self._entitlements.authorize_stream(                                             # (5)
            claims, ip=client_ip, title_tiers=title.tiers, cached_only=cached_only,
            token_expired=self._verifier.is_expired(claims, self._clock()))
        allowed, withheld = _split_by_tier(keys, grant.decision.tiers)                           # (6)
        return LicenseAnswer(build_license_response(allowed, request.session_type), stream_id=grant.stream_id,
                             expires_at=grant.decision.expires_at, withheld=withheld)

    def hls_key(self, *, authorization: str | None, title_name: str, stream: str, client_ip: str = "",
                cached_only: bool = False, generation: int = 1) -> bytes:
        """The raw 16-byte key of one HLS stream of the title's package ``generation`` (KEYFORMAT="identity")."""
        claims = self.authenticate(authorization, allow_expired=self._policy_applies)          # (1)
        if claims.title != title_name:
            raise PermissionDenied(f"the token covers title {claims.title!r}, not {title_name!r}")
        title = _ready(self._lookup.title(title_name, cached_only=cached_only), title_name)  # (3)
        tier = title.stream_tiers.get(stream)
        if tier is None:
            names = ", ".join(sorted(title.stream_tiers))
            raise NotFound(f"title {title.name!r} has no stream {stream[:60]!r} (streams: {names})")
        keys = self._lookup.title_keys(title.id, generation, cached_only=cached_only)
        if tier not in keys:                                                         # (4)
            raise NotFound(f"title {title.name!r} has no {tier} key of generation {generation}")
        self._require_unretired(keys[tier].kid, title)
        if isinstance(self._entitlements, UnsafeNoPolicy):
            self._entitlements.grant(claims)
        else:
            grant = self._entitlements.authorize_stream(                             # (5)
                claims, ip=client_ip, title_tiers=title.tiers, cached_only=cached_only,
                token_expired=self._verifier.is_expired(claims, self._clock()))
            if tier not in grant.decision.tiers:
                raise PermissionDenied(f"stream {stream[:60]!r} is {tier}; this device may have "
                                       f"{', '.join(sorted(grant.decision.tiers))} only")
        return keys[tier].key                                                        # (6)

    def authorize_proxied(self, *, authorization: str | None, client_ip: str = "",
                          cached_only: bool = False) -> tuple[EntitlementClaims, StreamGrant]:
        """Steps (1), (3) and (5) for a commercial-DRM challenge the proxy will forward."""
        if isinstance(self._entitlements, UnsafeNoPolicy):
            raise PermissionDenied("the licence proxy needs the licence policy; it is switched off")
        claims = self.authenticate(authorization, allow_expired=True)
        title = _ready(self._lookup.title(claims.title, cached_only=cached_only), claims.title)
        grant = self._entitlements.authorize_stream(claims, ip=client_ip, title_tiers=title.tiers,
                                                    cached_only=cached_only,
                                                    token_expired=self._verifier.is_expired(claims, self._clock()))
        return claims, grant

    def release_stream(self, *, authorization: str | None) -> bool:
        claims = self.authenticate(authorization, allow_expired=True)
        if isinstance(self._entitlements, UnsafeNoPolicy):
            return False
        return self._entitlements.release_stream(claims)

    def renew_download(self, *, authorization: str | None, download_id: str, body: bytes,
                       client_ip: str = "") -> LicenseAnswer:
        """A fresh persistent licence for a download the device holds (a fresh token needed)."""
        claims = self.authenticate(authorization)
        _, title, keys = self._requested_keys(claims, body, cached_only=False)
        grant = self._require_downloads().renew(claims, download_id, ip=client_ip, title_tiers=title.tiers)
        allowed, withheld = _split_by_tier(keys, grant.decision.tiers)
        return LicenseAnswer(build_license_response(allowed, "persistent-license"), download_id=grant.download_id,
                             expires_at=grant.expires_at, withheld=withheld)

    def record_download_play(self, *, authorization: str | None, download_id: str, client_ip: str = "") -> datetime:
        return self._require_downloads().record_play(self.authenticate(authorization, allow_expired=True),
                                                     download_id, ip=client_ip)

    def release_download(self, *, authorization: str | None, download_id: str) -> None:
        self._require_downloads().release(self.authenticate(authorization, allow_expired=True), download_id)

    def _require_downloads(self) -> DownloadService:
        if self._downloads is None or isinstance(self._entitlements, UnsafeNoPolicy):
            raise PermissionDenied("downloads are not enabled on this licence server")
        return self._downloads

    def _download_license(self, claims: EntitlementClaims, keys: list[ContentKey], title: TitleSnapshot,
                          client_ip: str) -> LicenseAnswer:
        if self._verifier.is_expired(claims, self._clock()):
            raise AuthenticationError("a download needs an unexpired token")
        grant = self._require_downloads().acquire(claims, ip=client_ip, title_tiers=title.tiers)
        allowed, withheld = _split_by_tier(keys, grant.decision.tiers)
        return LicenseAnswer(build_license_response(allowed, "persistent-license"), download_id=grant.download_id,
                             expires_at=grant.expires_at, withheld=withheld)

    def _requested_keys(self, claims: EntitlementClaims, body: bytes,
                        cached_only: bool) -> tuple[ClearKeyRequest, TitleSnapshot, list[ContentKey]]:
        """Steps (2)-(4): the bounded request, the token's ready title, and the requested keys of it."""
        request = parse_license_request(body, max_bytes=self._max_body_bytes)
        title = _ready(self._lookup.title(claims.title, cached_only=cached_only), claims.title)
        return request, title, self._title_keys_of(request.kids, title, cached_only)

    def _title_keys_of(self, kids: Sequence[KeyId], title: TitleSnapshot, cached_only: bool) -> list[ContentKey]:
        stored = self._lookup.keys(kids, cached_only=cached_only)
        keys: list[ContentKey] = []
        for kid in kids:
            found = stored.get(kid)
            if found is None:
                raise UnknownKeyId(f"KID {kid} is not in the key store")
            if found.title_id != title.id:
                raise PermissionDenied(
                    f"KID {kid} is not a key of title {title.name!r}; the token covers only that title"
                )
            self._require_unretired(kid, title)
            keys.append(found.key)
        return keys

    def _require_unretired(self, kid: KeyId, title: TitleSnapshot) -> None:
        """A key a rotation retired is licensed until its grace period ends, then never again."""
        retire_at = title.retiring.get(kid.hex)
        if retire_at is not None and self._clock() >= retire_at:
            raise KeyRetired(f"KID {kid} of title {title.name!r} was retired at {retire_at.isoformat()} when the "
                             f"title's keys were rotated; reload the title: its manifest names the new keys")


def _split_by_tier(keys: list[ContentKey], tiers: frozenset[TrackTier]) -> tuple[list[ContentKey],
                                                                                   tuple[TrackTier, ...]]:
    allowed = [key for key in keys if key.tier in tiers]
    withheld = tuple(sorted({key.tier for key in keys if key.tier not in tiers}))
    if not allowed:
        raise PermissionDenied(f"the requested keys are {', '.join(withheld)}; this device may have "
                               f"{', '.join(sorted(tiers)) or 'none'} only")
    return allowed, withheld


def _ready(title: TitleSnapshot | None, name: str) -> TitleSnapshot:
    if title is None:
        raise NotFound(f"the token's title {name!r} is not in the catalog")
    if title.status != "ready":
        raise TitleNotReady(f"title {name!r} is {title.status} (stage {title.stage}), not ready for playback")
    return title
