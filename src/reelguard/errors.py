"""Every error reelguard raises on purpose, under one root.

Each class carries an ``exit_code`` for the CLI and an ``http_status`` for the web
layer, so the two shells translate errors in exactly one place each. Foreign errors
(SQLAlchemy, subprocess, PyJWT, cryptography) are translated at the boundary with
``raise ... from exc``. Messages say what was expected, what arrived and how to fix it,
and never contain a content key, a token or a secret.

    ReelguardError                      exit 1   HTTP 500 (never raised bare)
    ├── ConfigurationError              exit 78  HTTP 500  settings unusable
    │   └── MediaToolMissing            exit 69  HTTP 500  ffmpeg/ffprobe/packager absent
    ├── InvalidInput                    exit 65  HTTP 400  a value from outside is malformed
    │   ├── InvalidMedia                exit 65  HTTP 422  file is not playable video
    │   ├── InvalidLicenseRequest       exit 65  HTTP 400  Clear Key request body malformed
    │   ├── InvalidCpix                 exit 65  HTTP 422  CPIX/SPEKE document malformed
    │   ├── IdempotencyKeyReused        exit 65  HTTP 422  an Idempotency-Key sent with another request
    │   ├── EvidenceInvalid             exit 65  HTTP 422  a proof, signature or checkpoint of the evidence fails
    │   └── PayloadTooLarge             exit 65  HTTP 413  body over the configured bound
    ├── NotFound                        exit 66  HTTP 404  a named record does not exist
    │   └── UnknownKeyId                exit 66  HTTP 404  KID not in the key store
    ├── Conflict                        exit 73  HTTP 409  the record exists / wrong state
    │   └── TitleNotReady               exit 73  HTTP 409  title not (yet) packaged
    ├── AuthenticationError             exit 77  HTTP 401  no or bad entitlement token
    │   └── TokenExpired                exit 77  HTTP 401
    ├── PermissionDenied                exit 77  HTTP 403  token valid, request not covered
    │   └── PolicyDenied                exit 77  HTTP 403  a licence policy rule refused it
    ├── UpstreamError                   exit 69  HTTP 502  a licence-proxy upstream failed
    │   ├── UpstreamTimeout             exit 69  HTTP 504  … or did not answer in time
    │   └── SourceError                 exit 69  HTTP 502  a piracy source (indexer, feed) failed
    ├── StorageError                    exit 74  HTTP 507  disk full, read-only or unwritable
    ├── RequestTimeout                  exit 75  HTTP 408  a request body did not arrive in time
    └── ProcessingError                 exit 70  HTTP 500  a media tool or job step failed
        └── PackagingError              exit 70  HTTP 500  Shaka Packager failed
"""

from __future__ import annotations

__all__ = [
    "AuthenticationError",
    "ConfigurationError",
    "Conflict",
    "EvidenceInvalid",
    "IdempotencyKeyReused",
    "InvalidCpix",
    "InvalidInput",
    "InvalidLicenseRequest",
    "InvalidMedia",
    "KeyRetired",
    "MediaToolMissing",
    "NotFound",
    "PackagingError",
    "PayloadTooLarge",
    "PermissionDenied",
    "PolicyDenied",
    "ProcessingError",
    "ReelguardError",
    "RequestTimeout",
    "SourceError",
    "StorageError",
    "TitleNotReady",
    "TokenExpired",
    "UnknownKeyId",
    "UpstreamError",
    "UpstreamTimeout",
]


class ReelguardError(Exception):
    """Root of every deliberate reelguard error."""

    exit_code: int = 1
    http_status: int = 500
    title: str = "Internal error"

    @property
    def problem_type(self) -> str:
        """A stable URI-ish identifier for RFC 7807 ``type``."""
        return f"urn:reelguard:error:{type(self).__name__}"


class ConfigurationError(ReelguardError):
    exit_code = 78
    title = "Configuration error"


class MediaToolMissing(ConfigurationError):
    exit_code = 69
    title = "Media tool missing"


class InvalidInput(ReelguardError):
    exit_code = 65
    http_status = 400
    title = "Invalid input"


class InvalidMedia(InvalidInput):
    http_status = 422
    title = "Not playable video"


class InvalidLicenseRequest(InvalidInput):
    title = "Invalid license request"


class InvalidCpix(InvalidInput):
    http_status = 422
    title = "Invalid CPIX document"


class IdempotencyKeyReused(InvalidInput):
    http_status = 422
    title = "Idempotency key reused"


class EvidenceInvalid(InvalidInput):
    """Evidence that does not check — a Merkle proof (RFC 9162), a signed note or checkpoint (C2SP): the message
    says which check failed."""

    http_status = 422
    title = "Proof does not verify"


class PayloadTooLarge(InvalidInput):
    http_status = 413
    title = "Payload too large"


class NotFound(ReelguardError):
    exit_code = 66
    http_status = 404
    title = "Not found"


class UnknownKeyId(NotFound):
    title = "Unknown key ID"


class Conflict(ReelguardError):
    exit_code = 73
    http_status = 409
    title = "Conflict"


class TitleNotReady(Conflict):
    title = "Title not ready"


class AuthenticationError(ReelguardError):
    exit_code = 77
    http_status = 401
    title = "Not authenticated"


class TokenExpired(AuthenticationError):
    title = "Token expired"


class PermissionDenied(ReelguardError):
    exit_code = 77
    http_status = 403
    title = "Permission denied"


class PolicyDenied(PermissionDenied):
    """A rule of the licence policy refused the request; ``rule`` names it."""

    title = "Refused by licence policy"

    def __init__(self, message: str, *, rule: str) -> None:
        super().__init__(message)
        self.rule = rule


class KeyRetired(PermissionDenied):
    """A key a rotation retired, asked for after its grace period: the player must reload the title."""

    title = "Key retired"


class UpstreamError(ReelguardError):
    exit_code = 69
    http_status = 502
    title = "Upstream licence server failed"


class UpstreamTimeout(UpstreamError):
    http_status = 504
    title = "Upstream licence server timed out"


class SourceError(UpstreamError):
    """A piracy source (an indexer, a feed) refused or failed a request; ``retryable``: back off and try again.

    ``code`` is the source's own error code where it gave one (Torznab: 100-199 the API
    key, 201 a bad request, 203 a function it lacks, 900 and up its own failure).
    """

    title = "Piracy source failed"

    def __init__(self, message: str, *, code: int | None = None, retryable: bool = False) -> None:
        super().__init__(message)
        self.code, self.retryable = code, retryable


class StorageError(ReelguardError):
    """Bytes could not be written or read where they live (blob store, work folder): the OS said why."""

    exit_code = 74
    http_status = 507
    title = "Storage failed"


class RequestTimeout(ReelguardError):
    exit_code = 75
    http_status = 408
    title = "Request timeout"


class ProcessingError(ReelguardError):
    exit_code = 70
    title = "Processing failed"


class PackagingError(ProcessingError):
    title = "Packaging failed"
