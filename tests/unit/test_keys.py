"""Key identities: sizes enforced, keys never shown, base64url strict."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reelguard.drm.keys import ContentKey, KeyId, TrackTier, b64url_decode, b64url_encode, tier_for_height
from reelguard.errors import InvalidInput


@given(st.binary(min_size=0, max_size=64))
def test_b64url_round_trip(raw: bytes) -> None:
    assert b64url_decode(b64url_encode(raw)) == raw if raw else True


@pytest.mark.parametrize("text", ["", "abc+def", "abc/def", "a b", "%%%", "a"])
def test_b64url_rejects_non_base64url(text: str) -> None:
    with pytest.raises(InvalidInput, match="base64url"):
        b64url_decode(text)


def test_kid_must_be_16_bytes() -> None:
    with pytest.raises(InvalidInput, match="16 bytes, got 15"):
        KeyId(b"x" * 15)


def test_content_key_repr_and_str_hide_the_key() -> None:
    key = ContentKey.generate(TrackTier.HD)
    assert key.key.hex() not in repr(key)
    assert key.key.hex() not in str(key)
    assert key.kid.uuid in str(key)


def test_generated_keys_are_distinct_uuids() -> None:
    keys = {ContentKey.generate(TrackTier.SD).kid.hex for _ in range(50)}
    assert len(keys) == 50
    assert all(len(k) == 32 for k in keys)


@pytest.mark.parametrize(("height", "tier"), [(360, "SD"), (576, "SD"), (720, "HD"), (1080, "HD"), (2160, "UHD")])
def test_tier_for_height(height: int, tier: str) -> None:
    assert tier_for_height(height) == TrackTier(tier)
