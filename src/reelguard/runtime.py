"""Wiring: builds the adapters (database, blobs, media tools, secrets) from settings once.

Shells (CLI, web) build a ``Runtime`` and hand its parts to the services; nothing else
reads settings or constructs adapters::

    runtime = Runtime.open(Settings.load())
    IngestService(runtime).add_title(Path("ep01.mp4"), name="ep01")
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from reelguard.clock import Clock, system_clock
from reelguard.drm.keystore import KeyStore
from reelguard.drm.keywrap import KeyEncryptionKey
from reelguard.license.tokens import TokenSigner, TokenVerifier, load_or_create_signing_key
from reelguard.media.tools import MediaTools
from reelguard.settings import Settings
from reelguard.store.blobs import BlobStore, LocalBlobStore
from reelguard.store.database import Database
from reelguard.watermark.secrets import WatermarkSecret

__all__ = ["Runtime"]


@dataclass
class Runtime:
    settings: Settings
    db: Database
    blobs: BlobStore
    tools: MediaTools
    keystore: KeyStore
    signer: TokenSigner
    verifier: TokenVerifier
    watermark: WatermarkSecret
    clock: Clock = field(default=system_clock)

    @classmethod
    def open(cls, settings: Settings, *, clock: Clock = system_clock) -> Runtime:
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        signing_key = load_or_create_signing_key(settings.resolved_token_signing_key_file)
        signer = TokenSigner(signing_key, issuer=settings.token_issuer, audience=settings.token_audience)
        return cls(
            settings=settings,
            db=Database.connect(settings.resolved_database_url),
            blobs=LocalBlobStore(settings.resolved_blob_dir),
            tools=MediaTools.locate(settings),
            keystore=KeyStore(KeyEncryptionKey.load_or_create(settings.resolved_kek_file)),
            signer=signer,
            verifier=TokenVerifier.for_signer(signer, settings),
            watermark=WatermarkSecret.load_or_create(settings.resolved_watermark_secret_file),
            clock=clock,
        )

    @property
    def work_dir(self) -> Path:
        return (self.settings.data_dir / "work").resolve()

    def close(self) -> None:
        self.db.dispose()
