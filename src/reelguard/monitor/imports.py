"""Sightings a vendor already found (MarkMonitor, OpSec, an in-house crawler), imported from its CSV or JSON export.

Each row is a release listing: ``name`` (required) and at least one of ``infohash`` and
``magnet``; optionally ``size_bytes``, ``seeders``, ``leechers``, ``first_seen`` (ISO 8601),
``url``, ``item_id``. JSON is a list of such objects (or ``{"items": [...]}``). The whole
file is checked before anything is returned: one bad row refuses the import with every
problem found (row number, column, what arrived), so an import is all or nothing::

    source = ImportedSightings("vendor-export", Path("opsec-2026-12.csv"))
    items = source.items()
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reelguard.errors import InvalidInput
from reelguard.monitor.releases import clean_release_name
from reelguard.monitor.sources import (
    PiracySource,
    SearchQuery,
    SourceItem,
    parse_infohash,
    parse_magnet,
    register_source,
    words_in,
)

__all__ = ["MAX_IMPORT_BYTES", "ImportedSightings"]

MAX_IMPORT_BYTES = 64 * 1024 * 1024
_SHOWN_PROBLEMS = 8


class ImportedSightings(PiracySource):
    kind = "import"

    def __init__(self, name: str, path: Path) -> None:
        super().__init__(name)
        self.path = path

    def items(self) -> list[SourceItem]:
        """Every row as an item; ``InvalidInput`` listing each bad row when any is bad."""
        rows = _rows(self.path)
        items, problems = [], []
        for number, row in enumerate(rows, start=1):
            try:
                items.append(_item(self.name, row))
            except InvalidInput as exc:
                problems.append(f"row {number}: {exc}")
        if problems:
            more = f" (and {len(problems) - _SHOWN_PROBLEMS} more)" if len(problems) > _SHOWN_PROBLEMS else ""
            raise InvalidInput(f"{self.path}: {len(problems)} of {len(rows)} rows are not sightings, nothing was "
                               f"imported — " + "; ".join(problems[:_SHOWN_PROBLEMS]) + more)
        return items

    def search(self, query: SearchQuery) -> Iterator[SourceItem]:
        yield from (item for item in self.items() if words_in(query.terms, item.name))


def _rows(path: Path) -> list[Mapping[str, Any]]:
    if not path.is_file():
        raise InvalidInput(f"expected a CSV or JSON export at {path}, found nothing there")
    size = path.stat().st_size
    if size > MAX_IMPORT_BYTES:
        raise InvalidInput(f"{path}: expected an export of at most {MAX_IMPORT_BYTES} bytes, got {size}")
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    if path.suffix.lower() == ".json":
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{path}: expected JSON, got {text[:60]!r} ({exc})") from None
        rows = loaded.get("items") if isinstance(loaded, dict) else loaded
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise InvalidInput(f"{path}: expected a JSON list of objects (or {{\"items\": [...]}}), "
                               f"got {type(loaded).__name__}")
        return rows
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        if reader.fieldnames is None or "name" not in reader.fieldnames:
            raise InvalidInput(f"{path}: expected a CSV with a header holding 'name', got {reader.fieldnames}")
        return list(reader)
    raise InvalidInput(f"{path}: expected a .csv or .json export, got {path.suffix or 'no extension'}")


def _item(source: str, row: Mapping[str, Any]) -> SourceItem:
    name = clean_release_name(row.get("name"))
    infohash, magnet = _text(row, "infohash"), _text(row, "magnet")
    if not infohash and not magnet:
        raise InvalidInput("expected an infohash or a magnet, got neither")
    v1 = v2 = None
    if infohash:
        v1, v2 = parse_infohash(infohash)
    if magnet:
        parsed = parse_magnet(magnet)
        v1, v2 = v1 or parsed.infohash_v1, v2 or parsed.infohash_v2
    return SourceItem(source, _text(row, "item_id") or v1 or v2 or name, name, _number(row, "size_bytes"), v1, v2,
                      magnet or None, _text(row, "url") or None, seeders=_number(row, "seeders"),
                      leechers=_number(row, "leechers"), published=_when(row))


def _text(row: Mapping[str, Any], column: str) -> str:
    value = row.get(column)
    return "" if value is None else str(value).strip()


def _number(row: Mapping[str, Any], column: str) -> int | None:
    text = _text(row, column)
    if not text:
        return None
    if not text.isdigit():
        raise InvalidInput(f"expected {column} as a whole number, got {text[:40]!r}")
    return int(text)


def _when(row: Mapping[str, Any]) -> datetime | None:
    text = _text(row, "first_seen")
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"expected first_seen as an ISO 8601 time, got {text[:40]!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


register_source("import", ImportedSightings)
