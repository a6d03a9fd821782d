"""The work queue that takes a matched sighting to a traced leak: one job per step, claimed by one worker at a time.

Steps run in order — ``probe`` (the swarm's peers, proved), ``sample`` (pieces from the
proven distributors), ``identify`` (which title, where), ``trace`` (which session) — each
a job row. A worker claims the oldest due job (PostgreSQL: ``FOR UPDATE SKIP LOCKED``,
so workers never wait on one another's rows; SQLite: the claim is a write transaction,
which holds the database's one write lock, so two claims cannot interleave) and holds
it by a lease. Finishing writes the step's result, its peer observations and the next
step's job in the same transaction, and only while the lease is still the worker's: a
worker that crashed leaves a ``running`` job whose lease runs out and is claimed again,
and its late answer is refused. So no step is ever marked done without its result, and
a step run twice leaves one result::

    jobs = SightingJobStore(db)
    jobs.enqueue(["<sighting id>"], now)
    job = jobs.claim("worker-1", now)
    jobs.finish(job, result={"verdict": "…"}, now=now, next_step="sample")
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select

from reelguard.store.database import Database
from reelguard.store.models import PeerObservationRow, SightingJobRow, SightingRow

__all__ = ["STEPS", "Job", "SightingJobStore"]

STEPS = ("probe", "sample", "identify", "trace")


@dataclass(frozen=True)
class Job:
    id: str
    sighting_id: str
    step: str
    state: str  # pending, running, done, failed
    attempts: int
    lease_owner: str | None
    result: dict[str, Any] | None
    error: str | None
    updated_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {"step": self.step, "state": self.state, "attempts": self.attempts, "result": self.result,
                "error": self.error, "updated_at": self.updated_at.isoformat()}


class SightingJobStore:
    def __init__(self, db: Database, *, lease: timedelta = timedelta(minutes=30), max_attempts: int = 3) -> None:
        self._db, self.lease, self.max_attempts = db, lease, max_attempts

    def enqueue(self, sighting_ids: Sequence[str], now: datetime) -> int:
        """A ``probe`` job for each sighting that has no job yet; how many were added."""
        added = 0
        with self._db.serialized("sighting_jobs") as session:
            have = set(session.scalars(select(SightingJobRow.sighting_id).where(
                SightingJobRow.sighting_id.in_(list(sighting_ids)), SightingJobRow.step == STEPS[0])))
            for sighting_id in dict.fromkeys(sighting_ids):
                if sighting_id not in have:
                    session.add(_job_row(sighting_id, STEPS[0], now))
                    added += 1
        return added

    def claim(self, worker: str, now: datetime) -> Job | None:
        """The oldest job due (pending, or running with its lease run out), now held by ``worker``; None if none."""
        due = or_(and_(SightingJobRow.state == "pending", SightingJobRow.not_before <= now),
                  and_(SightingJobRow.state == "running", SightingJobRow.lease_until < now))
        with self._db.transaction() as session:
            row = session.scalars(select(SightingJobRow).where(due).order_by(SightingJobRow.created_at)
                                  .limit(1).with_for_update(skip_locked=True)).first()
            if row is None:
                return None
            row.state, row.lease_owner, row.lease_until = "running", worker, now + self.lease
            row.attempts, row.updated_at = row.attempts + 1, now
            session.flush()
            return _job(row)

    def finish(self, job: Job, *, result: dict[str, Any], now: datetime, next_step: str | None = None,
               observations: Sequence[dict[str, Any]] = ()) -> bool:
        """Mark ``job`` done with its result (and the probe's observations), and queue ``next_step``.

        False, and nothing written, when the job is no longer this worker's (its lease ran out and
        another worker claimed it).
        """
        with self._db.transaction() as session:
            row = session.get(SightingJobRow, job.id, with_for_update=True)
            if row is None or row.state != "running" or row.lease_owner != job.lease_owner:
                return False
            row.state, row.result, row.error, row.lease_until, row.updated_at = "done", result, None, None, now
            if observations:  # a probe run again replaces what the earlier run saw
                session.execute(delete(PeerObservationRow).where(PeerObservationRow.sighting_id == job.sighting_id))
                session.add_all(PeerObservationRow(
                    sighting_id=job.sighting_id, peer_ip=o["peer_ip"], peer_port=o["peer_port"],
                    verdict=o["verdict"], started_at=datetime.fromisoformat(o["started_at"]), record=o)
                    for o in observations)
            if next_step is not None and session.scalars(select(SightingJobRow.id).where(
                    SightingJobRow.sighting_id == job.sighting_id, SightingJobRow.step == next_step)).first() is None:
                session.add(_job_row(job.sighting_id, next_step, now))
            return True

    def fail(self, job: Job, error: str, *, now: datetime, retry_after: timedelta | None) -> bool:
        """Give ``job`` back: due again after ``retry_after``, or ``failed`` for good (no retry, or attempts spent)."""
        with self._db.transaction() as session:
            row = session.get(SightingJobRow, job.id, with_for_update=True)
            if row is None or row.state != "running" or row.lease_owner != job.lease_owner:
                return False
            final = retry_after is None or row.attempts >= self.max_attempts
            row.state, row.error, row.lease_owner, row.lease_until = ("failed" if final else "pending"), error, \
                None, None
            row.not_before, row.updated_at = now + (retry_after or timedelta()), now
            return True

    def jobs(self, sighting_id: str) -> list[Job]:
        with self._db.session() as session:
            rows = session.scalars(select(SightingJobRow).where(SightingJobRow.sighting_id == sighting_id))
            return sorted((_job(r) for r in rows), key=lambda j: STEPS.index(j.step))

    def progress(self, sighting_ids: Sequence[str]) -> dict[str, str]:
        """Where each sighting stands: its furthest step, that step's state and verdict (or error)."""
        with self._db.session() as session:
            rows = session.scalars(select(SightingJobRow).where(SightingJobRow.sighting_id.in_(list(sighting_ids))))
            furthest: dict[str, SightingJobRow] = {}
            for row in rows:
                held = furthest.get(row.sighting_id)
                if held is None or STEPS.index(row.step) > STEPS.index(held.step):
                    furthest[row.sighting_id] = row
        return {sighting: f"{row.step} {row.state}" + (f": {said}" if (said := (row.result or {}).get("verdict")
                                                                           or row.error) else "")
                for sighting, row in furthest.items()}

    def observations(self, sighting_id: str) -> list[dict[str, Any]]:
        with self._db.session() as session:
            return [dict(r.record) for r in session.scalars(
                select(PeerObservationRow).where(PeerObservationRow.sighting_id == sighting_id)
                .order_by(PeerObservationRow.started_at, PeerObservationRow.id))]

    def unqueued(self, limit: int = 1000) -> list[str]:
        """Matched sightings with an infohash, a magnet or a .torrent link that no job has taken up yet."""
        with self._db.session() as session:
            taken = select(SightingJobRow.sighting_id)
            return list(session.scalars(select(SightingRow.id).where(
                SightingRow.matched.is_(True), SightingRow.id.not_in(taken),
                or_(SightingRow.infohash_v1.is_not(None), SightingRow.magnet.is_not(None),
                    SightingRow.link.is_not(None)))
                .order_by(SightingRow.first_seen).limit(limit)))

    def waiting(self, now: datetime) -> int:
        """Jobs that are due now or running."""
        with self._db.session() as session:
            return int(session.scalar(select(func.count()).select_from(SightingJobRow).where(or_(
                and_(SightingJobRow.state == "pending", SightingJobRow.not_before <= now),
                SightingJobRow.state == "running"))) or 0)


def _job_row(sighting_id: str, step: str, now: datetime) -> SightingJobRow:
    return SightingJobRow(id=uuid.uuid4().hex, sighting_id=sighting_id, step=step, state="pending", attempts=0,
                          not_before=now, created_at=now, updated_at=now)


def _job(row: SightingJobRow) -> Job:
    return Job(row.id, row.sighting_id, row.step, row.state, row.attempts, row.lease_owner,
               dict(row.result) if row.result is not None else None, row.error, row.updated_at)
