"""Cases' rows: the case, its events, the evidence-log records it holds, its notices.

Writes take the session of an evidence-log transaction (``EvidenceLog.transaction``), so
a case's change and the record that proves it commit together; reads open their own::

    with log.transaction() as t:
        position = t.append("case.opened", record)
        add_case(t.session, row); add_event(t.session, case_id, …, position=position)
    view = CaseStore(db).get(case_id)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reelguard.errors import InvalidInput, NotFound
from reelguard.store.database import Database
from reelguard.store.models import CaseEventRow, CaseEvidenceRow, CaseRow, NoticeRow, SightingJobRow

__all__ = ["CaseEvent", "CaseStore", "CaseSummary", "add_event", "link_evidence", "lock_case", "settled_sightings"]

MAX_PAGE = 1000


@dataclass(frozen=True)
class CaseSummary:
    id: str
    title: str
    state: str
    origin: str
    sighting_id: str | None
    review: str | None
    legal_hold: bool
    removal_deadline: datetime | None
    version: int
    opened_at: datetime
    updated_at: datetime
    facts: dict[str, Any]

    @classmethod
    def of(cls, row: CaseRow) -> CaseSummary:
        return cls(row.id, row.title, row.state, row.origin, row.sighting_id, row.review, bool(row.legal_hold),
                   row.removal_deadline, row.version, row.opened_at, row.updated_at, dict(row.facts))

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "state": self.state, "origin": self.origin,
                "sighting_id": self.sighting_id, "review": self.review, "legal_hold": self.legal_hold,
                "removal_deadline": self.removal_deadline.isoformat() if self.removal_deadline else None,
                "version": self.version, "opened_at": self.opened_at.isoformat(),
                "updated_at": self.updated_at.isoformat(), "facts": self.facts}


@dataclass(frozen=True)
class CaseEvent:
    at: datetime
    actor: str
    kind: str
    from_state: str | None
    to_state: str | None
    reason: str
    detail: dict[str, Any]
    evidence_position: int | None

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "actor": self.actor, "kind": self.kind, "from_state": self.from_state,
                "to_state": self.to_state, "reason": self.reason, "detail": self.detail,
                "evidence_position": self.evidence_position}


class CaseStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, case_id: str) -> CaseSummary:
        with self._db.session() as session:
            return CaseSummary.of(_row(session, case_id))

    def find(self, *, state: str | None = None, review: bool | None = None, limit: int = 100) -> list[CaseSummary]:
        """Cases, most recently changed first."""
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInput(f"expected a page size from 1 to {MAX_PAGE}, got {limit}")
        query = select(CaseRow).order_by(CaseRow.updated_at.desc(), CaseRow.id).limit(limit)
        if state is not None:
            query = query.where(CaseRow.state == state)
        if review is not None:
            query = query.where(CaseRow.review.is_not(None) if review else CaseRow.review.is_(None))
        with self._db.session() as session:
            return [CaseSummary.of(row) for row in session.scalars(query)]

    def by_sighting(self, sighting_id: str) -> str | None:
        with self._db.session() as session:
            return session.scalar(select(CaseRow.id).where(CaseRow.sighting_id == sighting_id))

    def events(self, case_id: str) -> list[CaseEvent]:
        with self._db.session() as session:
            rows = session.scalars(select(CaseEventRow).where(CaseEventRow.case_id == case_id)
                                   .order_by(CaseEventRow.id))
            return [CaseEvent(r.at, r.actor, r.kind, r.from_state, r.to_state, r.reason, dict(r.detail),
                              r.evidence_position) for r in rows]

    def evidence(self, case_id: str) -> list[int]:
        """The evidence-log positions of the case's records, in log order."""
        with self._db.session() as session:
            _row(session, case_id)
            return list(session.scalars(select(CaseEvidenceRow.position).where(CaseEvidenceRow.case_id == case_id)
                                        .order_by(CaseEvidenceRow.position)))

    def notices(self, case_id: str) -> list[NoticeRow]:
        with self._db.session() as session:
            return list(session.scalars(select(NoticeRow).where(NoticeRow.case_id == case_id)
                                        .order_by(NoticeRow.created_at, NoticeRow.id)))


def lock_case(session: Session, case_id: str) -> CaseRow:
    """The case's row, for a change inside an evidence-log transaction (which already serializes changes)."""
    return _row(session, case_id)


def add_event(session: Session, case: CaseRow, *, at: datetime, actor: str, kind: str, reason: str,
              detail: dict[str, Any], position: int | None, to_state: str | None = None) -> None:
    """Record what happened to ``case`` (moving it to ``to_state`` when given), and bump its version."""
    session.add(CaseEventRow(case_id=case.id, at=at, actor=actor, kind=kind, from_state=case.state if to_state
                             else None, to_state=to_state, reason=reason, detail=detail, evidence_position=position))
    if to_state is not None:
        case.state = to_state
    case.version += 1
    case.updated_at = at
    if position is not None:
        link_evidence(session, case.id, [position])


def link_evidence(session: Session, case_id: str, positions: Iterable[int]) -> None:
    """Make evidence-log records part of a case (idempotent)."""
    have = set(session.scalars(select(CaseEvidenceRow.position).where(CaseEvidenceRow.case_id == case_id)))
    session.add_all(CaseEvidenceRow(case_id=case_id, position=p) for p in sorted(set(positions) - have))
    session.flush()


def _row(session: Session, case_id: str) -> CaseRow:
    row = session.get(CaseRow, case_id.strip().lower())
    if row is None:
        raise NotFound(f"no case {case_id[:60]!r} (`reelguard cases list` shows them)")
    return row


def settled_sightings(session: Session, limit: int = 1000) -> list[str]:
    """Sightings whose identify step found catalog content and whose trace step (if any) has ended, with no case yet."""
    identified = select(SightingJobRow.sighting_id).where(  # "not our content" never makes a case: not asked again
        SightingJobRow.step == "identify", SightingJobRow.state == "done",
        SightingJobRow.result["verdict"].as_string() != "not our content")
    tracing = select(SightingJobRow.sighting_id).where(SightingJobRow.step == "trace",
                                                       SightingJobRow.state.in_(("pending", "running")))
    cased = select(CaseRow.sighting_id).where(CaseRow.sighting_id.is_not(None))
    return list(session.scalars(select(SightingJobRow.sighting_id).distinct().where(
        SightingJobRow.sighting_id.in_(identified), SightingJobRow.sighting_id.not_in(tracing),
        SightingJobRow.sighting_id.not_in(cased)).limit(limit)))
