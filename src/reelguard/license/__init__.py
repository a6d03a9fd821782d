"""Licensing: entitlement tokens, the policy engine, the Clear Key protocol and the licence service."""

from reelguard.license.clearkey import ClearKeyRequest, build_license_response, parse_license_request
from reelguard.license.policy import Decision, Policy, PolicyContext
from reelguard.license.policy_file import load_policy
from reelguard.license.tokens import EntitlementClaims, TokenSigner, TokenVerifier

__all__ = [
    "ClearKeyRequest",
    "Decision",
    "EntitlementClaims",
    "Policy",
    "PolicyContext",
    "TokenSigner",
    "TokenVerifier",
    "build_license_response",
    "load_policy",
    "parse_license_request",
]
