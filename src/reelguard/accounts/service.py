"""The subscriber admin service: accounts, devices, title rights and purchases/rentals.

Every change is one transaction that also appends to the policy change feed, so licence
servers refuse a revoked device or a suspended account at its next renewal::

    accounts = AccountService(db, clock)
    accounts.create_account("acct-1", plan="premium")
    accounts.register_device("acct-1", "tv-1", type="tv", security_level="hardware", hdcp="2.2")
    accounts.set_title_rights("ep01", plans=["premium"], territories=["GB", "IE"], downloadable=True)
    accounts.revoke_device("acct-1", "tv-1")
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime

import pycountry
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from reelguard.accounts.records import AccountSummary, AccountView, DeviceView, RightsView
from reelguard.clock import Clock
from reelguard.errors import Conflict, InvalidInput, NotFound
from reelguard.license.rules import HDCP_LEVELS, SECURITY_LEVELS
from reelguard.store import repositories, subscribers
from reelguard.store.database import Database
from reelguard.store.models import AccountRow, DeviceRow, GrantRow, TitleRightsRow

__all__ = ["ACCOUNT_STATUSES", "DEVICE_STATUSES", "GRANT_KINDS", "AccountService", "AccountView"]

GRANT_KINDS = ("purchase", "rental")
ACCOUNT_STATUSES = ("active", "suspended")
DEVICE_STATUSES = ("active", "revoked")
MAX_PAGE = 1000
_COUNTRY = re.compile(r"^[A-Z]{2}$")


def _text(name: str, value: str, limit: int = 200) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise InvalidInput(f"{name} must be 1-{limit} characters, got {value!r:.60}")
    return value.strip()


def _choice(name: str, value: str, choices: Sequence[str]) -> str:
    if value not in choices:
        raise InvalidInput(f"{name} must be one of {', '.join(choices)}; got {value!r:.40}")
    return value


# Codes people reach for that ISO 3166-1 reserves for something else or does not assign.
_ISO_INSTEAD = {"UK": "GB", "EL": "GR", "EN": "GB"}


def _countries(values: Sequence[str] | None) -> list[str] | None:
    """Territories as ISO 3166-1 alpha-2 codes that exist (pycountry's list), sorted and unique."""
    if values is None:
        return None
    bad = [v for v in values if not _COUNTRY.match(v) or pycountry.countries.get(alpha_2=v) is None]
    if bad:
        hints = "; ".join(f"{v!r} is not a country code" + (f" (did you mean {_ISO_INSTEAD[v]}?)"
                                                           if v in _ISO_INSTEAD else "") for v in bad[:3])
        raise InvalidInput(f"territories must be ISO 3166-1 alpha-2 country codes like GB or IE; {hints}")
    return sorted(set(values))


def _page_size(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"expected a page size from 1 to {MAX_PAGE}, got {limit}")
    return limit


def _require_title(session: Session, title: str) -> None:
    if repositories.find_title(session, title) is None:
        raise NotFound(f"no title named {title!r:.80} in the catalog; ingest it first ('reelguard titles add') "
                       "or check the name ('reelguard titles list')")


class AccountService:
    def __init__(self, db: Database, clock: Clock, *, on_change: Callable[[str | None, str | None], None]
                 | None = None) -> None:
        self._db, self._clock, self._on_change = db, clock, on_change

    # -- accounts --------------------------------------------------------------------
    def create_account(self, account_id: str, *, plan: str) -> None:
        account_id, plan = _text("account", account_id), _text("plan", plan, 64)
        now = self._clock()
        try:
            with self._db.transaction() as session:
                session.add(AccountRow(id=account_id, plan=plan, status="active", created_at=now, updated_at=now))
                subscribers.note_change(session, now, account_id=account_id)
        except IntegrityError as exc:
            raise Conflict(f"account {account_id!r} already exists") from exc
        self._changed(account_id, None)

    def set_plan(self, account_id: str, plan: str) -> None:
        plan = _text("plan", plan, 64)
        self._update_account(account_id, lambda row: setattr(row, "plan", plan))

    def suspend_account(self, account_id: str) -> None:
        self._update_account(account_id, lambda row: setattr(row, "status", "suspended"))

    def reinstate_account(self, account_id: str) -> None:
        self._update_account(account_id, lambda row: setattr(row, "status", "active"))

    def show_account(self, account_id: str) -> AccountView:
        with self._db.session() as session:
            row = self._account(session, account_id)
            return AccountView.of(row, subscribers.devices_of(session, account_id),
                                  subscribers.grants_of(session, account_id))

    def list_accounts(self, *, after: str | None = None, limit: int = 100, status: str | None = None,
                      plan: str | None = None) -> list[AccountSummary]:
        """A page of accounts in id order, after the id ``after``."""
        if status is not None:
            _choice("account status", status, ACCOUNT_STATUSES)
        with self._db.session() as session:
            rows = subscribers.list_accounts(session, after=after, limit=_page_size(limit), status=status, plan=plan)
            return [AccountSummary.of(row) for row in rows]

    # -- devices ---------------------------------------------------------------------
    def register_device(self, account_id: str, device_id: str, *, type: str, security_level: str,
                        hdcp: str = "none") -> None:
        device_id, type = _text("device", device_id), _text("device type", type, 32)
        _choice("security level", security_level, SECURITY_LEVELS)
        _choice("HDCP level", hdcp, HDCP_LEVELS)
        now = self._clock()
        with self._db.transaction() as session:
            self._account(session, account_id)
            row = session.get(DeviceRow, (account_id, device_id))
            if row is not None and row.status == "revoked":
                raise Conflict(f"device {device_id!r} of account {account_id!r} is revoked; it cannot re-register")
            if row is None:
                session.add(DeviceRow(account_id=account_id, id=device_id, type=type, security_level=security_level,
                                      hdcp=hdcp, status="active", registered_at=now))
            else:
                row.type, row.security_level, row.hdcp = type, security_level, hdcp
            subscribers.note_change(session, now, account_id=account_id)
        self._changed(account_id, None)

    def revoke_device(self, account_id: str, device_id: str) -> None:
        """Revoke a device: its stream is refused at its next renewal, and it cannot re-register."""
        self._update_device(account_id, device_id, status="revoked")

    def reinstate_device(self, account_id: str, device_id: str) -> None:
        """Undo a revocation (a device revoked by mistake, or after the account holder's appeal)."""
        self._update_device(account_id, device_id, status="active")

    def list_devices(self, account_id: str | None = None, *, status: str | None = None) -> list[DeviceView]:
        """Devices of one account (or of every account), oldest registration first."""
        if status is not None:
            _choice("device status", status, DEVICE_STATUSES)
        with self._db.session() as session:
            if account_id is not None:
                self._account(session, account_id)
            return [DeviceView.of(row) for row in subscribers.list_devices(session, account_id=account_id,
                                                                           status=status)]

    def _update_device(self, account_id: str, device_id: str, *, status: str) -> None:
        now = self._clock()
        with self._db.transaction() as session:
            row = session.get(DeviceRow, (account_id, device_id))
            if row is None:
                known = ", ".join(d.id for d in subscribers.devices_of(session, account_id)) or "none"
                raise NotFound(f"account {account_id!r:.60} has no device {device_id!r:.60} (devices: {known:.200})")
            row.status, row.revoked_at = status, now if status == "revoked" else None
            subscribers.note_change(session, now, account_id=account_id)
        self._changed(account_id, None)

    # -- rights ----------------------------------------------------------------------
    def set_title_rights(self, title: str, *, plans: Sequence[str] | None = None,
                         territories: Sequence[str] | None = None, available_from: datetime | None = None,
                         available_until: datetime | None = None, downloadable: bool = False) -> None:
        title = _text("title", title)
        if available_from and available_until and available_until <= available_from:
            raise InvalidInput(f"availability must end after it starts; got {available_from} to {available_until}")
        now = self._clock()
        with self._db.transaction() as session:
            _require_title(session, title)
            row = session.get(TitleRightsRow, title) or TitleRightsRow(title=title)
            row.plans = sorted({_text("plan", p, 64) for p in plans}) if plans is not None else None
            row.territories = _countries(territories)
            row.available_from, row.available_until = available_from, available_until
            row.downloadable, row.updated_at = downloadable, now
            session.merge(row)
            subscribers.note_change(session, now, title=title)
        self._changed(None, title)

    def title_rights(self, title: str) -> RightsView:
        """A title's rights (``RightsView.none_set`` when none were set: no plan includes it)."""
        with self._db.session() as session:
            _require_title(session, title)
            row = subscribers.find_rights(session, title)
            return RightsView.of(row) if row is not None else RightsView.none_set(title)

    def titles_with_territories(self) -> list[str]:
        with self._db.session() as session:
            return subscribers.titles_with_territories(session)

    def remove_grant(self, account_id: str, title: str) -> None:
        """Take back a purchase or rental (a refund or a chargeback)."""
        now = self._clock()
        with self._db.transaction() as session:
            row = session.get(GrantRow, (account_id, title))
            if row is None:
                raise NotFound(f"account {account_id!r:.60} has no purchase or rental of {title!r:.80}")
            session.delete(row)
            subscribers.note_change(session, now, account_id=account_id)
        self._changed(account_id, None)

    def grant_title(self, account_id: str, title: str, *, kind: str, expires_at: datetime | None = None) -> None:
        _choice("grant kind", kind, GRANT_KINDS)
        title = _text("title", title)
        now = self._clock()
        if expires_at is not None and expires_at <= now:
            raise InvalidInput(f"a {kind} must end in the future; got {expires_at.isoformat()} "
                               f"(it is {now.isoformat(timespec='seconds')})")
        with self._db.transaction() as session:
            self._account(session, account_id)
            _require_title(session, title)
            session.merge(GrantRow(account_id=account_id, title=title, kind=kind, granted_at=now,
                                   expires_at=expires_at, first_played_at=None))
            subscribers.note_change(session, now, account_id=account_id)
        self._changed(account_id, None)

    # -- helpers ---------------------------------------------------------------------
    def _update_account(self, account_id: str, change: Callable[[AccountRow], None]) -> None:
        now = self._clock()
        with self._db.transaction() as session:
            row = self._account(session, account_id)
            change(row)
            row.updated_at = now
            subscribers.note_change(session, now, account_id=account_id)
        self._changed(account_id, None)

    @staticmethod
    def _account(session: Session, account_id: str) -> AccountRow:
        row = subscribers.find_account(session, account_id)
        if row is None:
            raise NotFound(f"no account {account_id!r:.60} ({subscribers.count_accounts(session)} accounts)")
        return row

    def _changed(self, account_id: str | None, title: str | None) -> None:
        if self._on_change is not None:
            self._on_change(account_id, title)
