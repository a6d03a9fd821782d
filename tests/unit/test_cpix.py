"""CPIX 2.3: request parsing, response building, round trips, PSSH boxes (pure)."""

from __future__ import annotations

import struct
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reelguard.drm.cpix import build_cpix_response, parse_cpix, read_cpix_keys, tier_for_track_type
from reelguard.drm.keys import ContentKey, KeyId, TrackTier
from reelguard.drm.pssh import COMMON_SYSTEM_ID, WIDEVINE_SYSTEM_ID, pssh_box, widevine_pssh_data
from reelguard.errors import InvalidCpix, PayloadTooLarge

NS = 'xmlns:cpix="urn:dashif:org:cpix" xmlns:pskc="urn:ietf:params:xml:ns:keyprov:pskc"'


def request(kids: list[KeyId], tracks: list[str]) -> bytes:
    keys = "".join(f'<cpix:ContentKey kid="{k.uuid}" commonEncryptionScheme="cbcs"/>' for k in kids)
    rules = "".join(f'<cpix:ContentKeyUsageRule kid="{k.uuid}" intendedTrackType="{t}"/>' for k, t in zip(kids, tracks,
                                                                                                       strict=True))
    return (f'<cpix:CPIX contentId="ep01" version="2.3" {NS}><cpix:ContentKeyList>{keys}</cpix:ContentKeyList>'
            f"<cpix:ContentKeyUsageRuleList>{rules}</cpix:ContentKeyUsageRuleList></cpix:CPIX>").encode()


kid_lists = st.lists(st.binary(min_size=16, max_size=16).map(KeyId), min_size=1, max_size=8, unique=True)


@given(kid_lists, st.data())
def test_response_round_trips_every_key(kids: list[KeyId], data: st.DataObject) -> None:
    tracks = [data.draw(st.sampled_from(["AUDIO", "SD", "HD", "UHD1", "VIDEO"])) for _ in kids]
    parsed = parse_cpix(request(kids, tracks), max_bytes=1 << 20)
    assert [k.kid for k in parsed.keys] == kids and [k.track_type for k in parsed.keys] == tracks
    keys = {kid: ContentKey(kid, tier_for_track_type(track), data.draw(st.binary(min_size=16, max_size=16)))
            for kid, track in zip(kids, tracks, strict=True)}
    answer = build_cpix_response(parsed, keys=keys, signaling=lambda system, element: "")
    assert read_cpix_keys(answer, max_bytes=1 << 20) == {kid: key.key for kid, key in keys.items()}


def test_track_types_map_to_tiers() -> None:
    assert [tier_for_track_type(t) for t in ("AUDIO", "SD", "HD", "UHD1", "UHD2", "VIDEO", None)] == [
        TrackTier.AUDIO, TrackTier.SD, TrackTier.HD, TrackTier.UHD, TrackTier.UHD, TrackTier.HD, TrackTier.HD]


def test_bounds_and_duplicates() -> None:
    kid = KeyId(uuid.uuid4().bytes)
    with pytest.raises(PayloadTooLarge):
        parse_cpix(request([kid], ["HD"]), max_bytes=100)
    with pytest.raises(InvalidCpix, match="appears twice"):
        parse_cpix(request([kid, kid], ["HD", "SD"]), max_bytes=1 << 20)
    many = [KeyId(uuid.uuid4().bytes) for _ in range(65)]
    with pytest.raises(InvalidCpix, match="at most 64"):
        parse_cpix(request(many, ["HD"] * 65), max_bytes=1 << 20)
    external = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    with pytest.raises(InvalidCpix, match="unparseable"):
        parse_cpix(external, max_bytes=1 << 20)


def test_pssh_boxes_follow_cenc_version_1() -> None:
    kid = KeyId(bytes(range(16)))
    box = pssh_box(COMMON_SYSTEM_ID, [kid])
    size, kind, version_flags = struct.unpack(">I4sI", box[:12])
    assert (size, kind, version_flags >> 24) == (len(box), b"pssh", 1)
    assert box[12:28] == uuid.UUID(COMMON_SYSTEM_ID).bytes and box[28:32] == b"\x00\x00\x00\x01"
    assert box[32:48] == kid.raw and box[48:52] == b"\x00\x00\x00\x00"
    widevine = pssh_box(WIDEVINE_SYSTEM_ID, [kid], widevine_pssh_data([kid]))
    assert widevine.endswith(b"\x00\x00\x00\x12\x12\x10" + kid.raw)
