"""Token verification: what the licence server pays per fresh token, against the signature check alone.

Issue 17 replaced the hand-written JWS check with PyJWT's ``PyJWS`` (the signature step);
the header and claims checks stay ours. Measured here, same run, one core, per token:

- the signature check alone (``cryptography``'s verify on the signing input) — the floor;
- ``TokenVerifier.verify`` on a token it has never seen (header, kid, PyJWS, claims);
- PyJWT's generic ``jwt.decode`` with the same key and checks — what a plain use of the library costs;
- ``TokenVerifier.verify`` on a token it verified before (a renewal: claims remembered, times checked).

    python benchmarks/token_verify.py [--tokens 3000]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from statistics import median_high

import jwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import report

from reelguard.drm.keys import b64url_decode
from reelguard.license.tokens import PrivateKey, TokenSigner, TokenVerifier

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _signature_only(signer: TokenSigner) -> Callable[[str], None]:
    public = signer.public_key

    def check(token: str) -> None:
        head, payload, signature = token.split(".")
        message, raw = f"{head}.{payload}".encode(), b64url_decode(signature)
        if isinstance(public, ed25519.Ed25519PublicKey):
            public.verify(raw, message)
        else:
            der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
            public.verify(der, message, ec.ECDSA(hashes.SHA256()))

    return check


def _pyjwt_decode(signer: TokenSigner, algorithm: str) -> Callable[[str], None]:
    def check(token: str) -> None:
        jwt.decode(token, signer.public_key, algorithms=[algorithm], audience="license", issuer="backend",
                   options={"require": ["exp", "iat", "sub", "jti", "aud", "iss"], "verify_exp": False})

    return check


def _per_token_us(check: Callable[[str], None], tokens: list[str]) -> float:
    started = time.perf_counter()
    for token in tokens:
        check(token)
    return (time.perf_counter() - started) / len(tokens) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rows = []
    keys: list[tuple[str, PrivateKey]] = [("ES256", ec.generate_private_key(ec.SECP256R1())),
                                          ("EdDSA", ed25519.Ed25519PrivateKey.generate())]
    for algorithm, private in keys:
        signer = TokenSigner(private, issuer="backend", audience="license")
        timings: dict[str, list[float]] = {}
        for _ in range(args.rounds):
            tokens = [signer.issue(account=f"a{n}", title="ep01", device="tv", ttl_seconds=300, now=NOW)
                      for n in range(args.tokens)]
            verifier = TokenVerifier({signer.kid: signer.public_key}, issuer="backend", audience="license",
                                     max_ttl_seconds=3600, leeway_seconds=30)
            timings.setdefault("signature check alone (floor)", []).append(
                _per_token_us(_signature_only(signer), tokens))
            timings.setdefault("TokenVerifier.verify, fresh token", []).append(
                _per_token_us(lambda t: verifier.verify(t, now=NOW), tokens))  # noqa: B023 (same round)
            timings.setdefault("jwt.decode (PyJWT, generic)", []).append(
                _per_token_us(_pyjwt_decode(signer, algorithm), tokens))
            timings.setdefault("TokenVerifier.verify, remembered token", []).append(
                _per_token_us(lambda t: verifier.verify(t, now=NOW), tokens))  # noqa: B023
        floor = median_high(timings["signature check alone (floor)"])
        for name, values in timings.items():
            rows.append([algorithm, name, f"{median_high(values):.1f}", f"{median_high(values) / floor:.2f}"])
    report("Token verification per token: TokenVerifier (PyJWS) against the signature check alone",
           ["alg", "what", "µs per token (median of rounds)", "÷ signature alone"], rows,
           [f"{args.tokens} distinct tokens per round, {args.rounds} rounds, one thread; fresh = never seen by "
            "this verifier (every check runs), remembered = verified before (claims remembered, the time checks "
            "run again)",
            "floor: cryptography's verify on the signing input, nothing else (the token split and base64 included)"])


if __name__ == "__main__":
    main()
