"""Repositories: the only code that writes SQL for titles and content keys.

Each function takes an open ``Session`` so that a service composes several of them in
one transaction (ingest records a title and its keys together, or neither).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from reelguard.errors import NotFound
from reelguard.store.models import OWN_KEYS, ContentKeyRow, TitleRow

__all__ = [
    "find_title",
    "get_title",
    "keys_by_kids",
    "keys_of_title",
    "list_titles",
]


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


def list_titles(session: Session) -> Sequence[TitleRow]:
    return session.scalars(select(TitleRow).order_by(TitleRow.created_at)).all()


def keys_of_title(session: Session, title_id: str) -> Sequence[ContentKeyRow]:
    """The title's own keys, one per tier (not keys third-party packagers asked for by KID)."""
    return session.scalars(
        select(ContentKeyRow).where(ContentKeyRow.title_id == title_id, ContentKeyRow.origin == OWN_KEYS)
        .order_by(ContentKeyRow.tier)
    ).all()


def keys_by_kids(session: Session, kids_hex: Sequence[str]) -> Sequence[ContentKeyRow]:
    return session.scalars(select(ContentKeyRow).where(ContentKeyRow.kid.in_(kids_hex))).all()
