"""How a title's renditions are encoded and packaged: a plain ladder, or A/B watermark variants.

Ingest chooses the layout once per title (``layout_for``) and every stage asks it, instead
of testing "is this title watermarked?" at each stage::

    layout = layout_for(title, tools=tools, watermark=secret)
    layout.transcode(plan, master, partial, on_progress)
    layout.complete(renditions, transcode_dir, has_audio)      # every output there and whole?
    streams = layout.fingerprint_streams(renditions, transcode_dir, has_audio)
    packaged = layout.package(title, renditions, transcode_dir, keys, out_dir, segment_seconds)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from reelguard.drm.keys import ContentKey
from reelguard.drm.packaging import PackageStream, ladder_streams, package_title
from reelguard.media.ladder import Rendition
from reelguard.media.tools import MediaTools
from reelguard.media.transcode import TranscodePlan, run_transcode
from reelguard.store.blobs import BlobStore
from reelguard.titles import PackagedWatermark, Title
from reelguard.watermark.embedding import FrameMarker, MaskRule
from reelguard.watermark.pace import segment_count
from reelguard.watermark.packaging import (
    PACE_FILE,
    PROXY_FILE,
    REFERENCE_FILE,
    package_variants,
    proxy_blob,
    reference_blob,
    variant_streams,
)
from reelguard.watermark.secrets import WatermarkSecret
from reelguard.watermark.variants import encode_variants

__all__ = ["Layout", "Packaged", "layout_for"]

Report = Callable[[float], None]


@dataclass(frozen=True)
class Packaged:
    streams: list[PackageStream]
    watermark: PackagedWatermark | None  # where the B variants and pace information are, if any


class Layout(Protocol):
    def transcode(self, plan: TranscodePlan, master: Path, out_dir: Path, report: Report) -> None:
        """Encode every rendition of the master into ``out_dir``."""

    def complete(self, renditions: list[Rendition], out_dir: Path, has_audio: bool) -> bool:
        """Whether ``out_dir`` holds every output of the transcode, each non-empty."""

    def fingerprint_streams(self, renditions: list[Rendition], out_dir: Path, has_audio: bool) -> list[PackageStream]:
        """The transcoded files recognition reads (the pictures a viewer of the title sees)."""

    def package(self, title: Title, renditions: list[Rendition], transcode_dir: Path, keys: list[ContentKey],
                out_dir: Path, segment_seconds: int) -> Packaged:
        """Encrypt and package into ``out_dir`` (and store what trace will need)."""


@dataclass(frozen=True)
class PlainLadder:
    tools: MediaTools

    def transcode(self, plan: TranscodePlan, master: Path, out_dir: Path, report: Report) -> None:
        run_transcode(self.tools, plan, master, out_dir, on_progress=report)

    def complete(self, renditions: list[Rendition], out_dir: Path, has_audio: bool) -> bool:
        return _all_whole(ladder_streams(renditions, out_dir, has_audio))

    def fingerprint_streams(self, renditions: list[Rendition], out_dir: Path, has_audio: bool) -> list[PackageStream]:
        return ladder_streams(renditions, out_dir, has_audio)

    def package(self, title: Title, renditions: list[Rendition], transcode_dir: Path, keys: list[ContentKey],
                out_dir: Path, segment_seconds: int) -> Packaged:
        streams = ladder_streams(renditions, transcode_dir, title.has_audio)
        package_title(self.tools, streams, keys, out_dir=out_dir, title_id=title.id, segment_seconds=segment_seconds)
        return Packaged(streams, None)


@dataclass(frozen=True)
class WatermarkVariants:
    """Every segment encoded twice (variants A and B, marked with the title's key); the reference and the master's
    proxy kept for trace."""

    tools: MediaTools
    marker: FrameMarker
    blobs: BlobStore

    def transcode(self, plan: TranscodePlan, master: Path, out_dir: Path, report: Report) -> None:
        reference = encode_variants(self.tools, plan, master, out_dir, marker=self.marker, on_progress=report)
        reference.save(out_dir / REFERENCE_FILE)

    def complete(self, renditions: list[Rendition], out_dir: Path, has_audio: bool) -> bool:
        both = variant_streams(renditions, out_dir, has_audio, "b") + variant_streams(renditions, out_dir, has_audio,
                                                                                       "a")
        return ((out_dir / REFERENCE_FILE).is_file() and (out_dir / PROXY_FILE).is_file()
                and _all_whole(both))

    def fingerprint_streams(self, renditions: list[Rendition], out_dir: Path, has_audio: bool) -> list[PackageStream]:
        return variant_streams(renditions, out_dir, has_audio, "a")

    def package(self, title: Title, renditions: list[Rendition], transcode_dir: Path, keys: list[ContentKey],
                out_dir: Path, segment_seconds: int) -> Packaged:
        streams = package_variants(self.tools, renditions, transcode_dir, keys, out_dir=out_dir, title_id=title.id,
                                   segment_seconds=segment_seconds, has_audio=title.has_audio,
                                   duration_seconds=title.duration_seconds)
        self.blobs.put_file(reference_blob(title.id), transcode_dir / REFERENCE_FILE)
        self.blobs.put_file(proxy_blob(title.id), transcode_dir / PROXY_FILE)
        return Packaged(streams, PackagedWatermark(variant_b="variants/b/", pace_info=PACE_FILE,
                                                  positions=segment_count(title.duration_seconds, segment_seconds)))


def layout_for(title: Title, *, tools: MediaTools, watermark: WatermarkSecret, blobs: BlobStore) -> Layout:
    """The title's layout, decided once from whether it was added with ``--watermark``."""
    if title.watermark is None:
        return PlainLadder(tools)
    marker = FrameMarker(key=watermark.title_keys(title.id).embed, strength=title.watermark.strength,
                         mask=MaskRule.of(title.watermark))
    return WatermarkVariants(tools, marker, blobs)


def _all_whole(streams: list[PackageStream]) -> bool:
    return all(s.source.is_file() and s.source.stat().st_size > 0 for s in streams)
