"""The licence server over HTTP: keys only for the token's title; every bad input a 4xx problem."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from fastapi.testclient import TestClient

from reelguard.drm.keys import KeyId, b64url_decode
from reelguard.web.app import create_app
from tests.conftest import OTHER_TITLE, SAMPLE_TITLE, PackagedCatalog

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def client(catalog: PackagedCatalog) -> Iterator[TestClient]:
    with TestClient(create_app(catalog.runtime), raise_server_exceptions=False) as test_client:
        yield test_client


def _kids(catalog: PackagedCatalog, title: str = SAMPLE_TITLE) -> list[str]:
    view = catalog.sample if title == SAMPLE_TITLE else catalog.other
    return sorted({KeyId.from_hex(s["kid"]).b64url for s in view.streams})


def _post(client: TestClient, body: bytes | dict[str, object], token: str | None) -> object:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post("/license/clearkey", content=content, headers=headers)


def _problem(response: object, status: int, contains: str) -> None:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == PROBLEM  # type: ignore[attr-defined]
    problem = response.json()  # type: ignore[attr-defined]
    assert problem["status"] == status and contains in problem["detail"], problem
    assert '"k"' not in response.text  # type: ignore[attr-defined]


def test_valid_request_gets_exactly_the_requested_keys(client: TestClient, catalog: PackagedCatalog) -> None:
    kids = _kids(catalog)
    response = _post(client, {"kids": kids, "type": "temporary"}, catalog.token())
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    body = response.json()
    assert sorted(k["kid"] for k in body["keys"]) == kids and body["type"] == "temporary"
    with catalog.runtime.db.session() as session:
        stored = {k.kid.b64url: k.key for k in catalog.runtime.keystore.keys_of_title(session, catalog.sample.id)}
    assert all(b64url_decode(k["k"]) == stored[k["kid"]] and k["kty"] == "oct" for k in body["keys"])


def test_subset_of_kids(client: TestClient, catalog: PackagedCatalog) -> None:
    response = _post(client, {"kids": _kids(catalog)[:1]}, catalog.token())
    assert response.status_code == 200 and len(response.json()["keys"]) == 1


@pytest.mark.parametrize(
    ("body", "status", "contains"),
    [
        (b"{\"kids\": [", 400, "malformed JSON"),
        ({"kids": ["@@not-base64url@@"]}, 400, "expected a base64url string"),
        ({"kids": ["AAECAwQFBgcICQoLDA0O"]}, 400, "16 bytes, got 15"),
        ({"kids": ["AAECAwQFBgcICQoLDA0ODw"]}, 404, "is not in the key store"),
        ({"kids": "nope"}, 400, "non-empty list"),
    ],
    ids=["malformed-json", "kid-not-base64url", "kid-not-16-bytes", "unknown-kid", "kids-not-a-list"],
)
def test_bad_bodies(client: TestClient, catalog: PackagedCatalog, body: object, status: int, contains: str) -> None:
    _problem(_post(client, body, catalog.token()), status, contains)  # type: ignore[arg-type]


def test_kids_of_another_title_are_refused(client: TestClient, catalog: PackagedCatalog) -> None:
    response = _post(client, {"kids": _kids(catalog, OTHER_TITLE)}, catalog.token(SAMPLE_TITLE))
    _problem(response, 403, f"is not a key of title '{SAMPLE_TITLE}'")


def test_mixed_own_and_foreign_kids_get_nothing(client: TestClient, catalog: PackagedCatalog) -> None:
    kids = _kids(catalog)[:1] + _kids(catalog, OTHER_TITLE)[:1]
    _problem(_post(client, {"kids": kids}, catalog.token()), 403, "is not a key of title")


def test_missing_token(client: TestClient, catalog: PackagedCatalog) -> None:
    response = _post(client, {"kids": _kids(catalog)}, None)
    _problem(response, 401, "got no Authorization header")
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_non_bearer_credential(client: TestClient, catalog: PackagedCatalog) -> None:
    response = client.post("/license/clearkey", content=b"{}", headers={"Authorization": "Basic dXNlcjpwdw=="})
    _problem(response, 401, "expected 'Authorization: Bearer <token>'")


def test_expired_token(client: TestClient, catalog: PackagedCatalog) -> None:
    token = catalog.token(ttl=60, now=datetime.now(UTC) - timedelta(hours=1))
    _problem(_post(client, {"kids": _kids(catalog)}, token), 401, "token expired")


def test_bad_signature(client: TestClient, catalog: PackagedCatalog) -> None:
    header, payload, signature = catalog.token().split(".")
    tampered = signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")
    _problem(_post(client, {"kids": _kids(catalog)}, f"{header}.{payload}.{tampered}"), 401, "signature")


def test_alg_none(client: TestClient, catalog: PackagedCatalog) -> None:
    claims = jwt.decode(catalog.token(), options={"verify_signature": False})
    token = jwt.encode(claims, None, algorithm="none", headers={"kid": catalog.runtime.signer.kid})  # type: ignore[arg-type]
    _problem(_post(client, {"kids": _kids(catalog)}, token), 401, "algorithm must be ES256")


def test_hs256_signed_with_the_public_key(client: TestClient, catalog: PackagedCatalog) -> None:
    from cryptography.hazmat.primitives import serialization

    claims = jwt.decode(catalog.token(), options={"verify_signature": False})
    public_pem = catalog.runtime.signer.public_key.public_bytes(serialization.Encoding.PEM,
                                                                serialization.PublicFormat.SubjectPublicKeyInfo)
    import base64
    import hashlib
    import hmac

    def segment(value: dict[str, object]) -> bytes:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=")

    signing_input = segment({"alg": "HS256", "typ": "JWT", "kid": catalog.runtime.signer.kid}) + b"." + segment(claims)
    mac = base64.urlsafe_b64encode(hmac.new(public_pem, signing_input, hashlib.sha256).digest()).rstrip(b"=")
    token = (signing_input + b"." + mac).decode()
    _problem(_post(client, {"kids": _kids(catalog)}, token), 401, "algorithm must be ES256")


def test_oversized_body_with_and_without_content_length(client: TestClient, catalog: PackagedCatalog) -> None:
    limit = catalog.runtime.settings.license.max_body_bytes
    big = b'{"kids": ["' + b"A" * (limit + 10) + b'"]}'
    _problem(_post(client, big, catalog.token()), 413, "at most")

    def chunks() -> Iterator[bytes]:
        yield big[: limit // 2]
        yield big[limit // 2 :]

    response = client.post("/license/clearkey", content=chunks(),
                           headers={"Authorization": f"Bearer {catalog.token()}"})
    _problem(response, 413, "exceeds")


def test_hls_key_delivery(client: TestClient, catalog: PackagedCatalog) -> None:
    url = f"/content/{SAMPLE_TITLE}/hls/video_720p/key"
    response = client.get(url, headers={"Authorization": f"Bearer {catalog.token()}"})
    assert response.status_code == 200 and len(response.content) == 16
    with catalog.runtime.db.session() as session:
        keys = {k.tier.value: k.key for k in catalog.runtime.keystore.keys_of_title(session, catalog.sample.id)}
    assert response.content == keys["HD"]
    _problem(client.get(url), 401, "no Authorization header")
    _problem(client.get(url, headers={"Authorization": f"Bearer {catalog.token(OTHER_TITLE)}"}), 403,
             "covers title 'testsrc'")
    _problem(client.get(f"/content/{SAMPLE_TITLE}/hls/nope/key",
                        headers={"Authorization": f"Bearer {catalog.token()}"}), 404, "has no stream")


def test_origin_serves_packaged_files_only(client: TestClient) -> None:
    mpd = client.get(f"/content/{SAMPLE_TITLE}/dash/manifest.mpd")
    assert mpd.status_code == 200 and mpd.headers["content-type"].startswith("application/dash+xml")
    assert client.get(f"/content/{SAMPLE_TITLE}/hls/master.m3u8").status_code == 200
    _problem(client.get("/content/no-such-title/dash/manifest.mpd"), 404, "no title named")
    assert client.get(f"/content/{SAMPLE_TITLE}/../../kek.bin").status_code == 404
    _problem(client.get(f"/content/{SAMPLE_TITLE}/dash/..%2F..%2Fkek.bin"), 400, "blob key")


def test_unknown_route_and_method_are_problems(client: TestClient) -> None:
    _problem(client.get("/nope"), 404, "Not Found")
    _problem(client.get("/license/clearkey"), 405, "Method Not Allowed")


def test_player_page_and_assets(client: TestClient) -> None:
    page = client.get(f"/play/{SAMPLE_TITLE}")
    assert page.status_code == 200 and "shaka-player.compiled.js" in page.text
    assert client.get("/static/shaka-player.compiled.js").status_code == 200
    script = client.get("/play/%3Cscript%3Ealert(1)%3C%2Fscript%3E").text
    assert "<script>alert(1)</script>" not in script


def test_a_server_configured_with_the_backends_keys_trusts_those_alone(catalog: PackagedCatalog,
                                                                     tmp_path: Path) -> None:
    """The licence server generated and trusted only its own signing key; a real backend signs with its own."""
    from dataclasses import replace

    from cryptography.hazmat.primitives.asymmetric import ed25519

    from reelguard.drm.keys import b64url_encode

    backend_key = ed25519.Ed25519PrivateKey.generate()
    raw = backend_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    jwks = tmp_path / "jwks.json"
    jwk = {"kty": "OKP", "crv": "Ed25519", "kid": "backend-1", "x": b64url_encode(raw)}
    jwks.write_text(json.dumps({"keys": [jwk]}))
    settings = catalog.runtime.settings.replaced(tokens={"jwks": str(jwks)})
    runtime = replace(catalog.runtime, settings=settings)
    now = datetime.now(UTC)
    claims = {"iss": settings.tokens.issuer, "aud": settings.tokens.audience, "sub": "acct-1", "title": SAMPLE_TITLE,
              "device": "dev-1", "iat": int(now.timestamp()), "exp": int(now.timestamp()) + 300,
              "jti": "backend-jti-1"}
    backend_token = jwt.encode(claims, backend_key, algorithm="EdDSA", headers={"kid": "backend-1"})
    with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
        granted = _post(client, {"kids": _kids(catalog)}, backend_token)
        assert granted.status_code == 200, granted.text  # type: ignore[attr-defined]
        # the demo key that signed every other token in this module is no longer trusted here
        _problem(_post(client, {"kids": _kids(catalog)}, catalog.token()), 401, "not a trusted signing key")
