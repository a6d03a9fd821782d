"""Offline downloads: persistent licences under the same policy as streams.

A download is a record (account, device, title, expiry, first play, release). Every
operation runs in one transaction serialized per account, so the per-device,
per-account and per-year limits hold under concurrency:

- ``acquire``  the ``download`` action: title eligible, limits, single-use token → a
  download id and the licence's expiry (``license_days`` from now);
- ``renew``    ``download-renew`` with a fresh token while still entitled → new expiry;
- ``record_play`` the first offline play starts the playback window (``playback_hours``);
- ``release``  returning a download frees its slot.

    downloads = DownloadService(policy, db, facts, geo, clock)
    granted = downloads.acquire(claims, ip="203.0.113.7", title_tiers=tiers)
    granted.download_id, granted.decision.expires_at
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from reelguard.clock import Clock
from reelguard.drm.keys import TrackTier
from reelguard.errors import NotFound, PermissionDenied
from reelguard.license.entitlements import build_context, decision_record, refusal
from reelguard.license.facts import FactsCache
from reelguard.license.geo import GeoLocator
from reelguard.license.policy import Action, Decision, Policy, Usage
from reelguard.license.tokens import EntitlementClaims
from reelguard.store import licensing
from reelguard.store.database import Database
from reelguard.store.models import DownloadRow

__all__ = ["DownloadGrant", "DownloadService", "usage_of"]


@dataclass(frozen=True, slots=True)
class DownloadGrant:
    download_id: str
    decision: Decision
    expires_at: datetime


class DownloadService:
    def __init__(self, policy: Policy, db: Database, facts: FactsCache, geo: GeoLocator, clock: Clock) -> None:
        self._policy, self._db, self._facts, self._geo, self._clock = policy, db, facts, geo, clock

    def acquire(self, claims: EntitlementClaims, *, ip: str, title_tiers: frozenset[TrackTier]) -> DownloadGrant:
        now = self._clock()
        with self._db.serialized(claims.account) as session:
            usage = usage_of(session, account=claims.account, device=claims.device, title=claims.title,
                             now=now)
            replayed = licensing.token_used(session, claims.token_id)
            decision = self._decide(session, Action.DOWNLOAD, claims, ip, title_tiers, usage, replayed, now)
            download_id = str(uuid.uuid4())
            licensing.insert_decisions(session, [decision_record(
                decision, now=now, action=Action.DOWNLOAD, claims=claims, ip=ip, stream_id=download_id)])
            if decision.granted and decision.expires_at is not None:
                session.add(DownloadRow(id=download_id, account_id=claims.account, device_id=claims.device,
                                        title=claims.title, issued_at=now, expires_at=decision.expires_at))
                licensing.mark_token_used(session, claims.token_id, datetime.fromtimestamp(claims.expires_at, UTC))
        if not decision.granted or decision.expires_at is None:
            raise refusal(decision)
        return DownloadGrant(download_id, decision, decision.expires_at)

    def renew(self, claims: EntitlementClaims, download_id: str, *, ip: str,
              title_tiers: frozenset[TrackTier]) -> DownloadGrant:
        now = self._clock()
        with self._db.serialized(claims.account) as session:
            row = self._held(session, claims, download_id, now)
            usage = usage_of(session, account=claims.account, device=claims.device, title=claims.title,
                             now=now, held=row)
            decision = self._decide(session, Action.DOWNLOAD_RENEW, claims, ip, title_tiers, usage, False, now)
            licensing.insert_decisions(session, [decision_record(
                decision, now=now, action=Action.DOWNLOAD_RENEW, claims=claims, ip=ip, stream_id=download_id)])
            if decision.granted and decision.expires_at is not None:
                row.expires_at = decision.expires_at
        if not decision.granted or decision.expires_at is None:
            raise refusal(decision)
        return DownloadGrant(download_id, decision, decision.expires_at)

    def record_play(self, claims: EntitlementClaims, download_id: str, *, ip: str) -> datetime:
        """Start the playback window at the first offline play; the (possibly shorter) expiry."""
        now = self._clock()
        with self._db.serialized(claims.account) as session:
            row = self._held(session, claims, download_id, now)
            if row.first_played_at is None:
                row.first_played_at = now
                window = self._policy_playback_end(session, claims, row, ip, now)
                row.expires_at = min(row.expires_at, window)
            return row.expires_at

    def release(self, claims: EntitlementClaims, download_id: str) -> None:
        now = self._clock()
        with self._db.serialized(claims.account) as session:
            self._held(session, claims, download_id, now).released_at = now

    def _decide(self, session: Session, action: Action, claims: EntitlementClaims, ip: str,
                tiers: frozenset[TrackTier], usage: Usage, replayed: bool, now: datetime) -> Decision:
        context = build_context(now=now, action=action, claims=claims,
                                state=self._facts.load_account(claims.account, session),
                                rights=self._facts.rights(claims.title, cached_only=False, session=session),
                                title_tiers=tiers,
                                ip=ip, country=self._geo.country(ip), usage=usage, replayed=replayed)
        return self._policy.decide(context)

    def _policy_playback_end(self, session: Session, claims: EntitlementClaims, row: DownloadRow, ip: str,
                             now: datetime) -> datetime:
        """The download's end once played, as the policy's clocks compute it (unchanged if it refuses)."""
        usage = Usage(holds_download=True, download_first_played_at=now)
        decision = self._decide(session, Action.DOWNLOAD_RENEW, claims, ip, frozenset(TrackTier), usage, False, now)
        return decision.expires_at if decision.expires_at is not None else row.expires_at

    @staticmethod
    def _held(session: Session, claims: EntitlementClaims, download_id: str, now: datetime) -> DownloadRow:
        row = session.get(DownloadRow, download_id[:36])
        if row is None or row.account_id != claims.account:
            raise NotFound(f"no download {download_id[:36]!r} for this account")
        if row.device_id != claims.device or row.title != claims.title:
            raise PermissionDenied(f"download {row.id} belongs to another device or title than the token names")
        if row.released_at is not None:
            raise PermissionDenied(f"download {row.id} was released at {row.released_at.isoformat()}")
        if row.expires_at <= now:
            raise PermissionDenied(f"download {row.id} expired at {row.expires_at.isoformat()}")
        return row


def usage_of(session: Session, *, account: str, device: str, title: str, now: datetime,
             held: DownloadRow | None = None) -> Usage:
    """What the account uses now: running streams and downloads, counted as a start counts them."""
    active = licensing.active_downloads(session, account, now)
    on_device = [d for d in active if d.device_id == device]
    return Usage(active_streams=licensing.count_active_streams(session, account, now),
                 device_downloads=len(on_device),
                 download_devices=len({d.device_id for d in active}),
                 device_holds_downloads=bool(on_device),
                 title_downloads_this_year=licensing.title_downloads_since(session, account, title, now),
                 holds_download=held is not None,
                 download_first_played_at=held.first_played_at if held is not None else None)
