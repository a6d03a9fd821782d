"""Sightings: torrents seen on piracy sources, one row per torrent however many sources list it.

A torrent is known by its infohash (v1 and/or v2); a source's listing of it by (source,
item id). Recording a listing finds its sighting by the listing, else by either infohash,
else makes one — so the same torrent on two indexers, or on one indexer twice a day, is
one sighting whose ``last_seen``, ``times_seen`` and swarm counts move on, never a second
row. A page of listings is recorded in one transaction: a crash records all of it or none::

    store = SightingStore(db)
    new, seen_again = store.record([Listing(source="indexer", item_id="…", name="Dune…", infohash_v1="…")], now)
    store.find(matched=True, limit=50)
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from reelguard.errors import NotFound
from reelguard.store.database import Database
from reelguard.store.models import ListingRow, SightingRow, SightingTitleRow

__all__ = ["Listing", "Sighting", "SightingStore"]


@dataclass(frozen=True)
class Listing:
    """One listing of a torrent on a source, read and matched (what ``record`` stores)."""

    source: str
    item_id: str
    name: str
    size_bytes: int | None = None
    infohash_v1: str | None = None
    infohash_v2: str | None = None
    magnet: str | None = None
    link: str | None = None
    categories: tuple[int, ...] = ()
    seeders: int | None = None
    leechers: int | None = None
    published: datetime | None = None
    release: dict[str, Any] = field(default_factory=dict)
    matches: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Sighting:
    id: str
    name: str
    size_bytes: int | None
    infohash_v1: str | None
    infohash_v2: str | None
    magnet: str | None
    link: str | None
    categories: list[int]
    seeders: int | None
    leechers: int | None
    release: dict[str, Any]
    matches: list[dict[str, Any]]
    first_seen: datetime
    last_seen: datetime
    times_seen: int
    listings: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "size_bytes": self.size_bytes, "infohash_v1": self.infohash_v1,
                "infohash_v2": self.infohash_v2, "magnet": self.magnet, "link": self.link,
                "categories": self.categories, "seeders": self.seeders, "leechers": self.leechers,
                "matches": self.matches, "first_seen": self.first_seen.isoformat(),
                "last_seen": self.last_seen.isoformat(), "times_seen": self.times_seen, "listings": self.listings,
                "release": self.release}


class SightingStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def record(self, listings: Sequence[Listing], now: datetime) -> tuple[int, int]:
        """Store ``listings`` in one transaction; (sightings made, sightings seen again)."""
        made = again = 0
        # serialized: two workers recording one new torrent at once would both find no row and both insert it
        with self._db.serialized("sightings") as session:
            for listing in listings:
                row = _existing(session, listing)
                if row is None:
                    row = _new_row(listing, now)
                    session.add(row)
                    made += 1
                    newly_matched = bool(listing.matches)
                else:
                    newly_matched = bool(listing.matches) and not row.matches
                    _seen_again(row, listing, now)
                    again += 1
                session.flush()
                if newly_matched:
                    session.add_all(SightingTitleRow(sighting_id=row.id, title_id=title)
                                    for title in dict.fromkeys(str(m["title_id"]) for m in listing.matches))
                _list(session, row.id, listing, now)
        return made, again

    def find(self, *, matched: bool | None = None, title_id: str | None = None, limit: int = 50,
             offset: int = 0) -> list[Sighting]:
        """Sightings, most recently seen first; ``title_id`` keeps those matched to that catalog title."""
        with self._db.session() as session:
            query = select(SightingRow).order_by(SightingRow.last_seen.desc(), SightingRow.id)
            if matched is not None:
                query = query.where(SightingRow.matched.is_(matched))
            if title_id is not None:
                query = query.join(SightingTitleRow, SightingTitleRow.sighting_id == SightingRow.id).where(
                    SightingTitleRow.title_id == title_id)
            return [_record(session, row) for row in session.scalars(query.offset(offset).limit(limit))]

    def get(self, sighting_id: str) -> Sighting:
        """A sighting by its id or either infohash; ``NotFound`` saying what was asked."""
        with self._db.session() as session:
            key = sighting_id.strip().lower()
            row = session.scalars(select(SightingRow).where(or_(
                SightingRow.id == key, SightingRow.infohash_v1 == key, SightingRow.infohash_v2 == key))).first()
            if row is None:
                raise NotFound(f"no sighting {sighting_id!r} (expected a sighting id or an infohash; "
                               f"`reelguard sightings list` shows them)")
            return _record(session, row)

    def count(self) -> int:
        with self._db.session() as session:
            return int(session.scalar(select(func.count()).select_from(SightingRow)) or 0)


def _existing(session: Session, listing: Listing) -> SightingRow | None:
    known = session.get(ListingRow, (listing.source, _item_key(listing.item_id)))
    if known is not None:
        return session.get(SightingRow, known.sighting_id)
    hashes = [column == value for column, value in ((SightingRow.infohash_v1, listing.infohash_v1),
                                                    (SightingRow.infohash_v2, listing.infohash_v2)) if value]
    if not hashes:
        return None
    return session.scalars(select(SightingRow).where(or_(*hashes))).first()


def _item_key(item_id: str) -> str:
    """A source's item id as stored: ids longer than the column (a URL with a query) by their SHA-256."""
    return item_id if len(item_id) <= 400 else "sha256:" + hashlib.sha256(item_id.encode()).hexdigest()


def _new_row(listing: Listing, now: datetime) -> SightingRow:
    return SightingRow(
        id=uuid.uuid4().hex, name=listing.name, size_bytes=listing.size_bytes, infohash_v1=listing.infohash_v1,
        infohash_v2=listing.infohash_v2, magnet=listing.magnet, link=listing.link,
        categories=list(listing.categories), seeders=listing.seeders, leechers=listing.leechers,
        release=listing.release, matches=listing.matches, matched=bool(listing.matches), first_seen=now,
        last_seen=now, times_seen=1)


def _seen_again(row: SightingRow, listing: Listing, now: datetime) -> None:
    """The newest counts and anything the row lacked; a hash once known is never unset."""
    row.last_seen, row.times_seen = max(row.last_seen, now), row.times_seen + 1
    row.seeders = listing.seeders if listing.seeders is not None else row.seeders
    row.leechers = listing.leechers if listing.leechers is not None else row.leechers
    row.infohash_v1 = row.infohash_v1 or listing.infohash_v1
    row.infohash_v2 = row.infohash_v2 or listing.infohash_v2
    row.magnet, row.link = row.magnet or listing.magnet, row.link or listing.link
    row.size_bytes = row.size_bytes or listing.size_bytes
    if listing.matches and not row.matches:
        row.matches, row.matched, row.release = listing.matches, True, listing.release


def _list(session: Session, sighting_id: str, listing: Listing, now: datetime) -> None:
    row = session.get(ListingRow, (listing.source, _item_key(listing.item_id)))
    if row is None:
        session.add(ListingRow(source=listing.source, item_id=_item_key(listing.item_id), sighting_id=sighting_id,
                               published=listing.published, first_seen=now, last_seen=now))
    else:
        row.last_seen = max(row.last_seen, now)


def _record(session: Session, row: SightingRow) -> Sighting:
    listings = session.scalars(select(ListingRow).where(ListingRow.sighting_id == row.id)
                               .order_by(ListingRow.first_seen, ListingRow.source))
    return Sighting(
        row.id, row.name, row.size_bytes, row.infohash_v1, row.infohash_v2, row.magnet, row.link,
        list(row.categories), row.seeders, row.leechers, dict(row.release), list(row.matches), row.first_seen,
        row.last_seen, row.times_seen,
        [{"source": r.source, "item_id": r.item_id, "first_seen": r.first_seen.isoformat(),
          "last_seen": r.last_seen.isoformat(), "published": r.published.isoformat() if r.published else None}
         for r in listings])
