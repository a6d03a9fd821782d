"""The jobs that take a matched sighting to a traced leak: one claim per job, leases, retries, crashes.

Run on SQLite and on PostgreSQL (``FOR UPDATE SKIP LOCKED``) by the two passes of the suite.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import reelguard.monitor.pipeline as pipeline_module
from reelguard.composition import Runtime
from reelguard.monitor.pipeline import LeakPipeline
from reelguard.store import Database
from reelguard.store.sightingjobs import Job, SightingJobStore
from reelguard.store.sightings import Listing, SightingStore
from reelguard.testing.clock import FixedClock
from tests.conftest import make_settings
from tests.source_servers import FeedTestServer
from tests.swarm_peers import LoopbackSwarm
from tests.watermark_fixtures import make_test_pattern

NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
MATCH = {"title_id": "harbour", "score": 0.97, "reasons": ["title 0.97", "year ✔"]}


def _listing(name: str, magnet: str | None = None) -> Listing:
    infohash = hashlib.sha1(name.encode()).hexdigest()
    return Listing("indexer", infohash, name, infohash_v1=infohash, magnet=magnet, matches=[MATCH])


@pytest.fixture
def db(database_url_factory: Callable[[], str]) -> Iterator[Database]:
    database = Database.connect(database_url_factory())
    yield database
    database.dispose()


def _sightings(db: Database, count: int) -> list[str]:
    store = SightingStore(db)
    store.record([_listing(f"The.Quiet.Harbour.2025.Part{n}.1080p.WEB-DL-GRP") for n in range(count)], NOW)
    store.record([Listing("indexer", "unmatched", "Something.Else.2024.1080p", infohash_v1="e" * 40)], NOW)
    return [s.id for s in store.find(matched=True, limit=100)]


def test_each_matched_sighting_gets_one_probe_job_however_often_it_is_queued(db: Database) -> None:
    jobs = SightingJobStore(db)
    ids = _sightings(db, 3)
    assert sorted(jobs.unqueued()) == sorted(ids)  # the unmatched one is never probed
    assert jobs.enqueue(jobs.unqueued(), NOW) == 3
    assert jobs.enqueue(ids, NOW) == 0 and jobs.unqueued() == []
    assert all([j.step for j in jobs.jobs(i)] == ["probe"] for i in ids)


def test_a_job_is_held_by_its_worker_until_its_lease_runs_out_and_a_late_answer_is_refused(db: Database) -> None:
    jobs = SightingJobStore(db, lease=timedelta(minutes=30))
    (sighting,) = _sightings(db, 1)
    jobs.enqueue([sighting], NOW)
    first = jobs.claim("worker-1", NOW)
    assert first is not None and first.state == "running" and first.attempts == 1
    assert jobs.claim("worker-2", NOW + timedelta(minutes=29)) is None  # held
    second = jobs.claim("worker-2", NOW + timedelta(minutes=31))  # worker-1 is presumed dead
    assert second is not None and second.id == first.id and second.attempts == 2
    assert not jobs.finish(first, result={"verdict": "late"}, now=NOW + timedelta(minutes=40), next_step="sample")
    assert not jobs.fail(first, "late", now=NOW + timedelta(minutes=40), retry_after=None)
    assert [j.step for j in jobs.jobs(sighting)] == ["probe"] and jobs.jobs(sighting)[0].result is None
    observation = {"peer_ip": "127.0.0.2", "peer_port": 6881, "verdict": "distributor",
                   "started_at": NOW.isoformat()}
    assert jobs.finish(second, result={"verdict": "1 distributors proven"}, now=NOW + timedelta(minutes=41),
                       next_step="sample", observations=[observation])
    probe, sample = jobs.jobs(sighting)
    assert (probe.state, probe.result, sample.step, sample.state) == (
        "done", {"verdict": "1 distributors proven"}, "sample", "pending")
    assert jobs.observations(sighting) == [observation]


def test_a_step_that_may_pass_is_tried_again_later_until_its_attempts_are_spent(db: Database) -> None:
    jobs = SightingJobStore(db, max_attempts=2)
    (sighting,) = _sightings(db, 1)
    jobs.enqueue([sighting], NOW)
    job = jobs.claim("w", NOW)
    assert job is not None and jobs.fail(job, "no peer answered", now=NOW, retry_after=timedelta(minutes=30))
    assert jobs.claim("w", NOW + timedelta(minutes=29)) is None  # resting
    again = jobs.claim("w", NOW + timedelta(minutes=30))
    assert again is not None and again.attempts == 2
    assert jobs.fail(again, "no peer answered", now=NOW, retry_after=timedelta(minutes=30))
    (failed,) = jobs.jobs(sighting)
    assert (failed.state, failed.error) == ("failed", "no peer answered")
    assert jobs.claim("w", NOW + timedelta(days=1)) is None


def test_workers_claiming_at_once_never_take_the_same_job(db: Database) -> None:
    jobs = SightingJobStore(db)
    ids = _sightings(db, 12)
    jobs.enqueue(ids, NOW)
    claimed: list[Job] = []
    lock = threading.Lock()

    def work(name: str) -> None:
        while (job := jobs.claim(name, NOW)) is not None:
            with lock:
                claimed.append(job)

    workers = [threading.Thread(target=work, args=(f"w{n}",)) for n in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(j.sighting_id for j in claimed) == sorted(ids)


class _Killed(BaseException):
    """The worker's process dying mid-step (no handler runs, nothing is written)."""


def test_a_crash_mid_step_never_marks_it_done_and_the_step_runs_again(
        tmp_path: Path, database_url_factory: Callable[[], str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The sample step dies after the probe finished: its job stays running with no result and no identify job
    follows. When its lease runs out another worker runs it again, and the sighting goes on to its end: an
    unrelated video in an empty catalog is "not our content"."""
    clock = FixedClock(NOW)
    settings = make_settings(tmp_path / "data", database_url_factory(), monitor={
        "probe_address": "127.0.0.9", "discovery_seconds": 15.0, "peer_timeout_seconds": 8.0, "pex_seconds": 0.0,
        "sample_timeout_seconds": 60.0})
    runtime = Runtime.open(settings, clock=clock)
    clip = make_test_pattern(runtime.tools.ffmpeg, tmp_path / "clip.mp4", 6)
    with LoopbackSwarm(b"", "The.Quiet.Harbour.2025.1080p.WEB-DL-GRP.mp4", tracker=True, source=clip) as swarm:
        swarm.seed("127.0.0.2")
        SightingStore(runtime.db).record([Listing("indexer", swarm.infohash, "The.Quiet.Harbour.2025.1080p.WEB-DL-GRP",
                                                  infohash_v1=swarm.infohash, magnet=swarm.magnet,
                                                  matches=[MATCH])], NOW)
        pipeline = runtime.leak_pipeline()
        assert pipeline.enqueue_new() == 1
        (probed,) = pipeline.run(limit=1)
        assert probed.verdict == "1 distributors proven", probed

        def dies(*args: object, **kwargs: object) -> None:
            raise _Killed

        monkeypatch.setattr(pipeline_module, "acquire_sample", dies)
        with pytest.raises(_Killed):
            pipeline.run()
        sighting = probed.sighting_id
        steps = {j.step: j for j in pipeline.jobs.jobs(sighting)}
        assert sorted(steps) == ["probe", "sample"]
        assert steps["sample"].state == "running" and steps["sample"].result is None
        assert pipeline.run() == []  # still leased to the dead worker

        monkeypatch.undo()
        clock.advance(minutes=31)
        other = LeakPipeline(runtime.db, runtime.blobs, runtime.fingerprint_service, runtime.trace_service,
                             pipeline.options, tmp_path / "other-worker", clock)
        other.worker = "another-host:1:1"
        outcomes = other.run()
    assert [(o.step, o.verdict) for o in outcomes] == [
        ("sample", f"sample fetched ({swarm.info.num_pieces()} of {swarm.info.num_pieces()} pieces)"),
        ("identify", "not our content")]
    steps = {j.step: j for j in other.jobs.jobs(sighting)}
    assert [steps[s].state for s in ("probe", "sample", "identify")] == ["done"] * 3
    assert steps["sample"].attempts == 2
    runtime.close()


def test_a_torrent_link_is_fetched_and_a_link_to_something_else_fails_for_good(
        tmp_path: Path, database_url_factory: Callable[[], str]) -> None:
    """Sightings without a magnet: the indexer's .torrent link is fetched (bounded) and its trackers asked; a link
    that answers a web page fails at once, saying what arrived, and is not tried again."""
    settings = make_settings(tmp_path / "data", database_url_factory(), monitor={
        "probe_address": "127.0.0.9", "discovery_seconds": 15.0, "peer_timeout_seconds": 8.0, "pex_seconds": 0.0})
    runtime = Runtime.open(settings, clock=FixedClock(NOW))
    with LoopbackSwarm(b"x" * 300_000, tracker=True) as swarm, FeedTestServer(swarm.torrent) as good, \
            FeedTestServer(b"<html>Please log in</html>") as bad:
        swarm.seed("127.0.0.2")
        SightingStore(runtime.db).record([
            Listing("indexer", "good", "The.Quiet.Harbour.2025.1080p.WEB-DL-GRP", infohash_v1=swarm.infohash,
                    link=good.url, matches=[MATCH]),
            Listing("indexer", "bad", "The.Quiet.Harbour.2025.720p.WEB-DL-GRP", link=bad.url,
                    matches=[MATCH])], NOW)  # a feed item with a link and nothing else
        pipeline = runtime.leak_pipeline()
        assert pipeline.enqueue_new() == 2
        probes = [o for o in pipeline.run() if o.step == "probe"]
    runtime.close()
    verdicts = {o.verdict for o in probes}
    assert verdicts == {"1 distributors proven", "failed"}, probes
    (failed,) = [o for o in probes if o.verdict == "failed"]
    assert failed.error is not None and "expected a .torrent" in failed.error
    assert pipeline.jobs.jobs(failed.sighting_id)[0].state == "failed"
