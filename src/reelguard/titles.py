"""A title as the rest of the code sees it: typed records, and its lifecycle named once.

``Title`` is what a repository returns (``store.repositories.load_title``), not an ORM
row: its package and watermark parameters are typed records (``PackageRecord``,
``WatermarkParams``), read from and written to the JSON columns by ``from_json`` /
``to_json`` in one place. Status and stage are enums, compared as members, never as
string literals::

    title = repositories.load_title(session, "ep01")
    if title.status is TitleStatus.READY and title.watermark is not None:
        title.watermark.segment_seconds, title.package.watermark.positions
    IngestStage.TRANSCODED.done_by(title.stage)     # has the title completed transcoding?
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = [
    "IngestStage",
    "PackageRecord",
    "PackagedStream",
    "PackagedWatermark",
    "Title",
    "TitleStatus",
    "WatermarkParams",
    "generation_path",
]


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


@dataclass(frozen=True)
class WatermarkParams:
    """How a watermarked title was marked: chosen at ``titles add --watermark``, fixed for its life."""

    strength: float
    collusion: int
    segment_seconds: int
    # the perceptual mask it was marked with (embedding.MaskRule); 0 for titles marked before each
    mask_floor: float = 0.0
    flat_boost: float = 0.0

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> WatermarkParams:
        return cls(strength=float(value["strength"]), collusion=int(value["collusion"]),
                   segment_seconds=int(value["segment_seconds"]), mask_floor=float(value.get("mask_floor", 0.0)),
                   flat_boost=float(value.get("flat_boost", 0.0)))

    def to_json(self) -> dict[str, Any]:
        return {"strength": self.strength, "collusion": self.collusion, "segment_seconds": self.segment_seconds,
                "mask_floor": self.mask_floor, "flat_boost": self.flat_boost}


@dataclass(frozen=True)
class PackagedStream:
    """One packaged stream: its name (``video_720p``, ``audio``), kind, key tier and key id."""

    name: str
    kind: str  # "video" or "audio"
    tier: str  # a drm.keys.TrackTier value
    kid: str  # the key's UUID form
    width: int | None = None
    height: int | None = None
    bitrate_kbps: int | None = None

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> PackagedStream:
        return cls(name=str(value["name"]), kind=str(value["kind"]), tier=str(value["tier"]), kid=str(value["kid"]),
                   width=_optional_int(value.get("width")), height=_optional_int(value.get("height")),
                   bitrate_kbps=_optional_int(value.get("bitrate_kbps")))

    def to_json(self) -> dict[str, Any]:
        sizes = {"width": self.width, "height": self.height, "bitrate_kbps": self.bitrate_kbps}
        return {"name": self.name, "kind": self.kind, "tier": self.tier, "kid": self.kid,
                **{k: v for k, v in sizes.items() if v is not None}}


@dataclass(frozen=True)
class PackagedWatermark:
    """Where a watermarked package keeps its B variants and pace information, and its A/B positions."""

    variant_b: str
    pace_info: str
    positions: int

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> PackagedWatermark:
        return cls(variant_b=str(value["variant_b"]), pace_info=str(value["pace_info"]),
                   positions=int(value["positions"]))

    def to_json(self) -> dict[str, Any]:
        return {"variant_b": self.variant_b, "pace_info": self.pace_info, "positions": self.positions}


@dataclass(frozen=True)
class PackageRecord:
    """A ready title's package: where it is, its segment length and its streams."""

    blob_prefix: str
    dash_manifest: str
    hls_master: str
    segment_seconds: int
    streams: tuple[PackagedStream, ...]
    watermark: PackagedWatermark | None = None
    generation: int = 1  # the keys it is packaged under: each key rotation packages the title anew

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> PackageRecord:
        watermark = value.get("watermark")
        return cls(blob_prefix=str(value["blob_prefix"]), dash_manifest=str(value["dash_manifest"]),
                   hls_master=str(value["hls_master"]), segment_seconds=int(value["segment_seconds"]),
                   streams=tuple(PackagedStream.from_json(s) for s in value.get("streams", [])),
                   watermark=PackagedWatermark.from_json(watermark) if watermark else None,
                   generation=int(value.get("generation", 1)))

    def to_json(self) -> dict[str, Any]:
        return {"blob_prefix": self.blob_prefix, "dash_manifest": self.dash_manifest, "hls_master": self.hls_master,
                "segment_seconds": self.segment_seconds, "streams": [s.to_json() for s in self.streams],
                **({"watermark": self.watermark.to_json()} if self.watermark else {}),
                **({"generation": self.generation} if self.generation > 1 else {})}  # absent: the first


def generation_path(generation: int) -> str:
    """Where a title's package of ``generation`` sits under ``packages/<title id>/``: the first at the root
    (as every title was packaged before rotation existed), each later one in ``k<N>/``."""
    return "" if generation <= 1 else f"k{generation}/"


@dataclass(frozen=True)
class Title:
    """A title of the catalog, as stored."""

    id: str
    name: str
    status: TitleStatus
    stage: IngestStage
    master_blob: str
    source_filename: str
    source_bytes: int
    duration_seconds: float
    width: int
    height: int
    frame_rate: float
    has_audio: bool
    package: PackageRecord | None
    watermark: WatermarkParams | None  # None: not watermarked
    error: str | None
    created_at: datetime
    updated_at: datetime

    @property
    def ready(self) -> bool:
        return self.status is TitleStatus.READY


def _optional_int(value: object) -> int | None:
    return None if value is None else int(value)  # type: ignore[call-overload]
