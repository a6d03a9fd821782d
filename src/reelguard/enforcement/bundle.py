"""Evidence bundles: records with everything needed to check them offline, and the checker that needs nothing else.

A bundle is one JSON document: the log's origin and verifier key; a signed checkpoint
with its RFC 3161 token and the TSA's root certificates; optionally an older checkpoint
with the consistency proof from it; and the records, each with its position, its
canonical bytes (or, once purged, only its leaf hash) and its inclusion proof to the
checkpoint. ``verify_bundle`` needs no database and no network: it opens the checkpoint
with the key, checks every record's bytes, hash and proof, the consistency proof, and
the timestamp, and says exactly what failed. Every field is checked, so a bundle with
any byte changed does not pass::

    bundle = make_bundle(log, positions=[3, 7])          # bytes (JSON)
    report = verify_bundle(bundle, trusted_vkey=None)      # report.ok, report.failures, report.timestamp
"""

from __future__ import annotations

import base64
import hashlib
import json
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.utils import CryptographyDeprecationWarning

from reelguard.enforcement.canonical import canonical_json
from reelguard.enforcement.checkpoint import Checkpoint, NoteVerifier, decode_base64, open_note
from reelguard.enforcement.merkle import leaf_hash, verify_consistency, verify_inclusion
from reelguard.enforcement.timestamp import verify_timestamp
from reelguard.errors import EvidenceInvalid, InvalidInput

if TYPE_CHECKING:
    from reelguard.enforcement.evidence_log import EvidenceLog

__all__ = ["BUNDLE_FORMAT", "BundleReport", "make_bundle", "verify_bundle"]

BUNDLE_FORMAT = "reelguard-evidence-bundle/1"
MAX_BUNDLE_BYTES = 256 << 20


@dataclass
class BundleReport:
    origin: str = ""
    tree_size: int = 0
    records: int = 0
    artifacts: int = 0
    timestamp: datetime | None = None
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "origin": self.origin, "tree_size": self.tree_size, "records": self.records,
                "artifacts": self.artifacts,
                "timestamp": self.timestamp.isoformat() if self.timestamp else None, "failures": self.failures}


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def make_bundle(log: EvidenceLog, positions: Sequence[int], *, tsa_roots: Sequence[x509.Certificate] = (),
                since_size: int | None = None, artifacts: Mapping[str, bytes] | None = None) -> bytes:
    """A bundle of the records at ``positions``, proved to the log's newest checkpoint (made now if needed).

    ``artifacts`` (SHA-256 hex → bytes: a sample, a torrent's info dictionary) travel with
    the records that name them; the verifier checks each one's hash and that a record names it.
    """
    size, note = log.checkpoint()
    token, _ = log.store.token(size)
    records = []
    for position in sorted(set(positions)):
        stored = log.store.record(position)
        records.append({"position": position, "body": _b64(stored.body) if stored.body is not None else None,
                        "leaf_hash": stored.leaf_hash.hex(),
                        "inclusion_proof": [_b64(h) for h in log.inclusion_proof(position, size)]})
    bundle: dict[str, Any] = {
        "format": BUNDLE_FORMAT, "origin": log.origin, "vkey": log.signer.vkey,
        "checkpoint": {"note": note, "tsa_token": _b64(token) if token is not None else None,
                       "tsa_roots": [r.public_bytes(Encoding.PEM).decode() for r in tsa_roots]},
        "records": records}
    if artifacts:
        bundle["artifacts"] = [{"sha256": digest, "data": _b64(data)} for digest, data in sorted(artifacts.items())]
    if since_size is not None and since_size != size:
        earlier = log.store.checkpoint(since_size)
        if earlier is None:
            raise InvalidInput(f"no checkpoint of size {since_size} to prove consistency from")
        bundle["previous_checkpoint"] = {"note": earlier[1], "consistency_proof": [
            _b64(h) for h in log.consistency_proof(since_size, size)]}
    return json.dumps(bundle, indent=1, ensure_ascii=True).encode() + b"\n"


def verify_bundle(data: bytes, *, trusted_vkey: str | None = None) -> BundleReport:
    """Check everything in a bundle; the report lists each failure (an empty list: every check passed)."""
    report = BundleReport()
    try:
        bundle = _read(data)
        vkey = _text(bundle, "vkey")
        if trusted_vkey is not None and vkey != trusted_vkey.strip():
            report.failures.append("the bundle's log key is not the trusted key given")
        verifier = NoteVerifier(trusted_vkey or vkey)
        report.origin = _text(bundle, "origin")
        checkpoint_part = _object(bundle, "checkpoint")
        note = _text(checkpoint_part, "note")
        checkpoint = Checkpoint.parse(open_note(note, [verifier]), origin=report.origin)
        report.tree_size = checkpoint.size
    except (EvidenceInvalid, InvalidInput) as exc:
        report.failures.append(f"bundle: {exc}")
        return report
    _check_timestamp(checkpoint_part, note, report)
    if "previous_checkpoint" in bundle:
        _check_consistency(bundle["previous_checkpoint"], verifier, checkpoint, report)
    records = bundle.get("records")
    if not isinstance(records, list) or not records:
        report.failures.append("bundle: expected a non-empty list of records")
        return report
    for number, record in enumerate(records):
        _check_record(number, record, checkpoint, report)
    report.records = len(records)
    if "artifacts" in bundle:
        _check_artifacts(bundle["artifacts"], records, report)
    return report


def _check_artifacts(artifacts: Any, records: list[Any], report: BundleReport) -> None:
    """Each artifact hashes to its name, and a record of the bundle names that hash."""
    if not isinstance(artifacts, list):
        report.failures.append("artifacts: expected a list")
        return
    bodies = " ".join(_quiet_decode(r["body"]) for r in records
                      if isinstance(r, dict) and isinstance(r.get("body"), str))
    for number, artifact in enumerate(artifacts):
        where = f"artifact {number}"
        try:
            if not isinstance(artifact, dict) or set(artifact) != {"sha256", "data"}:
                raise EvidenceInvalid("expected sha256 and data")
            digest = _text(artifact, "sha256")
            where = f"artifact {number} ({digest[:16]}…)"
            if hashlib.sha256(_decode(artifact["data"], "the artifact's data")).hexdigest() != digest:
                raise EvidenceInvalid("its bytes do not hash to its SHA-256")
            if f'"{digest}"' not in bodies:
                raise EvidenceInvalid("no record of the bundle names it")
        except (EvidenceInvalid, InvalidInput) as exc:
            report.failures.append(f"{where}: {exc}")
        report.artifacts += 1


def _quiet_decode(value: str) -> str:
    try:
        return base64.b64decode(value, validate=True).decode("utf-8", errors="replace")
    except ValueError:
        return ""


def _read(data: bytes) -> dict[str, Any]:
    if len(data) > MAX_BUNDLE_BYTES:
        raise InvalidInput(f"expected a bundle of at most {MAX_BUNDLE_BYTES} bytes, got {len(data)}")
    try:
        bundle = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"expected a bundle in JSON: {exc}") from None
    if not isinstance(bundle, dict) or bundle.get("format") != BUNDLE_FORMAT:
        raise InvalidInput(f"expected a {BUNDLE_FORMAT} document")
    known = {"format", "origin", "vkey", "checkpoint", "records", "previous_checkpoint", "artifacts"}
    if extra := set(bundle) - known:
        raise InvalidInput(f"unexpected bundle fields: {', '.join(sorted(extra))}")
    return bundle


def _text(part: dict[str, Any], name: str) -> str:
    value = part.get(name)
    if not isinstance(value, str):
        raise InvalidInput(f"expected {name!r} to be a string")
    return value


def _object(part: dict[str, Any], name: str) -> dict[str, Any]:
    value = part.get(name)
    if not isinstance(value, dict):
        raise InvalidInput(f"expected {name!r} to be an object")
    return value


def _decode(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise EvidenceInvalid(f"expected {what} as a base64 string")
    return decode_base64(value, what)


def _proof(value: Any, what: str) -> list[bytes]:
    if not isinstance(value, list):
        raise EvidenceInvalid(f"expected {what} as a list of hashes")
    return [_decode(item, f"{what} element {i}") for i, item in enumerate(value)]


def _check_timestamp(part: dict[str, Any], note: str, report: BundleReport) -> None:
    if set(part) - {"note", "tsa_token", "tsa_roots"}:
        report.failures.append("checkpoint: unexpected fields")
    if part.get("tsa_token") is None:
        report.failures.append("checkpoint: no RFC 3161 timestamp (the TSA had not stamped it when exported)")
        return
    try:
        pems = part.get("tsa_roots") or []
        roots = [_load_root(pem) for pem in pems]
        if any(root.public_bytes(Encoding.PEM).decode() != pem for root, pem in zip(roots, pems, strict=True)):
            raise EvidenceInvalid("a TSA root certificate is not in canonical PEM (its text was changed)")
        if not roots:
            raise EvidenceInvalid("no TSA root certificate to check the timestamp against")
        report.timestamp = verify_timestamp(_decode(part["tsa_token"], "the TSA token"), note.encode(), roots)
    except (EvidenceInvalid, ValueError, AttributeError, TypeError) as exc:
        report.failures.append(f"checkpoint timestamp: {exc}")


def _load_root(pem: Any) -> x509.Certificate:
    """A TSA root as RFC 5280 requires it: cryptography only warns of a serial that is not positive (a changed
    byte can make one), and a warning must not decide a verification, so it is refused here."""
    if not isinstance(pem, str):
        raise EvidenceInvalid(f"expected a TSA root certificate as PEM text, got {type(pem).__name__}")
    with warnings.catch_warnings():
        warnings.simplefilter("error", CryptographyDeprecationWarning)
        try:
            return x509.load_pem_x509_certificate(pem.encode())
        except CryptographyDeprecationWarning as exc:
            raise EvidenceInvalid(f"a TSA root certificate breaks RFC 5280: {exc}") from None


def _check_consistency(part: Any, verifier: NoteVerifier, checkpoint: Checkpoint, report: BundleReport) -> None:
    try:
        if not isinstance(part, dict) or set(part) != {"note", "consistency_proof"}:
            raise EvidenceInvalid("expected the previous checkpoint's note and the consistency proof")
        earlier = Checkpoint.parse(open_note(_text(part, "note"), [verifier]), origin=checkpoint.origin)
        verify_consistency(earlier.size, checkpoint.size, _proof(part["consistency_proof"], "the consistency proof"),
                           earlier.root, checkpoint.root)
    except (EvidenceInvalid, InvalidInput) as exc:
        report.failures.append(f"previous checkpoint: {exc}")


def _check_record(number: int, record: Any, checkpoint: Checkpoint, report: BundleReport) -> None:
    where = f"record {number}"
    try:
        if not isinstance(record, dict) or set(record) != {"position", "body", "leaf_hash", "inclusion_proof"}:
            raise EvidenceInvalid("expected position, body, leaf_hash and inclusion_proof")
        position = record["position"]
        if not isinstance(position, int) or isinstance(position, bool):
            raise EvidenceInvalid("expected an integer position")
        where = f"record {number} (position {position})"
        leaf = bytes.fromhex(record["leaf_hash"]) if isinstance(record["leaf_hash"], str) else b""
        if record["leaf_hash"] != leaf.hex():
            raise EvidenceInvalid("expected the leaf hash in lowercase hex")
        if record["body"] is not None:
            body = _decode(record["body"], "the record's body")
            _check_body(body)
            if leaf_hash(body) != leaf:
                raise EvidenceInvalid("its bytes do not hash to its leaf hash")
        verify_inclusion(leaf, position, checkpoint.size, _proof(record["inclusion_proof"], "the inclusion proof"),
                         checkpoint.root)
    except (EvidenceInvalid, InvalidInput, ValueError) as exc:
        report.failures.append(f"{where}: {exc}")


def _check_body(body: bytes) -> None:
    """A record's bytes must be the canonical JSON of {appended_at, kind, record}, as the log writes them."""
    try:
        value = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise EvidenceInvalid("its bytes are not JSON") from None
    if not isinstance(value, dict) or set(value) != {"appended_at", "kind", "record"}:
        raise EvidenceInvalid("expected a record of appended_at, kind and record")
    if canonical_json(value) != body:
        raise EvidenceInvalid("its bytes are not in canonical form (RFC 8785)")
