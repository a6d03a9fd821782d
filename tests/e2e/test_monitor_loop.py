"""The whole Find loop, with no step done by hand: a session's leak, seeded and listed, is found and traced.

A watermarked title is ingested and watched; a subscriber's session plays it; the
rendered copy is re-encoded the way a pirate group would, made into a torrent, seeded
by two libtorrent peers on loopback behind Debian's opentracker (a third peer announces
and serves nothing) and listed on the loopback Torznab test server under a pirate-style
name. An unrelated video is listed beside it under a name just as close to the title.
Then one command, ``reelguard monitor once``, runs in its own process: it finds both
sightings, matches the title, proves the seeding peers, fetches a sample, identifies the
title and the span, and traces the leaking session — and ends the other as "not our
content", with the evidence.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from reelguard.composition import Runtime
from reelguard.settings import Settings
from reelguard.store.models import SightingJobRow
from reelguard.store.watchlist import Watch, WatchStore
from tests.conftest import subscribe
from tests.source_servers import IndexerItem, TorznabTestServer
from tests.swarm_peers import LoopbackSwarm
from tests.watermark_fixtures import WM_TITLE, ingest_watermarked, make_test_pattern

pytestmark = pytest.mark.slow

KEY = "loop-indexer-key-5a4b3c"
LEAK_NAME = "The.Quiet.Harbour.2025.720p.WEBRip.x264-GalaxyRG.mp4"
OTHER_NAME = "The.Quiet.Harbour.2025.1080p.HDTS.x264-SUNSCREEN.mp4"


@dataclass
class Loop:
    runtime: Runtime
    data_dir: Path
    database_url: str
    leaker: str  # the session whose copy leaked
    leak: LoopbackSwarm
    other: LoopbackSwarm

    def reelguard(self, *args: str) -> Any:
        env = {k: v for k, v in os.environ.items() if not k.startswith("REELGUARD_")}
        env.update(REELGUARD_DATA_DIR=str(self.data_dir), REELGUARD_STORE__DATABASE_URL=self.database_url)
        done = subprocess.run([sys.executable, "-m", "reelguard.cli.main", *args, "--json"], capture_output=True,
                              text=True, env=env, timeout=1200, check=False)
        assert done.returncode == 0, done.stderr
        assert KEY not in done.stdout + done.stderr
        return json.loads(done.stdout)


def _settings(data_dir: Path, database_url: str, indexer_url: str, key_file: Path) -> Settings:
    (data_dir / "reelguard.toml").write_text(
        '[media]\nsegment_seconds = 1\nladder = [360]\n\n'
        '[monitor]\nprobe_address = "127.0.0.9"\ndiscovery_seconds = 20\npeer_timeout_seconds = 10\n'
        'sample_timeout_seconds = 120\n\n'
        f'[[monitor.sources]]\nkind = "torznab"\nname = "indexer"\nurl = "{indexer_url}"\n'
        f'api_key_file = "{key_file}"\nrequests_per_minute = 6000\n')
    return Settings.load(config_file=data_dir / "reelguard.toml", data_dir=data_dir,
                         store={"database_url": database_url})


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory, database_url_factory, media_dir: Path  # type: ignore[no-untyped-def]
         ) -> Iterator[Loop]:
    work = tmp_path_factory.mktemp("loop")
    data_dir, database_url = work / "data", database_url_factory()
    data_dir.mkdir()
    key_file = work / "indexer.key"
    key_file.write_text(KEY)
    key_file.chmod(0o600)
    with TorznabTestServer([], api_key=KEY) as indexer:
        runtime = Runtime.open(_settings(data_dir, database_url, indexer.url, key_file))
        ingest_watermarked(runtime, media_dir, work, seconds=60)
        WatchStore(runtime.db).add(Watch(WM_TITLE, "The Quiet Harbour", 2025), runtime.clock())
        subscribe(runtime, "mallory", ["laptop"], titles=[WM_TITLE])
        sessions = runtime.session_service()
        leaker = sessions.start(account="mallory", device="laptop", title=WM_TITLE, ip="198.51.100.7").session_id
        sessions.start(account="mallory", device="laptop", title=WM_TITLE, ip="198.51.100.8")  # an innocent one
        rendered = sessions.render(leaker, work / "rendered.mp4")
        ripped = work / "ripped.mp4"  # the group's release: rescaled, re-encoded
        subprocess.run([runtime.tools.ffmpeg, "-nostdin", "-v", "error", "-y", "-i", str(rendered), "-vf",
                        "scale=480:270", "-c:v", "libx264", "-preset", "veryfast", "-crf", "26", "-c:a", "aac",
                        str(ripped)], check=True)
        unrelated = make_test_pattern(runtime.tools.ffmpeg, work / "unrelated.mp4", 40)
        with LoopbackSwarm(b"", LEAK_NAME, tracker=True, source=ripped) as leak, \
                LoopbackSwarm(b"", OTHER_NAME, tracker=True, source=unrelated) as other:
            leak.seed("127.0.0.2")
            leak.seed("127.0.0.3")
            leak.pretend("127.0.0.4", corrupt=False)  # announces, serves nothing
            other.seed("127.0.0.5")
            indexer.items.extend(
                IndexerItem(Path(swarm_name).stem, 2040, infohash=swarm.infohash, magnet=swarm.magnet,
                            size=swarm.info.total_size(), seeders=2)
                for swarm, swarm_name in ((leak, LEAK_NAME), (other, OTHER_NAME)))
            yield Loop(runtime, data_dir, database_url, leaker, leak, other)
        runtime.close()


def _by_infohash(loop: Loop, infohash: str) -> dict[str, Any]:
    return loop.reelguard("sightings", "show", infohash)  # type: ignore[no-any-return]


def test_monitor_once_finds_proves_samples_identifies_and_traces_the_leak(loop: Loop) -> None:
    started = datetime.now(UTC)
    report = loop.reelguard("monitor", "once")
    assert report["sources"][0]["error"] is None, report
    assert report["sources"][0]["matched"] == 2, report

    leak = _by_infohash(loop, loop.leak.infohash)
    steps = {s["step"]: s for s in leak["steps"]}
    assert [s["state"] for s in leak["steps"]] == ["done"] * 4, leak["steps"]
    peers = {p["peer_ip"]: p for p in leak["peers"]}
    assert {ip: p["verdict"] for ip, p in peers.items()} == {
        "127.0.0.2": "distributor", "127.0.0.3": "distributor", "127.0.0.4": "listed"}
    for ip in ("127.0.0.2", "127.0.0.3"):
        seen = peers[ip]
        assert seen["piece_sha1"] == loop.leak.info.hash_for_piece(seen["piece_index"]).hex()
        assert seen["found_by"] == "tracker" and seen["probe_address"] == "127.0.0.9"
        assert seen["matched_title"] == WM_TITLE and seen["match_score"] >= 0.88
        assert started <= datetime.fromisoformat(seen["started_at"]) <= datetime.fromisoformat(seen["ended_at"])
    assert steps["sample"]["result"]["complete"] is True
    identified = steps["identify"]["result"]
    assert identified["titles"] == [WM_TITLE] and identified["trace_title"] == WM_TITLE
    span = identified["evidence"]["segments"][0]
    assert span["title_start"] < 5 and span["title_end"] > 50, span  # the whole programme, placed
    traced = steps["trace"]["result"]
    assert traced["accused"] == [loop.leaker], traced["verdict"]
    accused = traced["report"]["accused"][0]
    assert (accused["account"], accused["ip"], accused["p_value"] <= 1e-6) == ("mallory", "198.51.100.7", True)

    other = _by_infohash(loop, loop.other.infohash)
    other_steps = {s["step"]: s for s in other["steps"]}
    assert sorted(other_steps) == ["identify", "probe", "sample"] and all(
        s["state"] == "done" for s in other["steps"])
    assert [p["verdict"] for p in other["peers"]] == ["distributor"]
    verdict = other_steps["identify"]["result"]
    assert verdict["verdict"] == "not our content"
    evidence = verdict["evidence"]
    assert evidence["matched"] is False and evidence["segments"] == []
    assert all(p > evidence["max_false_match_probability"] for p in evidence["best"].values()), evidence["best"]

    again = loop.reelguard("monitor", "once", "--title", WM_TITLE)  # seen again: nothing is done twice
    assert again["leaks"] == [] and again["sources"][0]["seen_again"] == 2
    with loop.runtime.db.session() as session:
        per_step = session.execute(select(SightingJobRow.sighting_id, SightingJobRow.step, func.count())
                                   .group_by(SightingJobRow.sighting_id, SightingJobRow.step)).all()
    assert len(per_step) == 7 and all(count == 1 for _, _, count in per_step)

