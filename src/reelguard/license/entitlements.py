"""Entitlement decisions for streams: start a stream, renew it, release it.

One token starts at most one stream, whose id is derived from the token (account and
``jti``), so every licence request of one playback — a key session per tier, an HLS key
per rendition, the renewals — lands on the same stream and the same slot. Steps:

(1) the stream of this token is running → *renew*: decide with the cached facts (a
    revoked device or a suspended account is refused here) and extend its slot;
(2) otherwise the token must be unexpired → *play*: in one transaction serialized per
    account, count running streams, check the jti replay cache, decide, and on a grant
    insert the stream and mark the jti used;
(3) every decision is recorded (who, what, which rule, when; never a key).

    service = EntitlementService(policy, db, facts, ledger, geo, clock, grace=timedelta(seconds=90))
    grant = service.authorize_stream(claims, ip="203.0.113.7", title_tiers=tiers, token_expired=False,
                                     cached_only=False)
    grant.decision.tiers      # the keys this licence may carry
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from reelguard.clock import Clock
from reelguard.drm.keys import TrackTier
from reelguard.errors import PolicyDenied, TokenExpired
from reelguard.license.caching import CacheMiss, Generations
from reelguard.license.facts import AccountState, FactsCache, TitleRights
from reelguard.license.geo import GeoLocator
from reelguard.license.ledger import Slot, StreamLedger
from reelguard.license.policy import (
    Action,
    Decision,
    Policy,
    PolicyContext,
    RequestFacts,
    TitleFacts,
    Usage,
)
from reelguard.license.tokens import EntitlementClaims
from reelguard.store import licensing, subscribers
from reelguard.store.database import Database

__all__ = ["EntitlementService", "StreamGrant", "build_context", "context_of", "decision_record", "request_facts",
           "stream_id_for", "title_facts"]

DEFAULT_LICENSE_SECONDS = 300
_MAX_REMEMBERED = 100_000  # per generation: at most twice that held (caching.Generations)


def stream_id_for(claims: EntitlementClaims) -> str:
    """The stream a token starts: stable for the token, unguessable without it."""
    return hashlib.sha256(f"{claims.account}\0{claims.token_id}".encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class StreamGrant:
    stream_id: str
    decision: Decision
    started: bool             # True: this request started the stream; False: it renewed it


HOLDS_STREAM = Usage(holds_stream=True)


def title_facts(name: str, rights: TitleRights, tiers: frozenset[TrackTier]) -> TitleFacts:
    return TitleFacts(name, rights.plans, rights.territories, rights.available_from, rights.available_until,
                      rights.downloadable, tiers)


def request_facts(claims: EntitlementClaims, ip: str, country: str | None, *, replayed: bool) -> RequestFacts:
    return RequestFacts(ip, country, datetime.fromtimestamp(claims.issued_at, UTC),
                        datetime.fromtimestamp(claims.expires_at, UTC), claims.audience, replayed)


def context_of(now: datetime, action: Action, claims: EntitlementClaims, state: AccountState, title: TitleFacts,
               request: RequestFacts, usage: Usage) -> PolicyContext:
    return PolicyContext(now, action, state.account, state.device(claims.device), title,
                         state.grants.get(claims.title), request, usage)


def build_context(*, now: datetime, action: Action, claims: EntitlementClaims, state: AccountState,
                  rights: TitleRights, title_tiers: frozenset[TrackTier], ip: str, country: str | None,
                  usage: Usage, replayed: bool) -> PolicyContext:
    """The policy's view of one request (also what ``policy explain`` builds)."""
    return context_of(now, action, claims, state, title_facts(claims.title, rights, title_tiers),
                      request_facts(claims, ip, country, replayed=replayed), usage)


def decision_record(decision: Decision, *, now: datetime, action: Action, claims: EntitlementClaims,
                    ip: str, stream_id: str | None) -> dict[str, Any]:
    failure = decision.denied_by
    return {"at": now, "action": str(action), "account_id": claims.account, "device_id": claims.device,
            "title": claims.title, "ip": ip[:64], "granted": decision.granted,
            "tiers": ",".join(sorted(decision.tiers)), "rule": failure.rule if failure else None,
            "reason": decision.reason[:2000], "policy": decision.policy_version, "stream_id": stream_id}


def _running(row: licensing.StreamState | None, claims: EntitlementClaims, now: datetime) -> bool:
    return (row is not None and row.ended_at is None and row.expires_at > now
            and (row.device_id, row.title) == (claims.device, claims.title))


def refusal(decision: Decision) -> PolicyDenied:
    failure = decision.denied_by
    return PolicyDenied(f"licence refused: {decision.reason}", rule=failure.rule if failure else "tiers")


class EntitlementService:
    def __init__(self, policy: Policy, db: Database, facts: FactsCache, ledger: StreamLedger, geo: GeoLocator,
                 clock: Clock, *, grace: timedelta) -> None:
        self.policy, self._db, self._facts, self._ledger, self._geo = policy, db, facts, ledger, geo
        self._clock, self._grace = clock, grace
        self._stream_ids: Generations[tuple[str, str], str] = Generations(_MAX_REMEMBERED)
        self._titles: Generations[str, tuple[TitleRights, TitleFacts]] = Generations(_MAX_REMEMBERED)
        self._requests: Generations[str, tuple[EntitlementClaims, RequestFacts]] = Generations(_MAX_REMEMBERED)

    def authorize_stream(self, claims: EntitlementClaims, *, ip: str, title_tiers: frozenset[TrackTier],
                         token_expired: bool, cached_only: bool) -> StreamGrant:
        """Renew the token's stream, or start it; raises PolicyDenied with the deciding rule."""
        now = self._clock()
        stream_id = self._stream_id(claims)
        # a change to the account (an operator or the backend ended this stream, among
        # others) dropped its facts: read the slot again too, not only the facts
        refresh = not self._facts.knows_account(claims.account)
        if refresh and cached_only:
            raise CacheMiss
        slot = self._ledger.slot(stream_id, now, cached_only=cached_only, refresh=refresh)
        if slot is not None and (slot.device_id, slot.title) == (claims.device, claims.title):
            return self._renew(slot, claims, ip, title_tiers, now, cached_only)                 # (1)
        if token_expired:
            raise TokenExpired("token expired and its stream is not running; ask the backend for a fresh token")
        if cached_only:
            raise CacheMiss
        return self._start(stream_id, claims, ip, title_tiers, now)                             # (2)

    def _stream_id(self, claims: EntitlementClaims) -> str:
        """``stream_id_for``, remembered: every renewal asks again, and a hash costs more than a lookup."""
        key = (claims.account, claims.token_id)
        stream_id = self._stream_ids.get(key)
        if stream_id is None:
            stream_id = self._stream_ids[key] = stream_id_for(claims)
        return stream_id

    def _title_facts(self, name: str, rights: TitleRights, tiers: frozenset[TrackTier]) -> TitleFacts:
        """Title facts change only with the rights (a new cached object) or the package: built once each."""
        known = self._titles.get(name)
        if known is None or known[0] is not rights or (known[1].tiers is not tiers and known[1].tiers != tiers):
            known = self._titles[name] = (rights, title_facts(name, rights, tiers))
        return known[1]

    def _renewal_request(self, claims: EntitlementClaims, ip: str) -> RequestFacts:
        """A renewal's request facts, built once per token (the verifier hands back the same claims) and IP."""
        known = self._requests.get(claims.token_id)
        if known is None or known[0] is not claims or known[1].ip != ip:
            known = (claims, request_facts(claims, ip, self._geo.country(ip), replayed=False))
            self._requests[claims.token_id] = known
        return known[1]

    def release_stream(self, claims: EntitlementClaims) -> bool:
        """End the token's stream now (the player stopped): its slot frees at once."""
        return self._ledger.end(stream_id_for(claims), self._clock())

    def _renew(self, slot: Slot, claims: EntitlementClaims, ip: str, tiers: frozenset[TrackTier],
               now: datetime, cached_only: bool) -> StreamGrant:
        state = self._facts.account(claims.account, cached_only=cached_only)
        rights = self._facts.rights(claims.title, cached_only=cached_only)
        context = context_of(now, Action.RENEW, claims, state, self._title_facts(claims.title, rights, tiers),
                             self._renewal_request(claims, ip), HOLDS_STREAM)
        decision = self.policy.decide(context)
        if decision.granted:
            self._ledger.renew(slot, now, self._slot_expiry(decision, now), cached_only=cached_only)
        elif cached_only:
            raise CacheMiss  # ending the stream writes; do it off the event loop
        else:
            self._ledger.end(slot.id, now)
        self._ledger.record(decision_record(decision, now=now, action=Action.RENEW, claims=claims, ip=ip,
                                            stream_id=slot.id))                                  # (3)
        if not decision.granted:
            raise refusal(decision)
        return StreamGrant(slot.id, decision, started=False)

    def _start(self, stream_id: str, claims: EntitlementClaims, ip: str, tiers: frozenset[TrackTier],
               now: datetime) -> StreamGrant:
        # facts come from the cache like a renewal's (loaded here, outside the lock, when
        # missing); only what the limit counts is read inside the serialized transaction
        state = self._facts.account(claims.account, cached_only=False)
        title = self._title_facts(claims.title, self._facts.rights(claims.title, cached_only=False), tiers)
        country = self._geo.country(ip)
        with self._db.serialized(claims.account) as session:
            existing = licensing.stream_state(session, stream_id)
            if _running(existing, claims, now):
                # a parallel request of the same playback started it a moment ago (HLS
                # fetches several keys at once): this one joins that stream
                action, usage, replayed = Action.RENEW, HOLDS_STREAM, False
            else:
                action = Action.PLAY
                active, used = licensing.start_usage(session, claims.account, claims.token_id, now)
                usage, replayed = Usage(active_streams=active), existing is not None or used
            request = request_facts(claims, ip, country, replayed=replayed)
            decision = self.policy.decide(context_of(now, action, claims, state, title, request, usage))
            slot = existing
            if decision.granted and action is Action.PLAY:
                slot = self._record_start(session, decision, stream_id, claims, now)
            licensing.insert_decisions(session, [decision_record(
                decision, now=now, action=action, claims=claims, ip=ip, stream_id=stream_id)])   # (3)
        if not decision.granted or slot is None:
            raise refusal(decision)
        self._ledger.remember_started(slot)
        return StreamGrant(stream_id, decision, started=action is Action.PLAY)

    def _record_start(self, session: Session, decision: Decision, stream_id: str, claims: EntitlementClaims,
                      now: datetime) -> licensing.StreamState:
        # a policy without single use may restart a token's ended stream: the same row again
        slot = licensing.StreamState(stream_id, claims.account, claims.device, claims.title,
                                     self._slot_expiry(decision, now), None)
        licensing.start_stream(session, slot, token_id=claims.token_id,
                               token_expires_at=datetime.fromtimestamp(claims.expires_at, UTC), now=now)
        if licensing.mark_first_play(session, claims.account, claims.title, now):
            # a rental's playback window starts at its first play
            subscribers.note_change(session, now, account_id=claims.account)
            self._facts.forget(account_id=claims.account)
        return slot

    def _slot_expiry(self, decision: Decision, now: datetime) -> datetime:
        licence_end = decision.expires_at or now + timedelta(seconds=DEFAULT_LICENSE_SECONDS)
        return licence_end + self._grace
