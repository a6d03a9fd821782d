"""Edge variant selection: the token alone picks A or B per segment; bad tokens and paths are refused."""

from __future__ import annotations

import jwt
import pytest

from reelguard.errors import AuthenticationError, NotFound, TokenExpired
from reelguard.watermark.code import SessionCode
from reelguard.watermark.edge import TOKEN_AUDIENCE, TOKEN_KEY_ID, EdgeSelector
from reelguard.watermark.pace import pace_info, segment_count
from reelguard.watermark.secrets import WatermarkSecret

SECRET = WatermarkSecret(b"s" * 32)
NOW = 1_800_000_000.0


def _token(secret: WatermarkSecret = SECRET, **overrides: object) -> str:
    claims: dict[str, object] = {"iss": "reelguard", "aud": TOKEN_AUDIENCE, "iat": int(NOW), "exp": int(NOW) + 600,
                                 "wmver": 1, "wmvnd": 255, "wmid": "session-1", "wmpatlen": 50,
                                 "wmsegduration": [4, 1], "title": "title-id", "title_name": "ep01", "collusion": 2}
    claims.update(overrides)
    return jwt.encode(claims, secret.token_key, algorithm="HS256", headers={"kid": TOKEN_KEY_ID})


def test_video_segments_follow_the_sessions_bits_and_shared_files_come_from_a() -> None:
    selector = EdgeSelector(SECRET, clock=lambda: NOW)
    code = SessionCode(key=SECRET.title_keys("title-id").code)
    token = _token()
    for number in range(1, 41):
        chosen = selector.blob_key(token, f"dash/video_720p/{number}.m4s")
        expected_b = code.bit("session-1", number - 1) == 1
        assert chosen == f"packages/title-id/{'variants/b/' if expected_b else ''}dash/video_720p/{number}.m4s"
    assert selector.blob_key(token, "dash/manifest.mpd") == "packages/title-id/dash/manifest.mpd"
    assert selector.blob_key(token, "dash/video_720p/init.mp4") == "packages/title-id/dash/video_720p/init.mp4"
    assert selector.blob_key(token, "hls/audio/3.m4s") == "packages/title-id/hls/audio/3.m4s"


def test_bad_tokens_are_refused_without_saying_more_than_needed() -> None:
    selector = EdgeSelector(SECRET, clock=lambda: NOW)
    for bad in ("not-a-token", _token(WatermarkSecret(b"x" * 32)), _token(aud="reelguard-license"),
                jwt.encode({"wmid": "s"}, SECRET.token_key, algorithm="HS256", headers={"kid": TOKEN_KEY_ID}),
                jwt.encode({"aud": TOKEN_AUDIENCE, "exp": 2_000_000_000, "wmid": "s"}, SECRET.token_key,
                           algorithm="HS256", headers={"kid": "other"}), "x" * 3000):
        with pytest.raises(AuthenticationError):
            selector.blob_key(bad, "dash/manifest.mpd")
    with pytest.raises(TokenExpired):
        EdgeSelector(SECRET, clock=lambda: NOW + 3600).blob_key(_token(), "dash/manifest.mpd")


@pytest.mark.parametrize("path", ["../kek.bin", "dash/../../x.m4s", "dash/video_720p/0.m4s", "dash/a b.mpd"])
def test_paths_outside_the_package_are_not_found(path: str) -> None:
    with pytest.raises(NotFound):
        EdgeSelector(SECRET, clock=lambda: NOW).blob_key(_token(), path)


def test_title_keys_differ_per_title_and_never_show_in_repr() -> None:
    keys = SECRET.title_keys("a")
    assert keys.embed != SECRET.title_keys("b").embed and keys.code != keys.embed
    assert keys.embed.hex() not in repr(keys) and SECRET.material.hex() not in repr(SECRET)


def test_pace_info_numbers_positions_from_the_segment_grid() -> None:
    info = pace_info(["video_360p"], 10.5, 4)
    assert segment_count(10.5, 4) == info["positions"] == 3
    assert [e["number"] for e in info["renditions"]["video_360p"]] == [1, 2, 3]
    assert info["renditions"]["video_360p"][2]["duration"] == 2.5
