"""Repositories: the only code that writes SQL for titles and content keys.

Each function takes an open ``Session`` so that a service composes several of them in
one transaction (ingest records a title and its keys together, or neither). Readers get
``titles.Title`` records (``load_title``, ``lookup_title``); ``get_title`` and
``find_title`` hand out the ORM row, for a writer to change inside its transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reelguard.errors import NotFound
from reelguard.store.models import OWN_KEYS, ContentKeyRow, TitleRow
from reelguard.titles import IngestStage, PackageRecord, Title, TitleStatus, WatermarkParams

__all__ = [
    "find_title",
    "get_title",
    "keys_by_kids",
    "keys_of_title",
    "list_titles",
    "load_title",
    "lookup_title",
    "title_record",
]


def title_record(row: TitleRow) -> Title:
    """The typed record of a title row (its JSON columns read once, here)."""
    return Title(
        id=row.id, name=row.name, status=TitleStatus(row.status), stage=IngestStage(row.stage),
        master_blob=row.master_blob, source_filename=row.source_filename, source_bytes=row.source_bytes,
        duration_seconds=row.duration_seconds, width=row.width, height=row.height, frame_rate=row.frame_rate,
        has_audio=row.has_audio, package=PackageRecord.from_json(row.package) if row.package else None,
        watermark=WatermarkParams.from_json(row.watermark) if row.watermark is not None else None,
        error=row.error, created_at=row.created_at, updated_at=row.updated_at,
    )


def load_title(session: Session, name_or_id: str) -> Title:
    """A title by name or id, as a record; NotFound (saying how many there are) if there is none."""
    return title_record(get_title(session, name_or_id))


def lookup_title(session: Session, name_or_id: str) -> Title | None:
    row = find_title(session, name_or_id)
    return title_record(row) if row is not None else None


def find_title(session: Session, name_or_id: str) -> TitleRow | None:
    """A title by its name, or by its id."""
    row = session.scalar(select(TitleRow).where(TitleRow.name == name_or_id))
    return row if row is not None else session.get(TitleRow, name_or_id)


def get_title(session: Session, name_or_id: str) -> TitleRow:
    row = find_title(session, name_or_id)
    if row is None:
        count = len(session.scalars(select(TitleRow.id)).all())
        raise NotFound(
            f"no title named {name_or_id!r} ({count} titles in the catalog; "
            "see 'reelguard titles list')"
        )
    return row


def list_titles(session: Session) -> list[Title]:
    return [title_record(row) for row in session.scalars(select(TitleRow).order_by(TitleRow.created_at)).all()]


def keys_of_title(session: Session, title_id: str, generation: int | None = None) -> Sequence[ContentKeyRow]:
    """The title's own keys of ``generation`` (the newest when None), one per tier (not keys third-party
    packagers asked for by KID)."""
    own = (ContentKeyRow.title_id == title_id, ContentKeyRow.origin == OWN_KEYS)
    if generation is None:
        generation = session.scalar(select(func.max(ContentKeyRow.generation)).where(*own)) or 1
    return session.scalars(
        select(ContentKeyRow).where(*own, ContentKeyRow.generation == generation).order_by(ContentKeyRow.tier)
    ).all()


def keys_by_kids(session: Session, kids_hex: Sequence[str]) -> Sequence[ContentKeyRow]:
    return session.scalars(select(ContentKeyRow).where(ContentKeyRow.kid.in_(kids_hex))).all()


def retiring_keys(session: Session, title_id: str) -> dict[str, datetime]:
    """The title's keys that a rotation retires, by KID (hex): when each stops being licensed."""
    rows = session.execute(select(ContentKeyRow.kid, ContentKeyRow.retire_at).where(
        ContentKeyRow.title_id == title_id, ContentKeyRow.retire_at.is_not(None))).all()
    return {kid: retire_at for kid, retire_at in rows if retire_at is not None}
