"""The licence decision log, read back: who asked for keys, what was decided, by which rule.

Every licence request's decision is recorded (``entitlements.py``, ``downloads.py``;
renewals through the journal, ``journal.py``). This is the audit trail an operator or
the platform's backend reads: filtered by account, device, title, rule, outcome and time,
newest first, a page at a time (``before`` is the last ``id`` of the previous page)::

    log = DecisionLog(db)
    page = log.find(account="acct-1", outcome="denied", since=now - timedelta(days=1), limit=50)
    log.find(account="acct-1", before=page[-1].id)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from reelguard.errors import InvalidInput
from reelguard.store.database import Database
from reelguard.store.models import DecisionRow

__all__ = ["OUTCOMES", "DecisionLog", "DecisionView"]

OUTCOMES = ("granted", "denied")
MAX_PAGE = 1000


@dataclass(frozen=True)
class DecisionView:
    id: int
    at: str
    action: str
    account: str
    device: str
    title: str
    ip: str
    granted: bool
    tiers: list[str]
    rule: str | None
    reason: str
    policy: str
    stream: str | None

    @classmethod
    def of(cls, row: DecisionRow) -> DecisionView:
        return cls(row.id, row.at.isoformat(), row.action, row.account_id, row.device_id, row.title, row.ip,
                   row.granted, [t for t in row.tiers.split(",") if t], row.rule, row.reason, row.policy,
                   row.stream_id)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class DecisionLog:
    def __init__(self, db: Database) -> None:
        self._db = db

    def find(self, *, account: str | None = None, device: str | None = None, title: str | None = None,
             rule: str | None = None, outcome: str | None = None, since: datetime | None = None,
             until: datetime | None = None, before: int | None = None, limit: int = 100) -> list[DecisionView]:
        """Decisions matching every filter given, newest first."""
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInput(f"expected a page size from 1 to {MAX_PAGE}, got {limit}")
        if outcome is not None and outcome not in OUTCOMES:
            raise InvalidInput(f"outcome must be one of {', '.join(OUTCOMES)}; got {outcome[:40]!r}")
        if since is not None and until is not None and until <= since:
            raise InvalidInput(f"--until must be after --since; got {since.isoformat()} to {until.isoformat()}")
        query = select(DecisionRow).order_by(DecisionRow.id.desc()).limit(limit)
        for column, value in ((DecisionRow.account_id, account), (DecisionRow.device_id, device),
                              (DecisionRow.title, title), (DecisionRow.rule, rule)):
            if value is not None:
                query = query.where(column == value)
        if outcome is not None:
            query = query.where(DecisionRow.granted.is_(outcome == "granted"))
        if since is not None:
            query = query.where(DecisionRow.at >= since)
        if until is not None:
            query = query.where(DecisionRow.at < until)
        if before is not None:
            query = query.where(DecisionRow.id < before)
        with self._db.session() as session:
            return [DecisionView.of(row) for row in session.scalars(query).all()]
