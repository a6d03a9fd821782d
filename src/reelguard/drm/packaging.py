"""Packaging with Shaka Packager: DASH/``cenc`` and HLS(fMP4)/``cbcs``, one key per tier.

Two packager runs share the same raw keys: DASH with CENC AES-CTR and HLS with CBCS,
both SegmentTemplate/fMP4 with PSSH for the W3C Common system, Widevine and PlayReady.
Clear lead is 0, so nothing is watchable without a licence. The IV is derived from the
title id and scheme, which makes the output byte-identical for the same title and keys
(idempotent re-packaging).

Layout under ``out_dir``::

    dash/manifest.mpd   dash/<stream>/init.mp4   dash/<stream>/<n>.m4s
    hls/master.m3u8     hls/<stream>/stream.m3u8 hls/<stream>/init.mp4  hls/<stream>/<n>.m4s

Each HLS stream sits in its own folder and its ``EXT-X-KEY`` URI is the relative ``key``,
so players resolve it to ``hls/<stream>/key`` — a key-delivery endpoint that knows which
tier (and so which key) the stream needs and checks the entitlement token first.

The keys reach the packager in a 0600 ``--flagfile`` that is deleted afterwards, never on
its command line (where any local user could read them from the process list).
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from reelguard.drm.keys import ContentKey, TrackTier, tier_for_height
from reelguard.drm.pssh import PACKAGER_PROTECTION_SYSTEMS
from reelguard.errors import PackagingError
from reelguard.media.ladder import Rendition
from reelguard.media.processes import run_tied
from reelguard.media.tools import MediaTools
from reelguard.media.transcode import AUDIO_OUTPUT

__all__ = [
    "HLS_KEY_URI",
    "PackageStream",
    "Scheme",
    "build_packager_flags",
    "derive_iv",
    "ladder_streams",
    "package_title",
]

HLS_KEY_URI = "key"
_PACKAGER_TIMEOUT_SECONDS = 1800
_ADAPTATION_SET_ID = re.compile(r'(<AdaptationSet id=)"\d+"')


class Scheme(StrEnum):
    CENC = "cenc"
    CBCS = "cbcs"


@dataclass(frozen=True, slots=True)
class PackageStream:
    """One elementary stream to package: its transcoded file, kind and key tier."""

    name: str
    source: Path
    kind: str  # "video" or "audio"
    tier: TrackTier


def ladder_streams(renditions: Sequence[Rendition], transcode_dir: Path, has_audio: bool) -> list[PackageStream]:
    """The streams to package from a ladder transcode (one file per rendition, plus audio)."""
    streams = [PackageStream(r.name, transcode_dir / f"{r.name}.mp4", "video", tier_for_height(r.height))
               for r in renditions]
    if has_audio:
        streams.append(PackageStream("audio", transcode_dir / AUDIO_OUTPUT, "audio", TrackTier.AUDIO))
    return streams


def derive_iv(title_id: str, scheme: Scheme, variant: str = "") -> bytes:
    """A deterministic IV per title and scheme: 8 bytes for cenc, 16 for cbcs (constant IV).

    Watermark variant B gets its own cenc IV, so A and B never share an AES-CTR keystream
    (the per-sample IVs travel in each segment, so B's segments still play after A's init).
    cbcs signals one constant IV in the init segment, which A and B must share to be
    interchangeable; CBC with a constant IV is what cbcs does for every sample anyway.
    """
    label = f"{title_id}/{variant}" if variant and scheme is Scheme.CENC else title_id
    digest = hashlib.sha256(f"reelguard-iv/{scheme}/{label}".encode()).digest()
    return digest[: 16 if scheme is Scheme.CBCS else 8]


def build_packager_flags(
    streams: Sequence[PackageStream],
    keys: Sequence[ContentKey],
    *,
    scheme: Scheme,
    out_dir: Path,
    title_id: str,
    segment_seconds: int,
    variant: str = "",
) -> tuple[list[str], list[str]]:
    """Return (stream descriptors, secret flags) for one packager run (pure)."""
    _require_keys_for_streams(streams, keys)
    descriptors = [_descriptor(s, scheme, out_dir) for s in streams]
    key_spec = ",".join(
        f"label={k.tier.value}:key_id={k.kid.hex}:key={k.key.hex()}" for k in keys
        if any(s.tier is k.tier for s in streams)
    )
    flags = [
        "--enable_raw_key_encryption",
        f"--keys={key_spec}",
        f"--iv={derive_iv(title_id, scheme, variant).hex()}",
        f"--protection_scheme={scheme.value}",
        f"--protection_systems={','.join(PACKAGER_PROTECTION_SYSTEMS)}",
        "--clear_lead=0",
        # mvhd/tkhd creation times would otherwise make every run's init segments differ;
        # players ignore them, and byte-identical output is what makes packaging idempotent.
        "--use_fake_clock_for_muxer",
        f"--segment_duration={segment_seconds}",
    ]
    if scheme is Scheme.CENC:
        flags += ["--generate_static_live_mpd", f"--mpd_output={out_dir / 'dash' / 'manifest.mpd'}"]
    else:
        flags += [
            f"--hls_master_playlist_output={out_dir / 'hls' / 'master.m3u8'}",
            f"--hls_key_uri={HLS_KEY_URI}",
            "--hls_playlist_type=VOD",
        ]
    return descriptors, flags


def _require_keys_for_streams(streams: Sequence[PackageStream], keys: Sequence[ContentKey]) -> None:
    have = {k.tier for k in keys}
    missing = sorted({s.tier.value for s in streams} - {t.value for t in have})
    if missing:
        raise PackagingError(f"no content key for tier(s) {', '.join(missing)} (have {sorted(t.value for t in have)})")


def _descriptor(stream: PackageStream, scheme: Scheme, out_dir: Path) -> str:
    folder = "dash" if scheme is Scheme.CENC else "hls"
    base = out_dir / folder / stream.name
    fields = [
        f"in={stream.source}",
        f"stream={stream.kind}",
        f"init_segment={base / 'init.mp4'}",
        f"segment_template={base / '$Number$.m4s'}",
        f"drm_label={stream.tier.value}",
    ]
    if scheme is Scheme.CBCS:
        fields.append(f"playlist_name={stream.name}/stream.m3u8")
        if stream.kind == "audio":
            fields += ["hls_group_id=audio", f"hls_name={stream.name}"]
    return ",".join(fields)


def package_title(
    tools: MediaTools,
    streams: Sequence[PackageStream],
    keys: Sequence[ContentKey],
    *,
    out_dir: Path,
    title_id: str,
    segment_seconds: int,
    variant: str = "",
) -> None:
    """Package DASH/cenc and HLS/cbcs into ``out_dir``; raise PackagingError on failure.

    ``variant`` names a watermark variant tree other than the primary one (e.g. "b").
    """
    for scheme in (Scheme.CENC, Scheme.CBCS):
        descriptors, flags = build_packager_flags(
            streams, keys, scheme=scheme, out_dir=out_dir, title_id=title_id,
            segment_seconds=segment_seconds, variant=variant,
        )
        run_packager(tools, descriptors, flags, secrets=[k.key.hex() for k in keys])
    mpd = out_dir / "dash" / "manifest.mpd"
    mpd.write_text(normalise_adaptation_set_ids(mpd.read_text(encoding="utf-8")), encoding="utf-8")


def normalise_adaptation_set_ids(mpd: str) -> str:
    """Number AdaptationSets 0, 1, 2… in document order.

    Shaka Packager assigns AdaptationSet ids in the order its muxer threads finish, so
    two runs over the same input may swap them. The ids are opaque to players; fixing
    them is what makes the manifest byte-identical across runs.
    """
    counter = iter(range(1_000_000))
    return _ADAPTATION_SET_ID.sub(lambda m: f'{m.group(1)}"{next(counter)}"', mpd)


def run_packager(tools: MediaTools, descriptors: list[str], flags: list[str], secrets: list[str]) -> None:
    """Run the packager with ``flags`` passed through a private flag file."""
    fd, flagfile = tempfile.mkstemp(prefix="reelguard-packager-", suffix=".flags")
    try:
        with os.fdopen(fd, "w") as handle:  # mkstemp creates it 0600
            handle.write("\n".join(flags) + "\n")
        command = [tools.packager, *descriptors, f"--flagfile={flagfile}"]
        result = run_tied(command, capture_output=True, text=True, errors="replace",
                          timeout=_PACKAGER_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired as exc:
        raise PackagingError(f"Shaka Packager did not finish within {_PACKAGER_TIMEOUT_SECONDS} s") from exc
    finally:
        Path(flagfile).unlink(missing_ok=True)
    if result.returncode != 0:
        raise PackagingError(f"Shaka Packager failed: {_scrub(_tail(result.stderr), secrets)}")


def _tail(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return " | ".join(lines[-3:]) or "no message"


def _scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "[redacted]").replace(secret.upper(), "[redacted]")
    return text
