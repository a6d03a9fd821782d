"""``reelguard watch``, ``monitor`` and ``sightings``: watching piracy sources (docs/monitoring.md).

    reelguard watch add dune2 --name "Dune: Part Two" --year 2024 --also "Dune 2"
    reelguard watch add office-s02e03 --name "The Office" --year 2005 --season 2 --episode 3 --country US
    reelguard watch list [--json]
    reelguard watch remove dune2
    reelguard monitor once [--title dune2] [--json]     # one round: due titles (or those named) on every source
    reelguard monitor run                               # the long-running worker
    reelguard sightings list [--matched | --unmatched] [--title dune2] [--json]
    reelguard sightings show <id or infohash> [--json]
"""

from __future__ import annotations

import signal
import threading
from typing import Any

import click
from rich.table import Table

from reelguard.cli._shared import console, emit, json_option, open_runtime

__all__ = ["monitor", "sightings", "watch"]


@click.group()
def watch() -> None:
    """The watchlist: which catalog titles are searched for on piracy sources, under which names."""


@watch.command("add")
@click.argument("title")
@click.option("--name", "search_name", required=True, help="The title as release names write it.")
@click.option("--year", type=click.IntRange(1870, 2200), default=None, help="Release year (series: first year).")
@click.option("--also", "other_names", multiple=True, help="Another name: original, translated, transliterated.")
@click.option("--season", type=click.IntRange(0, 999), default=None, help="An episode's season.")
@click.option("--episode", type=click.IntRange(0, 99999), default=None, help="An episode's number.")
@click.option("--country", default=None, help="ISO country code, for a series remade elsewhere (US, GB).")
@click.option("--source", "sources", multiple=True, help="Only these configured sources (default: all).")
@click.pass_context
def add(ctx: click.Context, title: str, search_name: str, year: int | None, other_names: tuple[str, ...],
        season: int | None, episode: int | None, country: str | None, sources: tuple[str, ...]) -> None:
    """Watch a catalog title."""
    from reelguard.errors import InvalidInput
    from reelguard.store.watchlist import Watch, WatchStore

    if (season is None) != (episode is None):
        raise InvalidInput(f"expected --season and --episode together for an episode, got season {season} "
                           f"and episode {episode}")
    if country is not None and not (len(country) == 2 and country.isalpha()):
        raise InvalidInput(f"expected --country as a two-letter ISO code (US, GB), got {country!r}")
    with open_runtime(ctx) as runtime:
        WatchStore(runtime.db).add(Watch(title, search_name.strip(), year, other_names, season, episode,
                                         country.upper() if country else None, sources), runtime.clock())
    console.print(f"watching {title} as {search_name!r}")


@watch.command("list")
@json_option
@click.pass_context
def list_watches(ctx: click.Context, as_json: bool) -> None:
    """Watched titles, with when each is next searched."""
    from reelguard.store.watchlist import WatchStore

    with open_runtime(ctx) as runtime:
        rows = [w.to_json() for w in WatchStore(runtime.db).watches()]
    emit(rows, as_json, _render_watches)


@watch.command("remove")
@click.argument("title")
@click.pass_context
def remove(ctx: click.Context, title: str) -> None:
    """Stop watching a title (its sightings stay)."""
    from reelguard.store.watchlist import WatchStore

    with open_runtime(ctx) as runtime:
        WatchStore(runtime.db).remove(title)
    console.print(f"no longer watching {title}")


@click.group()
def monitor() -> None:
    """Watch piracy sources: one round, or the long-running worker."""


@monitor.command("once")
@click.option("--title", "titles", multiple=True, help="Only this watched title, due or not (repeatable).")
@json_option
@click.pass_context
def once(ctx: click.Context, titles: tuple[str, ...], as_json: bool) -> None:
    """One round: due titles (or those named) searched on every source; sightings stored; matched ones probed,
    sampled, identified and traced."""
    from reelguard.monitor.watching import Watcher

    with open_runtime(ctx) as runtime:
        watcher = Watcher(runtime.settings.monitor, runtime.db, runtime.clock, pipeline=runtime.leak_pipeline())
        report = watcher.once(titles).to_json()
        report["act"] = runtime.enforcer().sweep().to_json()  # cases opened, rules applied, notices sent
    emit(report, as_json, _render_round)


@monitor.command("run")
@click.pass_context
def run(ctx: click.Context) -> None:
    """Rounds until stopped (SIGTERM or Ctrl-C), each as titles fall due."""
    from reelguard.monitor.watching import Watcher

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with open_runtime(ctx) as runtime:
        watcher = Watcher(runtime.settings.monitor, runtime.db, runtime.clock, pipeline=runtime.leak_pipeline())
        try:
            enforcer = runtime.enforcer()
            watcher.run(stop, on_round=lambda report: _render_round(report.to_json() | {
                "act": enforcer.sweep().to_json()}))
        except KeyboardInterrupt:
            stop.set()


@click.group()
def sightings() -> None:
    """Torrents seen on piracy sources, and the catalog titles their names point at."""


@sightings.command("list")
@click.option("--matched/--unmatched", default=None, help="Only sightings that name a catalog title, or only others.")
@click.option("--title", default=None, help="Only sightings matched to this title.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1000))
@click.option("--offset", default=0, type=click.IntRange(0, None))
@json_option
@click.pass_context
def list_sightings(ctx: click.Context, matched: bool | None, title: str | None, limit: int, offset: int,
                   as_json: bool) -> None:
    """Sightings, most recently seen first, each with where its probe … trace steps stand."""
    from reelguard.store.sightingjobs import SightingJobStore
    from reelguard.store.sightings import SightingStore

    with open_runtime(ctx) as runtime:
        rows = [s.to_json() for s in SightingStore(runtime.db).find(matched=matched, title_id=title, limit=limit,
                                                                     offset=offset)]
        progress = SightingJobStore(runtime.db).progress([row["id"] for row in rows])
    for row in rows:
        row["progress"] = progress.get(row["id"], "not probed" if row["matches"] else "not ours by its name")
    emit(rows, as_json, _render_sightings)


@sightings.command("show")
@click.argument("sighting")
@json_option
@click.pass_context
def show(ctx: click.Context, sighting: str, as_json: bool) -> None:
    """One sighting by its id or infohash: where it was listed, what its name says, what it matched and why."""
    from reelguard.store.sightingjobs import SightingJobStore
    from reelguard.store.sightings import SightingStore

    with open_runtime(ctx) as runtime:
        record = SightingStore(runtime.db).get(sighting).to_json()
        jobs = SightingJobStore(runtime.db)
        record["steps"] = [job.to_json() for job in jobs.jobs(record["id"])]
        record["peers"] = jobs.observations(record["id"])
    emit(record, as_json, _render_sighting)


def _render_watches(rows: list[dict[str, Any]]) -> None:
    table = Table("title", "searched as", "year", "episode", "other names", "sources", "next due")
    for row in rows:
        episode = f"S{row['season']:02d}E{row['episode']:02d}" if row["season"] is not None else ""
        table.add_row(row["title"], row["search_name"], str(row["year"] or ""), episode,
                      ", ".join(row["other_names"]), ", ".join(row["sources"]) or "all",
                      (row["next_due_at"] or "")[:19])
    console.print(table if rows else "nothing watched (reelguard watch add …)")


def _render_round(report: dict[str, Any]) -> None:
    console.print(f"round at {report['started'][:19]}: {len(report['titles'])} titles due "
                  f"({', '.join(report['titles']) or 'none'})")
    table = Table("source", "queries", "items", "new", "seen again", "matched", "rejected", "error")
    for row in report["sources"]:
        error = row.get("error") or ""
        if row.get("resting_until"):
            error = f"{error} — resting until {row['resting_until'][:19]}".strip(" —")
        table.add_row(row.get("source", "?"), str(row.get("queries", "")), str(row.get("items", "")),
                      str(row.get("new", "")), str(row.get("seen_again", "")), str(row.get("matched", "")),
                      str(len(row.get("rejected", []))), error)
    console.print(table)
    for step in report.get("leaks", []):
        console.print(f"  sighting {step['sighting'][:12]} {step['step']}: {step['verdict']}"
                      + (f" ({step['error']})" if step["error"] else ""), markup=False)
    act = report.get("act") or {}
    for case_id in act.get("opened", []):
        console.print(f"  case {case_id} opened (`reelguard cases show {case_id}`)", markup=False)
    for case_id, decisions in (act.get("decisions") or {}).items():
        for decision in decisions:
            console.print(f"  case {case_id[:12]} {decision['action']} ({decision['rule']}): {decision['result']}",
                          markup=False)


def _render_sightings(rows: list[dict[str, Any]]) -> None:
    table = Table("id", "name", "infohash", "seeders", "seen", "last seen", "matches", "progress")
    for row in rows:
        matches = ", ".join(f"{m['title_id']} ({m['score']:.2f})" for m in row["matches"]) or "-"
        table.add_row(row["id"][:12], row["name"], (row["infohash_v1"] or row["infohash_v2"] or "")[:16],
                      str(row["seeders"] if row["seeders"] is not None else "?"), str(row["times_seen"]),
                      row["last_seen"][:19], matches, row["progress"])
    console.print(table if rows else "no sightings")


def _render_sighting(row: dict[str, Any]) -> None:
    console.print(f"[bold]{row['name']}[/bold]  (sighting {row['id']})")
    console.print(f"infohash v1 {row['infohash_v1'] or '-'}  v2 {row['infohash_v2'] or '-'}  size "
                  f"{row['size_bytes'] or '?'} bytes  seeders {row['seeders']}  leechers {row['leechers']}")
    console.print(f"seen {row['times_seen']} times, {row['first_seen'][:19]} … {row['last_seen'][:19]}")
    for listing in row["listings"]:
        console.print(f"  listed on {listing['source']} as {listing['item_id']}")
    release = row["release"]
    console.print(f"read as: {release.get('title_words') or release.get('title')!r} year {release.get('year')} "
                  f"{'cinema copy ' if release.get('cinema_copy') else ''}{'pack ' if release.get('pack') else ''}")
    for match in row["matches"] or [{"title_id": "no catalog title", "score": 0.0, "reasons": []}]:
        console.print(f"  → {match['title_id']} {match['score']:.2f}: {', '.join(match['reasons'])}")
    for peer in row.get("peers", []):
        piece = f"piece {peer['piece_index']} sha1 {peer['piece_sha1']}" if peer["piece_sha1"] else peer["reason"]
        console.print(f"  peer {peer['peer_ip']}:{peer['peer_port']} ({peer['found_by']}, {peer['client'] or '?'}): "
                      f"{peer['verdict']} — {piece}, {peer['bytes_received']} bytes", markup=False)
    for step in row.get("steps", []):
        said = (step["result"] or {}).get("verdict") or step["error"] or ""
        console.print(f"  {step['step']}: {step['state']} — {said}", markup=False)
