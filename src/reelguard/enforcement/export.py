"""``evidence export CASE OUT``: one self-contained bundle of everything a case holds.

The case's records (what found the copy, what identified and traced it, every
transition, notice and action), each proved by inclusion to the log's newest checkpoint;
that checkpoint's RFC 3161 token and the TSA's roots; the checkpoint published when the
case opened, with the consistency proof from it, so a log rewritten since would show;
and, when asked, the artifacts the records name by SHA-256 (the sample, the torrent's
info dictionary)::

    data = export_case(cases, blobs, case_id, artifacts=True, tsa_roots=roots)
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography import x509

from reelguard.enforcement.bundle import make_bundle
from reelguard.enforcement.cases import CaseService
from reelguard.errors import InvalidInput
from reelguard.store.blobs import BlobStore

__all__ = ["export_case"]

MAX_ARTIFACT_BYTES = 128 << 20  # a bundle stays under its 256 MiB bound


def export_case(cases: CaseService, blobs: BlobStore, case_id: str, *, artifacts: bool = False,
                tsa_roots: Sequence[x509.Certificate] = ()) -> bytes:
    case = cases.get(case_id)
    positions = cases.store.evidence(case.id)
    if not positions:
        raise InvalidInput(f"case {case.id} holds no evidence records")
    opened = cases.log.store.first_checkpoint_covering(min(positions))
    blobs_of: dict[str, bytes] = {}
    if artifacts:
        total = 0
        for digest, key in sorted((case.facts.get("artifacts") or {}).items()):
            data = blobs.get_bytes(key)
            total += len(data)
            if total > MAX_ARTIFACT_BYTES:
                raise InvalidInput(f"case {case.id}'s artifacts are over {MAX_ARTIFACT_BYTES >> 20} MiB: export "
                                   "without --artifacts (the records still name each artifact by its SHA-256)")
            blobs_of[digest] = data
    return make_bundle(cases.log, positions, tsa_roots=tsa_roots, since_size=opened, artifacts=blobs_of)
