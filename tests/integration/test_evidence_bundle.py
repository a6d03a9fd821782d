"""Evidence bundles: made from the log, checked with nothing but the bundle; every changed byte is caught."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reelguard.enforcement.bundle import make_bundle, verify_bundle
from reelguard.enforcement.checkpoint import NoteSigner
from reelguard.enforcement.evidence_log import EvidenceLog
from reelguard.enforcement.timestamp import TimestampAuthority
from reelguard.store import Database
from reelguard.testing.clock import FixedClock
from tests.tsa_server import LocalTsa

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


@pytest.fixture
def stamped(database_url_factory: Callable[[], str]) -> Iterator[tuple[EvidenceLog, LocalTsa]]:
    db = Database.connect(database_url_factory())
    with LocalTsa() as tsa:
        yield EvidenceLog(db, NoteSigner.generate("evidence.reelguard.test/log"), FixedClock(NOW),
                          tsa=TimestampAuthority(tsa.url, roots=[tsa.root])), tsa
    db.dispose()


def test_a_bundle_verifies_offline_with_its_records_timestamp_and_history(
        stamped: tuple[EvidenceLog, LocalTsa]) -> None:
    log, tsa = stamped
    log.append_many([("observation", {"peer": f"127.0.0.{n}", "verdict": "distributor"}) for n in range(5)])
    earlier, _ = log.checkpoint()
    log.append_many([("trace", {"accused": ["s-7"], "p_value": 3.2e-12}), ("note", {"text": "café ✔"})])
    bundle = make_bundle(log, [1, 5, 6], tsa_roots=[tsa.root], since_size=earlier)
    report = verify_bundle(bundle, trusted_vkey=log.signer.vkey)
    assert report.ok, report.failures
    assert (report.origin, report.tree_size, report.records) == ("evidence.reelguard.test/log", 7, 3)
    assert report.timestamp is not None

    log.store.purge_body(1)  # retention: the record's bytes go, its proof stays
    purged = verify_bundle(make_bundle(log, [1, 6], tsa_roots=[tsa.root]), trusted_vkey=log.signer.vkey)
    assert purged.ok, purged.failures
    assert verify_bundle(bundle, trusted_vkey=log.signer.vkey).ok  # the bundle made before still verifies


def test_every_changed_byte_of_a_bundle_is_caught(stamped: tuple[EvidenceLog, LocalTsa]) -> None:
    log, tsa = stamped
    log.append_many([("observation", {"peer": "127.0.0.2"}), ("trace", {"accused": ["s-1"]})])
    first, _ = log.checkpoint()
    log.append("action", {"suspend": "mallory"})
    bundle = make_bundle(log, [0, 2], tsa_roots=[tsa.root], since_size=first)
    assert verify_bundle(bundle, trusted_vkey=log.signer.vkey).ok
    missed = []
    for position in range(len(bundle)):
        for flip in (0x01, 0xFF):
            changed = bytearray(bundle)
            changed[position] ^= flip
            if verify_bundle(bytes(changed), trusted_vkey=log.signer.vkey).ok:
                missed.append((position, flip, bundle[max(0, position - 20):position + 20]))
    assert missed == []


def _negative_serial(pem: str) -> str:
    """The certificate with its serial's sign bit set: one changed byte that cryptography only warns about."""
    der = bytearray(base64.b64decode("".join(pem.strip().splitlines()[1:-1])))
    tbs = 4 if der[1] < 0x80 else 2 + (der[1] & 0x7F)  # inside the outer SEQUENCE: the TBSCertificate
    at = tbs + (2 if der[tbs + 1] < 0x80 else 2 + (der[tbs + 1] & 0x7F))  # its first field: [0] version
    at += 2 + der[at + 1]  # past the version: the serial INTEGER
    assert der[at] == 0x02
    der[at + 2] |= 0x80
    body = base64.b64encode(bytes(der)).decode()
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(body[i:i + 64] for i in range(0, len(body), 64)) + \
        "\n-----END CERTIFICATE-----\n"


@pytest.mark.parametrize(("change", "said"), [
    (lambda b: {**b, "records": [{**b["records"][0], "position": 1}]}, "inclusion proof"),
    (lambda b: {**b, "vkey": NoteSigner.generate("evidence.reelguard.test/log").vkey}, "trusted key"),
    (lambda b: {**b, "checkpoint": {**b["checkpoint"], "tsa_token": None}}, "no RFC 3161 timestamp"),
    (lambda b: {**b, "previous_checkpoint": {**b["previous_checkpoint"], "consistency_proof": []}},
     "previous checkpoint"),
    (lambda b: {**b, "records": []}, "non-empty list of records"),
    (lambda b: {**b, "checkpoint": {**b["checkpoint"],
                                    "tsa_roots": [_negative_serial(b["checkpoint"]["tsa_roots"][0])]}},
     "breaks RFC 5280"),
])
def test_what_fails_is_said(stamped: tuple[EvidenceLog, LocalTsa], change: Callable[[dict], dict],  # type: ignore[type-arg]
                            said: str) -> None:
    log, tsa = stamped
    log.append_many([("observation", {"n": n}) for n in range(3)])
    first, _ = log.checkpoint()
    log.append("trace", {"n": 3})
    bundle = json.loads(make_bundle(log, [0], tsa_roots=[tsa.root], since_size=first))
    report = verify_bundle(json.dumps(change(bundle)).encode(), trusted_vkey=log.signer.vkey)
    assert not report.ok and any(said in failure for failure in report.failures), report.failures


def test_the_command_verifies_a_bundle_and_says_what_fails(stamped: tuple[EvidenceLog, LocalTsa],
                                                          tmp_path: Path) -> None:
    log, tsa = stamped
    log.append_many([("observation", {"n": n}) for n in range(3)])
    good = tmp_path / "case.json"
    good.write_bytes(make_bundle(log, [0, 2], tsa_roots=[tsa.root]))
    bad = tmp_path / "tampered.json"
    bad.write_bytes(good.read_bytes().replace(b'"position": 2', b'"position": 1'))
    env = {k: v for k, v in os.environ.items() if not k.startswith("REELGUARD_")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "reelguard.cli.main", "evidence", "verify", *args],
                              capture_output=True, text=True, env=env, timeout=120, check=False)

    done = run(str(good), "--key", log.signer.vkey, "--json")
    assert done.returncode == 0 and json.loads(done.stdout)["ok"] is True, done.stderr
    failed = run(str(bad), "--key", log.signer.vkey)
    said = failed.stdout + failed.stderr
    assert failed.returncode == 65 and "position 1" in said and "inclusion proof" in said
    assert "Traceback" not in failed.stderr
