"""The licence server trusts the backend's public keys (PEM files, a JWKS file or URL) and follows their rotation."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from reelguard.drm.keys import b64url_encode
from reelguard.errors import AuthenticationError, ConfigurationError
from reelguard.license import trusted_keys
from reelguard.license.tokens import TokenSigner, TokenVerifier
from reelguard.license.trusted_keys import TrustedKeys, parse_jwks

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


class Backend:
    """A stand-in for the platform's backend: its own signing keys, named by its own kids."""

    def __init__(self, kid: str, key: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey) -> None:
        self.kid, self.key = kid, key

    def token(self, account: str = "acct-1") -> str:
        import jwt

        algorithm = "EdDSA" if isinstance(self.key, ed25519.Ed25519PrivateKey) else "ES256"
        claims = {"iss": "backend", "aud": "license", "sub": account, "title": "ep01", "device": "tv",
                  "iat": int(NOW.timestamp()), "exp": int(NOW.timestamp()) + 300, "jti": f"{self.kid}-{account}"}
        return jwt.encode(claims, self.key, algorithm=algorithm, headers={"kid": self.kid})

    def jwk(self) -> dict[str, str]:
        public = self.key.public_key()
        if isinstance(public, ed25519.Ed25519PublicKey):
            raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            return {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(raw), "kid": self.kid, "use": "sig"}
        numbers = public.public_numbers()
        return {"kty": "EC", "crv": "P-256", "kid": self.kid, "alg": "ES256",
                "x": b64url_encode(numbers.x.to_bytes(32, "big")), "y": b64url_encode(numbers.y.to_bytes(32, "big"))}

    def pem(self, folder: Path) -> Path:
        path = folder / f"{self.kid}.pub.pem"
        path.write_bytes(self.key.public_key().public_bytes(serialization.Encoding.PEM,
                                                            serialization.PublicFormat.SubjectPublicKeyInfo))
        return path


OLD = Backend("backend-2026-11", ec.generate_private_key(ec.SECP256R1()))
NEW = Backend("backend-2026-12", ed25519.Ed25519PrivateKey.generate())


def _verifier(keys: TrustedKeys) -> TokenVerifier:
    return TokenVerifier(keys, issuer="backend", audience="license", max_ttl_seconds=3600, leeway_seconds=30)


def _jwks(*backends: Backend, extra: list[dict[str, object]] | None = None) -> bytes:
    return json.dumps({"keys": [b.jwk() for b in backends] + (extra or [])}).encode()


class JwksServer:
    """The backend's JWKS endpoint on loopback; ``document`` and ``status`` change what it answers."""

    def __init__(self) -> None:
        self.document, self.status, self.requests = _jwks(OLD), 200, 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests += 1
                self.send_response(server.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(server.document)

            def log_message(self, *_args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/.well-known/jwks.json"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def jwks_server() -> Iterator[JwksServer]:
    server = JwksServer()
    yield server
    server.close()


def test_pem_files_are_trusted_by_kid_and_nothing_else(tmp_path: Path) -> None:
    keys = TrustedKeys.load(pem_files={OLD.kid: OLD.pem(tmp_path), NEW.kid: NEW.pem(tmp_path)}, jwks=None,
                            refresh_seconds=300)
    verifier = _verifier(keys)
    assert verifier.verify(OLD.token(), now=NOW).account == "acct-1"
    assert verifier.verify(NEW.token(), now=NOW).account == "acct-1"
    stranger = Backend("stranger", ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(AuthenticationError, match="not a trusted signing key"):
        verifier.verify(stranger.token(), now=NOW)
    impostor = Backend(OLD.kid, ec.generate_private_key(ec.SECP256R1()))  # a trusted kid, another key
    with pytest.raises(AuthenticationError, match="signature does not verify"):
        verifier.verify(impostor.token(), now=NOW)
    demo = TokenSigner(ec.generate_private_key(ec.SECP256R1()), issuer="backend", audience="license")
    with pytest.raises(AuthenticationError, match="not a trusted signing key"):
        verifier.verify(demo.issue(account="a", title="t", device="d", ttl_seconds=60, now=NOW), now=NOW)


def test_a_rotation_through_the_jwks_url_needs_no_restart(jwks_server: JwksServer) -> None:
    keys = TrustedKeys.load(pem_files={}, jwks=jwks_server.url, refresh_seconds=0.05)
    verifier = _verifier(keys)
    old_token = OLD.token()
    assert verifier.verify(old_token, now=NOW).account == "acct-1"
    keys.start()
    try:
        jwks_server.document = _jwks(OLD, NEW)  # the backend publishes the new key beside the old
        _eventually(lambda: keys.kids == sorted([OLD.kid, NEW.kid]))
        assert verifier.verify(NEW.token(), now=NOW).account == "acct-1"
        assert verifier.verify(old_token, now=NOW).account == "acct-1"
        jwks_server.document = _jwks(NEW)  # … and later drops the old one
        _eventually(lambda: keys.kids == [NEW.kid])
        with pytest.raises(AuthenticationError, match="not a trusted signing key"):
            verifier.verify(old_token, now=NOW)  # remembered as valid, but its key is gone
        assert verifier.verify(NEW.token(), now=NOW).account == "acct-1"
    finally:
        keys.stop()


def test_an_unknown_kid_asks_for_a_refresh_before_the_interval(jwks_server: JwksServer,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trusted_keys, "MIN_REFRESH_GAP_SECONDS", 0.0)
    keys = TrustedKeys.load(pem_files={}, jwks=jwks_server.url, refresh_seconds=3600)
    verifier = _verifier(keys)
    keys.start()
    try:
        jwks_server.document = _jwks(OLD, NEW)
        with pytest.raises(AuthenticationError, match="not a trusted signing key"):
            verifier.verify(NEW.token(), now=NOW)  # not yet known: refused, and a refresh is asked for
        _eventually(lambda: NEW.kid in keys.kids)
        assert verifier.verify(NEW.token("acct-2"), now=NOW).account == "acct-2"
    finally:
        keys.stop()


def test_a_failing_refresh_keeps_the_keys_and_says_why(jwks_server: JwksServer,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    keys = TrustedKeys.load(pem_files={}, jwks=jwks_server.url, refresh_seconds=300)
    jwks_server.status = 500
    with caplog.at_level(logging.WARNING, logger="reelguard.license.trusted_keys"):
        assert keys.refresh() is False
    assert keys.kids == [OLD.kid]
    assert "answered HTTP 500, expected 200" in caplog.text
    jwks_server.status, jwks_server.document = 200, b'{"keys": []}'
    assert keys.refresh() is False and keys.kids == [OLD.kid]  # an emptied JWKS does not drop every key


def test_a_broken_source_stops_the_server_at_start(tmp_path: Path, jwks_server: JwksServer) -> None:
    jwks_server.status = 404
    with pytest.raises(ConfigurationError, match="answered HTTP 404"):
        TrustedKeys.load(pem_files={}, jwks=jwks_server.url, refresh_seconds=300)
    private = tmp_path / "private.pem"
    private.write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    with pytest.raises(ConfigurationError, match="expected a PEM public key"):
        TrustedKeys.load(pem_files={"k": private}, jwks=None, refresh_seconds=300)
    rsa_key = tmp_path / "rsa.pem"
    rsa_key.write_bytes(rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    with pytest.raises(ConfigurationError, match="expected an Ed25519 or P-256 public key"):
        TrustedKeys.load(pem_files={"k": rsa_key}, jwks=None, refresh_seconds=300)
    with pytest.raises(ConfigurationError, match="cannot read"):
        TrustedKeys.load(pem_files={"k": tmp_path / "missing.pem"}, jwks=None, refresh_seconds=300)
    empty = tmp_path / "jwks.json"
    empty.write_text('{"keys": [{"kty": "RSA", "kid": "r", "n": "AQAB", "e": "AQAB"}]}')
    with pytest.raises(ConfigurationError, match="no usable token-signing key"):
        TrustedKeys.load(pem_files={}, jwks=str(empty), refresh_seconds=300)


@pytest.mark.parametrize(("document", "message"), [
    (b"not json", "the JWKS at here"),
    (b'{"keys": {}}', 'expected a JWKS'),
    (b"[]", "expected a JWKS"),
    (json.dumps({"keys": [{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}]}).encode(), "has no kid"),
    (_jwks(OLD, Backend(OLD.kid, ed25519.Ed25519PrivateKey.generate())), "appears twice"),
    (json.dumps({"keys": [{**OLD.jwk(), "y": b64url_encode(b"\x01" * 32)}]}).encode(), "not a valid P-256"),
    (json.dumps({"keys": [{**OLD.jwk(), "x": "@@"}]}).encode(), "x is not base64url"),
    (json.dumps({"keys": [{**NEW.jwk(), "x": b64url_encode(b"short")}]}).encode(), "not a valid Ed25519"),
    (b'{"keys": [' * 40 + b"]}" * 40, "nested"),
], ids=["not-json", "keys-not-a-list", "not-an-object", "no-kid", "duplicate-kid", "point-off-curve",
        "x-not-base64url", "ed25519-wrong-length", "nested"])
def test_a_broken_jwks_is_refused_with_what_was_expected(document: bytes, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        parse_jwks(document, where="here")


def test_keys_for_other_uses_are_skipped() -> None:
    document = _jwks(OLD, extra=[{"kty": "RSA", "kid": "rsa", "n": "AQAB", "e": "AQAB"},
                                 {**NEW.jwk(), "kid": "enc", "use": "enc"},
                                 {**OLD.jwk(), "kid": "wrong-alg", "alg": "ES384"}])
    assert list(parse_jwks(document, where="here")) == [OLD.kid]


def _eventually(condition: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)
