"""SQLAlchemy table models. The schema is owned by the Alembic migrations beside this file.

A title moves through ``stage`` (received → keys → transcoded → packaged) while its
``status`` is ``ingesting``; only the last step flips it to ``ready`` in the same
transaction that records the package, so no reader ever sees a half-packaged title.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = ["Base", "ContentKeyRow", "TitleRow"]


class Base(DeclarativeBase):
    pass


class TitleRow(Base):
    __tablename__ = "titles"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True, index=True)
    status: Mapped[str] = mapped_column(String(16))
    stage: Mapped[str] = mapped_column(String(16))
    master_blob: Mapped[str] = mapped_column(String(400))
    source_filename: Mapped[str] = mapped_column(String(400))
    source_bytes: Mapped[int] = mapped_column(Integer)
    duration_seconds: Mapped[float] = mapped_column(Float)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    frame_rate: Mapped[float] = mapped_column(Float)
    has_audio: Mapped[bool]
    package: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ContentKeyRow(Base):
    __tablename__ = "content_keys"

    kid: Mapped[str] = mapped_column(String(32), primary_key=True)
    title_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("titles.id", ondelete="CASCADE"), index=True
    )
    tier: Mapped[str] = mapped_column(String(8))
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary(64))
    kek_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
