"""The W3C EME Clear Key licence format (pure parsing and building).

Request (EME §9.1.3)::  {"kids": ["<base64url KID>", ...], "type": "temporary"}
Response::              {"keys": [{"kty": "oct", "kid": "<b64url>", "k": "<b64url>"}], "type": "temporary"}

``parse_license_request`` bounds the body before parsing and turns every malformed
input into ``InvalidLicenseRequest`` that says what was expected and what arrived.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reelguard.drm.keys import ContentKey, KeyId, b64url_encode
from reelguard.errors import InvalidInput, InvalidLicenseRequest, PayloadTooLarge
from reelguard.jsonbounds import parse_bounded_json

__all__ = ["ClearKeyRequest", "build_license_response", "parse_license_request"]

MAX_KIDS = 32
SESSION_TYPES = ("temporary", "persistent-license")


@dataclass(frozen=True, slots=True)
class ClearKeyRequest:
    kids: tuple[KeyId, ...]
    session_type: str


def parse_license_request(body: bytes, *, max_bytes: int) -> ClearKeyRequest:
    if len(body) > max_bytes:
        raise PayloadTooLarge(f"licence request is {len(body)} bytes; at most {max_bytes} accepted")
    document = _json_object(body)
    kids = document.get("kids")
    if not isinstance(kids, list) or not kids:
        raise InvalidLicenseRequest(f"expected 'kids' to be a non-empty list, got {_kind(kids)}")
    if len(kids) > MAX_KIDS:
        raise InvalidLicenseRequest(f"expected at most {MAX_KIDS} kids, got {len(kids)}")
    session_type = document.get("type", "temporary")
    if session_type not in SESSION_TYPES:
        raise InvalidLicenseRequest(
            f"expected 'type' to be one of {list(SESSION_TYPES)}, got {str(session_type)[:40]!r}"
        )
    return ClearKeyRequest(tuple(_kid(index, kid) for index, kid in enumerate(kids)), session_type)


def _json_object(body: bytes) -> dict[str, Any]:
    document = parse_bounded_json(body, what="a licence request", error=InvalidLicenseRequest)
    if not isinstance(document, dict):
        raise InvalidLicenseRequest(f"expected a JSON object, got {_kind(document)}")
    return document


def _kid(index: int, value: object) -> KeyId:
    if not isinstance(value, str):
        raise InvalidLicenseRequest(f"kids[{index}]: expected a base64url string, got {_kind(value)}")
    try:
        return KeyId.from_b64url(value)
    except InvalidInput as exc:
        raise InvalidLicenseRequest(f"kids[{index}]: {exc} (a KID is 16 bytes, 22 base64url characters)") from exc


def _kind(value: object) -> str:
    return "nothing" if value is None else f"a JSON {type(value).__name__}"


def build_license_response(keys: list[ContentKey], session_type: str) -> dict[str, Any]:
    return {
        "keys": [{"kty": "oct", "kid": k.kid.b64url, "k": b64url_encode(k.key)} for k in keys],
        "type": session_type,
    }
