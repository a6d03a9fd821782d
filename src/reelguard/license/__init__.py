"""Licensing: entitlement tokens, the Clear Key protocol and the licence service."""

from reelguard.license.clearkey import ClearKeyRequest, build_license_response, parse_license_request
from reelguard.license.tokens import EntitlementClaims, TokenSigner, TokenVerifier

__all__ = [
    "ClearKeyRequest",
    "EntitlementClaims",
    "TokenSigner",
    "TokenVerifier",
    "build_license_response",
    "parse_license_request",
]
