"""Pure planning: the rendition ladder and the packager's flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from reelguard.drm.keys import ContentKey, TrackTier, tier_for_height
from reelguard.drm.packaging import PackageStream, Scheme, build_packager_flags, derive_iv
from reelguard.errors import PackagingError
from reelguard.media.ladder import plan_ladder


def test_ladder_is_capped_at_the_source_and_keeps_aspect() -> None:
    ladder = plan_ladder(1280, 720, (360, 540, 720, 1080))
    assert [(r.width, r.height) for r in ladder] == [(640, 360), (960, 540), (1280, 720)]
    assert [tier_for_height(r.height) for r in ladder] == [TrackTier.SD, TrackTier.SD, TrackTier.HD]


def test_small_source_gets_one_rendition_at_source_size() -> None:
    ladder = plan_ladder(176, 144, (360, 720))
    assert [(r.width, r.height) for r in ladder] == [(176, 144)]


def test_widths_are_even() -> None:
    assert all(r.width % 2 == 0 for r in plan_ladder(640, 272, (144, 240, 272)))


def _streams() -> list[PackageStream]:
    return [PackageStream("video_720p", Path("/w/video_720p.mp4"), "video", TrackTier.HD),
            PackageStream("audio", Path("/w/audio.mp4"), "audio", TrackTier.AUDIO)]


@pytest.mark.parametrize("scheme", list(Scheme))
def test_keys_go_to_secret_flags_never_descriptors(scheme: Scheme) -> None:
    keys = [ContentKey.generate(TrackTier.HD), ContentKey.generate(TrackTier.AUDIO)]
    descriptors, flags = build_packager_flags(_streams(), keys, scheme=scheme, out_dir=Path("/o"),
                                              title_id="t1", segment_seconds=4)
    assert all(k.key.hex() not in d for k in keys for d in descriptors)
    assert any(keys[0].key.hex() in f for f in flags)
    assert "--clear_lead=0" in flags
    assert f"--protection_scheme={scheme.value}" in flags
    assert "--protection_systems=CommonSystem,Widevine,PlayReady" in flags


def test_hls_streams_get_their_own_folder_for_the_relative_key_uri() -> None:
    keys = [ContentKey.generate(TrackTier.HD), ContentKey.generate(TrackTier.AUDIO)]
    descriptors, flags = build_packager_flags(_streams(), keys, scheme=Scheme.CBCS, out_dir=Path("/o"),
                                              title_id="t1", segment_seconds=4)
    assert "playlist_name=video_720p/stream.m3u8" in descriptors[0]
    assert "--hls_key_uri=key" in flags


def test_iv_is_deterministic_per_title_and_scheme() -> None:
    assert derive_iv("t1", Scheme.CENC) == derive_iv("t1", Scheme.CENC)
    assert len(derive_iv("t1", Scheme.CENC)) == 8 and len(derive_iv("t1", Scheme.CBCS)) == 16
    assert derive_iv("t1", Scheme.CBCS) != derive_iv("t2", Scheme.CBCS)


def test_missing_tier_key_is_an_error() -> None:
    with pytest.raises(PackagingError, match="no content key for tier"):
        build_packager_flags(_streams(), [ContentKey.generate(TrackTier.HD)], scheme=Scheme.CENC,
                             out_dir=Path("/o"), title_id="t1", segment_seconds=4)
