"""Ingest: validate a master, create its keys, transcode the ladder, package it."""

from reelguard.ingest.records import TitleView
from reelguard.ingest.service import IngestService

__all__ = ["IngestService", "TitleView"]
