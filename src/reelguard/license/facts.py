"""What the policy needs to know about an account and a title, read from the store and cached.

A licence renewal arrives every few minutes per playing stream, so the facts behind it
(account status, devices, grants, title rights) are cached per account and per title
without expiry, and dropped when the ``policy_changes`` feed names them. A poller reads
the feed every ``poll_seconds`` (a window that overlaps the previous one, so changes
committed late are not missed); writers in the same process drop entries at once. So a
revoked device or a suspended account is refused at its next renewal — in another
process after at most one poll::

    facts = FactsCache(db, clock)
    state = facts.account("acct-1", cached_only=False)     # AccountState | None
    rights = facts.rights("ep01", cached_only=False)       # TitleRights
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from reelguard.clock import Clock
from reelguard.license.caching import CacheMiss, Generations
from reelguard.license.policy import AccountFacts, DeviceFacts, GrantFacts
from reelguard.store import subscribers
from reelguard.store.database import Database
from reelguard.store.models import TitleRightsRow

__all__ = ["AccountState", "FactsCache", "TitleRights", "account_state_from_rows", "unknown_device"]

_log = logging.getLogger(__name__)
T = TypeVar("T")
_MAX_ENTRIES = 250_000  # per generation: at most twice that held (caching.Generations)
_FEED_OVERLAP = timedelta(seconds=10)


@dataclass(frozen=True, slots=True)
class TitleRights:
    plans: frozenset[str] | None
    territories: frozenset[str] | None
    available_from: datetime | None
    available_until: datetime | None
    downloadable: bool


NO_RIGHTS = TitleRights(None, None, None, None, False)


@dataclass(frozen=True, slots=True)
class AccountState:
    account: AccountFacts
    devices: dict[str, DeviceFacts]
    grants: dict[str, GrantFacts]

    def device(self, device_id: str) -> DeviceFacts:
        return self.devices.get(device_id) or unknown_device(device_id)


def unknown_device(device_id: str) -> DeviceFacts:
    return DeviceFacts(device_id, "unregistered", "unknown", "software", "none", 0)


def unknown_account(account_id: str) -> AccountState:
    return AccountState(AccountFacts(account_id, "", "unknown", 0), {}, {})


def account_state_from_rows(account_id: str, plan: str, status: str,
                            devices: Sequence[tuple[str, str, str, str, str]],
                            grants: dict[str, GrantFacts]) -> AccountState:
    """Facts of one account; devices ``(id, status, type, security level, hdcp)`` oldest first,
    active ones ranked by registration."""
    ranked: dict[str, DeviceFacts] = {}
    rank = 0
    for device_id, device_status, kind, security_level, hdcp in devices:
        if device_status == "active":
            rank += 1
        ranked[device_id] = DeviceFacts(device_id, device_status, kind, security_level, hdcp,
                                        rank if device_status == "active" else 0)
    return AccountState(AccountFacts(account_id, plan, status, rank), ranked, grants)


def _rights_from_row(row: TitleRightsRow | None) -> TitleRights:
    if row is None:
        return NO_RIGHTS
    return TitleRights(frozenset(row.plans) if row.plans is not None else None,
                       frozenset(row.territories) if row.territories is not None else None,
                       row.available_from, row.available_until, row.downloadable)


def _load_account(session: Session, account_id: str) -> AccountState:
    rows = subscribers.account_fact_rows(session, account_id)
    if rows is None:
        return unknown_account(account_id)
    grants = {title: GrantFacts(kind, granted, expires, played)
              for title, kind, granted, expires, played in rows.grants}
    return account_state_from_rows(account_id, rows.plan, rows.status, rows.devices, grants)


class FactsCache:
    def __init__(self, db: Database, clock: Clock, *, enabled: bool = True) -> None:
        self._db, self._clock, self._enabled = db, clock, enabled
        self._accounts: Generations[str, AccountState] = Generations(_MAX_ENTRIES)
        self._rights: Generations[str, TitleRights] = Generations(_MAX_ENTRIES)
        self._feed_since = clock()
        self._stop = threading.Event()

    def knows_account(self, account_id: str) -> bool:
        """Whether the account's facts are cached (not dropped by a change since they were read)."""
        return account_id in self._accounts

    def account(self, account_id: str, *, cached_only: bool) -> AccountState:
        hit = self._accounts.get(account_id)
        if hit is not None:
            return hit
        if cached_only:
            raise CacheMiss
        state = self.load_account(account_id)
        self._remember(self._accounts, account_id, state)
        return state

    def rights(self, title: str, *, cached_only: bool, session: Session | None = None) -> TitleRights:
        hit = self._rights.get(title)
        if hit is not None:
            return hit
        if cached_only:
            raise CacheMiss
        if session is not None:
            rights = _rights_from_row(subscribers.find_rights(session, title))
        else:
            with self._db.session() as own:
                rights = _rights_from_row(subscribers.find_rights(own, title))
        self._remember(self._rights, title, rights)
        return rights

    def load_account(self, account_id: str, session: Session | None = None) -> AccountState:
        """Fresh facts from the store; pass the caller's session when it holds a transaction.

        (A caller inside ``Database.serialized`` must: taking a second pooled connection
        while holding the first deadlocks the pool once every connection waits for the lock.)
        """
        if session is None:
            with self._db.session() as own:
                return _load_account(own, account_id)
        return _load_account(session, account_id)

    def forget(self, *, account_id: str | None = None, title: str | None = None) -> None:
        if account_id is not None:
            self._accounts.pop(account_id, None)
        if title is not None:
            self._rights.pop(title, None)

    def poll_changes(self) -> None:
        """Drop every entry the change feed names since the last poll (with overlap)."""
        started = self._clock()
        with self._db.session() as session:
            accounts, titles = subscribers.changes_since(session, self._feed_since - _FEED_OVERLAP)
        for account_id in accounts:
            self._accounts.pop(account_id, None)
        for title in titles:
            self._rights.pop(title, None)
        self._feed_since = started

    def start_polling(self, interval_seconds: float) -> threading.Thread:
        def run() -> None:
            while not self._stop.wait(interval_seconds):
                try:
                    self.poll_changes()
                except SQLAlchemyError:
                    _log.exception("policy change feed poll failed; dropping all cached facts")
                    self._accounts.clear()
                    self._rights.clear()
        thread = threading.Thread(target=run, name="policy-change-feed", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()

    def _remember(self, cache: Generations[str, T], key: str, value: T) -> None:
        if self._enabled:
            cache[key] = value
