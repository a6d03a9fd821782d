"""Probing real files: playable video passes, everything else is a clear InvalidMedia."""

from __future__ import annotations

from pathlib import Path

import pytest

from reelguard.errors import InvalidMedia
from reelguard.media.probe import probe_master
from reelguard.media.tools import MediaTools
from reelguard.settings import MediaSettings
from tests.integration.bad_media import make_bad_media

EXPECTED = {
    "text_file_named_mp4": "expected a playable video file",
    "zero_length": r"empty \(0-byte\) file",
    "truncated_moov_at_end": "moov atom not found",
    "truncated_media_data": "damaged or truncated",
    "audio_only": "expected a file with a video stream, got audio_only.m4a with audio only",
}


@pytest.fixture(scope="module")
def tools() -> MediaTools:
    tools = MediaTools.locate(MediaSettings())
    tools.check()
    return tools


def test_sample_is_playable(tools: MediaTools, media_dir: Path) -> None:
    info = probe_master(tools, media_dir / "bigbuckbunny.mp4")
    assert (info.width, info.height, info.has_audio) == (1280, 720, True)
    assert 5.0 < info.duration_seconds < 5.5 and info.frame_rate == 25.0


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_bad_media_is_refused_clearly(tools: MediaTools, media_dir: Path, tmp_path: Path, case: str) -> None:
    path = make_bad_media(media_dir, tmp_path)[case]
    with pytest.raises(InvalidMedia, match=EXPECTED[case]):
        probe_master(tools, path)


def test_missing_file(tools: MediaTools, tmp_path: Path) -> None:
    with pytest.raises(InvalidMedia, match="does not exist"):
        probe_master(tools, tmp_path / "nope.mp4")


def test_missing_tool_is_named(tmp_path: Path) -> None:
    from reelguard.errors import MediaToolMissing

    tools = MediaTools(ffmpeg=str(tmp_path / "ffmpeg"), ffprobe="ffprobe", packager="packager")
    with pytest.raises(MediaToolMissing, match="ffmpeg could not be run"):
        tools.check()
