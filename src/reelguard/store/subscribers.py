"""Repositories for subscribers and rights: accounts, devices, title rights, grants.

Every write also appends to the ``policy_changes`` feed in the same transaction, so
licence servers (other processes too) drop their cached facts for that account or title
within one poll of the feed — that is how a revocation reaches the next renewal.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reelguard.store.driver import Driver
from reelguard.store.models import AccountRow, DeviceRow, GrantRow, PolicyChangeRow, TitleRightsRow

__all__ = [
    "AccountFactRows",
    "account_fact_rows",
    "changes_since",
    "count_accounts",
    "devices_of",
    "find_account",
    "find_rights",
    "grants_of",
    "list_accounts",
    "list_devices",
    "note_change",
    "titles_with_territories",
]


def note_change(session: Session, now: datetime, *, account_id: str | None = None, title: str | None = None) -> None:
    session.add(PolicyChangeRow(changed_at=now, account_id=account_id, title=title))


def changes_since(session: Session, since: datetime) -> tuple[set[str], set[str]]:
    """Accounts and titles changed at or after ``since``."""
    rows = session.execute(
        select(PolicyChangeRow.account_id, PolicyChangeRow.title).where(PolicyChangeRow.changed_at >= since)
    ).all()
    return {a for a, _ in rows if a is not None}, {t for _, t in rows if t is not None}


class AccountFactRows(NamedTuple):
    """One account's rows as the licence policy reads them (plain SQL: a cold start's hot path)."""

    plan: str
    status: str
    devices: list[tuple[str, str, str, str, str]]                       # id, status, type, security, hdcp
    grants: list[tuple[str, str, datetime, datetime | None, datetime | None]]  # title, kind, granted, expires, played


def account_fact_rows(session: Session, account_id: str) -> AccountFactRows | None:
    """The account, its devices (oldest registration first) and its grants; None if unknown."""
    sql = Driver.of(session)
    account = sql.execute(f"SELECT plan, status FROM accounts WHERE id = {sql.mark}", (account_id,)).first()  # noqa: S608
    if account is None:
        return None
    devices = sql.execute("SELECT id, status, type, security_level, hdcp FROM devices "  # noqa: S608
                          f"WHERE account_id = {sql.mark} ORDER BY registered_at, id", (account_id,)).all()
    grants = sql.execute("SELECT title, kind, granted_at, expires_at, first_played_at FROM grants "  # noqa: S608
                         f"WHERE account_id = {sql.mark}", (account_id,)).all()
    return AccountFactRows(account[0], account[1], [tuple(d) for d in devices],
                           [(title, kind, sql.read(granted), sql.read_optional(expires), sql.read_optional(played))
                            for title, kind, granted, expires, played in grants])


def find_account(session: Session, account_id: str) -> AccountRow | None:
    return session.get(AccountRow, account_id)


def count_accounts(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(AccountRow)) or 0)


def devices_of(session: Session, account_id: str) -> Sequence[DeviceRow]:
    return session.scalars(
        select(DeviceRow).where(DeviceRow.account_id == account_id).order_by(DeviceRow.registered_at, DeviceRow.id)
    ).all()


def grants_of(session: Session, account_id: str) -> Sequence[GrantRow]:
    return session.scalars(select(GrantRow).where(GrantRow.account_id == account_id)).all()


def find_rights(session: Session, title: str) -> TitleRightsRow | None:
    return session.get(TitleRightsRow, title)


def list_accounts(session: Session, *, after: str | None, limit: int, status: str | None = None,
                  plan: str | None = None) -> Sequence[AccountRow]:
    """Accounts in id order, the page after ``after`` (keyset pagination: stable under inserts)."""
    query = select(AccountRow).order_by(AccountRow.id).limit(limit)
    if after is not None:
        query = query.where(AccountRow.id > after)
    if status is not None:
        query = query.where(AccountRow.status == status)
    if plan is not None:
        query = query.where(AccountRow.plan == plan)
    return session.scalars(query).all()


def list_devices(session: Session, *, account_id: str | None, status: str | None = None) -> Sequence[DeviceRow]:
    query = select(DeviceRow).order_by(DeviceRow.account_id, DeviceRow.registered_at, DeviceRow.id)
    if account_id is not None:
        query = query.where(DeviceRow.account_id == account_id)
    if status is not None:
        query = query.where(DeviceRow.status == status)
    return session.scalars(query).all()


def titles_with_territories(session: Session) -> list[str]:
    """Titles whose rights limit them to some territories (which need a geo database to mean anything)."""
    rows = session.execute(select(TitleRightsRow.title, TitleRightsRow.territories)).all()
    return sorted(title for title, territories in rows if territories)
