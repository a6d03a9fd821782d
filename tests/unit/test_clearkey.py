"""Clear Key request parsing: every malformed body is a clear InvalidLicenseRequest."""

from __future__ import annotations

import json

import pytest

from reelguard.drm.keys import ContentKey, KeyId, TrackTier, b64url_decode
from reelguard.errors import InvalidLicenseRequest, PayloadTooLarge
from reelguard.license.clearkey import build_license_response, parse_license_request

KID = KeyId(bytes(range(16)))


def _body(document: object) -> bytes:
    return json.dumps(document).encode()


def test_parses_a_w3c_request() -> None:
    request = parse_license_request(_body({"kids": [KID.b64url], "type": "temporary"}), max_bytes=1024)
    assert request.kids == (KID,) and request.session_type == "temporary"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "malformed JSON"),
        (b"[1, 2]", "expected a JSON object, got a JSON list"),
        (_body({"type": "temporary"}), "'kids' to be a non-empty list, got nothing"),
        (_body({"kids": []}), "non-empty list"),
        (_body({"kids": "AAAA"}), "got a JSON str"),
        (_body({"kids": [123]}), r"kids\[0\]: expected a base64url string, got a JSON int"),
        (_body({"kids": ["not+base64/url=="]}), r"kids\[0\]: expected a base64url string"),
        (_body({"kids": ["AAECAwQFBgcICQoLDA0O"]}), "16 bytes, got 15"),
        (_body({"kids": [KID.b64url], "type": "forever"}), "'type' to be one of"),
        (_body({"kids": [KID.b64url] * 33}), "at most 32 kids"),
        (b"\xff\xfe", "malformed JSON"),
    ],
)
def test_rejects_malformed_requests(body: bytes, message: str) -> None:
    with pytest.raises(InvalidLicenseRequest, match=message):
        parse_license_request(body, max_bytes=4096)


def test_rejects_oversized_body_before_parsing() -> None:
    with pytest.raises(PayloadTooLarge, match="at most 100 accepted"):
        parse_license_request(b" " * 101, max_bytes=100)


def test_response_is_a_jwk_set() -> None:
    key = ContentKey(KID, TrackTier.SD, bytes(range(16, 32)))
    response = build_license_response([key], "temporary")
    assert response == {"keys": [{"kty": "oct", "kid": KID.b64url, "k": response["keys"][0]["k"]}],
                        "type": "temporary"}
    assert b64url_decode(response["keys"][0]["k"]) == key.key
