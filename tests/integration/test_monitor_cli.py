"""``reelguard watch`` / ``monitor`` / ``sightings`` as an operator runs them, against sources on loopback."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reelguard.store import Database
from reelguard.store.models import TitleRow
from tests.source_servers import FeedTestServer, IndexerItem, TorznabTestServer

KEY = "cli-indexer-key-9f8e7d"


def _hash(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


ITEMS = [IndexerItem("Dune.Part.Two.2024.1080p.WEB-DL.DDP5.1.H.264-FLUX", 2040, infohash=_hash("dune"), seeders=40,
                     peers=50, size=4_000_000_000),
         IndexerItem("Dune.Part.Two.2024.HDTS.x264-SUNSCREEN", 2000, infohash=_hash("dune-ts"), seeders=3),
         IndexerItem("Dune.Part.Two.Ending.Explained.2024.1080p.WEB", 2000, infohash=_hash("about"), seeders=1)]
FEED = f"""<?xml version="1.0"?><rss version="2.0" xmlns:torrent="http://xmlns.ezrss.it/0.1/"><channel><title>s</title>
<item><title>Dune.Part.Two.2024.1080p.WEB-DL.DDP5.1.H.264-FLUX</title><guid>feed-1</guid>
<torrent:infoHash>{_hash("dune")}</torrent:infoHash></item></channel></rss>""".encode()


Run = Callable[..., dict]  # type: ignore[type-arg]


@pytest.fixture
def setup(tmp_path: Path, database_url_factory: Callable[[], str]) -> Iterator[tuple[Run, TorznabTestServer]]:
    data_dir, url = tmp_path / "data", database_url_factory()
    data_dir.mkdir()
    db = Database.connect(url)
    now = datetime.now(UTC)
    with db.transaction() as session:
        session.add(TitleRow(id=str(uuid.uuid4()), name="dune2", status="ready", stage="packaged", master_blob="x",
                             source_filename="dune2.mp4", source_bytes=1, duration_seconds=166 * 60.0, width=1920,
                             height=1080, frame_rate=24.0, has_audio=True, package=None, watermark=None, error=None,
                             created_at=now, updated_at=now))
    db.dispose()
    key_file = tmp_path / "indexer.key"
    key_file.write_text(KEY)
    key_file.chmod(0o600)
    with TorznabTestServer(ITEMS, api_key=KEY) as indexer, FeedTestServer(FEED) as feed:
        (data_dir / "reelguard.toml").write_text(
            f'[[monitor.sources]]\nkind = "torznab"\nname = "indexer"\nurl = "{indexer.url}"\n'
            f'api_key_file = "{key_file}"\nrequests_per_minute = 6000\n\n'
            f'[[monitor.sources]]\nkind = "feed"\nname = "site"\nurl = "{feed.url}"\n')

        def run(*args: str, code: int = 0) -> dict:  # type: ignore[type-arg]
            env = {k: v for k, v in os.environ.items() if not k.startswith("REELGUARD_")}
            env.update(REELGUARD_DATA_DIR=str(data_dir), REELGUARD_STORE__DATABASE_URL=url)
            done = subprocess.run([sys.executable, "-m", "reelguard.cli.main", *args], capture_output=True,
                                  text=True, env=env, timeout=300, check=False)
            assert done.returncode == code, done.stderr
            assert KEY not in done.stdout + done.stderr
            return {"out": json.loads(done.stdout) if "--json" in args and done.stdout else done.stdout,
                    "err": done.stderr}

        yield run, indexer


def test_watch_a_title_run_a_round_and_read_its_sightings(setup: tuple[Run, TorznabTestServer]) -> None:
    run, _ = setup
    run("watch", "add", "dune2", "--name", "Dune: Part Two", "--year", "2024", "--also", "Dune 2")
    assert [w["title"] for w in run("watch", "list", "--json")["out"]] == ["dune2"]

    first = run("monitor", "once", "--json")["out"]
    assert first["titles"] == ["dune2"]
    by_source = {s["source"]: s for s in first["sources"]}
    # two searches ("Dune Part Two", "Dune 2") each list the three torrents: 3 new, then 3 seen again
    indexer_report = by_source["indexer"]
    assert (indexer_report["queries"], indexer_report["new"], indexer_report["seen_again"]) == (2, 3, 3)
    assert (indexer_report["matched"], indexer_report["error"]) == (4, None)  # listings that name dune2
    assert (by_source["site"]["new"], by_source["site"]["seen_again"]) == (0, 2)

    matched = run("sightings", "list", "--matched", "--json")["out"]
    assert sorted(s["infohash_v1"] for s in matched) == sorted([_hash("dune"), _hash("dune-ts")])
    unmatched = run("sightings", "list", "--unmatched", "--json")["out"]
    assert [s["name"] for s in unmatched] == ["Dune.Part.Two.Ending.Explained.2024.1080p.WEB"]
    shown = run("sightings", "show", _hash("dune"), "--json")["out"]
    assert shown["times_seen"] == 4 and {entry["source"] for entry in shown["listings"]} == {"indexer", "site"}
    assert shown["matches"][0]["title_id"] == "dune2" and "year 2024 ✔" in shown["matches"][0]["reasons"]
    assert "dune2 1.00" in run("sightings", "show", _hash("dune"))["err"]

    again = run("monitor", "once", "--json")["out"]  # nothing is due an interval later than now
    assert again["titles"] == [] and all(s["queries"] == 0 for s in again["sources"])


def test_a_failing_source_rests_and_is_not_asked_again_until_then(
        setup: tuple[Run, TorznabTestServer]) -> None:
    run, indexer = setup
    run("watch", "add", "dune2", "--name", "Dune: Part Two", "--year", "2024")
    indexer.mode = "http500"
    failed = {s["source"]: s for s in run("monitor", "once", "--json")["out"]["sources"]}
    assert "HTTP 500" in failed["indexer"]["error"] and failed["indexer"]["resting_until"]
    assert failed["site"]["error"] is None and failed["site"]["new"] == 1
    asked = len(indexer.requests)
    resting = {s["source"]: s for s in run("monitor", "once", "--title", "dune2", "--json")["out"]["sources"]}
    assert resting["indexer"]["resting_until"] and len(indexer.requests) == asked
    assert resting["site"]["seen_again"] == 1


@pytest.mark.parametrize(("args", "code", "said"), [
    (("watch", "add", "nothing", "--name", "X"), 66, "no catalog title 'nothing'"),
    (("watch", "add", "dune2", "--name", "X", "--season", "1"), 65, "--season and --episode together"),
    (("watch", "add", "dune2", "--name", "X", "--country", "USA"), 65, "two-letter ISO code"),
    (("watch", "remove", "dune2"), 66, "'dune2' is not watched"),
    (("monitor", "once", "--title", "dune2"), 66, "not watched: dune2"),
    (("sightings", "show", "0" * 40), 66, "no sighting"),
])
def test_bad_requests_are_refused_saying_why(setup: tuple[Run, TorznabTestServer],
                                             args: tuple[str, ...], code: int, said: str) -> None:
    run, _ = setup
    assert said in run(*args, code=code)["err"]
