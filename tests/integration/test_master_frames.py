"""The master's frames by index: the same pictures however they are asked for, and each decoded once if it can be."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import numpy as np
import pytest

import reelguard.watermark.master_frames as master_frames
from reelguard.media.tools import MediaTools
from reelguard.settings import MediaSettings
from reelguard.watermark.frames import gray_frames
from reelguard.watermark.master_frames import MasterDecoder, MasterFrames, read_around
from reelguard.watermark.variants import MasterReference

SIZES = ((320, 180), (160, 90))


@pytest.fixture(scope="module")
def long_gop_master(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, MasterReference]:
    """12 s of a moving test pattern with a key frame every 5 s (x264's default is 10 s): seeks are dear."""
    path = tmp_path_factory.mktemp("master") / "master.mp4"
    subprocess.run([MediaTools.locate(MediaSettings()).ffmpeg, "-nostdin", "-v", "error", "-y", "-f", "lavfi",
                    "-i", "testsrc2=size=640x360:rate=25:duration=12", "-c:v", "libx264", "-preset", "veryfast",
                    "-g", "125", "-keyint_min", "125", "-sc_threshold", "0", "-pix_fmt", "yuv420p", str(path)],
                   check=True)
    times = [when for when, _ in gray_frames(path, 16, 9)]
    reference = MasterReference(np.arange(len(times)) / 25.0, np.zeros((len(times), 36, 64), np.uint8), 25.0,
                                np.asarray(times))
    return path, reference


def test_every_way_of_asking_gives_the_frame_a_straight_decode_gives(long_gop_master) -> None:  # type: ignore[no-untyped-def]
    path, reference = long_gop_master
    truth = {size: [picture for _, picture in gray_frames(path, *size)] for size in SIZES}
    decoder = MasterDecoder(path, reference)
    frames = {size: MasterFrames(decoder, size, keep_passing=size == SIZES[0]) for size in SIZES}  # as trace's
    rng = random.Random(7)
    for _ in range(60):  # seeks back and forth, runs forward, at both sizes, in a random order
        size = rng.choice(SIZES)
        index = rng.randrange(-3, len(reference.pts) + 3)
        way = rng.choice(("at", "window", "frame"))
        if way == "at":
            got = frames[size].at(index)
            assert (got is None) == (not 0 <= index < len(reference.pts))
            assert got is None or np.array_equal(got, truth[size][index])
        elif way == "window":
            run = frames[size].window(index - 4, index + 4)
            assert sorted(run) == [i for i in range(index - 4, index + 5) if 0 <= i < len(reference.pts)]
            assert all(np.array_equal(picture, truth[size][i]) for i, picture in run.items())
        else:
            for step in range(index, index + 30):  # the tracker's walk
                walked = frames[size].frame(step)
                assert walked is None or np.array_equal(walked, truth[size][step].astype(np.float32))


@pytest.fixture
def decoded(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The indices of the master frames the decoder hands out (from where each seek or walk starts), in order."""
    real = master_frames.video_frames
    handed: list[int] = []

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        for when, frame in real(*args, **kwargs):
            handed.append(round(when * 25))
            yield when, frame

    monkeypatch.setattr(master_frames, "video_frames", counting)
    return handed


def test_a_walk_forward_decodes_once_and_a_look_back_is_not_decoded_again(  # type: ignore[no-untyped-def]
        long_gop_master, decoded: list[int]) -> None:
    path, reference = long_gop_master
    decoder = MasterDecoder(path, reference)
    work, register = MasterFrames(decoder, SIZES[0]), MasterFrames(decoder, SIZES[1])
    for index in range(100, 200):
        assert work.frame(index) is not None
    assert sorted(decoded) == list(range(100, 200))  # one seek, then forward: each frame once
    work.window(120, 180)  # looked back at: kept
    assert register.at(230) is not None  # a little ahead: decoding goes on rather than seeking
    assert sorted(decoded) == list(range(100, 239))
    read_around([280, 290], [(work, 8), (register, 8)])  # both sizes from one decode
    assert work.at(280) is not None and register.window(272, 298) and work.window(272, 298)
    assert sorted(decoded) == list(range(100, 299))
    read_around([280, 290], [(work, 8), (register, 8)])  # all kept: nothing decoded again
    assert sorted(decoded) == list(range(100, 299))


def test_a_frame_past_a_key_frame_is_reached_by_a_seek(  # type: ignore[no-untyped-def]
        long_gop_master, decoded: list[int]) -> None:
    """Key frames at 0, 5 and 10 s: from frame 199 (8 s), frame 230 is decoded on to, frame 295 (11.8 s) is sought
    (a seek starts at the 10 s key frame, 50 frames on from where the walk stands)."""
    path, reference = long_gop_master
    frames = MasterFrames(MasterDecoder(path, reference), SIZES[1])
    assert frames.frame(199) is not None and decoded == [199]
    assert frames.frame(230) is not None and decoded == list(range(199, 231))  # decoded on
    assert frames.frame(295) is not None and decoded[-1] == 295 and 260 not in decoded  # sought


def test_a_size_that_keeps_passing_frames_keeps_the_ones_decoded_on_the_way_without_pushing_out_asked_ones(  # type: ignore[no-untyped-def]
        long_gop_master, decoded: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    """Key frames at 0, 5 and 10 s. Registration asks for frame 240 (9.6 s): the seek lands on the 5 s key frame and
    decodes 125-239 on the way. Detection's size keeps those too, so reading them later decodes nothing; but only
    while it has room, first out: frames it asked for are never pushed out by ones merely passing."""
    path, reference = long_gop_master
    truth = [picture for _, picture in gray_frames(path, *SIZES[0])]
    monkeypatch.setattr(master_frames, "_PICTURE_BYTES", 150 * SIZES[0][0] * SIZES[0][1])  # room for 150 frames
    decoder = MasterDecoder(path, reference)
    work, register = MasterFrames(decoder, SIZES[0], keep_passing=True), MasterFrames(decoder, SIZES[1])
    asked = work.window(10, 59)  # 50 asked for
    assert register.at(240) is not None
    assert sorted(decoded) == [*range(60), *range(125, 249)]  # 240 ± 8, and the ways there from 0 and 125
    decoded.clear()
    passing = work.window(125, 214)  # room for 90 more after the 60 from the first walk (0-9 passed on the way)
    assert decoded == []
    assert all(np.array_equal(picture, truth[i]) for i, picture in {**asked, **passing}.items())
    assert work.window(10, 59) and decoded == []  # the asked ones stayed
    assert work.at(240) is not None and decoded  # no room was left for these: decoded again
