"""Cases: one leak, from the evidence that found it to its close, every step an evidence record.

A case opens when a sighting's sample was identified as catalog content with a
false-match probability at or below the configured bound (never on a name match alone),
or by hand from a file someone reported (identify and trace run on it here). Its states::

    open → evidence → noticed → removed | escalated → closed        (any state but closed → closed)

Every change — opening, a transition, a note, a notice, an action, a removal check — is
appended to the evidence log in the same transaction that writes it, so the case and
the log never disagree; a signed (and stamped) checkpoint is published after each
transition. Two staff closing one case at once: the log's append lock orders them, and
the second is told the case is already closed, by whom — nothing is written twice::

    cases = CaseService(db, log, clock, max_false_match=1e-6)
    opened = cases.open_settled_sightings()                # what monitoring found
    case = cases.open_reported(Path("leak.mp4"), title="ep01", actor="staff:ana", url="https://…")
    cases.transition(case.id, "closed", actor="staff:ana", reason="duplicate of 3f2a…")
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reelguard.enforcement.evidence_log import EvidenceLog
from reelguard.errors import Conflict, InvalidInput, NotFound
from reelguard.store.blobs import BlobStore
from reelguard.store.cases import CaseStore, CaseSummary, add_event, link_evidence, lock_case, settled_sightings
from reelguard.store.database import Database
from reelguard.store.models import CaseRow
from reelguard.store.sightingjobs import SightingJobStore
from reelguard.store.sightings import SightingStore

if TYPE_CHECKING:
    from reelguard.fingerprint.service import FingerprintService
    from reelguard.watermark.trace import TraceService

__all__ = ["STATES", "TRANSITIONS", "CaseService", "check_actor"]

_log = logging.getLogger(__name__)

STATES = ("open", "evidence", "noticed", "removed", "escalated", "closed")
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "open": ("evidence", "closed"),
    "evidence": ("noticed", "closed"),
    "noticed": ("removed", "escalated", "noticed", "closed"),
    "escalated": ("noticed", "removed", "closed"),
    "removed": ("closed", "escalated"),  # the copy came back: escalated again
    "closed": (),
}
_ACTOR_KINDS = ("staff", "rule", "monitor", "removal-check", "system")


def check_actor(actor: str) -> str:
    """``staff:NAME``, ``rule:NAME@VERSION``, ``monitor``, ``removal-check`` or ``system`` — who acted, kept as said."""
    kind, _, name = actor.partition(":")
    if kind not in _ACTOR_KINDS or (kind in ("staff", "rule") and not name.strip()) or len(actor) > 200:
        raise InvalidInput(f"expected an actor like 'staff:NAME' or 'rule:NAME@VERSION' (1-200 characters), "
                           f"got {actor[:60]!r}")
    return actor


@dataclass(frozen=True)
class _Found:
    title: str
    facts: dict[str, Any]
    positions: list[int]


class CaseService:
    def __init__(self, db: Database, log: EvidenceLog, clock: Callable[[], datetime], *, max_false_match: float,
                 blobs: BlobStore | None = None, recognition: Callable[[], FingerprintService] | None = None,
                 tracer: Callable[[], TraceService] | None = None, provenance: dict[str, Any] | None = None) -> None:
        self.db, self.log, self.clock, self.max_false_match = db, log, clock, max_false_match
        self.provenance = provenance or {}
        self.blobs, self._recognition, self._tracer = blobs, recognition, tracer
        self.store = CaseStore(db)

    # -- opening ---------------------------------------------------------------------------
    def open_settled_sightings(self) -> list[CaseSummary]:
        """A case for each sighting identified below the bound whose steps have ended; the cases opened."""
        with self.db.session() as session:
            candidates = settled_sightings(session)
        opened = []
        for sighting_id in candidates:
            found = self._from_sighting(sighting_id)
            if found is not None:
                opened.append(self._open(found, origin="monitor", actor="monitor", sighting_id=sighting_id,
                                         reason="a sample from the swarm was identified as catalog content"))
        return opened

    def open_from_sighting(self, sighting_id: str, *, actor: str) -> CaseSummary:
        """Open the case of one sighting by hand; refused when its sample was not identified below the bound."""
        sighting = SightingStore(self.db).get(sighting_id)
        existing = self.store.by_sighting(sighting.id)
        if existing is not None:
            raise Conflict(f"sighting {sighting.id} already has case {existing}")
        found = self._from_sighting(sighting.id)
        if found is None:
            raise InvalidInput(f"sighting {sighting.id}: its sample was not identified as catalog content with a "
                               f"false-match probability at or below {self.max_false_match:g} (a name match alone "
                               "never opens a case); see `reelguard sightings show`")
        return self._open(found, origin="monitor", actor=check_actor(actor), sighting_id=sighting.id,
                          reason="opened by hand from a sighting")

    def open_reported(self, suspect: Path, *, title: str, actor: str, url: str | None = None,
                      note: str = "") -> CaseSummary:
        """Identify and trace a reported file; a case when it is ``title`` below the bound, else a clear refusal."""
        check_actor(actor)
        if self._recognition is None or self._tracer is None or self.blobs is None:
            raise InvalidInput("this case service cannot identify files (it was built without recognition)")
        if url is not None and not url.startswith(("http://", "https://", "magnet:")):
            raise InvalidInput(f"expected the reported copy's location as an http(s) URL or a magnet, got {url[:80]!r}")
        digest = _sha256(suspect)
        report = self._recognition().identify(suspect)
        segments = [s for s in report.segments if s.title == title or s.title_id == title]
        best = min((s.false_match_probability for s in segments), default=1.0)
        if not segments or best > self.max_false_match:
            names = sorted({s.title for s in report.segments}) or ["no catalog title"]
            raise InvalidInput(f"{suspect.name}: expected it to be identified as {title!r} with a false-match "
                               f"probability at or below {self.max_false_match:g}; identify found "
                               f"{', '.join(names)} (best {best:.3g} for {title!r}) — no case opened")
        trace = self._tracer().trace(suspect, title=segments[0].title, placements=segments)
        self.blobs.put_file(f"artifacts/sha256/{digest}", suspect)
        identify = {"sample_sha256": digest, "file_name": suspect.name, "report": report.to_json()}
        sources = [{"kind": "url", "url": url}] if url else []
        facts = _facts(segments[0].title, report.to_json(), trace.to_json(), sources, digest) | {
            "note": note, "artifacts": {digest: f"artifacts/sha256/{digest}"}}
        produced_by = self.provenance | {"case_max_false_match": self.max_false_match}
        findings = [("report.identify", identify | {"produced_by": produced_by}),
                    ("report.trace", {"sample_sha256": digest, "report": trace.to_json(), "produced_by": produced_by})]
        return self._open(_Found(segments[0].title, facts, []), origin="report", actor=actor, sighting_id=None,
                          reason=note or "a copy reported by hand", findings=findings)

    def _open(self, found: _Found, *, origin: str, actor: str, sighting_id: str | None, reason: str,
              findings: Sequence[tuple[str, dict[str, Any]]] = ()) -> CaseSummary:
        """Open the case; ``findings`` (a reported file's identify and trace) are logged in the same transaction."""
        case_id = uuid.uuid4().hex
        with self.log.transaction() as t:
            now = t.now
            found = replace(found, positions=[*found.positions, *t.append_many(findings)])
            row = CaseRow(id=case_id, title=found.title, state="open", origin=origin, sighting_id=sighting_id,
                          facts=found.facts, review=None, legal_hold=False, removal_deadline=None, version=0,
                          opened_at=now, updated_at=now)
            t.session.add(row)
            t.session.flush()
            link_evidence(t.session, case_id, found.positions)
            opened = t.append("case.opened", {"case_id": case_id, "origin": origin, "sighting_id": sighting_id,
                                              "title": found.title, "actor": actor, "reason": reason,
                                              "facts": found.facts, "evidence": found.positions})
            add_event(t.session, row, at=now, actor=actor, kind="opened", reason=reason,
                      detail={"evidence": found.positions}, position=opened)
            held = t.append("case.transition", _transition(case_id, "open", "evidence", actor,
                                                           f"{len(found.positions)} evidence records linked"))
            add_event(t.session, row, at=now, actor=actor, kind="transition", to_state="evidence",
                      reason=f"{len(found.positions)} evidence records linked", detail={}, position=held)
        self.log.checkpoint()
        _log.info("case %s opened (%s) for title %s", case_id, origin, found.title)
        return self.store.get(case_id)

    def _from_sighting(self, sighting_id: str) -> _Found | None:
        jobs = {j.step: j for j in SightingJobStore(self.db).jobs(sighting_id)}
        identified = jobs.get("identify")
        if identified is None or identified.state != "done" or not identified.result:
            return None
        report = identified.result.get("evidence") or {}
        segments = report.get("segments") or []
        title = identified.result.get("trace_title") or (segments[0]["title"] if segments else None)
        best = min((float(s["false_match_probability"]) for s in segments if s["title"] == title), default=1.0)
        if title is None or best > self.max_false_match:
            return None
        traced = jobs.get("trace")
        trace = traced.result.get("report") if traced is not None and traced.result else None
        sighting = SightingStore(self.db).get(sighting_id)
        observations = SightingJobStore(self.db).observations(sighting_id)
        sample = (jobs["sample"].result or {}) if "sample" in jobs else {}
        positions = [p for j in jobs.values() for p in (j.result or {}).get("evidence_positions", [])]
        probed = (jobs["probe"].result or {}) if "probe" in jobs else {}
        artifacts = {digest: key for digest, key in ((sample.get("sha256"), sample.get("blob")),
                                                     (probed.get("torrent_sha256"), probed.get("torrent_blob")))
                     if digest and key}
        facts = _facts(str(title), report, trace, _sources(sighting, observations), sample.get("sha256"))
        return _Found(str(title), facts | {"artifacts": artifacts}, sorted(positions))

    # -- changes -----------------------------------------------------------------------------
    def transition(self, case_id: str, to_state: str, *, actor: str, reason: str,
                   detail: dict[str, Any] | None = None) -> CaseSummary:
        """Move a case on, recorded with who and why; a move its state does not allow is a ``Conflict``."""
        check_actor(actor)
        if to_state not in STATES:
            raise InvalidInput(f"expected a case state ({', '.join(STATES)}), got {to_state[:40]!r}")
        if not reason.strip():
            raise InvalidInput("expected a reason for the change (it is part of the evidence)")
        with self.log.transaction() as t:
            row = lock_case(t.session, case_id)
            if to_state not in TRANSITIONS[row.state]:
                raise Conflict(self._refusal(row, to_state))
            position = t.append("case.transition", _transition(row.id, row.state, to_state, actor, reason)
                                | {"detail": detail or {}})
            add_event(t.session, row, at=t.now, actor=actor, kind="transition", to_state=to_state, reason=reason,
                      detail=detail or {}, position=position)
        self.log.checkpoint()
        return self.store.get(case_id)

    def record(self, case_id: str, *, kind: str, actor: str, reason: str, detail: dict[str, Any]) -> int:
        """An event of a case that is not a transition (a note, an action, a check); its evidence position."""
        check_actor(actor)
        with self.log.transaction() as t:
            row = lock_case(t.session, case_id)
            position = t.append(f"case.{kind}", {"case_id": row.id, "actor": actor, "reason": reason,
                                                 "detail": detail})
            add_event(t.session, row, at=t.now, actor=actor, kind=kind, reason=reason, detail=detail,
                      position=position)
        return position

    def note(self, case_id: str, text: str, *, actor: str) -> int:
        if not text.strip() or len(text) > 10_000:
            raise InvalidInput(f"expected a note of 1-10000 characters, got {len(text.strip())}")
        return self.record(case_id, kind="note", actor=actor, reason=text, detail={})

    def set_review(self, case_id: str, why: str | None, *, actor: str) -> None:
        """Put a case in the review queue (``why``), or take it out (None)."""
        check_actor(actor)
        with self.log.transaction() as t:
            row = lock_case(t.session, case_id)
            position = t.append("case.review", {"case_id": row.id, "actor": actor, "review": why})
            add_event(t.session, row, at=t.now, actor=actor, kind="review", reason=why or "reviewed",
                      detail={"review": why}, position=position)
            row.review = why

    def set_legal_hold(self, case_id: str, held: bool, *, actor: str, reason: str) -> None:
        """A case on legal hold keeps every record it holds past retention."""
        check_actor(actor)
        with self.log.transaction() as t:
            row = lock_case(t.session, case_id)
            position = t.append("case.legal_hold", {"case_id": row.id, "actor": actor, "held": held,
                                                    "reason": reason})
            add_event(t.session, row, at=t.now, actor=actor, kind="legal_hold", reason=reason,
                      detail={"held": held}, position=position)
            row.legal_hold = held

    def set_removal_deadline(self, case_id: str, deadline: datetime) -> None:
        with self.log.transaction() as t:
            lock_case(t.session, case_id).removal_deadline = deadline

    def get(self, case_id: str) -> CaseSummary:
        return self.store.get(case_id)

    def show(self, case_id: str) -> dict[str, Any]:
        """The case whole: its summary, events, notices and evidence positions."""
        case = self.store.get(case_id)
        notices = [{"id": n.id, "kind": n.kind, "recipient": n.recipient, "status": n.status,
                    "attempts": n.attempts, "sent_at": n.sent_at.isoformat() if n.sent_at else None,
                    "relay_answer": n.relay_answer, "last_error": n.last_error}
                   for n in self.store.notices(case.id)]
        return {**case.to_json(), "events": [e.to_json() for e in self.store.events(case.id)],
                "notices": notices, "evidence": self.store.evidence(case.id)}

    def _refusal(self, row: CaseRow, to_state: str) -> str:
        last = next((e for e in reversed(self.store.events(row.id)) if e.kind == "transition"), None)
        by = f" (by {last.actor} at {last.at.isoformat()}: {last.reason})" if last else ""
        allowed = ", ".join(TRANSITIONS[row.state]) or "nothing: it is closed"
        return (f"case {row.id} is {row.state}{by}; it cannot move to {to_state} "
                f"(from {row.state} it may move to {allowed})")


def _transition(case_id: str, from_state: str, to_state: str, actor: str, reason: str) -> dict[str, Any]:
    return {"case_id": case_id, "from": from_state, "to": to_state, "actor": actor, "reason": reason}


def _facts(title: str, identify: dict[str, Any], trace: dict[str, Any] | None, sources: list[dict[str, Any]],
           sample_sha256: str | None) -> dict[str, Any]:
    """What rules, notices and staff read of a case: where the copy is, what it is, whom it points to."""
    segments = [s for s in identify.get("segments", []) if s["title"] == title]
    return {
        "title": title,
        "sample_sha256": sample_sha256,
        "identify": {"false_match_probability": min((float(s["false_match_probability"]) for s in segments),
                                                    default=1.0),
                     "segments": [{k: s[k] for k in ("suspect_start", "suspect_end", "title_start", "title_end",
                                                     "false_match_probability")} for s in segments]},
        "trace": None if trace is None else {
            "accused": trace.get("accused", []), "reason": trace.get("reason"),
            # leads for staff to look for more copies of; no rule or action reads them
            "suspected": trace.get("suspected", []),
            "sessions_scored": trace.get("sessions_scored"), "best_innocent_p": trace.get("best_innocent_p")},
        "sources": sources,
    }


def _sources(sighting: Any, observations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Where the copy was found: each indexer listing, and the swarm with its proven distributors."""
    infohash = sighting.infohash_v1 or sighting.infohash_v2
    sources: list[dict[str, Any]] = [
        {"kind": "indexer", "source": listing["source"], "item_id": listing["item_id"], "name": sighting.name,
         "link": sighting.link, "infohash": infohash, "first_seen": listing["first_seen"]}
        for listing in sighting.listings]
    if infohash:
        distributors = [{"ip": o["peer_ip"], "port": o["peer_port"], "seen_at": o.get("started_at"),
                         "peer_id": o.get("peer_id"), "client": o.get("client"), "found_by": o.get("found_by")}
                        for o in observations if o["verdict"] == "distributor"]
        sources.append({"kind": "swarm", "infohash": infohash, "name": sighting.name, "size_bytes": sighting.size_bytes,
                        "magnet": sighting.magnet, "distributors": distributors})
    return sources


def _sha256(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError as exc:
        raise NotFound(f"cannot read the reported file {path}: {exc.strerror}") from None
