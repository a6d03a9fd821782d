"""A title's lifecycle, named once: its status and the ingest stage it has completed.

Stored as their string values in ``titles.status`` and ``titles.stage``; code compares
the enum members, never string literals::

    if row.status == TitleStatus.READY: ...
    IngestStage.TRANSCODED.done_by(row.stage)     # has the title completed transcoding?
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["IngestStage", "TitleStatus"]


class TitleStatus(StrEnum):
    INGESTING = "ingesting"
    FAILED = "failed"
    READY = "ready"


class IngestStage(StrEnum):
    """The last stage a title completed, in order (``received`` → … → ``packaged``)."""

    RECEIVED = "received"
    KEYS = "keys"
    TRANSCODED = "transcoded"
    FINGERPRINTED = "fingerprinted"
    PACKAGED = "packaged"

    def done_by(self, stage: str) -> bool:
        """Whether a title at ``stage`` has completed this stage."""
        order = list(IngestStage)
        return order.index(IngestStage(stage)) >= order.index(self)
