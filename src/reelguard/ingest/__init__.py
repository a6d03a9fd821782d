"""Ingest: validate a master, create its keys, transcode the ladder, package it."""

from typing import TYPE_CHECKING

from reelguard._lazy import lazy_exports

if TYPE_CHECKING:
    from reelguard.ingest.records import TitleView
    from reelguard.ingest.service import IngestService

__all__ = ["IngestService", "TitleView"]
__getattr__ = lazy_exports(__name__, {"IngestService": "reelguard.ingest.service",
                                      "TitleView": "reelguard.ingest.records"})
