"""Entitlement tokens: JWTs the platform's backend signs and the licence server checks.

A token says *account* ``sub`` may play *title* ``title`` on *device* ``device`` until
``exp``; ``jti`` names it; ``aud``/``iss`` pin it to this licence service. Tokens are
signed with EdDSA (Ed25519) or ES256, with a ``kid`` header naming one of the backend's
public keys the server trusts (``license/trusted_keys.py``: PEM files, a JWKS, rotation).
The verifier accepts only those algorithms and only for the key type the ``kid`` names, so
``alg: none`` and the HS256-with-the-public-key confusion are refused before any
signature check; the signature itself is PyJWT's (``PyJWS``)::

    verifier = TokenVerifier(trusted_keys, issuer="backend", audience="reelguard-license",
                             max_ttl_seconds=86_400, leeway_seconds=30)
    claims = verifier.verify(token, now=now)

``TokenSigner`` mints tokens with a local private key: the demo's and the tests' stand-in
for the backend, never trusted by a server configured with the backend's keys.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from reelguard.drm.keys import b64url_decode, b64url_encode
from reelguard.errors import AuthenticationError, ConfigurationError, InvalidInput, TokenExpired
from reelguard.jsonbounds import parse_bounded_json
from reelguard.license.caching import Generations

__all__ = [
    "EntitlementClaims",
    "KeySource",
    "PublicKey",
    "TokenSigner",
    "TokenVerifier",
    "key_id_of",
    "load_or_create_signing_key",
]

PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey
_MAX_TOKEN_CHARS = 4096
_REQUIRED = ["exp", "iat", "sub", "jti", "aud", "iss"]
_VERIFIED_CACHE_ENTRIES = 20_000  # per generation (caching.Generations); ~1 KiB each


class KeySource(Protocol):
    """Trusted public keys by kid (``TrustedKeys``, or a plain dict)."""

    def get(self, kid: str, /) -> PublicKey | None: ...


@dataclass(frozen=True, slots=True)
class EntitlementClaims:
    account: str
    title: str
    device: str
    token_id: str
    issued_at: int
    expires_at: int
    audience: tuple[str, ...] = ()


def _algorithm_for(key: PublicKey | PrivateKey) -> str:
    if isinstance(key, ed25519.Ed25519PublicKey | ed25519.Ed25519PrivateKey):
        return "EdDSA"
    if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey) and isinstance(
        key.curve, ec.SECP256R1
    ):
        return "ES256"
    raise ConfigurationError("token keys must be Ed25519 or ECDSA P-256 (ES256)")


def key_id_of(public_key: PublicKey) -> str:
    """A stable ``kid``: base64url of the SHA-256 of the public key's DER, first 16 chars."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return b64url_encode(hashlib.sha256(der).digest())[:16]


def load_or_create_signing_key(path: Path) -> PrivateKey:
    """Read the backend's PEM signing key, creating an ES256 (P-256) one (0600) on first use.

    ES256 is the default because P-256 verification is about 1.5x faster than Ed25519 in
    OpenSSL on the x86 machines measured (docs/benchmarks.md); Ed25519 keys work too.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
        except FileExistsError:
            pass
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(f"token signing key {path} is not an unencrypted PEM private key") from exc
    if not isinstance(key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey):
        raise ConfigurationError(f"token signing key {path} must be Ed25519 or ECDSA P-256")
    _algorithm_for(key)
    return key


@dataclass(frozen=True)
class TokenSigner:
    """Mints entitlement tokens (the platform backend's job; here for the demo and tests)."""

    private_key: PrivateKey = field(repr=False)
    issuer: str
    audience: str

    @property
    def public_key(self) -> PublicKey:
        return self.private_key.public_key()

    @property
    def kid(self) -> str:
        return key_id_of(self.public_key)

    def issue(self, *, account: str, title: str, device: str, ttl_seconds: int, now: datetime,
              extra: dict[str, Any] | None = None) -> str:
        for name, value in (("account", account), ("title", title), ("device", device)):
            if not value or len(value) > 200:
                raise InvalidInput(f"{name} must be 1-200 characters, got {len(value)}")
        if ttl_seconds <= 0:
            raise InvalidInput(f"ttl must be a positive number of seconds, got {ttl_seconds}")
        issued = int(now.timestamp())
        claims: dict[str, Any] = {
            "iss": self.issuer, "aud": self.audience, "sub": account, "title": title,
            "device": device, "iat": issued, "exp": issued + ttl_seconds, "jti": uuid.uuid4().hex,
            **(extra or {}),
        }
        return jwt.encode(claims, self.private_key, algorithm=_algorithm_for(self.private_key),
                          headers={"kid": self.kid})


class TokenVerifier:
    """Checks signature, algorithm, audience, issuer, expiry and lifetime of a token."""

    def __init__(self, keys: KeySource, *, issuer: str, audience: str,
                 max_ttl_seconds: int, leeway_seconds: int) -> None:
        self._keys = keys
        self._issuer, self._audience = issuer, audience
        self._max_ttl, self._leeway = max_ttl_seconds, leeway_seconds
        # token → (claims, the key that verified it, its kid): a hit counts only while that key is still trusted
        self._verified: Generations[str, tuple[dict[str, Any], PublicKey, str]] = Generations(_VERIFIED_CACHE_ENTRIES)
        self._jws = jwt.PyJWS(algorithms=["EdDSA", "ES256"])

    def verify(self, token: str, *, now: datetime, allow_expired: bool = False) -> EntitlementClaims:
        """Verify a compact JWS and its claims (RFC 7515/7519), strictly.

        The header is read (bounded) and its ``kid`` and ``alg`` checked before PyJWS
        verifies the signature with that one key and algorithm; the claims are checked
        here, cheaply, in a fixed order. A token that verified once is remembered (exact
        string → claims) while its key stays trusted, because one playback session sends
        the same token several times (a DASH key session per tier, an HLS key request per
        stream); the time checks — expiry, lifetime, not-yet-valid — run again on every
        use, so a remembered token expires exactly like a fresh one, and a key removed from
        the trusted set takes its tokens with it.
        """
        remembered = self._verified.get(token)
        if remembered is not None and self._keys.get(remembered[2]) is remembered[1]:
            claims = remembered[0]
        else:
            claims, key, kid = self._verify_signed_claims(token)
            self._verified[token] = (claims, key, kid)
        return self._check_claims(claims, int(now.timestamp()), allow_expired)

    def _verify_signed_claims(self, token: str) -> tuple[dict[str, Any], PublicKey, str]:
        header = _split(token)                                               # (1)
        key, algorithm = self._key_for(header)                              # (2)
        try:                                                                 # (3)
            verified = self._jws.decode_complete(token, key=key, algorithms=[algorithm])
        except jwt.InvalidSignatureError as exc:
            raise AuthenticationError("token signature does not verify") from exc
        except jwt.PyJWTError as exc:
            raise AuthenticationError(f"token is not a valid JWS: {str(exc)[:120]}") from exc
        claims = _json_object(verified["payload"], "payload")
        if claims.get("iss") != self._issuer:
            raise AuthenticationError(f"token issuer is not {self._issuer!r}")
        audience = claims.get("aud")
        if audience != self._audience and not (isinstance(audience, list) and self._audience in audience):
            raise AuthenticationError(f"token audience is not {self._audience!r}")
        for name in _REQUIRED:
            if name not in claims:
                raise AuthenticationError(f"token lacks the required claim {name!r}")
        return claims, key, str(header.get("kid"))

    def _key_for(self, header: dict[str, Any]) -> tuple[PublicKey, str]:
        # (2) the kid must name a trusted key, and alg must be that key's algorithm
        key = self._keys.get(str(header.get("kid")))
        if key is None:
            raise AuthenticationError(f"token kid {str(header.get('kid'))[:40]!r} is not a trusted signing key")
        expected = _algorithm_for(key)
        if header.get("alg") != expected:
            raise AuthenticationError(
                f"token algorithm must be {expected} for kid {header.get('kid')!r}, got {str(header.get('alg'))[:20]!r}"
            )
        return key, expected

    def _check_claims(self, claims: dict[str, Any], now: int, allow_expired: bool) -> EntitlementClaims:
        # (3) expiry and lifetime: short-lived tokens only (an expired one may only renew
        #     a stream it started; the licence service checks that)
        exp, iat = claims.get("exp"), claims.get("iat")
        if not isinstance(exp, int) or not isinstance(iat, int):
            raise AuthenticationError("token exp and iat must be integer seconds")
        if exp + self._leeway < now and not allow_expired:
            raise TokenExpired(f"token expired {now - exp} s ago; ask the backend for a fresh one")
        if iat - self._leeway > now:
            raise AuthenticationError("token is issued in the future (check the backend's clock)")
        _check_not_before(claims.get("nbf"), now, self._leeway)
        if exp - iat > self._max_ttl:
            raise AuthenticationError(f"token lifetime {exp - iat} s exceeds the {self._max_ttl} s cap")
        # (4) the entitlement itself
        values = {name: claims.get(name) for name in ("sub", "title", "device", "jti")}
        for name, value in values.items():
            if not isinstance(value, str) or not value:
                raise AuthenticationError(f"token claim {name!r} must be a non-empty string")
        audience = claims.get("aud")
        return EntitlementClaims(account=str(values["sub"]), title=str(values["title"]),
                                 device=str(values["device"]), token_id=str(values["jti"]),
                                 issued_at=iat, expires_at=exp,
                                 audience=tuple(audience) if isinstance(audience, list) else (str(audience),))

    def is_expired(self, claims: EntitlementClaims, now: datetime) -> bool:
        return claims.expires_at + self._leeway < int(now.timestamp())


def _check_not_before(nbf: object, now: int, leeway: int) -> None:
    """RFC 7519 §4.1.5: the token must not be accepted before ``nbf`` (with ``iat``'s leeway)."""
    if nbf is None:
        return
    if not isinstance(nbf, int) or isinstance(nbf, bool):
        raise AuthenticationError(f"token nbf must be integer seconds, got {type(nbf).__name__}")
    if nbf - leeway > now:
        raise AuthenticationError(f"token is not valid until {nbf} (nbf), {nbf - now} s from now; "
                                  "use it then, or have the backend leave nbf out")


def _split(token: str) -> dict[str, Any]:
    """(1) The size bounded, then the header read (bounded JSON) without trusting it."""
    if not isinstance(token, str) or len(token) > _MAX_TOKEN_CHARS:
        raise AuthenticationError(f"token is over {_MAX_TOKEN_CHARS} characters")
    parts = token.split(".")
    if len(parts) != 3 or not all(parts[:2]):
        raise AuthenticationError("expected a JWT (header.payload.signature), got something else")
    header = _json_segment(parts[0], "header")
    if header.get("b64", True) is not True or "crit" in header:
        raise AuthenticationError("token header may not carry crit or b64 (RFC 7797) parameters")
    return header


def _json_segment(segment: str, name: str) -> dict[str, Any]:
    try:
        raw = b64url_decode(segment)
    except InvalidInput as exc:
        raise AuthenticationError(f"token {name} is not base64url JSON") from exc
    return _json_object(raw, name)


def _json_object(raw: bytes, name: str) -> dict[str, Any]:
    value = parse_bounded_json(raw, what=f"a token {name}", malformed=AuthenticationError)
    if not isinstance(value, dict):
        raise AuthenticationError(f"token {name} must be a JSON object")
    return value
