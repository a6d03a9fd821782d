"""From a matched sighting to the session that leaked it: probe, sample, identify, trace — each a job in the store.

A sighting whose name matched a catalog title is only a suspicion. The pipeline turns it
into evidence, one step per job (``store.sightingjobs``), each step's result kept:

- **probe** — the swarm's torrent and peers (``discovery``: BEP 9 metadata, trackers,
  DHT where enabled, PEX), then each peer asked for a piece alone (``swarm``): one
  observation per peer, kept with the sighting. No proven distributor: the sighting ends
  here ("no distributor proven"), however many peers the tracker listed.
- **sample** — pieces covering a stretch of the video, from the proven distributors
  only (``samples``), kept in the blob store.
- **identify** — content recognition on the sample: which catalog title, which span of
  it. Nothing found: "not our content", with the evidence (the best false-match
  probability seen, and what the sample could prove at best).
- **trace** — for a watermarked title, the A/B watermark read from the sample, aligned
  where identify placed it: the accused session(s), or none.

Given an ``EvidenceSink`` (the evidence log), each step's findings — every peer
observation, the sample's SHA-256, identify's and trace's reports — are appended to it
before the step is marked done, and the step's result names their positions.

A step that fails for a reason that may pass (no peer answered, a distributor left)
is tried again later; one that cannot pass (a torrent that is not one) fails for good,
saying why. ``run`` works until no job is due::

    pipeline = LeakPipeline(db, blobs, recognition, tracer, options, work_dir, clock)
    pipeline.run()        # every due job, in order; returns what each did
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import httpx

from reelguard.errors import InvalidInput, InvalidMedia, ReelguardError, SourceError
from reelguard.monitor.discovery import SwarmDiscovery
from reelguard.monitor.samples import acquire_sample
from reelguard.monitor.sources import fetch
from reelguard.monitor.swarm import CandidatePeer, SwarmProbe
from reelguard.store.blobs import BlobStore
from reelguard.store.database import Database
from reelguard.store.repositories import find_title
from reelguard.store.sightingjobs import Job, SightingJobStore
from reelguard.store.sightings import Sighting, SightingStore

if TYPE_CHECKING:
    from reelguard.fingerprint.service import FingerprintService
    from reelguard.watermark.trace import TraceService

__all__ = ["EvidenceSink", "LeakPipeline", "PipelineOptions", "StepOutcome"]


@dataclass(frozen=True)
class PipelineOptions:
    probe_address: str = "0.0.0.0"  # noqa: S104 - the probe listens where the operator's monitored interface is
    discovery_seconds: float = 30.0
    peer_timeout_seconds: float = 20.0
    sample_bytes: int = 256 << 20
    sample_timeout_seconds: float = 900.0
    dht_nodes: tuple[tuple[str, int], ...] = ()
    dht_private_network: bool = False
    pex_seconds: float = 60.0
    retry_after: timedelta = timedelta(minutes=30)
    # what produced the results, logged with each of them: the software and the bounds its verdicts rest on
    provenance: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"probe_address": self.probe_address, "discovery_seconds": self.discovery_seconds,
                "peer_timeout_seconds": self.peer_timeout_seconds, "sample_bytes": self.sample_bytes,
                "sample_timeout_seconds": self.sample_timeout_seconds, "pex_seconds": self.pex_seconds,
                "dht_nodes": [f"{host}:{port}" for host, port in self.dht_nodes]}


class EvidenceSink(Protocol):
    """Where each step's findings are kept tamper-evident (``enforcement.evidence_log.EvidenceLog``)."""

    def append_many(self, records: Sequence[tuple[str, dict[str, Any]]]) -> list[int]: ...


@dataclass(frozen=True)
class StepOutcome:
    sighting_id: str
    step: str
    verdict: str
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"sighting": self.sighting_id, "step": self.step, "verdict": self.verdict, "error": self.error}


_Done = tuple[dict[str, Any], str | None, list[dict[str, Any]]]  # (result, next step, peer observations)


class LeakPipeline:
    def __init__(self, db: Database, blobs: BlobStore, recognition: Callable[[], FingerprintService],
                 tracer: Callable[[], TraceService], options: PipelineOptions, work_dir: Path,
                 clock: Callable[[], datetime], *, jobs: SightingJobStore | None = None,
                 evidence: EvidenceSink | None = None) -> None:
        self.db, self.blobs, self.options, self.work_dir, self.clock = db, blobs, options, work_dir, clock
        self.evidence = evidence
        self._recognition, self._tracer = recognition, tracer
        self.jobs = jobs or SightingJobStore(db)
        self.sightings = SightingStore(db)
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"

    def enqueue_new(self) -> int:
        """A probe job for every matched sighting not yet taken up."""
        return self.jobs.enqueue(self.jobs.unqueued(), self.clock())

    def run(self, *, stop: threading.Event | None = None, limit: int | None = None) -> list[StepOutcome]:
        """Every due job, oldest first, until none is due (or ``stop`` is set, or ``limit`` jobs ran)."""
        done: list[StepOutcome] = []
        while (stop is None or not stop.is_set()) and (limit is None or len(done) < limit):
            job = self.jobs.claim(self.worker, self.clock())
            if job is None:
                break
            done.append(self.run_job(job))
        return done

    def run_job(self, job: Job) -> StepOutcome:
        step = {"probe": self._probe, "sample": self._sample, "identify": self._identify, "trace": self._trace}
        try:
            result, next_step, observations = step[job.step](self.sightings.get(job.sighting_id))
        except SourceError as exc:  # the swarm may answer later: tried again after a rest
            retry = self.options.retry_after if exc.retryable else None
            self.jobs.fail(job, str(exc), now=self.clock(), retry_after=retry)
            return StepOutcome(job.sighting_id, job.step, "will retry" if retry else "failed", str(exc))
        except (RuntimeError, OSError) as exc:  # libtorrent or the disk failed under the step: try again later
            self.jobs.fail(job, f"{job.step} failed: {exc}", now=self.clock(), retry_after=self.options.retry_after)
            return StepOutcome(job.sighting_id, job.step, "will retry", str(exc))
        except ReelguardError as exc:  # a torrent that is not one, a sample that is not video: no retry helps
            self.jobs.fail(job, str(exc), now=self.clock(), retry_after=None)
            return StepOutcome(job.sighting_id, job.step, "failed", str(exc))
        if self.evidence is not None:  # what this step saw, in the tamper-evident log, before it is marked done
            result = {**result, "evidence_positions": self._log(job, result, observations)}
        self.jobs.finish(job, result=result, now=self.clock(), next_step=next_step, observations=observations)
        return StepOutcome(job.sighting_id, job.step, str(result["verdict"]))

    def _log(self, job: Job, result: dict[str, Any], observations: list[dict[str, Any]]) -> list[int]:
        """Each peer observation a record; each step's result a record naming its sighting."""
        assert self.evidence is not None
        records = [("observation", observation) for observation in observations]
        records.append((f"monitor.{job.step}", {"sighting_id": job.sighting_id, "job_id": job.id,
                                                 "attempt": job.attempts, "result": result,
                                                 "produced_by": {**self.options.provenance,
                                                                 "monitor": self.options.to_json()}}))
        return self.evidence.append_many(records)

    # -- the steps ---------------------------------------------------------------------
    def _probe(self, sighting: Sighting) -> _Done:
        found = self._discovery().discover(self._torrent_source(sighting))
        probe = SwarmProbe(self.work_dir / "probe", address=self.options.probe_address,
                           timeout_seconds=self.options.peer_timeout_seconds, clock=self.clock)
        best = sighting.matches[0] if sighting.matches else {}
        observations = [{**seen.to_json(), "sighting_id": sighting.id, "matched_title": best.get("title_id"),
                         "match_score": best.get("score")} for seen in probe.prove(found.torrent, found.peers)]
        key = f"sightings/{sighting.id}/torrent"
        self.blobs.put_bytes(key, found.torrent)
        counts = {v: sum(1 for o in observations if o["verdict"] == v) for v in ("distributor", "listed", "corrupt")}
        verdict = (f"{counts['distributor']} distributors proven" if counts["distributor"]
                   else "no distributor proven (peers listed, none delivered a verified piece)")
        return ({"verdict": verdict, **counts, "torrent_blob": key,
                 "torrent_sha256": hashlib.sha256(found.torrent).hexdigest(), "discovery": found.to_json()},
                "sample" if counts["distributor"] else None, observations)

    def _sample(self, sighting: Sighting) -> _Done:
        distributors = [CandidatePeer(o["peer_ip"], o["peer_port"], o["found_by"])
                        for o in self.jobs.observations(sighting.id) if o["verdict"] == "distributor"]
        torrent = self.blobs.get_bytes(f"sightings/{sighting.id}/torrent")
        folder = self.work_dir / "samples" / sighting.id
        try:
            sample = acquire_sample(torrent, distributors, folder, address=self.options.probe_address,
                                    max_bytes=self.options.sample_bytes,
                                    timeout_seconds=self.options.sample_timeout_seconds)
            key = f"sightings/{sighting.id}/sample{Path(sample.file_name).suffix.lower() or '.bin'}"
            digest = _sha256(sample.path)
            self.blobs.put_file(key, sample.path)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        received = f"{sample.pieces_received} of {sample.pieces_wanted} pieces"
        return ({"verdict": f"sample fetched ({received})", "blob": key, "sha256": digest, **sample.to_json()},
                "identify", [])

    def _identify(self, sighting: Sighting) -> _Done:
        key = self._sample_key(sighting)
        with self.blobs.open_local(key) as path:
            report = self._recognition().identify(path)
        data = report.to_json()
        if not report.matched:
            return {"verdict": "not our content", "evidence": data}, None, []
        named = {str(m["title_id"]) for m in sighting.matches}
        titles = list(dict.fromkeys(s.title for s in report.segments))
        as_named = [t for t in titles if t in named] or titles
        traced = next((t for t in as_named if self._watermarked(t)), None)
        span = next(s for s in report.segments if s.title == as_named[0])
        verdict = (f"identified: {as_named[0]} {span.title_start:.0f}-{span.title_end:.0f} s"
                   + ("" if as_named[0] in named else " (not the title its name says)"))
        return ({"verdict": verdict, "titles": titles, "trace_title": traced, "evidence": data},
                "trace" if traced else None, [])

    def _trace(self, sighting: Sighting) -> _Done:
        from reelguard.fingerprint.service import MatchedSegment

        identified = next(j for j in self.jobs.jobs(sighting.id) if j.step == "identify").result or {}
        title = str(identified["trace_title"])
        placements = [MatchedSegment(**{**s, "title_alternatives": tuple(tuple(a) for a in s["title_alternatives"])})
                      for s in identified["evidence"]["segments"] if s["title"] == title]
        with self.blobs.open_local(self._sample_key(sighting)) as path:
            report = self._tracer().trace(path, title=title, placements=placements)
        accused = [a.session for a in report.accused]
        verdict = f"traced to session {', '.join(accused)}" if accused else f"no session accused: {report.reason}"
        return {"verdict": verdict, "title": title, "accused": accused, "report": report.to_json()}, None, []

    # -- helpers -------------------------------------------------------------------------
    def _discovery(self) -> SwarmDiscovery:
        return SwarmDiscovery(self.work_dir / "discovery", address=self.options.probe_address,
                              seconds=self.options.discovery_seconds, dht_nodes=self.options.dht_nodes,
                              dht_private=self.options.dht_private_network, pex_seconds=self.options.pex_seconds)

    def _torrent_source(self, sighting: Sighting) -> bytes | str:
        """The sighting's magnet; else its .torrent link, fetched; else a magnet of its infohash (DHT, PEX)."""
        if sighting.magnet:
            return sighting.magnet
        if sighting.link and sighting.link.startswith(("http://", "https://")):
            with httpx.Client(timeout=30.0, follow_redirects=True) as client:
                status, body = fetch(client, sighting.link, {}, f"the .torrent link of sighting {sighting.id}")
            if status != 200:
                raise SourceError(f"the .torrent link of sighting {sighting.id} answered HTTP {status}",
                                  retryable=status >= 500)
            return body
        if sighting.infohash_v1:
            return f"magnet:?xt=urn:btih:{sighting.infohash_v1}"
        raise InvalidInput(f"sighting {sighting.id} has no magnet, .torrent link or infohash to find its swarm by")

    def _sample_key(self, sighting: Sighting) -> str:
        sampled = next((j for j in self.jobs.jobs(sighting.id) if j.step == "sample" and j.result), None)
        if sampled is None or sampled.result is None:
            raise InvalidMedia(f"sighting {sighting.id} has no sample yet (its sample step has not finished)")
        return str(sampled.result["blob"])

    def _watermarked(self, title: str) -> bool:
        with self.db.session() as session:
            row = find_title(session, title)
            return row is not None and row.watermark is not None


def _sha256(path: Path) -> str:
    """The sample's SHA-256, the name the evidence gives it (the blob store keeps the bytes)."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
