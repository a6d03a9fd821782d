"""Retention: delete what is past its time, except what a case on legal hold keeps.

Per kind (``[retention]``, days):

- licence decisions — deleted;
- watermarking sessions and licence streams — deleted once ended that long ago (a
  session a held case accuses stays: it is whom the evidence names);
- peer observations — deleted, except those of a held case's sighting;
- IP addresses — blanked in the sessions, decisions and observations kept longer;
- evidence records — the body is dropped and the leaf hash kept, so every proof, every
  checkpoint and every bundle already exported still verifies; a record that an open case
  or a held case holds keeps its body.

The purge itself is an evidence record (what kinds, how many, up to when), never the
content it removed::

    report = Retention(db, log, clock, settings.retention).purge()
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update

from reelguard.enforcement.evidence_log import EvidenceLog
from reelguard.settings import RetentionSettings
from reelguard.store.database import Database
from reelguard.store.models import (
    CaseEvidenceRow,
    CaseRow,
    DecisionRow,
    EvidenceRecordRow,
    PeerObservationRow,
    StreamRow,
    WatermarkSessionRow,
)

__all__ = ["PurgeReport", "Retention"]


@dataclass
class PurgeReport:
    counts: dict[str, int] = field(default_factory=dict)
    evidence_position: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"counts": self.counts, "evidence_position": self.evidence_position}


class Retention:
    def __init__(self, db: Database, log: EvidenceLog, clock: Callable[[], datetime],
                 settings: RetentionSettings) -> None:
        self.db, self.log, self.clock, self.settings = db, log, clock, settings

    def purge(self) -> PurgeReport:
        now = self.clock()
        days = self.settings

        def before(n: int) -> datetime:
            return now - timedelta(days=n)

        counts: dict[str, int] = {}
        with self.log.transaction() as t:
            session = t.session
            held_cases = select(CaseRow.id).where(CaseRow.legal_hold.is_(True))
            held_facts = [dict(f) for f in session.scalars(select(CaseRow.facts).where(CaseRow.legal_hold.is_(True)))]
            held_sessions = {str(a["session"]) for f in held_facts for a in ((f.get("trace") or {}).get("accused")
                                                                               or [])}
            held_sightings = select(CaseRow.sighting_id).where(CaseRow.legal_hold.is_(True),
                                                               CaseRow.sighting_id.is_not(None))
            counts["licence_decisions"] = _count(session.execute(
                delete(DecisionRow).where(DecisionRow.at < before(days.licence_decisions_days))))
            counts["watermark_sessions"] = _count(session.execute(delete(WatermarkSessionRow).where(
                WatermarkSessionRow.expires_at < before(days.sessions_days),
                WatermarkSessionRow.id.not_in(held_sessions))))
            counts["streams"] = _count(session.execute(delete(StreamRow).where(
                StreamRow.expires_at < before(days.sessions_days))))
            counts["peer_observations"] = _count(session.execute(delete(PeerObservationRow).where(
                PeerObservationRow.started_at < before(days.observations_days),
                PeerObservationRow.sighting_id.not_in(held_sightings))))
            ip_cut = before(days.ip_addresses_days)
            counts["ip_addresses"] = (
                _count(session.execute(update(WatermarkSessionRow).where(
                    WatermarkSessionRow.started_at < ip_cut, WatermarkSessionRow.ip.is_not(None),
                    WatermarkSessionRow.id.not_in(held_sessions)).values(ip=None)))
                + _count(session.execute(update(DecisionRow).where(DecisionRow.at < ip_cut, DecisionRow.ip != "")
                                         .values(ip="")))
                + _count(session.execute(update(PeerObservationRow).where(
                    PeerObservationRow.started_at < ip_cut, PeerObservationRow.peer_ip != "",
                    PeerObservationRow.sighting_id.not_in(held_sightings)).values(peer_ip=""))))
            kept = select(CaseEvidenceRow.position).where(CaseEvidenceRow.case_id.in_(
                select(CaseRow.id).where((CaseRow.state != "closed") | CaseRow.id.in_(held_cases))))
            counts["evidence_bodies"] = _count(session.execute(update(EvidenceRecordRow).where(
                EvidenceRecordRow.appended_at < before(days.observations_days), EvidenceRecordRow.body.is_not(None),
                EvidenceRecordRow.kind != "retention.purge", EvidenceRecordRow.position.not_in(kept))
                .values(body=None)))
            position = t.append("retention.purge", {"at": now.isoformat(), "counts": counts,
                                                    "settings": days.model_dump()})
        return PurgeReport(counts, position)


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
