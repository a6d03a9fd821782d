"""Licensing: entitlement tokens, the policy engine, the Clear Key protocol and the licence service."""

from typing import TYPE_CHECKING

from reelguard._lazy import lazy_exports

if TYPE_CHECKING:
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
__getattr__ = lazy_exports(__name__, {
    **dict.fromkeys(["ClearKeyRequest", "build_license_response", "parse_license_request"],
                    "reelguard.license.clearkey"),
    **dict.fromkeys(["Decision", "Policy", "PolicyContext"], "reelguard.license.policy"),
    "load_policy": "reelguard.license.policy_file",
    **dict.fromkeys(["EntitlementClaims", "TokenSigner", "TokenVerifier"], "reelguard.license.tokens"),
})
