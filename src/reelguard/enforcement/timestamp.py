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
    if response.status not in (rfc3161_client.PKIStatus.GRANTED, rfc3161_client.PKIStatus.GRANTED_WITH_MODS):
        raise EvidenceInvalid(f"{what} says the timestamp was not granted (status {response.status})")
    return response


def _verify(response: rfc3161_client.TimeStampResponse, data: bytes, builder: rfc3161_client.VerifierBuilder,
            roots: Sequence[Certificate], what: str) -> None:
    for root in roots:
        builder = builder.add_root_certificate(root)
    try:
        builder.build().verify_message(response, data)
    except rfc3161_client.VerificationError as exc:
        raise EvidenceInvalid(f"{what} does not verify: {exc}") from None
