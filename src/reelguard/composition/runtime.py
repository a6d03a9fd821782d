"""Builds the adapters (database, blobs, media tools, secrets) from settings once, and the services on them.

Nothing below this package reads settings or constructs an adapter; each service is given
what it uses here::

    runtime = Runtime.open(Settings.load())
    runtime.ingest_service().add_title(Path("ep01.mp4"), name="ep01")
    runtime.trace_service().trace(Path("leak.mp4"), title="ep01")
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reelguard.clock import Clock, system_clock
from reelguard.drm.keystore import KeyStore
from reelguard.drm.keywrap import KeyEncryptionKey
from reelguard.errors import ConfigurationError
from reelguard.license.tokens import TokenSigner, TokenVerifier, load_or_create_signing_key
from reelguard.license.trusted_keys import TrustedKeys
from reelguard.media.tools import MediaTools
from reelguard.settings import Settings
from reelguard.store.blobs import BlobStore, LocalBlobStore
from reelguard.store.database import Database
from reelguard.watermark.secrets import WatermarkSecret

if TYPE_CHECKING:  # the services pull in NumPy, OpenCV, FAISS and PyAV: imported when first asked for
    from cryptography import x509

    from reelguard.composition.licensing import Licensing
    from reelguard.enforcement.cases import CaseService
    from reelguard.enforcement.enforce import Enforcer
    from reelguard.enforcement.evidence_log import EvidenceLog
    from reelguard.fingerprint.service import FingerprintService
    from reelguard.ingest.removal import TitleRemoval
    from reelguard.ingest.rotation import KeyRotation
    from reelguard.ingest.service import IngestOptions, IngestService
    from reelguard.monitor.pipeline import LeakPipeline
    from reelguard.watermark.sessions import SessionService
    from reelguard.watermark.trace import TraceService

__all__ = ["Runtime"]


@dataclass
class Runtime:
    settings: Settings
    db: Database
    blobs: BlobStore
    tools: MediaTools
    keystore: KeyStore
    watermark: WatermarkSecret
    clock: Clock = field(default=system_clock)

    @classmethod
    def open(cls, settings: Settings, *, clock: Clock = system_clock) -> Runtime:
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        return cls(
            settings=settings,
            db=Database.connect(settings.resolved_database_url),
            blobs=LocalBlobStore(settings.resolved_blob_dir),
            tools=MediaTools.locate(settings.media),
            keystore=KeyStore(KeyEncryptionKey.load_or_create(settings.resolved_kek_file)),
            watermark=WatermarkSecret.load_or_create(settings.resolved_watermark_secret_file),
            clock=clock,
        )

    @property
    def work_dir(self) -> Path:
        return (self.settings.data_dir / "work").resolve()

    def close(self) -> None:
        self.db.dispose()

    # -- entitlement tokens (built when first used: only servers and token commands need them) ---------
    @cached_property
    def signer(self) -> TokenSigner:
        """The demo's stand-in for the backend (``tokens issue``, tests); a deployment's backend signs instead."""
        key = load_or_create_signing_key(self.settings.resolved_token_signing_key_file)
        return TokenSigner(key, issuer=self.settings.tokens.issuer, audience=self.settings.tokens.audience)

    @cached_property
    def trusted_keys(self) -> TrustedKeys:
        """The backend's keys from settings; with none set, the local demo signing key alone."""
        tokens = self.settings.tokens
        if tokens.trusted_keys or tokens.jwks:
            return TrustedKeys.load(pem_files=tokens.trusted_keys, jwks=tokens.jwks,
                                    refresh_seconds=tokens.jwks_refresh_seconds)
        return TrustedKeys.fixed({self.signer.kid: self.signer.public_key})

    @cached_property
    def verifier(self) -> TokenVerifier:
        tokens = self.settings.tokens
        return TokenVerifier(self.trusted_keys, issuer=tokens.issuer, audience=tokens.audience,
                             max_ttl_seconds=tokens.max_ttl_seconds, leeway_seconds=tokens.leeway_seconds)

    # -- services ----------------------------------------------------------------------
    def fingerprint_service(self) -> FingerprintService:
        from reelguard.fingerprint.index import CatalogIndex
        from reelguard.fingerprint.service import FingerprintService

        return FingerprintService(self.db, self.blobs, CatalogIndex(self.settings.resolved_fingerprint_index_dir),
                                  max_false_match=self.settings.fingerprint.max_false_match_probability)

    def ingest_options(self) -> IngestOptions:
        from reelguard.ingest.service import IngestOptions

        media, watermark = self.settings.media, self.settings.watermark
        return IngestOptions(ladder=media.ladder, segment_seconds=media.segment_seconds,
                             x264_preset=media.x264_preset, audio_bitrate_kbps=media.audio_bitrate_kbps,
                             watermark_strength=watermark.strength, watermark_collusion=watermark.collusion)

    def ingest_service(self) -> IngestService:
        from reelguard.ingest.service import IngestService

        return IngestService(db=self.db, blobs=self.blobs, tools=self.tools, keystore=self.keystore,
                             watermark=self.watermark, fingerprints=self.fingerprint_service(), clock=self.clock,
                             options=self.ingest_options(), work_dir=self.work_dir)

    def key_rotation(self) -> KeyRotation:
        from reelguard.ingest.rotation import KeyRotation

        return KeyRotation(db=self.db, blobs=self.blobs, tools=self.tools, keystore=self.keystore,
                           watermark=self.watermark, clock=self.clock, options=self.ingest_options(),
                           work_dir=self.work_dir)

    def title_removal(self) -> TitleRemoval:
        from reelguard.ingest.removal import TitleRemoval

        return TitleRemoval(db=self.db, blobs=self.blobs, unindex=lambda ids: self.fingerprint_service().remove(ids),
                            clock=self.clock, work_dir=self.work_dir)

    def session_service(self) -> SessionService:
        from reelguard.watermark.sessions import SessionService

        return SessionService(db=self.db, blobs=self.blobs, tools=self.tools, keystore=self.keystore,
                              watermark=self.watermark, clock=self.clock,
                              session_seconds=self.settings.watermark.session_seconds)

    def trace_service(self) -> TraceService:
        from reelguard.watermark.trace import TraceService

        return TraceService(db=self.db, blobs=self.blobs, watermark=self.watermark,
                            fingerprints=self.fingerprint_service(),
                            false_accusation=self.settings.watermark.false_accusation,
                            suspect_bound=self.settings.watermark.suspect_bound, work_dir=self.work_dir,
                            spool_bytes=self.settings.watermark.trace_spool_bytes)

    def leak_pipeline(self) -> LeakPipeline:
        from datetime import timedelta

        from reelguard.monitor.pipeline import LeakPipeline, PipelineOptions

        monitor = self.settings.monitor
        options = PipelineOptions(
            probe_address=monitor.probe_address, discovery_seconds=monitor.discovery_seconds,
            peer_timeout_seconds=monitor.peer_timeout_seconds, sample_bytes=monitor.sample_megabytes << 20,
            sample_timeout_seconds=monitor.sample_timeout_seconds, retry_after=timedelta(minutes=monitor.retry_minutes),
            dht_nodes=self._dht_nodes(),
            dht_private_network=monitor.dht_private_network, pex_seconds=monitor.pex_seconds,
            provenance=self.provenance())
        return LeakPipeline(self.db, self.blobs, self.fingerprint_service, self.trace_service, options,
                            self.work_dir / "monitor", self.clock, evidence=self.evidence_log())

    def evidence_log(self) -> EvidenceLog:
        from reelguard.enforcement.evidence_log import EvidenceLog
        from reelguard.enforcement.signing_key import load_or_create_signer
        from reelguard.enforcement.timestamp import TimestampAuthority

        evidence = self.settings.evidence
        signer = load_or_create_signer(self.settings.resolved_evidence_key_file, evidence.origin)
        tsa = TimestampAuthority(evidence.tsa_url, roots=self.tsa_roots()) if evidence.tsa_url else None
        return EvidenceLog(self.db, signer, self.clock, tsa=tsa)

    def tsa_roots(self) -> list[x509.Certificate]:
        """The TSA's root certificates ([evidence] tsa_roots): what its tokens must chain to."""
        from cryptography import x509

        try:
            return [x509.load_pem_x509_certificate(path.read_bytes()) for path in self.settings.evidence.tsa_roots]
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"[evidence] tsa_roots: expected PEM certificate files: {exc}") from None

    def provenance(self) -> dict[str, Any]:
        """What an identify or trace result came from, logged beside it: the software and its bounds."""
        from reelguard import __version__

        return {"software": f"reelguard {__version__}",
                "fingerprint_max_false_match": self.settings.fingerprint.max_false_match_probability,
                "watermark_false_accusation": self.settings.watermark.false_accusation,
                "watermark_suspect_bound": self.settings.watermark.suspect_bound}

    def case_service(self) -> CaseService:
        from reelguard.enforcement.cases import CaseService

        bound = self.settings.cases.max_false_match or self.settings.fingerprint.max_false_match_probability
        return CaseService(self.db, self.evidence_log(), self.clock, max_false_match=bound, blobs=self.blobs,
                           recognition=self.fingerprint_service, tracer=self.trace_service,
                           provenance=self.provenance())

    def enforcer(self, *, cases: CaseService | None = None) -> Enforcer:
        """The act loop (rules, actions, notices, removal checks) over one case service."""
        from datetime import timedelta

        from reelguard.accounts.service import AccountService
        from reelguard.enforcement.actions import ActionTaker
        from reelguard.enforcement.delivery import NoticeDesk, SmtpRelay
        from reelguard.enforcement.enforce import Enforcer
        from reelguard.enforcement.notices import Recipient, Sender
        from reelguard.enforcement.removal import RemovalChecker, url_gone
        from reelguard.enforcement.rules import load_rules
        from reelguard.license.streams import StreamAdmin

        cases = cases or self.case_service()
        notices, settings = self.settings.notices, self.settings.cases
        relay = None if notices.smtp_host is None else SmtpRelay(
            notices.smtp_host, notices.smtp_port, notices.smtp_tls, notices.smtp_timeout_seconds,
            notices.smtp_username, notices.smtp_password_file, notices.smtp_ca_file)
        sender = Sender(notices.rights_holder, notices.sender_name, notices.sender_email, notices.sender_address,
                        notices.sender_phone)
        desk = NoticeDesk(cases, relay, sender, [Recipient(r.match, r.email, r.name) for r in notices.recipients],
                          self.clock, retry_after=timedelta(minutes=notices.retry_minutes),
                          max_attempts=notices.max_attempts)
        actions = ActionTaker(cases, AccountService(self.db, self.clock), StreamAdmin(self.db, self.clock),
                              rotation=self.key_rotation,
                              rotation_grace=timedelta(hours=self.settings.keys.rotation_grace_hours))
        removal = RemovalChecker(cases, {"url": url_gone, **self._rechecks()}, self.clock,
                                 every=timedelta(hours=settings.removal_check_hours),
                                 deadline=timedelta(days=settings.removal_deadline_days))
        return Enforcer(cases, load_rules(settings.rules_file), actions, desk, removal)

    def _rechecks(self) -> dict[str, Callable[[dict[str, Any]], tuple[bool | None, str]]]:
        """Removal checks of indexer listings and swarms (the monitor's searches and probes)."""
        from reelguard.monitor.recheck import IndexerRecheck, SwarmRecheck
        from reelguard.monitor.sources import PiracySource
        from reelguard.monitor.watching import build_source

        monitor = self.settings.monitor
        swarm = SwarmRecheck(self.work_dir / "monitor", address=monitor.probe_address,
                             discovery_seconds=monitor.discovery_seconds,
                             peer_timeout_seconds=monitor.peer_timeout_seconds, clock=self.clock,
                             dht_nodes=self._dht_nodes(), dht_private=monitor.dht_private_network)
        def sources() -> dict[str, PiracySource]:  # built at the first re-check: their API keys read then
            return {config.name: build_source(config) for config in monitor.sources}

        return {"indexer": IndexerRecheck(sources), "swarm": swarm}

    def _dht_nodes(self) -> tuple[tuple[str, int], ...]:
        nodes = (node.rpartition(":") for node in self.settings.monitor.dht_nodes)
        return tuple((host, int(port)) for host, _, port in nodes)

    def licensing(self) -> Licensing:
        from reelguard.composition.licensing import build_licensing

        return build_licensing(self)
