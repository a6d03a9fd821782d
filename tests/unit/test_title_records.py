"""Title records: the package and watermark JSON read and written in one place, typed."""

from __future__ import annotations

from reelguard.titles import PackagedStream, PackagedWatermark, PackageRecord, WatermarkParams

WATERMARKED_PACKAGE = {
    "blob_prefix": "packages/t1", "dash_manifest": "dash/manifest.mpd", "hls_master": "hls/master.m3u8",
    "segment_seconds": 4,
    "streams": [{"name": "video_720p", "kind": "video", "tier": "HD", "kid": "0f9b", "width": 1280, "height": 720,
                 "bitrate_kbps": 3000},
                {"name": "audio", "kind": "audio", "tier": "AUDIO", "kid": "77aa"}],
    "watermark": {"variant_b": "variants/b/", "pace_info": "wm/pace.json", "positions": 75},
}


def test_a_watermarked_package_round_trips() -> None:
    record = PackageRecord.from_json(WATERMARKED_PACKAGE)
    assert record.watermark == PackagedWatermark(variant_b="variants/b/", pace_info="wm/pace.json", positions=75)
    assert record.streams[1] == PackagedStream(name="audio", kind="audio", tier="AUDIO", kid="77aa")
    assert record.streams[0].height == 720
    assert record.to_json() == WATERMARKED_PACKAGE


def test_a_rotated_package_names_its_generation_and_an_older_record_is_the_first() -> None:
    assert PackageRecord.from_json(WATERMARKED_PACKAGE).generation == 1
    rotated = {**WATERMARKED_PACKAGE, "blob_prefix": "packages/t1/k3", "generation": 3}
    assert PackageRecord.from_json(rotated).generation == 3
    assert PackageRecord.from_json(rotated).to_json() == rotated


def test_watermark_parameters_round_trip_and_are_typed() -> None:
    params = WatermarkParams.from_json({"strength": "0.3", "collusion": 2, "segment_seconds": 4.0})
    assert params == WatermarkParams(strength=0.3, collusion=2, segment_seconds=4)
    assert WatermarkParams.from_json(params.to_json()) == params
    assert (params.mask_floor, params.flat_boost) == (0.0, 0.0)  # marked before either: detected as marked
    boosted = WatermarkParams(strength=0.3, collusion=2, segment_seconds=2, mask_floor=1.0, flat_boost=1.0)
    assert WatermarkParams.from_json(boosted.to_json()) == boosted
