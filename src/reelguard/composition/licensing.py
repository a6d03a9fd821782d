"""Builds the licensing stack (policy, facts, ledger, geo, services) from a Runtime.

Shells call ``runtime.licensing()`` once, ``start()`` it when they serve (change-feed
poller, renewal flusher) and ``stop()`` it on shutdown, which writes what is buffered::

    licensing = runtime.licensing()
    licensing.start()
    answer = licensing.service.issue_clearkey_license(...)
    licensing.stop()
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from reelguard.license.downloads import DownloadService
from reelguard.license.entitlements import EntitlementService
from reelguard.license.facts import FactsCache
from reelguard.license.geo import GeoLocator, territories_unenforced
from reelguard.license.ledger import StreamLedger
from reelguard.license.lookup import LicenseLookup
from reelguard.license.policy import Policy
from reelguard.license.policy_file import load_policy
from reelguard.license.service import LicenseService, UnsafeNoPolicy
from reelguard.license.trusted_keys import TrustedKeys
from reelguard.store import subscribers

if TYPE_CHECKING:
    from reelguard.composition.runtime import Runtime

__all__ = ["Licensing", "build_licensing"]

_log = logging.getLogger(__name__)
SYNC_MARGIN = timedelta(seconds=10)


@dataclass
class Licensing:
    policy: Policy
    geo: GeoLocator
    facts: FactsCache
    ledger: StreamLedger
    entitlements: EntitlementService
    downloads: DownloadService
    service: LicenseService
    trusted_keys: TrustedKeys
    feed_seconds: float

    def start(self) -> None:
        self.facts.start_polling(self.feed_seconds)
        self.ledger.start_flushing()
        self.trusted_keys.start()

    def stop(self) -> None:
        self.trusted_keys.stop()
        self.facts.stop()
        self.ledger.stop()
        self.geo.close()


def build_licensing(runtime: Runtime) -> Licensing:
    settings = runtime.settings
    policy = load_policy(settings.license.policy_file)
    geo = GeoLocator.open(settings.license.geoip_database)
    facts = FactsCache(runtime.db, runtime.clock)
    ledger = StreamLedger(runtime.db, flush_seconds=settings.license.renewal_flush_seconds, sync_margin=SYNC_MARGIN,
                          write_ahead=timedelta(seconds=settings.license.renewal_write_ahead_seconds),
                          journal_dir=None if settings.license.unsafe_skip_decision_journal else
                          settings.resolved_journal_dir)
    entitlements = EntitlementService(policy, runtime.db, facts, ledger, geo, runtime.clock,
                                      grace=timedelta(seconds=settings.license.stream_grace_seconds))
    downloads = DownloadService(policy, runtime.db, facts, geo, runtime.clock)
    if settings.license.geoip_database is None:
        with runtime.db.session() as session:
            limited = subscribers.titles_with_territories(session)
        if limited:
            _log.warning(territories_unenforced(limited))
    if settings.license.unsafe_skip_decision_journal:
        _log.warning("UNSAFE: [license] unsafe_skip_decision_journal is on; renewal decisions are only buffered, and a "
                     "crash loses up to %g s of them", settings.license.renewal_flush_seconds)
    if settings.license.unsafe_skip_policy:
        _log.warning("UNSAFE: [license] unsafe_skip_policy is on; licences are issued on a valid token alone, "
                     "with no entitlement, device, geo or stream checks and no decision log")
    lookup = LicenseLookup(runtime.db, runtime.keystore, ttl_seconds=settings.license.cache_seconds)
    service = LicenseService(lookup, runtime.verifier, runtime.clock,
                             UnsafeNoPolicy(runtime.clock) if settings.license.unsafe_skip_policy else entitlements,
                             downloads,
                             max_body_bytes=settings.license.max_body_bytes)
    return Licensing(policy, geo, facts, ledger, entitlements, downloads, service, runtime.trusted_keys,
                     settings.license.policy_feed_seconds)
