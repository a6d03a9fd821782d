"""Content of kinds the copy-detection suite lacks, for recognition's evaluation set (issue 18).

The copy-detection suite (``_copy_suite.py``) is where recognition's evidence thresholds
were set: real clips panned and tinted, smooth synthetic fields under moving shapes, and
plucked-note music. The evaluation set shares none of that footage or sound. Its titles
and hosts are drawn here, each kind by a seeded generator of its own:

- ``abstract``: generative visuals — sine plasma, Conway's life, a fractal zoom;
- ``fixed-camera``: one surveillance-style view (a room, its light and sensor noise, a clock
  overlay) with people passing; the *same scene at another time* is the hardest negative;
- ``cartoon-loop``: flat-coloured, outlined shapes on a short animation cycle, repeated;
- ``cartoon`` (not in ``CLASSES``: the watermark's evaluation, ``watermark_robustness.py``):
  the same flat-coloured shapes on paths that never repeat — a copy's place in a loop
  cannot be known, so tracing one is measured on animation that does not loop;
- ``near-still``: a textured picture under a very slow zoom;
- ``slides``: text slides (a heading, bullet lines) held for seconds;
- ``sports``: a striped pitch panned fast, two teams of small players and a ball;
- ``dark``: the fixed camera at night — low light, strong noise.

Sound is of other families than the suite's music: drones and chords (abstract, near-still),
chiptune square waves (cartoons), room tone with speech-like formant bursts (fixed camera,
slides, dark), crowd noise with a whistle (sports)::

    frames = class_frames("fixed-camera", seed=7, frames=250, scene=3)   # BGR 854x480 pictures
    sound = class_sound("fixed-camera", seed=7, seconds=10.0)            # mono float32 at 48 kHz
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import cv2
import numpy as np
from numpy.typing import NDArray

__all__ = ["CLASSES", "class_frames", "class_sound"]

WIDTH, HEIGHT, FPS, RATE = 854, 480, 25, 48000
CLASSES = ("abstract", "fixed-camera", "cartoon-loop", "near-still", "slides", "sports", "dark")
Frame = NDArray[np.uint8]
_WORDS = ("quarterly", "results", "network", "delivery", "customer", "pipeline", "overview", "strategy", "signal",
          "review", "budget", "market", "growth", "design", "launch", "metric", "planning", "support", "river",
          "harbour", "winter", "garden", "history", "science", "policy", "energy", "travel", "music", "ocean")


def class_frames(kind: str, seed: int, frames: int, *, scene: int | None = None) -> Iterator[Frame]:
    """``frames`` pictures of ``kind``; ``scene`` fixes the place (fixed camera, dark) apart from the events."""
    rng = np.random.default_rng(seed)
    makers: dict[str, Callable[[], Iterator[Frame]]] = {
        "abstract": lambda: _abstract(rng, frames),
        "fixed-camera": lambda: _fixed_camera(rng, frames, seed if scene is None else scene, night=False),
        "cartoon-loop": lambda: _cartoon_loop(rng, frames),
        "cartoon": lambda: _cartoon(rng, frames),
        "near-still": lambda: _near_still(rng, frames),
        "slides": lambda: _slides(rng, frames),
        "sports": lambda: _sports(rng, frames),
        "dark": lambda: _fixed_camera(rng, frames, seed if scene is None else scene, night=True),
    }
    if kind not in makers:
        raise ValueError(f"expected one of {', '.join(makers)}, got {kind!r}")
    return makers[kind]()


# -- abstract ------------------------------------------------------------------------
def _abstract(rng: np.random.Generator, frames: int) -> Iterator[Frame]:
    made = 0
    while made < frames:
        length = min(frames - made, int(rng.integers(4 * FPS, 10 * FPS)))
        style = int(rng.integers(3))
        yield from (_plasma, _life, _fractal_zoom)[style](rng, length)
        made += length


def _palette(rng: np.random.Generator) -> NDArray[np.uint8]:
    """A 256-entry colour map through a few random colours."""
    stops = rng.integers(0, 256, (int(rng.integers(3, 6)), 3)).astype(np.float32)
    where = np.linspace(0, 255, len(stops))
    return np.stack([np.interp(np.arange(256), where, stops[:, c]) for c in range(3)], axis=1).astype(np.uint8)


def _plasma(rng: np.random.Generator, frames: int) -> Iterator[Frame]:
    y, x = np.mgrid[0:HEIGHT // 4, 0:WIDTH // 4].astype(np.float32) / 40
    waves = [(rng.uniform(0.5, 3), rng.uniform(0.5, 3), rng.uniform(0, 6), rng.uniform(-0.15, 0.15))
             for _ in range(4)]
    palette = _palette(rng)
    for i in range(frames):
        field = sum(np.sin(a * x + b * y + phase + speed * i) for a, b, phase, speed in waves)
        index = ((np.asarray(field) + 4) / 8 * 255).clip(0, 255).astype(np.uint8)
        yield cv2.resize(palette[index], (WIDTH, HEIGHT), interpolation=cv2.INTER_LINEAR)


def _life(rng: np.random.Generator, frames: int) -> Iterator[Frame]:
    grid = rng.random((HEIGHT // 6, WIDTH // 6)) < rng.uniform(0.2, 0.45)
    alive, dead = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    for i in range(frames):
        if i % 3 == 0:
            neighbours = sum(np.roll(np.roll(grid, dy, 0), dx, 1) for dy in (-1, 0, 1) for dx in (-1, 0, 1)
                             if dy or dx)
            grid = (neighbours == 3) | (grid & (neighbours == 2))
            if grid.mean() < 0.03:
                grid |= rng.random(grid.shape) < 0.2
        small = np.where(grid[..., None], alive, dead).astype(np.uint8)
        yield cv2.resize(small, (WIDTH, HEIGHT), interpolation=cv2.INTER_NEAREST)


def _fractal_zoom(rng: np.random.Generator, frames: int) -> Iterator[Frame]:
    centres = [(-0.7453, 0.1127), (-0.1011, 0.9563), (-1.2500, 0.0200), (0.2850, 0.0100), (-0.7700, -0.1000)]
    cx, cy = centres[int(rng.integers(len(centres)))]
    cx, cy = cx + rng.uniform(-0.002, 0.002), cy + rng.uniform(-0.002, 0.002)
    palette, width, rate = _palette(rng), rng.uniform(1.0, 2.5), rng.uniform(0.985, 0.995)
    h, w = HEIGHT // 4, WIDTH // 4
    for i in range(frames):
        scale = width * rate ** i
        y, x = np.mgrid[0:h, 0:w].astype(np.float64)
        c = (cx + (x / w - 0.5) * scale) + 1j * (cy + (y / h - 0.5) * scale * h / w)
        z, count = np.zeros_like(c), np.zeros(c.shape, np.int32)
        for _ in range(48):
            inside = np.abs(z) <= 2
            z[inside] = z[inside] ** 2 + c[inside]
            count += inside
        yield cv2.resize(palette[(count * 5) % 256], (WIDTH, HEIGHT), interpolation=cv2.INTER_LINEAR)


# -- fixed camera (day and night) ------------------------------------------------------
def _room(scene: int) -> Frame:
    """The place a fixed camera watches: a wall, a floor, furniture; the same for every ``scene`` seed."""
    rng = np.random.default_rng(10_000 + scene)
    wall, floor = rng.integers(60, 200, 3), rng.integers(40, 160, 3)
    horizon = int(rng.uniform(0.45, 0.65) * HEIGHT)
    room = np.zeros((HEIGHT, WIDTH, 3), np.float32)
    room[:horizon] = wall
    room[horizon:] = floor
    room += np.linspace(-25, 25, WIDTH, dtype=np.float32)[None, :, None]  # light from one side
    for _ in range(int(rng.integers(4, 9))):
        x, y = int(rng.integers(0, WIDTH - 60)), int(rng.integers(horizon // 2, HEIGHT - 40))
        cv2.rectangle(room, (x, y), (x + int(rng.integers(40, 220)), y + int(rng.integers(30, 160))),
                      tuple(float(v) for v in rng.integers(20, 230, 3)), -1)
    texture = cv2.GaussianBlur(rng.normal(0, 10, (HEIGHT, WIDTH)).astype(np.float32), (0, 0), 2)[..., None]
    return np.clip(room + texture, 0, 255).astype(np.uint8)


def _fixed_camera(rng: np.random.Generator, frames: int, scene: int, *, night: bool) -> Iterator[Frame]:
    room = _room(scene).astype(np.float32)
    people: list[tuple[int, float, float, float, tuple[float, ...]]] = []  # (start frame, y, speed, size, colour)
    hour, minute = int(rng.integers(0, 24)), int(rng.integers(0, 60))
    for i in range(frames):
        if rng.random() < 1 / (3 * FPS):
            people.append((i, rng.uniform(0.55, 0.9) * HEIGHT, rng.choice([-1, 1]) * rng.uniform(2, 6),
                           rng.uniform(25, 60), tuple(float(v) for v in rng.integers(10, 200, 3))))
        picture = room * (1 + 0.03 * math.sin(i / 40)) * (0.16 if night else 1.0)
        for start, y, speed, size, colour in people:
            x = (0 if speed > 0 else WIDTH) + speed * (i - start)
            if -size < x < WIDTH + size:
                shade = tuple(c * (0.3 if night else 1.0) for c in colour)
                cv2.ellipse(picture, (int(x), int(y)), (int(size * 0.35), int(size)), 0, 0, 360, shade, -1)
                cv2.circle(picture, (int(x), int(y - size * 1.25)), int(size * 0.3), shade, -1)
        picture += rng.normal(0, 9 if night else 4, (HEIGHT // 2, WIDTH // 2, 1)).astype(np.float32).repeat(
            2, 0).repeat(2, 1)
        frame = np.clip(picture, 0, 255).astype(np.uint8)
        seconds = i // FPS
        stamp = f"CAM {scene % 10:02d}  {hour:02d}:{(minute + seconds // 60) % 60:02d}:{seconds % 60:02d}"
        cv2.putText(frame, stamp, (20, 36), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (230, 230, 230), 2, cv2.LINE_AA)
        yield frame


# -- cartoon loop ----------------------------------------------------------------------
def _cartoon_loop(rng: np.random.Generator, frames: int) -> Iterator[Frame]:
    made = 0
    while made < frames:
        length = min(frames - made, int(rng.integers(8 * FPS, 16 * FPS)))
        period = int(rng.integers(2 * FPS, 4 * FPS))
        background = tuple(float(v) for v in rng.integers(40, 255, 3))
        shapes = [(rng.uniform(80, WIDTH - 80), rng.uniform(80, HEIGHT - 80), rng.uniform(20, 90),
                   rng.uniform(20, 90), tuple(float(v) for v in rng.integers(0, 255, 3)), rng.uniform(0, 2 * math.pi),
                   int(rng.integers(3))) for _ in range(int(rng.integers(3, 7)))]
        cycle = [_cartoon_picture(background, shapes, 2 * math.pi * k / period) for k in range(period)]
        for i in range(length):
            yield cycle[i % period]
        made += length


def _cartoon(rng: np.random.Generator, frames: int) -> Iterator[Frame]:
    """Scenes of 8-16 s: flat shapes drifting on incommensurate sines, so no picture comes back."""
    made = 0
    while made < frames:
        length = min(frames - made, int(rng.integers(8 * FPS, 16 * FPS)))
        background = tuple(float(v) for v in rng.integers(40, 255, 3))
        shapes = [(rng.uniform(80, WIDTH - 80), rng.uniform(80, HEIGHT - 80), rng.uniform(20, 90),
                   rng.uniform(20, 90), tuple(float(v) for v in rng.integers(0, 255, 3)), rng.uniform(0, 2 * math.pi),
                   int(rng.integers(3))) for _ in range(int(rng.integers(3, 7)))]
        rates = rng.uniform(0.02, 0.09, len(shapes))
        for i in range(length):
            moved = [(x + 3 * i * rate * math.cos(start), y, rx, ry, colour, start, form)
                     for (x, y, rx, ry, colour, start, form), rate in zip(shapes, rates, strict=True)]
            yield _cartoon_picture(background, moved, i * math.sqrt(2) / FPS)
        made += length


def _cartoon_picture(background: tuple[float, ...], shapes: list[tuple], phase: float) -> Frame:
    picture = np.full((HEIGHT, WIDTH, 3), background, np.uint8)
    for x, y, rx, ry, colour, start, form in shapes:
        px, py = int(x + 40 * math.cos(phase + start)), int(y + 25 * math.sin(2 * (phase + start)))
        if form == 0:
            cv2.ellipse(picture, (px, py), (int(rx), int(ry)), 0, 0, 360, colour, -1)
            cv2.ellipse(picture, (px, py), (int(rx), int(ry)), 0, 0, 360, (0, 0, 0), 4)
        elif form == 1:
            cv2.rectangle(picture, (px, py), (px + int(rx * 1.5), py + int(ry)), colour, -1)
            cv2.rectangle(picture, (px, py), (px + int(rx * 1.5), py + int(ry)), (0, 0, 0), 4)
        else:
            points = np.array([(px, py - int(ry)), (px - int(rx), py + int(ry)), (px + int(rx), py + int(ry))])
            cv2.fillPoly(picture, [points], colour)
            cv2.polylines(picture, [points], True, (0, 0, 0), 4)
    return picture


# -- near-still --------------------------------------------------------------------------
def _near_still(rng: np.random.Generator, frames: int) -> Iterator[Frame]:
    made = 0
    while made < frames:
        length = min(frames - made, int(rng.integers(6 * FPS, 15 * FPS)))
        image = _textured_picture(rng)
        zoom_end, dx, dy = rng.uniform(1.02, 1.06), rng.uniform(-8, 8), rng.uniform(-5, 5)
        for i in range(length):
            zoom = 1 + (zoom_end - 1) * i / length
            matrix = cv2.getRotationMatrix2D((WIDTH / 2, HEIGHT / 2), 0, zoom)
            matrix[:, 2] += (dx * i / length, dy * i / length)
            yield cv2.warpAffine(image, matrix, (WIDTH, HEIGHT), borderMode=cv2.BORDER_REFLECT)
        made += length


def _textured_picture(rng: np.random.Generator) -> Frame:
    coarse = rng.uniform(0, 1, (6, 10, 3)).astype(np.float32)
    base = cv2.resize(coarse, (WIDTH, HEIGHT), interpolation=cv2.INTER_CUBIC)
    detail = cv2.GaussianBlur(rng.uniform(0, 1, (HEIGHT, WIDTH)).astype(np.float32), (0, 0), 3)[..., None]
    picture = (np.clip(base, 0, 1) * 180 + detail * 60 + 10).astype(np.uint8)
    for _ in range(int(rng.integers(2, 6))):
        cv2.circle(picture, (int(rng.integers(0, WIDTH)), int(rng.integers(0, HEIGHT))), int(rng.integers(20, 120)),
                   tuple(int(v) for v in rng.integers(0, 255, 3)), -1)
    return cv2.GaussianBlur(picture, (0, 0), 1.5)


# -- slides ----------------------------------------------------------------------------
def _slides(rng: np.random.Generator, frames: int) -> Iterator[Frame]:
    made = 0
    while made < frames:
        length = min(frames - made, int(rng.integers(4 * FPS, 9 * FPS)))
        slide = _slide(rng)
        for _ in range(length):
            yield slide
        made += length


def _slide(rng: np.random.Generator) -> Frame:
    dark = rng.random() < 0.3
    background, ink = ((30, 30, 40), (235, 235, 235)) if dark else ((250, 250, 245), (30, 30, 30))
    slide = np.full((HEIGHT, WIDTH, 3), background, np.uint8)
    accent = tuple(int(v) for v in rng.integers(0, 200, 3))
    cv2.rectangle(slide, (0, 0), (WIDTH, 70), accent, -1)
    heading = " ".join(str(w).capitalize() for w in rng.choice(_WORDS, int(rng.integers(2, 4)), replace=False))
    cv2.putText(slide, heading, (30, 50), cv2.FONT_HERSHEY_DUPLEX, 1.3, (255, 255, 255), 2, cv2.LINE_AA)
    for line in range(int(rng.integers(3, 6))):
        text = " ".join(str(w) for w in rng.choice(_WORDS, int(rng.integers(3, 6))))
        y = 130 + 60 * line
        cv2.circle(slide, (45, y - 10), 6, accent, -1)
        cv2.putText(slide, text, (65, y), cv2.FONT_HERSHEY_SIMPLEX, 1.0, ink, 2, cv2.LINE_AA)
    return slide


# -- sports ----------------------------------------------------------------------------
def _sports(rng: np.random.Generator, frames: int) -> Iterator[Frame]:
    pitch_width = WIDTH * 3
    pitch = np.zeros((HEIGHT, pitch_width, 3), np.uint8)
    greens = (rng.integers(60, 110), rng.integers(120, 170))
    for k in range(0, pitch_width, 90):
        pitch[:, k:k + 90] = (40, greens[(k // 90) % 2], 40)
    for x in range(0, pitch_width, pitch_width // 4):
        cv2.line(pitch, (x, 0), (x, HEIGHT), (230, 230, 230), 3)
    cv2.circle(pitch, (pitch_width // 2, HEIGHT // 2), 90, (230, 230, 230), 3)
    teams = [tuple(float(v) for v in rng.integers(0, 255, 3)) for _ in range(2)]
    players = rng.uniform((0, 40), (pitch_width, HEIGHT - 40), (22, 2))
    velocity = rng.normal(0, 3, (22, 2))
    ball = np.array([pitch_width / 2, HEIGHT / 2])
    pan_speed, pan_phase = rng.uniform(0.01, 0.03), rng.uniform(0, 2 * math.pi)
    for i in range(frames):
        velocity = 0.9 * velocity + rng.normal(0, 1.0, velocity.shape)
        players = np.clip(players + velocity, (0, 20), (pitch_width - 1, HEIGHT - 20))
        ball = players[int(rng.integers(22))] * 0.1 + ball * 0.9 if i % 10 == 0 else ball
        camera = int((pitch_width - WIDTH) * (0.5 + 0.5 * math.sin(pan_speed * i + pan_phase)))
        view = pitch[:, camera:camera + WIDTH].copy()
        for k, (x, y) in enumerate(players):
            if camera <= x < camera + WIDTH:
                cv2.rectangle(view, (int(x - camera) - 5, int(y) - 14), (int(x - camera) + 5, int(y) + 14),
                              teams[k % 2], -1)
        if camera <= ball[0] < camera + WIDTH:
            cv2.circle(view, (int(ball[0] - camera), int(ball[1])), 6, (255, 255, 255), -1)
        yield view


# -- sound -----------------------------------------------------------------------------
def class_sound(kind: str, seed: int, seconds: float) -> NDArray[np.float32]:
    """Mono sound at 48 kHz in the family that goes with ``kind`` (see the module docstring)."""
    rng = np.random.default_rng(seed + 77)
    t = np.arange(int(seconds * RATE)) / RATE
    if kind in ("abstract", "near-still"):
        sound = _drones(rng, t)
    elif kind == "cartoon-loop":
        sound = _chiptune(rng, t)
    elif kind == "sports":
        sound = _crowd(rng, t)
    else:
        sound = _room_and_voice(rng, t, quiet=kind == "dark")
    return np.asarray(sound, dtype=np.float32)


def _drones(rng: np.random.Generator, t: NDArray[np.float64]) -> NDArray[np.float64]:
    chord_seconds = rng.uniform(3, 7)
    chords = rng.uniform(80, 400, (int(t[-1] / chord_seconds) + 2, 3))
    which = (t / chord_seconds).astype(int)
    sound = sum(np.sin(2 * np.pi * chords[which, k] * t + k) for k in range(3)) / 3
    return 0.3 * sound * (0.6 + 0.4 * np.sin(2 * np.pi * 0.2 * t)) + rng.normal(0, 0.003, t.size)


def _chiptune(rng: np.random.Generator, t: NDArray[np.float64]) -> NDArray[np.float64]:
    step = rng.uniform(0.1, 0.2)
    notes = 220 * 2 ** (rng.integers(0, 24, int(t[-1] / step) + 2) / 12)
    index = (t / step).astype(int)
    square = np.sign(np.sin(2 * np.pi * notes[index] * t))
    bass = np.sign(np.sin(2 * np.pi * notes[index // 4] / 4 * t))
    return 0.15 * square * np.exp(-(t - index * step) / 0.08) + 0.08 * bass


def _crowd(rng: np.random.Generator, t: NDArray[np.float64]) -> NDArray[np.float64]:
    noise = rng.normal(0, 1, t.size)
    roar = np.convolve(noise, np.ones(24) / 24, mode="same")
    swell = 0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(0.02, 0.1) * t + rng.uniform(0, 6))
    whistle = np.zeros(t.size)
    for start in rng.uniform(0, t[-1], max(1, int(t[-1] / 15))):
        on = (t > start) & (t < start + 0.6)
        whistle[on] = np.sin(2 * np.pi * 3100 * t[on])
    return 0.4 * roar * swell + 0.1 * whistle


def _room_and_voice(rng: np.random.Generator, t: NDArray[np.float64], *, quiet: bool) -> NDArray[np.float64]:
    """Room tone, and speech-like bursts: a buzzing glottal pitch through two moving formants."""
    room = np.convolve(rng.normal(0, 1, t.size), np.ones(64) / 64, mode="same") * 0.05
    voice = np.zeros(t.size)
    at = rng.uniform(0, 1.5)
    while at < t[-1]:
        length = rng.uniform(0.8, 3.0)
        on = (t >= at) & (t < at + length)
        local = t[on] - at
        pitch = rng.uniform(90, 220) * (1 + 0.1 * np.sin(2 * np.pi * 3 * local))
        buzz = np.sign(np.sin(2 * np.pi * np.cumsum(pitch) / RATE))
        formants = sum(np.sin(2 * np.pi * f * local) for f in rng.uniform((300, 900), (900, 2500)))
        syllables = 0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(3, 6) * local)
        voice[on] = buzz * formants * syllables * 0.1
        at += length + rng.uniform(0.3, 2.5)
    return (room + voice) * (0.3 if quiet else 1.0)
