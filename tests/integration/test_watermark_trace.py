"""Watermarked ingest → per-session streams → a rendered leak → ``trace`` names its session.

One small watermarked title (synthetic, 60 one-second segments) is ingested once; three
sessions are started; one session's programme is rendered (decrypted, muxed: the file a
pirate would hold), attacked, and traced.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from screen_capture import record_player

from reelguard.composition import Runtime
from reelguard.errors import Conflict, InvalidInput, InvalidMedia
from reelguard.store import repositories
from reelguard.watermark import trace as trace_module
from reelguard.watermark.frames import gray_frames, key_frame_times, video_facts
from reelguard.watermark.master_frames import MasterDecoder
from reelguard.watermark.packaging import proxy_blob, reference_blob
from reelguard.watermark.variants import MasterReference, write_proxy
from reelguard.web.app import create_app
from tests.conftest import make_settings, subscribe
from tests.integration.bad_media import make_partial_downloads
from tests.watermark_fixtures import WM_TITLE, ingest_watermarked, make_test_pattern, watermark_settings

pytestmark = [pytest.mark.slow, pytest.mark.trace]


@pytest.fixture(scope="module")
def wm(tmp_path_factory: pytest.TempPathFactory, database_url_factory,  # type: ignore[no-untyped-def]
       media_dir: Path) -> Iterator[tuple[Runtime, list[str], Path]]:
    work = tmp_path_factory.mktemp("wm")
    runtime = Runtime.open(watermark_settings(make_settings(work / "data", database_url_factory())))
    ingest_watermarked(runtime, media_dir, work, seconds=60)
    subscribe(runtime, "alice", ["tv", "phone"], titles=[WM_TITLE])
    service = runtime.session_service()
    sessions = [service.start(account="alice", device=d, title=WM_TITLE, ip=f"203.0.113.{i}").session_id
                for i, d in enumerate(["tv", "phone", "tv"])]
    leak = service.render(sessions[1], work / "leak.mp4")
    yield runtime, sessions, leak
    runtime.close()


def _attack(runtime: Runtime, source: Path, out: Path, *args: str) -> Path:
    subprocess.run([runtime.tools.ffmpeg, "-nostdin", "-v", "error", "-y", *args[:2], "-i", str(source),
                    *args[2:], "-c:v", "libx264", "-preset", "veryfast", str(out)], check=True)
    return out


def test_the_rendered_leak_is_traced_to_its_session_and_no_one_else(wm) -> None:  # type: ignore[no-untyped-def]
    runtime, sessions, leak = wm
    report = runtime.trace_service().trace(leak, title=WM_TITLE)
    assert report.identified, report.reason
    assert [a.session for a in report.accused] == [sessions[1]]
    accused = report.accused[0]
    assert (accused.account, accused.device, accused.ip) == ("alice", "phone", "203.0.113.1")
    assert accused.p_value <= 1e-6
    assert report.sessions_scored == 3


def test_trace_reads_the_master_s_proxy_and_a_title_ingested_before_proxies_from_its_master(  # type: ignore[no-untyped-def]
        wm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ingest writes the master's proxy: every master frame's luma at registration's width, nearly lossless, a key
    frame at least every second. Trace decodes it instead of the master; a title without one is read from its master."""
    runtime, sessions, leak = wm
    with runtime.db.session() as session:
        title = repositories.load_title(session, WM_TITLE)
    proxy_key = proxy_blob(title.id)
    with runtime.blobs.open_local(reference_blob(title.id)) as path:
        reference = MasterReference.load(path)
    with runtime.blobs.open_local(proxy_key) as proxy, runtime.blobs.open_local(title.master_blob) as master:
        facts = video_facts(proxy)
        assert (facts.width, facts.height) == (640, 360)
        assert np.diff(key_frame_times(proxy)).max() <= 1.0 + 1e-6  # a seek decodes at most a second of it
        proxy_frames = list(gray_frames(proxy, 640, 360))
        master_frames = [picture for _, picture in gray_frames(master, 640, 360)]
    assert len(proxy_frames) == len(master_frames) == len(reference.times)
    assert np.allclose([when for when, _ in proxy_frames], reference.times, atol=1e-3)
    for index in range(0, len(master_frames), 97):
        difference = proxy_frames[index][1].astype(np.float64) - master_frames[index]
        assert 10 * np.log10(255 ** 2 / np.mean(difference ** 2)) > 40  # PSNR, dB: the same pictures
    with runtime.blobs.open_local(title.master_blob) as master:  # written alone, for a title from before proxies
        write_proxy(runtime.tools, master, reference.frame_rate, tmp_path / "again.mp4")
    again = list(gray_frames(tmp_path / "again.mp4", 640, 360))
    assert len(again) == len(proxy_frames)
    assert all(np.array_equal(a[1], p[1]) for a, p in zip(again, proxy_frames, strict=True))

    opened: list[tuple[str, bool]] = []
    real_decoder = trace_module.MasterDecoder

    def spy(path: Path, reference: MasterReference, *, proxy: bool = False) -> MasterDecoder:
        opened.append((path.name, proxy))
        return real_decoder(path, reference, proxy=proxy)

    monkeypatch.setattr(trace_module, "MasterDecoder", spy)
    excerpt = _attack(runtime, leak, tmp_path / "excerpt.mp4", "-ss", "10.3", "-t", "24", "-crf", "23")
    traced = runtime.trace_service().trace(excerpt, title=WM_TITLE)
    saved = runtime.blobs.get_bytes(proxy_key)
    runtime.blobs.delete_prefix(proxy_key)  # as a title ingested before proxies
    try:
        before_proxies = runtime.trace_service().trace(excerpt, title=WM_TITLE)
    finally:
        runtime.blobs.put_bytes(proxy_key, saved)
    assert opened == [("proxy.mp4", True), (Path(title.master_blob).name, False)]
    for report in (traced, before_proxies):
        assert [a.session for a in report.accused] == [sessions[1]], report.reason
        assert abs((report.offset_seconds or 0) - 10.3) < 0.1


def test_a_trimmed_rescaled_reencoded_copy_is_still_traced(wm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    runtime, sessions, leak = wm
    suspect = _attack(runtime, leak, tmp_path / "attacked.mp4", "-ss", "3.3", "-vf", "scale=480:270", "-crf", "28")
    report = runtime.trace_service().trace(suspect, title=WM_TITLE)
    assert [a.session for a in report.accused] == [sessions[1]], report.reason
    assert abs((report.offset_seconds or 0) - 3.3) < 0.1


def test_identify_placements_handed_in_are_used_and_the_suspect_is_decoded_once(  # type: ignore[no-untyped-def]
        wm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Trace built its own FingerprintService and identified the suspect itself; a caller that has identify's
    answer (the monitoring pipeline) hands it in, and trace does not decode the copy for recognition again.
    Trace then decoded the copy twice more (to align, then to detect); it now keeps the first read's frames,
    so detection sees the very same pixels from one decode."""
    from dataclasses import replace

    import reelguard.watermark.trace as trace_module
    from reelguard.watermark.trace import TraceService

    runtime, sessions, leak = wm
    suspect = _attack(runtime, leak, tmp_path / "attacked.mp4", "-ss", "3.3", "-vf", "scale=480:270", "-crf", "28")
    placements = runtime.fingerprint_service().identify(suspect).segments
    assert placements and placements[0].title == WM_TITLE

    class NoRecognition:  # a fake FingerprintService: trace must not call it when it has the placements
        def __getattr__(self, name: str) -> object:
            raise AssertionError(f"trace asked recognition for {name!r} though it was handed the placements")

    decoded: list[Path] = []
    real_gray_frames = trace_module.gray_frames

    def counting_gray_frames(path: Path, *args: Any, **kwargs: Any) -> Any:
        decoded.append(path)
        return real_gray_frames(path, *args, **kwargs)

    monkeypatch.setattr(trace_module, "gray_frames", counting_gray_frames)
    work = tmp_path / "work"

    def blind(spool_bytes: int) -> TraceService:
        return TraceService(db=runtime.db, blobs=runtime.blobs, watermark=runtime.watermark,
                            fingerprints=NoRecognition(),  # type: ignore[arg-type]
                            false_accusation=runtime.settings.watermark.false_accusation, work_dir=work,
                            spool_bytes=spool_bytes)

    handed = blind(4 << 30).trace(suspect, title=WM_TITLE, placements=placements)
    assert decoded == [suspect]  # once
    assert not any(work.iterdir())  # the kept frames are gone with the trace
    decoded.clear()
    unspooled = blind(0).trace(suspect, title=WM_TITLE, placements=placements)  # no room: decoded again
    assert decoded == [suspect, suspect]
    assert unspooled == handed
    own = runtime.trace_service().trace(suspect, title=WM_TITLE)
    assert [a.session for a in handed.accused] == [a.session for a in own.accused] == [sessions[1]]
    assert replace(handed, accused=[]) == replace(own, accused=[])  # same offset, registration and evidence
    assert [a.p_value for a in handed.accused] == [a.p_value for a in own.accused]


def test_a_placement_explaining_only_the_copy_s_end_loses_to_one_explaining_all_of_it(  # type: ignore[no-untyped-def]
        wm, tmp_path: Path) -> None:
    """A copy that ends on the title's opening (a capture whose player went back to the start, a recap).

    Recognition placed such a capture's last seconds at the opening too: an offset that
    puts the rest of the copy before the master's start. Its one register frame inside the
    master matched better (0.94) than the right offset's frames did on average (0.93), so
    it won and the trace read 6 segments. Candidates are ranked by how much of the copy
    they explain.
    """
    from dataclasses import replace

    runtime, sessions, leak = wm
    suspect = tmp_path / "ends-on-the-opening.mp4"
    subprocess.run([runtime.tools.ffmpeg, "-nostdin", "-v", "error", "-y", "-ss", "5", "-t", "45", "-i", str(leak),
                    "-ss", "0", "-t", "3", "-i", str(leak), "-filter_complex", "[0:v][1:v]concat=n=2:v=1:a=0",
                    "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", str(suspect)], check=True)
    opening = runtime.fingerprint_service().identify(leak).segments[0]
    at_the_end = replace(opening, suspect_start=45.0, suspect_end=48.0, title_start=0.0, title_end=3.0,
                         title_alternatives=())
    report = runtime.trace_service().trace(suspect, title=WM_TITLE, placements=[at_the_end])
    assert abs((report.offset_seconds or 0) - 5.0) < 0.1, report.reason
    assert [a.session for a in report.accused] == [sessions[1]], report.reason


@pytest.mark.parametrize("rate", ["30", "24"])
def test_a_copy_at_another_frame_rate_is_traced(wm, tmp_path: Path, rate: str) -> None:  # type: ignore[no-untyped-def]
    """25 → 30 duplicates frames, 25 → 24 drops them: the tracker keeps each on its master frame."""
    runtime, sessions, leak = wm
    suspect = _attack(runtime, leak, tmp_path / "retimed.mp4", "-ss", "7.1", "-vf", f"fps={rate}", "-crf", "23")
    report = runtime.trace_service().trace(suspect, title=WM_TITLE)
    assert [a.session for a in report.accused] == [sessions[1]], report.reason
    assert abs((report.offset_seconds or 0) - 7.1) < 0.1


def test_a_copy_played_faster_is_traced_at_its_speed(wm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Sped up 5 % (to dodge recognition): one offset fits the copy only around its middle; the copy is placed at its
    start and speed, and every frame read against the master frame it shows."""
    runtime, sessions, leak = wm
    suspect = _attack(runtime, leak, tmp_path / "faster.mp4", "-ss", "4.3", "-vf", "setpts=PTS/1.05", "-t", "40",
                      "-crf", "23")
    report = runtime.trace_service().trace(suspect, title=WM_TITLE)
    assert [a.session for a in report.accused] == [sessions[1]], report.reason
    assert report.speed == pytest.approx(1.05, abs=0.003)
    assert abs((report.offset_seconds or 0) - 4.3) < 0.1


@pytest.mark.parametrize(("picture", "said"), [
    ("hflip,scale=480:270", "mirrored"),  # the first thing a pirate does to dodge recognition
    ("hflip,crop=iw*0.8:ih*0.8", "mirrored"),
    ("transpose=1", "turned 90° clockwise"),  # a phone's portrait capture
    ("vflip", "mirrored and turned 180°"),  # upside down
])
def test_a_mirrored_or_turned_copy_is_traced_and_said_to_be(  # type: ignore[no-untyped-def]
        wm, tmp_path: Path, picture: str, said: str) -> None:
    """Registration looks at the copy mirrored too (ORB features turn with a picture, they do not mirror)."""
    runtime, sessions, leak = wm
    suspect = _attack(runtime, leak, tmp_path / "turned.mp4", "-ss", "3.3", "-vf", picture, "-crf", "28")
    report = runtime.trace_service().trace(suspect, title=WM_TITLE)
    assert [a.session for a in report.accused] == [sessions[1]], report.reason
    assert report.orientation == said
    assert abs((report.offset_seconds or 0) - 3.3) < 0.1


@pytest.mark.parametrize("inserted", [False, True])
def test_a_copy_with_a_stretch_cut_out_and_other_pictures_put_in_is_traced_through_both_pieces(  # type: ignore[no-untyped-def]
        wm, tmp_path: Path, inserted: bool) -> None:
    """A pirate cuts a stretch out (and may put an advert or an intro in its place): neither piece alone holds
    enough segments to name the leaker, so trace must read both, each at its own offset."""
    runtime, sessions, leak = wm
    pieces = "[0:v]trim=3.3:19.3,setpts=PTS-STARTPTS,setsar=1[a];[0:v]trim=35.3:51.3,setpts=PTS-STARTPTS,setsar=1[b];"
    if inserted:  # six seconds of another picture between them
        pieces += "testsrc2=d=6:r=25[t];[t][a]scale2ref[t2][a2];[t2]setsar=1[t3];[a2][t3][b]concat=n=3[v]"
    else:
        pieces += "[a][b]concat=n=2[v]"
    suspect = tmp_path / "pieces.mp4"
    subprocess.run([runtime.tools.ffmpeg, "-nostdin", "-v", "error", "-y", "-i", str(leak), "-filter_complex", pieces,
                    "-map", "[v]", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", str(suspect)], check=True)
    report = runtime.trace_service().trace(suspect, title=WM_TITLE)
    assert [a.session for a in report.accused] == [sessions[1]], report.reason
    assert abs((report.offset_seconds or 0) - 3.3) < 0.1
    bits = runtime.session_service().bits(sessions[1])
    right = {s["position"] for s in report.segments if abs(s["z"]) > 3 and (s["z"] < 0) == bool(bits[s["position"]])}
    assert len(right & set(range(4, 19))) >= 12 and len(right & set(range(36, 51))) >= 12, report.segments


def test_a_time_registration_lined_up_at_stays_a_candidate_when_the_thumbnails_move_it_away(  # type: ignore[no-untyped-def]
        wm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A crop defeats thumbnails: on a mirrored crop of a still night picture they moved the right time 0.28 s off,
    beyond the refinement's reach, and the copy 'did not match'. Here they move the right time 0.5 s off."""
    runtime, sessions, leak = wm
    moved = trace_module._to_thumbnail_offset

    def misled(*args: Any) -> Any:
        placed = moved(*args)
        if placed.jumps or abs(placed.start - 3.3) > 0.3:
            return placed
        return trace_module.TimeMap.constant(placed.start + 0.5, rate=placed.rate)

    monkeypatch.setattr(trace_module, "_to_thumbnail_offset", misled)
    suspect = _attack(runtime, leak, tmp_path / "cropped.mp4", "-ss", "3.3", "-vf", "hflip,crop=iw*0.8:ih*0.8",
                      "-crf", "28")
    report = runtime.trace_service().trace(suspect, title=WM_TITLE)
    assert [a.session for a in report.accused] == [sessions[1]], report.reason
    assert abs((report.offset_seconds or 0) - 3.3) < 0.1


def test_evidence_short_of_an_accusation_names_suspects_and_accuses_no_one(  # type: ignore[no-untyped-def]
        wm, tmp_path: Path) -> None:
    """Held to a bound no copy can meet (10⁻³⁰), the leak's evidence (p about 10⁻¹⁵) makes its session a lead:
    suspected — not accused — with its p-value, apart from the accused (none), for an analyst to follow."""
    from reelguard.watermark.trace import TraceService
    runtime, sessions, leak = wm
    strict = TraceService(db=runtime.db, blobs=runtime.blobs, watermark=runtime.watermark,
                          fingerprints=runtime.fingerprint_service(), false_accusation=1e-30, suspect_bound=1e-3,
                          work_dir=runtime.work_dir, spool_bytes=runtime.settings.watermark.trace_spool_bytes)
    report = strict.trace(leak, title=WM_TITLE)
    assert not report.identified and report.accused == []
    assert [(s.session, s.device) for s in report.suspected] == [(sessions[1], "phone")]
    assert 1e-30 < report.suspected[0].p_value <= 1e-3
    assert "suspected, not accused" in report.reason and report.to_json()["suspected"][0]["session"] == sessions[1]
    done = _trace_command(runtime, leak, REELGUARD_WATERMARK__FALSE_ACCUSATION="1e-30")
    assert done.returncode == 0, done.stderr
    assert "suspected — not accused" in done.stderr and sessions[1] in done.stderr, done.stderr


@pytest.mark.browser
def test_a_screen_capture_of_the_player_is_traced(wm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The pirate without the file: 45 s of the session's stream recorded off the playing Chromium player.

    45 s, not less: a capture on a loaded machine drops frames and stalls, and 30 s of it
    once fell short of the evidence (p 4e-5) where the next run of 30 s reached 1e-9. The
    recording lasts until 45 s of media have played, however long a busy machine takes.
    """
    runtime, _sessions, _leak = wm
    started = runtime.session_service().start(account="alice", device="tv", title=WM_TITLE, ip="198.51.100.7")
    entitlement = runtime.signer.issue(account="alice", title=WM_TITLE, device="tv", ttl_seconds=600,
                                       now=datetime.now(UTC))
    capture = tmp_path / "capture.mp4"
    facts = record_player(runtime, WM_TITLE, started.token, entitlement, capture, media_seconds=45,
                          ffmpeg=runtime.tools.ffmpeg)
    assert facts["media_seconds"] > 38, facts
    report = runtime.trace_service().trace(capture, title=WM_TITLE)
    assert [(a.session, a.ip) for a in report.accused] == [(started.session_id, "198.51.100.7")], report.reason


def test_an_unmarked_copy_accuses_no_one(wm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    runtime, _sessions, _leak = wm
    master = next((runtime.settings.resolved_blob_dir / "masters").glob("*/master.mp4"))
    report = runtime.trace_service().trace(master, title=WM_TITLE)
    assert not report.identified and report.accused == []
    assert report.reason.startswith("no session identified")


def test_bad_suspects_get_clear_errors(wm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    runtime, _sessions, leak = wm
    tracer = runtime.trace_service()
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    with pytest.raises(InvalidMedia, match="expected a video file"):
        tracer.trace(text, title=WM_TITLE)
    short = _attack(runtime, leak, tmp_path / "short.mp4", "-t", "0.5", "-an")
    with pytest.raises(InvalidInput, match="at least one segment"):
        tracer.trace(short, title=WM_TITLE)


@pytest.fixture(scope="module")
def partial_leaks(wm, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:  # type: ignore[no-untyped-def]
    """The leak re-encoded, then as a swarm leaves it: cut short, or with pieces missing (zero-filled)."""
    return make_partial_downloads(wm[2], tmp_path_factory.mktemp("partial") / "leaks")


@pytest.mark.parametrize("name, spans, stopped_early", [
    ("partial_faststart_half", 1, True), ("partial_mkv_end_missing", 1, True), ("partial_mkv_pieces", 2, False),
    ("partial_mp4_pieces", 2, False),
])
def test_a_partial_download_is_traced_as_far_as_it_decodes(  # type: ignore[no-untyped-def]
        wm, partial_leaks: dict[str, Path], name: str, spans: int, stopped_early: bool) -> None:
    """A leak fetched from a swarm is usually partial. A faststart MP4 with a hole (zero-filled pieces) was
    refused ("could not decode … Invalid data"); every partial copy is now traced where it decodes, and the
    report says which part of the file that was."""
    runtime, sessions, _leak = wm
    report = runtime.trace_service().trace(partial_leaks[name], title=WM_TITLE)
    assert [a.session for a in report.accused] == [sessions[1]], report.reason
    read = report.read
    assert read["complete"] is False and len(read["spans"]) == spans and read["stopped_early"] is stopped_early
    assert 59.5 < read["declared_seconds"] < 60.5 and 25.0 < read["read_seconds"] < 50.0, read
    # segments are read only where the file decoded (±1 for a segment the read begins or ends in)
    positions = {s["position"] for s in report.segments if s["frames"]}
    assert all(any(a - 1 <= p <= b + 1 for a, b in read["spans"]) for p in positions), (positions, read)
    assert len(positions) >= read["read_seconds"] - 2


def test_the_command_says_which_part_of_a_partial_copy_it_read(  # type: ignore[no-untyped-def]
        wm, partial_leaks: dict[str, Path]) -> None:
    runtime, sessions, _leak = wm
    done = _trace_command(runtime, partial_leaks["partial_mp4_pieces"])
    assert done.returncode == 0, done.stderr
    assert "partial file, read " in done.stderr and "damaged packet(s) skipped" in done.stderr, done.stderr
    assert sessions[1] in done.stderr and "identified from" in done.stderr, done.stderr


def _trace_command(runtime: Runtime, suspect: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    """``reelguard trace SUSPECT --title WM_TITLE`` in its own process, on the test's data (and these settings)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REELGUARD_")}
    env.update(REELGUARD_DATA_DIR=str(runtime.settings.data_dir),
               REELGUARD_STORE__DATABASE_URL=runtime.settings.resolved_database_url, **settings)
    return subprocess.run([sys.executable, "-m", "reelguard.cli.main", "trace", str(suspect), "--title", WM_TITLE],
                          capture_output=True, text=True, env=env, timeout=300, check=False)


@pytest.mark.parametrize("name, message", [
    ("partial_moov_missing", "is an MP4 without its index (no 'moov' box)"),
    ("partial_index_holed", "is an MP4 whose index (its 'moov' box, "),
    ("partial_nothing_decodes", "ffmpeg opened partial_nothing_decodes.mp4 (mov,mp4,m4a,3gp,3g2,mj2: h264, aac) "
                                "but could not decode any of it"),
])
def test_a_partial_download_of_which_nothing_decodes_is_refused_saying_why(  # type: ignore[no-untyped-def]
        wm, partial_leaks: dict[str, Path], name: str, message: str) -> None:
    runtime, _sessions, _leak = wm
    with pytest.raises(InvalidMedia, match=re.escape(message)):
        runtime.trace_service().trace(partial_leaks[name], title=WM_TITLE)


def test_a_video_of_another_title_identifies_no_one(wm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    runtime, _sessions, _leak = wm
    other = make_test_pattern(runtime.tools.ffmpeg, tmp_path / "other.mp4", 20)
    report = runtime.trace_service().trace(other, title=WM_TITLE)
    assert not report.identified and report.accused == []
    assert "do not match this title" in report.reason or "does not match this title" in report.reason, report.reason


def test_a_title_without_watermarking_is_refused(wm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    runtime, _sessions, leak = wm

    plain = make_test_pattern(runtime.tools.ffmpeg, tmp_path / "plain.mp4", 3)
    runtime.ingest_service().add_title(plain, name="plain-title")
    with pytest.raises(Conflict, match="not watermarked"):
        runtime.trace_service().trace(leak, title="plain-title")
    with pytest.raises(Conflict, match="not watermarked"):
        runtime.session_service().start(account="alice", device="tv", title="plain-title")


def test_session_streams_serve_each_sessions_own_variants_and_the_plain_route_refuses(wm) -> None:  # type: ignore[no-untyped-def]
    runtime, _sessions, _leak = wm
    service = runtime.session_service()
    started = service.start(account="alice", device="tv", title=WM_TITLE)
    bits = service.bits(started.session_id)
    assert 0 in bits and 1 in bits
    blobs = runtime.settings.resolved_blob_dir
    with TestClient(create_app(runtime)) as client:
        assert client.get(f"/content/{WM_TITLE}/dash/manifest.mpd").status_code == 403
        manifest = client.get(started.stream_path)
        assert manifest.status_code == 200 and b"<MPD" in manifest.content
        title_dir = blobs / "packages" / service.get(started.session_id)[1].id
        for number in (1, 2, 3, 4, 5, 6):
            body = client.get(f"/stream/{started.token}/dash/video_360p/{number}.m4s").content
            tree = title_dir / "variants" / "b" if bits[number - 1] else title_dir
            assert body == (tree / "dash" / "video_360p" / f"{number}.m4s").read_bytes()
        assert client.get(f"/stream/{started.token}/dash/audio/1.m4s").content == \
            (title_dir / "dash" / "audio" / "1.m4s").read_bytes()
        assert client.get("/stream/not-a-token/dash/manifest.mpd").status_code == 401
        assert client.get(f"/stream/{started.token}/../../kek.bin").status_code == 404
        pace = json.loads((title_dir / "wmpaceinfo.json").read_text())
        assert pace["positions"] == 60 and pace["renditions"]["video_360p"][6]["number"] == 7
