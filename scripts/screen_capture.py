"""The screen-capture attack: record a session's stream playing in the real Chromium player.

A pirate with no access to the decrypted file points a screen recorder at the player. This
module does the same with the tools a test machine has: it serves the title with the real
app (uvicorn on loopback), plays a watermarking session's stream in Debian's Chromium
through EME Clear Key, takes the page's screencast (the DevTools ``Page.startScreencast``
frames, JPEG, each with its capture time — what Playwright's own recorder uses), crops it
to the playing ``<video>`` element and encodes it at a screen recorder's constant frame
rate, each tick showing the last frame captured before it. Dropped, late and repeated
frames are kept as they came: that is what such a copy looks like.

The recording runs until the player has played ``media_seconds`` of the title, not for a
fixed wall-clock time: on a busy machine the player stalls (33 s of media in 44 s of wall
time once), and a copy's evidence is the media it holds. ``max_wall_seconds`` caps the wait.

    record_player(runtime, title, session_token, entitlement, out, media_seconds=60)
"""

from __future__ import annotations

import base64
import shutil
import subprocess
from itertools import pairwise
from pathlib import Path

from browser_harness import CHROMIUM, CHROMIUM_ARGS, serving
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

from reelguard.composition import Runtime

CAPTURE_RATE = 30  # a screen recorder's constant output rate


def record_player(runtime: Runtime, title: str, stream_token: str, entitlement: str, out: Path, *,
                  media_seconds: float, ffmpeg: str, max_wall_seconds: float | None = None) -> dict[str, object]:
    """Record the session's stream until ``media_seconds`` of it have played (or the title ends, or
    ``max_wall_seconds`` pass: default three times the media plus a minute); returns capture facts."""
    cap = max_wall_seconds if max_wall_seconds is not None else 3 * media_seconds + 60
    frames_dir = out.with_suffix(".frames")
    shutil.rmtree(frames_dir, ignore_errors=True)
    frames_dir.mkdir(parents=True)
    captured: list[tuple[float, Path]] = []
    with serving(runtime) as base_url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{base_url}/play/{title}#format=dash&token={entitlement}&stream={stream_token}")
        page.wait_for_function("() => document.getElementById('video').currentTime > 0.2", timeout=60_000)
        box = page.locator("#video").bounding_box()
        assert box is not None, "the player has no video element on screen"
        cdp = page.context.new_cdp_session(page)

        def on_frame(event: dict) -> None:  # type: ignore[type-arg]
            path = frames_dir / f"{len(captured):06d}.jpg"
            path.write_bytes(base64.b64decode(event["data"]))
            captured.append((float(event["metadata"]["timestamp"]), path))
            cdp.send("Page.screencastFrameAck", {"sessionId": event["sessionId"]})

        cdp.on("Page.screencastFrame", on_frame)
        cdp.send("Page.startScreencast", {"format": "jpeg", "quality": 85, "maxWidth": 1280, "maxHeight": 900})
        started = page.evaluate("() => document.getElementById('video').currentTime")
        try:
            page.wait_for_function(
                "([from, wanted]) => { const v = document.getElementById('video');"
                " return v.ended || (window.reelguard && window.reelguard.error) || v.currentTime - from >= wanted; }",
                arg=[started, media_seconds], timeout=cap * 1000, polling=200)
        except PlaywrightTimeout:
            pass  # the facts returned say how much media played before the cap
        cdp.send("Page.stopScreencast")
        state = page.evaluate("""() => { const v = document.getElementById('video');
            const q = v.getVideoPlaybackQuality();
            return {time: v.currentTime, dropped: q.droppedVideoFrames, total: q.totalVideoFrames,
                    error: window.reelguard && window.reelguard.error}; }""")
        browser.close()
    if state["error"] or len(captured) < 2:
        raise RuntimeError(f"the capture failed: {len(captured)} frame(s); player state {state}")
    _encode(captured, box, out, ffmpeg)
    shutil.rmtree(frames_dir, ignore_errors=True)
    span = captured[-1][0] - captured[0][0]
    return {"captured_fps": (len(captured) - 1) / span, "frames": len(captured),
            "media_seconds": float(state["time"]) - float(started), "wall_seconds": span,
            "decoder_dropped": float(state["dropped"]), "player_error": state["error"]}


def _encode(captured: list[tuple[float, Path]], box: dict[str, float], out: Path, ffmpeg: str) -> None:
    """The frames at a constant CAPTURE_RATE (each tick: the last frame captured), cropped to the video."""
    listing = out.with_suffix(".txt")
    lines = []
    for (when, path), (after, _next) in pairwise(captured):
        lines += [f"file '{path}'", f"duration {max(0.001, after - when):.6f}"]
    lines += [f"file '{captured[-1][1]}'", "duration 0.040"]
    listing.write_text("\n".join(lines) + "\n")
    x, y = round(box["x"]), round(box["y"])
    width, height = round(box["width"]) // 2 * 2, round(box["height"]) // 2 * 2
    subprocess.run([ffmpeg, "-nostdin", "-hide_banner", "-v", "error", "-y", "-f", "concat", "-safe", "0",
                    "-i", str(listing), "-vf", f"crop={width}:{height}:{x}:{y},fps={CAPTURE_RATE},format=yuv420p",
                    "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", str(out)], check=True)
    listing.unlink()
