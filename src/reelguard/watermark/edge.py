"""Edge variant selection: token in, blob path of segment n's variant out — no database.

A session's watermarking token (an HS256 JWT, ``docs/watermarking.md``) carries the TS 104
002 claims in *indirect* mode: ``wmid`` is the session id and ``wmpatlen`` the pattern
length; the edge derives the A/B pattern itself with the title's code key. That is all a
CDN edge needs — the shared watermark secret and this module's 30 lines — to serve
``/stream/{token}/dash/video_720p/7.m4s`` from variant A or B::

    selector = EdgeSelector(secret, clock=time.time)
    selector.blob_key(token, "dash/video_720p/7.m4s")
    # "packages/<title>/variants/b/dash/video_720p/7.m4s" when bit(session, 6) = 1
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import jwt

from reelguard.drm.keys import b64url_decode
from reelguard.errors import AuthenticationError, InvalidInput, NotFound, TokenExpired
from reelguard.jsonbounds import parse_bounded_json
from reelguard.titles import generation_path
from reelguard.watermark.packaging import VARIANT_B_DIR
from reelguard.watermark.secrets import WatermarkSecret

if TYPE_CHECKING:
    from reelguard.watermark.code import SessionCode

__all__ = ["TOKEN_AUDIENCE", "TOKEN_KEY_ID", "EdgeSelector", "SessionClaims"]

TOKEN_AUDIENCE = "reelguard-edge"  # noqa: S105 - an audience name, not a secret
TOKEN_KEY_ID = "wm1"  # noqa: S105 - a key id, not a key
_VIDEO_SEGMENT = re.compile(r"^(dash|hls)/(video_[A-Za-z0-9_]{1,40})/(\d{1,7})\.m4s$")
_SAFE_PATH = re.compile(r"^[A-Za-z0-9_.\-/]{1,200}$")


@dataclass(frozen=True, slots=True)
class SessionClaims:
    session_id: str
    title_id: str
    title_name: str
    collusion: int
    expires_at: float
    issued_at: float
    generation: int = 1  # the title's package (its keys) when the session started


def _refuse_unbounded_json(token: str) -> None:
    """Header and payload must be bounded JSON before PyJWT parses them (it would recurse 1,000 deep)."""
    for segment in token.split(".")[:2]:
        try:
            raw = b64url_decode(segment)
        except InvalidInput:
            continue  # not base64url: PyJWT refuses it as a bad token
        parse_bounded_json(raw, what="a watermarking token", malformed=AuthenticationError)


class EdgeSelector:
    def __init__(self, secret: WatermarkSecret, *, clock: Callable[[], float], leeway_seconds: int = 30) -> None:
        self._secret = secret
        self._clock = clock
        self._leeway = leeway_seconds
        self._decode = lru_cache(maxsize=4096)(self._verify)
        self._codes = lru_cache(maxsize=256)(self._code)

    def _verify(self, token: str) -> SessionClaims:
        _refuse_unbounded_json(token)
        try:
            header = jwt.get_unverified_header(token)
            if header.get("kid") != TOKEN_KEY_ID:
                raise AuthenticationError(f"expected a watermarking token with kid {TOKEN_KEY_ID!r}")
            # times are checked against the injected clock (claims()), not PyJWT's wall clock
            data: dict[str, Any] = jwt.decode(
                token, self._secret.token_key, algorithms=["HS256"], audience=TOKEN_AUDIENCE,
                options={"verify_exp": False, "verify_iat": False, "verify_nbf": False,
                         "require": ["exp", "iat", "wmid"]})
            return SessionClaims(str(data["wmid"]), str(data["title"]), str(data["title_name"]),
                                 int(data["collusion"]), float(data["exp"]), float(data["iat"]),
                                 int(data.get("wmgen", 1)))
        except (jwt.InvalidTokenError, KeyError, ValueError, TypeError) as exc:
            raise AuthenticationError("expected a valid reelguard watermarking token; got one that does not "
                                      "verify (bad signature, audience or claims)") from exc

    def claims(self, token: str) -> SessionClaims:
        """The verified claims; raise AuthenticationError (bad token) or TokenExpired."""
        if len(token) > 2048:
            raise AuthenticationError(f"expected a watermarking token under 2048 characters, got {len(token)}")
        claims = self._decode(token)
        now = self._clock()
        if now > claims.expires_at + self._leeway:
            raise TokenExpired("the watermarking token has expired; start a new session")
        if claims.issued_at > now + self._leeway:
            raise AuthenticationError("the watermarking token is issued in the future; check the clocks")
        return claims

    def _code(self, title_id: str, collusion: int) -> SessionCode:
        from reelguard.watermark.code import SessionCode  # numpy: loaded by the first watermarked segment

        return SessionCode(key=self._secret.title_keys(title_id).code, collusion=collusion)

    def blob_key(self, token: str, path: str) -> str:
        """The packaged file this session gets for ``path`` (segment n of A or B, or a shared file)."""
        claims = self.claims(token)
        if not _SAFE_PATH.match(path) or ".." in path:
            raise NotFound(f"{path[:80]!r} is not a packaged file path")
        base = f"packages/{claims.title_id}/{generation_path(claims.generation)}"
        match = _VIDEO_SEGMENT.match(path)
        if match is None:
            return base + path  # manifests, init segments, audio: shared by every session
        position = int(match.group(3)) - 1
        if position < 0:
            raise NotFound(f"segment numbers start at 1, got {match.group(3)}")
        bit = self._codes(claims.title_id, claims.collusion).bit(claims.session_id, position)
        return base + (f"{VARIANT_B_DIR}/{path}" if bit else path)
