"""A sample of a torrent's video, downloaded from its proven distributors only, for identify and trace.

Recognition and tracing need a stretch of the programme, not the whole film: the
sample is the video file's first and last pieces (where MP4 and Matroska keep their
indexes) and a run from its middle — or all of it when it is small. Only peers the
probe proved to be distributors are admitted (libtorrent's IP filter), so every byte of
the sample came from a peer already on record as serving this torrent, and each piece
is checked against the info dictionary's SHA-1 before it is written. Pieces that did not
arrive in time stay holes of zeros; identify and trace read a partial file as far as it
decodes and say which part they read::

    sample = acquire_sample(torrent, distributors, out_dir, address="127.0.0.9", max_bytes=256 << 20)
    sample.path, sample.pieces_received, sample.complete
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import libtorrent as lt

from reelguard.errors import InvalidInput, SourceError
from reelguard.monitor.swarm import CandidatePeer, read_torrent, session_settings

__all__ = ["Sample", "acquire_sample", "sample_pieces"]

VIDEO_SUFFIXES = frozenset({".mkv", ".mp4", ".m4v", ".avi", ".ts", ".m2ts", ".mov", ".webm", ".wmv", ".flv", ".mpg",
                            ".mpeg", ".ogv", ".3gp"})
_EDGE_BYTES = 4 << 20  # the head and the tail kept whole: container headers and an MP4's moov at the end


@dataclass(frozen=True)
class Sample:
    path: Path
    file_name: str  # the video file's path inside the torrent
    file_size: int
    pieces_wanted: int
    pieces_received: int
    byte_ranges: list[tuple[int, int]]  # the file's byte ranges asked for, [start, end)
    peers: list[str]  # the distributors it was fetched from, ip:port

    @property
    def complete(self) -> bool:
        return self.pieces_received == self.pieces_wanted

    def to_json(self) -> dict[str, Any]:
        return {"file_name": self.file_name, "file_size": self.file_size, "pieces_wanted": self.pieces_wanted,
                "pieces_received": self.pieces_received, "complete": self.complete,
                "byte_ranges": [list(r) for r in self.byte_ranges], "peers": self.peers}


def sample_pieces(info: Any, max_bytes: int) -> tuple[int, list[tuple[int, int]], list[int]]:
    """(the video file's index, its byte ranges to fetch, the pieces that cover them) for a torrent's info."""
    files = _layout(info)
    indexes = range(files.num_files())
    videos = [i for i in indexes if Path(files.file_path(i)).suffix.lower() in VIDEO_SUFFIXES]
    chosen = max(videos or list(indexes), key=files.file_size)
    size, offset = int(files.file_size(chosen)), int(files.file_offset(chosen))
    if size <= max_bytes:
        ranges = [(0, size)]
    else:
        edge = min(_EDGE_BYTES, max_bytes // 4)
        middle = max_bytes - 2 * edge
        start = max(edge, size // 2 - middle // 2)
        ranges = [(0, edge), (start, min(size - edge, start + middle)), (size - edge, size)]
    piece = int(info.piece_length())
    pieces = sorted({p for a, b in ranges for p in range((offset + a) // piece, (offset + b - 1) // piece + 1)})
    return chosen, ranges, pieces


def _layout(info: Any) -> Any:
    """The torrent's files (paths, sizes, offsets). libtorrent 2.1 deprecates ``files()`` for ``layout()``, which its
    Python bindings do not have yet; the call is the same file_storage either way."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return info.files()


def acquire_sample(torrent: bytes, distributors: Sequence[CandidatePeer], out_dir: Path, *, address: str,
                   max_bytes: int, timeout_seconds: float) -> Sample:
    """Fetch the sample's pieces from ``distributors`` alone into ``out_dir`` (resumed if already partly there)."""
    if not distributors:
        raise InvalidInput("expected at least one proven distributor to fetch a sample from, got none")
    info = read_torrent(torrent)
    chosen, ranges, pieces = sample_pieces(info, max_bytes)
    out_dir.mkdir(parents=True, exist_ok=True)
    session = lt.session(session_settings(address, timeout=timeout_seconds))  # type: ignore[call-overload]
    admitted = lt.ip_filter()
    admitted.add_rule("0.0.0.0", "255.255.255.255", 1)  # noqa: S104 - a filter blocking every IPv4 address
    for peer in distributors:
        admitted.add_rule(peer.ip, peer.ip, 0)
    session.set_ip_filter(admitted)
    deadline = time.monotonic() + timeout_seconds
    have: set[int] = set()
    while len(have) < len(pieces) and time.monotonic() < deadline:
        have = _fetch_round(session, info, chosen, pieces, have, distributors, out_dir, deadline)
    if not have:
        raise SourceError(f"no piece of the sample arrived from {len(distributors)} proven distributors within "
                          f"{timeout_seconds:g} s", retryable=True)
    name = _layout(info).file_path(chosen)
    return Sample(out_dir / name, name, int(_layout(info).file_size(chosen)), len(pieces), len(have), ranges,
                  [f"{p.ip}:{p.port}" for p in distributors])


def _fetch_round(session: Any, info: Any, chosen: int, pieces: list[int], have: set[int],
                 distributors: Sequence[CandidatePeer], out_dir: Path, deadline: float) -> set[int]:
    """One round of fetching; returns the pieces had at its end (``have`` and those it added).

    A round ends when every piece is in, at the deadline, or when every distributor's
    connection has gone. The last matters because libtorrent bans a peer for a piece that
    failed its hash when that peer is the only one *left on record* for it: a corrupt peer
    banned first is forgotten, and an honest one that sent the rest of the same piece is
    banned in its place and never reconnected. A new round is a new torrent with a new
    peer list — no bans carried over — that starts from the pieces already checked.
    """
    params = lt.add_torrent_params()
    params.ti, params.save_path = lt.torrent_info(info), str(out_dir)
    params.file_priorities = [4 if i == chosen else 0 for i in range(info.num_files())]
    params.have_pieces = [i in have for i in range(info.num_pieces())]
    handle = session.add_torrent(params)
    handle.prioritize_pieces([7 if i in pieces and i not in have else 0 for i in range(info.num_pieces())])
    for peer in distributors:
        handle.connect_peer((peer.ip, peer.port))
    dropped = False
    try:
        while time.monotonic() < deadline and not all(handle.have_piece(p) for p in pieces):
            dropped = dropped or any(isinstance(alert, lt.peer_disconnected_alert) for alert in session.pop_alerts())
            if dropped and handle.status().num_peers == 0:
                time.sleep(0.5)  # a distributor that closed on us is not asked again at once
                break
            time.sleep(0.1)
        return {p for p in pieces if handle.have_piece(p)}
    finally:
        session.remove_torrent(handle)
