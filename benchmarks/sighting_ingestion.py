"""Sightings from a Torznab source of 10,000 items: sightings/s, against parsing the same XML alone (issue 19).

The Torznab test server (``tests/source_servers.py``) lists 10,000 items named the way the
labelled corpus names releases (``benchmarks/_release_corpus.py``), 100 a page, on
loopback. One round (``MonitorRound``: search, read each name, match it to the corpus's
catalog, record the sightings in SQLite) is timed, and then again (every torrent seen
again). The comparator, in the same run: the same 100 pages of XML parsed alone
(``read_xml`` and the items' fields — what any client must do), fetched beforehand.

    python benchmarks/sighting_ingestion.py [--items 10000]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "benchmarks"), str(ROOT)]

import httpx  # noqa: E402
from _release_corpus import corpus  # noqa: E402
from _report import report  # noqa: E402

from reelguard.monitor.matching import CatalogMatcher  # noqa: E402
from reelguard.monitor.releases import parse_release  # noqa: E402
from reelguard.monitor.rounds import MonitorRound  # noqa: E402
from reelguard.monitor.sources import SearchQuery, read_xml  # noqa: E402
from reelguard.monitor.torznab import Torznab  # noqa: E402
from reelguard.store import Database  # noqa: E402
from reelguard.store.sightings import SightingStore  # noqa: E402
from tests.source_servers import IndexerItem, TorznabTestServer  # noqa: E402

KEY = "bench-key"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=10_000)
    args = parser.parse_args()
    catalog, names = corpus("evaluation", seed=19)
    # every name its own (an uploader's tag), as on a real indexer: the corpus has about a thousand
    items = [IndexerItem(f"{names[i % len(names)].name} [u{i}]", 2000,
                         infohash=hashlib.sha1(str(i).encode()).hexdigest(), seeders=i % 50, peers=i % 50 + 3,
                         size=names[i % len(names)].size_bytes) for i in range(args.items)]
    with TorznabTestServer(items, api_key=KEY, page_max=100) as server, tempfile.TemporaryDirectory() as folder:
        pages = [httpx.get(server.url, params={"t": "search", "q": "", "offset": str(o), "limit": "100",
                                                "apikey": KEY}, timeout=60).content
                 for o in range(0, args.items, 100)]
        started = time.perf_counter()
        parsed_items = sum(len(read_xml(page, "bench").findall("channel/item")) for page in pages)
        xml_seconds = time.perf_counter() - started
        source = Torznab("bench-indexer", server.url, api_key=KEY, timeout_seconds=60)
        started = time.perf_counter()
        fetched = sum(1 for _ in source.search(SearchQuery("")))
        fetch_seconds = time.perf_counter() - started

        db = Database.connect(f"sqlite:///{folder}/bench.db")
        store = SightingStore(db)
        watch = MonitorRound([source], CatalogMatcher(catalog), store, lambda: datetime.now(UTC))
        timings = []
        for _ in range(2):
            started = time.perf_counter()
            result = watch.run([SearchQuery("")]).sources[0]
            timings.append((time.perf_counter() - started, result))
        stored = store.count()
        db.dispose()
    matcher = CatalogMatcher(catalog)
    started = time.perf_counter()
    for item in items:
        parse_release(item.title, matcher.numbered_titles)
    read_seconds = time.perf_counter() - started

    (first_seconds, first), (second_seconds, second) = timings
    rows = [
        ["XML pages parsed alone (comparator)", str(parsed_items), f"{xml_seconds:.2f}",
         f"{parsed_items / xml_seconds:,.0f}", "1.0"],
        ["search: HTTP + XML + item checks", str(fetched), f"{fetch_seconds:.2f}", f"{fetched / fetch_seconds:,.0f}",
         f"{fetch_seconds / xml_seconds:.1f}"],
        ["release names read alone (guessit)", str(len(items)), f"{read_seconds:.2f}",
         f"{len(items) / read_seconds:,.0f}", f"{read_seconds / xml_seconds:.1f}"],
        ["round: new sightings (read, matched, stored)", str(first.new), f"{first_seconds:.2f}",
         f"{first.items / first_seconds:,.0f}", f"{first_seconds / xml_seconds:.1f}"],
        ["round again: every torrent seen again", str(second.seen_again), f"{second_seconds:.2f}",
         f"{second.items / second_seconds:,.0f}", f"{second_seconds / xml_seconds:.1f}"],
    ]
    notes = [
        f"{args.items} items on the Torznab test server (loopback, 100 a page), named as the labelled corpus's "
        f"evaluation half names releases; SQLite in a temporary folder; {stored} sightings stored, "
        f"{first.matched} listings matched to the corpus's catalog of {len(catalog)} entries",
        "ratio: the step's time over parsing the same XML alone, measured in the same run",
        f"where the time goes: reading the names alone takes {read_seconds / first_seconds:.0%} of the first round",
    ]
    report("Monitor: sightings from a Torznab source", ["step", "items", "seconds", "items/s", "× XML alone"], rows,
           notes)


if __name__ == "__main__":
    main()
