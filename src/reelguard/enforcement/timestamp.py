"""RFC 3161 timestamps on checkpoints: a time-stamping authority attests the checkpoint existed at a time.

A signed checkpoint says what the log held; only the log's own clock says when. A
time-stamping authority's token (RFC 3161) binds the checkpoint's bytes to a time under
the TSA's signature, so a court can see the evidence existed by then without trusting
reelguard's clock. Requests carry a nonce and ask for the TSA's certificate; the answer
is read with ``rfc3161-client`` and checked — status granted, the message imprint of
these very bytes, the nonce, the signature chaining to a configured root — before it is
kept. Verifying later needs only the token, the bytes and the root::

    tsa = TimestampAuthority("http://127.0.0.1:8318/tsa", roots=[root_certificate])
    token = tsa.stamp(note.encode())                      # DER TimeStampResp
    when = verify_timestamp(token, note.encode(), [root_certificate])
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import httpx
import rfc3161_client
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.x509 import Certificate

from reelguard.errors import EvidenceInvalid, UpstreamError, UpstreamTimeout

__all__ = ["TimestampAuthority", "verify_timestamp"]

MAX_TOKEN_BYTES = 256 * 1024  # a token with its certificate is a few kB


class TimestampAuthority:
    def __init__(self, url: str, *, roots: Sequence[Certificate], timeout_seconds: float = 10.0) -> None:
        if not roots:
            raise EvidenceInvalid("expected at least one root certificate to check the TSA's tokens against")
        self.url, self.roots, self.timeout = url, list(roots), timeout_seconds

    def stamp(self, data: bytes) -> bytes:
        """A checked RFC 3161 token (DER TimeStampResp) for ``data``; ``UpstreamError`` when the TSA fails."""
        request = (rfc3161_client.TimestampRequestBuilder().data(data).nonce(nonce=True)
                   .cert_request(cert_request=True).build())
        try:
            answer = httpx.post(self.url, content=request.as_bytes(), timeout=self.timeout,
                                headers={"Content-Type": "application/timestamp-query"})
        except httpx.TimeoutException:
            raise UpstreamTimeout(f"the time-stamping authority did not answer within {self.timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise UpstreamError(f"the time-stamping authority is unreachable: {type(exc).__name__}") from None
        if answer.status_code != 200:
            raise UpstreamError(f"the time-stamping authority answered HTTP {answer.status_code}")
        if len(answer.content) > MAX_TOKEN_BYTES:
            raise UpstreamError(f"the time-stamping authority answered {len(answer.content)} bytes; a token is "
                                f"at most {MAX_TOKEN_BYTES}")
        response = _decode(answer.content, "the time-stamping authority's answer")
        builder = rfc3161_client.VerifierBuilder.from_request(request)
        _verify(response, data, builder, self.roots, "the time-stamping authority's answer")
        return answer.content


def verify_timestamp(token: bytes, data: bytes, roots: Sequence[Certificate]) -> datetime:
    """The time the token attests for ``data``; ``EvidenceInvalid`` saying why not."""
    response = _decode(token, "the timestamp token")
    _verify(response, data, rfc3161_client.VerifierBuilder(), roots, "the timestamp token")
    moment = response.tst_info.gen_time
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _decode(der: bytes, what: str) -> rfc3161_client.TimeStampResponse:
    try:
        response = rfc3161_client.decode_timestamp_response(der)
    except ValueError as exc:
        raise EvidenceInvalid(f"{what} is not an RFC 3161 TimeStampResp: {str(exc)[:200]}") from None
    except BaseException as exc:  # a panic in its Rust parser, as in _verify
        if type(exc).__name__ != "PanicException":
            raise
        raise EvidenceInvalid(f"{what} is not an RFC 3161 TimeStampResp its parser can read") from None
    if response.status not in (rfc3161_client.PKIStatus.GRANTED, rfc3161_client.PKIStatus.GRANTED_WITH_MODS):
        raise EvidenceInvalid(f"{what} says the timestamp was not granted (status {response.status})")
    _check_signer_algorithm(der)
    return response


# The one signature algorithm a SignerInfo may name for its digest algorithm (DER of each AlgorithmIdentifier).
# CMS leaves signatureAlgorithm outside the signature and OpenSSL ignores it for EC keys, so a token with that
# field changed would still verify: it is pinned here, so that no byte of a kept token can change unnoticed.
_DIGESTS = {"608648016503040201": ("02", "0b"), "608648016503040202": ("03", "0c"),
            "608648016503040203": ("04", "0d")}


def _allowed_signature_algorithms(digest_oid_hex: str) -> set[bytes]:
    ecdsa, rsa = _DIGESTS[digest_oid_hex]
    rsa_oid, plain_rsa = "2a864886f70d0101" + rsa, "2a864886f70d010101"
    return {bytes.fromhex("300a0608" "2a8648ce3d0403" + ecdsa),
            bytes.fromhex("300d0609" + rsa_oid + "0500"), bytes.fromhex("300b0609" + rsa_oid),
            bytes.fromhex("300d0609" + plain_rsa + "0500"), bytes.fromhex("300b0609" + plain_rsa)}


def _tlv(data: bytes, at: int) -> tuple[int, int, int]:
    """(tag, where the value starts, where it ends) of the DER element at ``at``."""
    if at + 2 > len(data):
        raise EvidenceInvalid("the timestamp token ends inside a DER element")
    tag, length, start = data[at], data[at + 1], at + 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or start + count > len(data):
            raise EvidenceInvalid("the timestamp token has a DER length it cannot have")
        length, start = int.from_bytes(data[start:start + count], "big"), start + count
    if start + length > len(data):
        raise EvidenceInvalid("the timestamp token has an element longer than itself")
    return tag, start, start + length


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """(tag, element start, value start, value end) of each element in data[start:end]."""
    found, at = [], start
    while at < end:
        tag, value, stop = _tlv(data, at)
        found.append((tag, at, value, stop))
        at = stop
    return found


def _check_signer_algorithm(der: bytes) -> None:
    """The SignerInfo's version and signatureAlgorithm — outside the signature — are exactly what they must be."""
    try:
        _, value, end = _tlv(der, 0)  # TimeStampResp
        token = _children(der, value, end)[1]  # status, timeStampToken (ContentInfo)
        content = _children(der, token[2], token[3])[1]  # contentType, [0] content
        signed = _children(der, content[2], content[3])[0]  # SignedData
        signer_infos = [c for c in _children(der, signed[2], signed[3]) if c[0] == 0x31][-1]
        signer = _children(der, signer_infos[2], signer_infos[3])[0]
        fields = [f for f in _children(der, signer[2], signer[3]) if f[0] not in (0xA0, 0xA1)]
        version, sid, digest, signature_algorithm = fields[:4]
        if der[version[2]:version[3]] != (b"\x01" if sid[0] == 0x30 else b"\x03"):  # RFC 5652 §5.3, unsigned
            raise EvidenceInvalid("the timestamp token's signer has a version its identifier does not allow")
        digest_oid = _children(der, digest[2], digest[3])[0]
        allowed = _allowed_signature_algorithms(der[digest_oid[2]:digest_oid[3]].hex())
    except (IndexError, KeyError):
        raise EvidenceInvalid("the timestamp token's signer names a digest or layout reelguard does not accept") \
            from None
    if der[signature_algorithm[1]:signature_algorithm[3]] not in allowed:
        raise EvidenceInvalid("the timestamp token's signer names a signature algorithm that does not go with its "
                              "digest algorithm")


def _check_self_signed(root: Certificate) -> None:
    """A root's own signature: path validation trusts a root without it, but a changed root must not pass."""
    try:
        root.verify_directly_issued_by(root)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        raise EvidenceInvalid(f"the TSA root certificate {root.subject.rfc4514_string()[:80]!r} does not carry its "
                              f"own valid signature: it was changed, or is not a root") from None


def _verify(response: rfc3161_client.TimeStampResponse, data: bytes, builder: rfc3161_client.VerifierBuilder,
            roots: Sequence[Certificate], what: str) -> None:
    for root in roots:
        _check_self_signed(root)
        builder = builder.add_root_certificate(root)
    try:
        builder.build().verify_message(response, data)
    except rfc3161_client.VerificationError as exc:
        raise EvidenceInvalid(f"{what} does not verify: {exc}") from None
    except BaseException as exc:  # rfc3161-client 1.0.9's Rust code panics on some malformed certificates
        if type(exc).__name__ != "PanicException":
            raise
        raise EvidenceInvalid(f"{what} holds a certificate that cannot be parsed") from None
