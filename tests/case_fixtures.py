"""Cases for tests, staged through the stores the monitoring pipeline writes (no media, no swarm).

``stage_sighting`` records a listing and takes it through the four job steps with the
results the pipeline writes (``monitor.pipeline``), each step's findings appended to the
evidence log as the pipeline appends them — so a case opens from it exactly as from a real
monitored leak. The whole real loop (libtorrent, identify, trace) is ``tests/e2e``.
A real SMTP relay (``aiosmtpd``) on loopback takes the notices: ``SmtpRelayServer`` can refuse for
a while (4xx), refuse for good (5xx) or accept.
"""

from __future__ import annotations

import hashlib
import ipaddress
import socket
import ssl
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import Message
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from reelguard.enforcement.evidence_log import EvidenceLog
from reelguard.store.database import Database
from reelguard.store.sightingjobs import SightingJobStore
from reelguard.store.sightings import Listing, SightingStore

__all__ = ["SmtpRelayServer", "make_tls_files", "stage_sighting"]

TITLE = "harbour"


def _accusation(session: str, account: str, device: str, p_value: float) -> dict[str, Any]:
    return {"session": session, "account": account, "device": device, "ip": "198.51.100.7",
            "started_at": "2026-12-01T20:00:00+00:00", "score": 9.1, "p_value": p_value, "segments_used": 30}


def stage_sighting(db: Database, log: EvidenceLog, now: datetime, *, name: str = "The.Quiet.Harbour.2025.1080p",
                   false_match: float = 1e-12, p_value: float | None = 1e-12, account: str = "acct-leaker",
                   device: str = "tv-1", identified: bool = True,
                   distributors: tuple[str, ...] = ("203.0.113.5",), source: str = "idx", title: str = TITLE,
                   suspected: tuple[str, ...] = ()) -> str:
    """A sighting whose steps have all finished with these findings; its id.

    ``suspected``: accounts the trace suspected, not accused (family-wise p 1e-4 each).
    """
    infohash = hashlib.sha1(name.encode()).hexdigest()
    store = SightingStore(db)
    store.record([Listing(source, f"item-{infohash[:8]}", name, size_bytes=1_234_567, infohash_v1=infohash,
                          magnet=f"magnet:?xt=urn:btih:{infohash}&tr=http://127.0.0.1:1/announce",
                          link=f"http://indexer.example/details/{infohash[:8]}",
                          matches=[{"title_id": title, "score": 0.97}])], now)
    sighting = next(s for s in store.find(matched=True, limit=1000) if s.infohash_v1 == infohash)
    jobs = SightingJobStore(db)
    jobs.enqueue([sighting.id], now)
    observations = [{"infohash": infohash, "torrent_name": name, "peer_ip": ip, "peer_port": 51413 + n,
                     "transport": "tcp", "client": "qB 4.6", "peer_id": "2d71423436"  + "0" * 30,
                     "started_at": now.isoformat(), "ended_at": now.isoformat(), "verdict": "distributor",
                     "reason": "delivered piece 3, hash verified", "piece_index": 3, "piece_sha1": "ab" * 20,
                     "bytes_received": 16384, "pieces_advertised": 10, "found_by": "tracker",
                     "probe_address": "127.0.0.1", "probe_software": "libtorrent", "pieces_in_torrent": 10}
                    for n, ip in enumerate(distributors)]
    segment = {"title": title, "title_id": f"t-{title}", "suspect_start": 0.0, "suspect_end": 58.0,
               "title_start": 1.0, "title_end": 59.0, "score": 0.9, "modality": "video", "speed": 1.0,
               "title_alternatives": [], "false_match_probability": false_match, "evidence": {}}
    accused = [] if p_value is None else [_accusation("wm-session-1", account, device, p_value)]
    results: list[tuple[str, dict[str, Any], str | None, list[dict[str, Any]]]] = [
        ("probe", {"verdict": f"{len(distributors)} distributors proven", "torrent_blob": f"sightings/{sighting.id}/t",
                   "torrent_sha256": hashlib.sha256(name.encode()).hexdigest()}, "sample", observations),
        ("sample", {"verdict": "sample fetched", "blob": f"sightings/{sighting.id}/sample.mkv",
                    "sha256": hashlib.sha256(b"sample" + name.encode()).hexdigest()}, "identify", []),
        ("identify", {"verdict": "identified" if identified else "not our content", "titles": [title],
                      "trace_title": title if identified else None,
                      "evidence": {"segments": [segment] if identified else [], "matched": identified}},
         "trace" if identified else None, []),
    ]
    if identified:
        results.append(("trace", {"verdict": "traced", "title": title, "accused": [a["session"] for a in accused],
                                  "report": {"title": title, "accused": accused, "reason": "ok",
                                             "suspected": [_accusation(f"wm-lead-{n}", lead, "tv-9", 1e-4)
                                                           for n, lead in enumerate(suspected)],
                                             "sessions_scored": 4, "best_innocent_p": 0.4}}, None, []))
    for step, result, next_step, seen in results:
        job = jobs.claim("test-worker", now)
        assert job is not None and job.step == step
        records = [("observation", o) for o in seen] + [(f"monitor.{step}", {"sighting_id": sighting.id,
                                                                            "result": result})]
        positions = log.append_many(records)
        assert jobs.finish(job, result=result | {"evidence_positions": positions}, now=now, next_step=next_step,
                           observations=seen)
    return sighting.id


def make_tls_files(folder: Path, host: str = "127.0.0.1") -> tuple[Path, ssl.SSLContext]:
    """A test CA (its PEM file, for the client to trust) and a server TLS context whose certificate it signed."""
    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    now = datetime.now(UTC)
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("reelguard test relay CA")).issuer_name(
        name("reelguard test relay CA")).public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256()))
    server = (x509.CertificateBuilder().subject_name(name(host)).issuer_name(ca.subject)
              .public_key(server_key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
              .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]),
                             critical=False)
              .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
              .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                             critical=False)
              .sign(ca_key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ca.pem").write_bytes(ca.public_bytes(Encoding.PEM))
    (folder / "server.pem").write_bytes(server.public_bytes(Encoding.PEM))
    (folder / "server.key").write_bytes(server_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(folder / "server.pem", folder / "server.key")
    return folder / "ca.pem", context


@dataclass
class _Relay:
    refuse: list[tuple[int, str]] = field(default_factory=list)  # answers to give DATA before accepting
    received: list[Message] = field(default_factory=list)
    attempts: int = 0
    over_tls: list[bool] = field(default_factory=list)  # per message taken: whether STARTTLS had been done
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self.lock:
            self.attempts += 1
            self.over_tls.append(session.ssl is not None)
            if self.refuse:
                code, text = self.refuse.pop(0)
                return f"{code} {text}"
            assert isinstance(envelope.content, bytes)
            self.received.append(message_from_bytes(envelope.content, policy=policy.default))
            return f"250 2.0.0 Ok: queued as Q{len(self.received)}"


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class SmtpRelayServer:
    """A real SMTP server (aiosmtpd) on a loopback port; ``refuse`` answers come first, then it accepts."""

    __test__ = False

    def __init__(self, *, refuse: list[tuple[int, str]] | None = None, host: str = "127.0.0.1",
                 tls: ssl.SSLContext | None = None) -> None:
        """``tls``: the relay offers STARTTLS with this context and takes no mail before it."""
        self.relay = _Relay(refuse=list(refuse or []))
        self.host, self.port = host, _free_port(host)
        self._controller = Controller(self.relay, hostname=host, port=self.port, tls_context=tls,
                                      require_starttls=tls is not None)

    @property
    def received(self) -> list[Message]:
        return self.relay.received

    def __enter__(self) -> Self:
        self._controller.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._controller.stop()
