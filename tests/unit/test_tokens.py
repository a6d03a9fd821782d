"""Entitlement tokens: every forgery and misuse the issue names is refused."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from reelguard.errors import AuthenticationError, TokenExpired
from reelguard.license.tokens import TokenSigner, TokenVerifier, load_or_create_signing_key

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def _signer(key: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | None = None) -> TokenSigner:
    return TokenSigner(key or ed25519.Ed25519PrivateKey.generate(), issuer="backend", audience="license")


def _verifier(*signers: TokenSigner, max_ttl: int = 3600) -> TokenVerifier:
    return TokenVerifier({s.kid: s.public_key for s in signers}, issuer="backend", audience="license",
                         max_ttl_seconds=max_ttl, leeway_seconds=5)


def _issue(signer: TokenSigner, ttl: int = 300, now: datetime = NOW) -> str:
    return signer.issue(account="acct", title="ep01", device="tv", ttl_seconds=ttl, now=now)


@pytest.mark.parametrize("make_key", [ed25519.Ed25519PrivateKey.generate,
                                      lambda: ec.generate_private_key(ec.SECP256R1())])
def test_round_trip_eddsa_and_es256(make_key: object) -> None:
    signer = _signer(make_key())  # type: ignore[operator]
    claims = _verifier(signer).verify(_issue(signer), now=NOW)
    assert (claims.account, claims.title, claims.device) == ("acct", "ep01", "tv")
    assert jwt.get_unverified_header(_issue(signer))["kid"] == signer.kid


def test_expired_token() -> None:
    signer = _signer()
    with pytest.raises(TokenExpired, match="expired"):
        _verifier(signer).verify(_issue(signer, ttl=60), now=NOW + timedelta(seconds=120))


def test_bad_signature() -> None:
    signer = _signer()
    header, payload, signature = _issue(signer).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["title"] = "another-title"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(AuthenticationError, match="signature does not verify"):
        _verifier(signer).verify(f"{header}.{forged}.{signature}", now=NOW)


def test_token_signed_by_an_untrusted_key_with_a_trusted_kid() -> None:
    trusted, attacker = _signer(), _signer()
    token = jwt.encode({"sub": "a"}, attacker.private_key, algorithm="EdDSA", headers={"kid": trusted.kid})
    with pytest.raises(AuthenticationError):
        _verifier(trusted).verify(token, now=NOW)


def test_alg_none_is_refused() -> None:
    signer = _signer()
    claims = {"iss": "backend", "aud": "license", "sub": "a", "title": "ep01", "device": "d",
              "iat": int(NOW.timestamp()), "exp": int(NOW.timestamp()) + 60, "jti": "j"}
    token = jwt.encode(claims, None, algorithm="none", headers={"kid": signer.kid})  # type: ignore[arg-type]
    with pytest.raises(AuthenticationError, match="algorithm must be EdDSA"):
        _verifier(signer).verify(token, now=NOW)


def test_hs256_with_the_public_key_is_refused() -> None:
    signer = _signer(ec.generate_private_key(ec.SECP256R1()))
    public_pem = signer.public_key.public_bytes(serialization.Encoding.PEM,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)
    claims = {"iss": "backend", "aud": "license", "sub": "a", "title": "ep01", "device": "d",
              "iat": int(NOW.timestamp()), "exp": int(NOW.timestamp()) + 60, "jti": "j"}
    header = base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "typ": "JWT", "kid": signer.kid}).encode())
    body = base64.urlsafe_b64encode(json.dumps(claims).encode())
    import hashlib
    import hmac

    signing_input = header.rstrip(b"=") + b"." + body.rstrip(b"=")
    mac = hmac.new(public_pem, signing_input, hashlib.sha256).digest()
    token = (signing_input + b"." + base64.urlsafe_b64encode(mac).rstrip(b"=")).decode()
    with pytest.raises(AuthenticationError, match="algorithm must be ES256"):
        _verifier(signer).verify(token, now=NOW)


def test_wrong_audience_and_issuer() -> None:
    signer = _signer()
    other = TokenSigner(signer.private_key, issuer="backend", audience="someone-else")
    with pytest.raises(AuthenticationError, match="audience"):
        _verifier(signer).verify(_issue(other), now=NOW)
    other = TokenSigner(signer.private_key, issuer="mallory", audience="license")
    with pytest.raises(AuthenticationError, match="issuer"):
        _verifier(signer).verify(_issue(other), now=NOW)


def test_missing_claim() -> None:
    signer = _signer()
    token = jwt.encode({"iss": "backend", "aud": "license", "sub": "a", "iat": int(NOW.timestamp()),
                        "exp": int(NOW.timestamp()) + 60}, signer.private_key, algorithm="EdDSA",
                       headers={"kid": signer.kid})
    with pytest.raises(AuthenticationError, match="required claim 'jti'"):
        _verifier(signer).verify(token, now=NOW)


def test_lifetime_cap() -> None:
    signer = _signer()
    with pytest.raises(AuthenticationError, match="exceeds the 3600 s cap"):
        _verifier(signer, max_ttl=3600).verify(_issue(signer, ttl=7200), now=NOW)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "x" * 5000])
def test_garbage_is_refused(garbage: str) -> None:
    with pytest.raises(AuthenticationError):
        _verifier(_signer()).verify(garbage, now=NOW)


def test_signing_key_file_created_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    key = load_or_create_signing_key(path)
    assert path.stat().st_mode & 0o077 == 0
    assert isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1)


def test_a_remembered_token_still_expires() -> None:
    signer = _signer()
    verifier = _verifier(signer)
    token = _issue(signer, ttl=60)
    assert verifier.verify(token, now=NOW).account == "acct"
    assert verifier.verify(token, now=NOW).account == "acct"  # second use: remembered
    with pytest.raises(TokenExpired):
        verifier.verify(token, now=NOW + timedelta(seconds=120))


def test_a_failed_token_is_not_remembered_as_valid() -> None:
    signer = _signer()
    verifier = _verifier(signer)
    header, payload, signature = _issue(signer).split(".")
    forged = f"{header}.{payload}.{signature[:-4]}AAAA"
    for _ in range(2):
        with pytest.raises(AuthenticationError, match="signature"):
            verifier.verify(forged, now=NOW)


def test_a_token_is_not_accepted_before_its_nbf() -> None:
    """RFC 7519 §4.1.5: a token valid only from an hour later gets nothing now (it got every key)."""
    signer = _signer()
    later = int((NOW + timedelta(hours=1)).timestamp())
    token = signer.issue(account="acct", title="ep01", device="tv", ttl_seconds=7200, now=NOW, extra={"nbf": later})
    verifier = _verifier(signer, max_ttl=7200)
    with pytest.raises(AuthenticationError, match="not valid until"):
        verifier.verify(token, now=NOW)
    with pytest.raises(AuthenticationError, match="not valid until"):  # a remembered token is checked again
        verifier.verify(token, now=NOW + timedelta(minutes=59))
    assert verifier.verify(token, now=NOW + timedelta(hours=1)).account == "acct"
    assert verifier.verify(token, now=NOW + timedelta(hours=1) - timedelta(seconds=5)).account == "acct"  # leeway


def test_nbf_must_be_integer_seconds() -> None:
    signer = _signer()
    token = signer.issue(account="acct", title="ep01", device="tv", ttl_seconds=60, now=NOW, extra={"nbf": "soon"})
    with pytest.raises(AuthenticationError, match="nbf must be integer seconds"):
        _verifier(signer).verify(token, now=NOW)


def _segment(document: bytes) -> str:
    return base64.urlsafe_b64encode(document).rstrip(b"=").decode()


@pytest.mark.parametrize(("header", "payload"), [
    (b'{"alg": "EdDSA", "kid": ' + b"[" * 1000 + b"]" * 1000 + b"}", b"{}"),
    (b'{"alg": "EdDSA", "kid": 1' + b"1" * 2500 + b"}", b"{}"),  # under the 4,096-character cap
], ids=["nested-header", "huge-number-header"])
def test_a_header_out_of_bounds_is_bad_input_before_any_authentication(header: bytes, payload: bytes) -> None:
    """It raised RecursionError / ValueError past the parser: a 500 before the signature was even looked at."""
    from reelguard.errors import InvalidInput

    token = f"{_segment(header)}.{_segment(payload)}.{_segment(b'x' * 64)}"
    with pytest.raises(InvalidInput, match=r"nested at most|numbers of at most") as caught:
        _verifier(_signer()).verify(token, now=NOW)
    assert caught.value.http_status == 400
