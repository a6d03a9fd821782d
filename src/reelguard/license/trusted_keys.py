"""The backend's public keys that the licence server trusts, by ``kid``: PEM files and a JWKS document.

A streaming platform's backend signs entitlement tokens with its own private key; the
licence server holds only public keys. Several may be trusted at once — during a rotation
the backend publishes the new key next to the old one, switches its signing to it, and
later drops the old one. The sources are re-read in the background every
``refresh_seconds`` (and soon after a token names a ``kid`` not yet known), so a rotation
needs no restart. A lookup never does I/O: the hot path reads a dictionary that each
refresh replaces whole::

    keys = TrustedKeys.load(pem_files={"backend-2026-12": Path("backend-2026-12.pub.pem")},
                            jwks="https://backend.example/.well-known/jwks.json", refresh_seconds=300)
    keys.start()                 # the background refresh (the licence server's lifespan does this)
    keys.get("backend-2026-12")  # the public key, or None

Only the token algorithms the verifier accepts are trusted: Ed25519 (``OKP``/``Ed25519``,
``EdDSA``) and P-256 (``EC``/``P-256``, ``ES256``). Other keys in a JWKS (RSA keys for other
services, encryption keys) are skipped and named in the log. A source that is broken at
start stops the server with a ``ConfigurationError``; a refresh that fails keeps the keys
it had and logs why.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from reelguard.drm.keys import b64url_decode
from reelguard.errors import ConfigurationError, InvalidInput
from reelguard.jsonbounds import parse_bounded_json
from reelguard.license.tokens import PublicKey

__all__ = ["TrustedKeys", "load_public_key_file", "parse_jwks"]

_log = logging.getLogger(__name__)
MAX_JWKS_BYTES = 1024 * 1024
MIN_REFRESH_GAP_SECONDS = 10.0  # an unknown kid asks for a refresh at most this often
Fetch = Callable[[str], bytes]


class TrustedKeys:
    def __init__(self, keys: Mapping[str, PublicKey], *, pem_files: Mapping[str, Path] | None = None,
                 jwks: str | None = None, refresh_seconds: float = 300.0, fetch: Fetch | None = None) -> None:
        """Prefer ``load`` (reads the sources) or ``fixed`` (keys given, nothing to refresh)."""
        self._keys: dict[str, PublicKey] = dict(keys)
        self._pem_files, self._jwks = dict(pem_files or {}), jwks
        self._refresh_seconds, self._fetch = refresh_seconds, fetch or fetch_document
        self._wake, self._stopping = threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None
        self._last_refresh = time.monotonic()

    @classmethod
    def fixed(cls, keys: Mapping[str, PublicKey]) -> TrustedKeys:
        """Keys known in advance (the embedded set-up trusts its own demo signing key this way)."""
        return cls(keys)

    @classmethod
    def load(cls, *, pem_files: Mapping[str, Path], jwks: str | None, refresh_seconds: float,
             fetch: Fetch | None = None) -> TrustedKeys:
        """Read every source now; ConfigurationError if one is broken or no usable key is found."""
        keys = cls(keys={}, pem_files=pem_files, jwks=jwks, refresh_seconds=refresh_seconds, fetch=fetch)
        keys._keys = keys._read_sources()
        if not keys._keys:
            raise ConfigurationError(f"no usable token-signing key in {keys._describe()}: expected Ed25519 or "
                                     "P-256 public keys")
        return keys

    # -- the hot path ------------------------------------------------------------------------
    def get(self, kid: str) -> PublicKey | None:
        key = self._keys.get(kid)
        if key is None and self._thread is not None:
            self.request_refresh()
        return key

    @property
    def kids(self) -> list[str]:
        return sorted(self._keys)

    # -- refreshing --------------------------------------------------------------------------
    def refresh(self) -> bool:
        """Re-read the sources; True if the trusted set changed. A failure keeps the old set and is logged."""
        self._last_refresh = time.monotonic()
        if not self._pem_files and self._jwks is None:
            return False
        try:
            fresh = self._read_sources()
        except ConfigurationError as exc:
            _log.warning("trusted token keys not refreshed (keeping %s): %s", ", ".join(self.kids), exc)
            return False
        if not fresh:
            _log.warning("trusted token keys not refreshed: %s now has no usable key (keeping %s)",
                         self._describe(), ", ".join(self.kids))
            return False
        # an unchanged key keeps its object: tokens the verifier remembers under it stay remembered
        fresh = {kid: self._keys[kid] if kid in self._keys and _public_der(self._keys[kid]) == _public_der(key)
                 else key for kid, key in fresh.items()}
        changed = fresh.keys() != self._keys.keys() or any(fresh[kid] is not self._keys[kid] for kid in fresh)
        if changed:
            added, removed = sorted(fresh.keys() - self._keys.keys()), sorted(self._keys.keys() - fresh.keys())
            _log.warning("trusted token keys changed: now %s (added %s, removed %s)", ", ".join(sorted(fresh)),
                         ", ".join(added) or "none", ", ".join(removed) or "none")
            self._keys = fresh
        return changed

    def request_refresh(self) -> None:
        """Ask the background refresh to run soon (at most once per ``MIN_REFRESH_GAP_SECONDS``)."""
        if time.monotonic() - self._last_refresh >= MIN_REFRESH_GAP_SECONDS:
            self._wake.set()

    def start(self) -> None:
        if self._thread is not None or (not self._pem_files and self._jwks is None):
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="reelguard-trusted-keys", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stopping.set()
            self._wake.set()
            thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(timeout=self._refresh_seconds)
            self._wake.clear()
            if not self._stopping.is_set():
                self.refresh()

    # -- sources -----------------------------------------------------------------------------
    def _read_sources(self) -> dict[str, PublicKey]:
        keys = {kid: load_public_key_file(path) for kid, path in self._pem_files.items()}
        if self._jwks is not None:
            for kid, key in parse_jwks(self._fetch(self._jwks), where=self._jwks).items():
                if kid in keys:
                    raise ConfigurationError(f"kid {kid!r} is named by a PEM file and by the JWKS {self._jwks}")
                keys[kid] = key
        return keys

    def _describe(self) -> str:
        sources = [str(path) for path in self._pem_files.values()] + ([self._jwks] if self._jwks else [])
        return ", ".join(sources) or "no source"


def load_public_key_file(path: Path) -> PublicKey:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"cannot read the trusted token key {path}: {exc.strerror}") from exc
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError as exc:
        raise ConfigurationError(f"expected a PEM public key (-----BEGIN PUBLIC KEY-----) in {path}; "
                                 "it is not one") from exc
    if isinstance(key, ed25519.Ed25519PublicKey) or (
            isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1)):
        return key
    raise ConfigurationError(f"expected an Ed25519 or P-256 public key in {path}, got {type(key).__name__}")


def parse_jwks(document: bytes, *, where: str) -> dict[str, PublicKey]:
    """The usable signing keys of a JWKS (RFC 7517), by kid; ConfigurationError if the document is broken."""
    try:
        value = parse_bounded_json(document, what=f"the JWKS at {where}")
    except InvalidInput as exc:
        raise ConfigurationError(str(exc)) from exc
    if not isinstance(value, dict) or not isinstance(value.get("keys"), list):
        raise ConfigurationError(f'expected a JWKS ({{"keys": [...]}}) at {where}, got {type(value).__name__}')
    keys: dict[str, PublicKey] = {}
    for position, jwk in enumerate(value["keys"]):
        if not isinstance(jwk, dict):
            raise ConfigurationError(f"key {position} of the JWKS at {where} is not an object")
        kid = jwk.get("kid")
        if not isinstance(kid, str) or not kid or len(kid) > 200:
            raise ConfigurationError(f"key {position} of the JWKS at {where} has no kid (a string of 1-200 "
                                     "characters); the licence server finds keys by kid")
        if kid in keys:
            raise ConfigurationError(f"kid {kid!r} appears twice in the JWKS at {where}")
        key = _signing_key(jwk, f"key {kid!r} of the JWKS at {where}")
        if key is not None:
            keys[kid] = key
    return keys


def _signing_key(jwk: dict[str, Any], what: str) -> PublicKey | None:
    kty, crv, use, alg = jwk.get("kty"), jwk.get("crv"), jwk.get("use", "sig"), jwk.get("alg")
    usable = {("OKP", "Ed25519"): "EdDSA", ("EC", "P-256"): "ES256"}.get((str(kty), str(crv)))
    if use != "sig" or usable is None or alg not in (None, usable):
        _log.info("%s skipped: kty %s, crv %s, use %s, alg %s is not an Ed25519/P-256 signing key",
                  what, kty, crv, use, alg)
        return None
    try:
        x = _coordinate(jwk, "x", what)
        if kty == "OKP":
            return ed25519.Ed25519PublicKey.from_public_bytes(x)
        y = _coordinate(jwk, "y", what)
        if len(x) != 32 or len(y) != 32:
            raise ConfigurationError(f"{what}: P-256 x and y must be 32 bytes each, got {len(x)} and {len(y)}")
        return ec.EllipticCurvePublicNumbers(int.from_bytes(x, "big"), int.from_bytes(y, "big"),
                                             ec.SECP256R1()).public_key()
    except ValueError as exc:  # not a point on the curve, or not 32 bytes for Ed25519
        raise ConfigurationError(f"{what} is not a valid {crv} public key: {exc}") from exc


def _coordinate(jwk: dict[str, Any], name: str, what: str) -> bytes:
    value = jwk.get(name)
    try:
        return b64url_decode(value) if isinstance(value, str) else b""
    except InvalidInput as exc:
        raise ConfigurationError(f"{what}: {name} is not base64url") from exc


def fetch_document(source: str) -> bytes:
    """A JWKS from a file or an http(s) URL, at most ``MAX_JWKS_BYTES``."""
    if not source.startswith(("http://", "https://")):
        path = Path(source)
        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_JWKS_BYTES + 1)
        except OSError as exc:
            raise ConfigurationError(f"cannot read the JWKS file {path}: {exc.strerror}") from exc
    else:
        import httpx

        try:
            with httpx.stream("GET", source, timeout=10.0, follow_redirects=False) as response:
                if response.status_code != 200:
                    raise ConfigurationError(f"the JWKS at {source} answered HTTP {response.status_code}, "
                                             "expected 200")
                data = b""
                for chunk in response.iter_bytes():
                    data += chunk
                    if len(data) > MAX_JWKS_BYTES:
                        break
        except httpx.HTTPError as exc:
            raise ConfigurationError(f"cannot fetch the JWKS at {source}: {type(exc).__name__}") from exc
    if len(data) > MAX_JWKS_BYTES:
        raise ConfigurationError(f"the JWKS at {source} is over {MAX_JWKS_BYTES} bytes")
    return data


def _public_der(key: PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
