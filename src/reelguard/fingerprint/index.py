"""The catalog index: every indexed title's reference signatures, searchable in well under a second.

Two structures, neither a table row per hash (the shortcoming users report of SQL-backed
fingerprinters, whose searches take tens of seconds):

- video descriptors in FAISS, inner product: exact (``IndexFlatIP``) while the catalog
  is small; once it passes ``_EXACT_LIMIT`` rows, IVF with 4-bit fast-scan PQ (10.5 bytes
  a descriptor) proposes candidates that are scored again exactly;
- audio landmark hashes as an inverted index in memory-mapped arrays: entries sorted by
  hash, with each entry's title and frame beside it, and a table of where each of the
  2²¹ hash values starts, so a lookup is two reads and a query touches a few pages of
  files that may be gigabytes.

The index lives in a folder as *generations*: adding a title writes a complete new
generation beside the current one and then switches ``CURRENT`` to it with an atomic
rename, so a crash mid-add leaves the previous index whole, and readers never see half a
title. It is derived data: ``reelguard fingerprints rebuild`` makes it again from the
signatures in the blob store::

    index = CatalogIndex(Path(".reelguard/fingerprints"))
    index.add(title_id, "ep01", video_signature, audio_signature)
    hits = index.search_video(query_signature, neighbours=8)
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Collection
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from numpy.typing import NDArray

from reelguard.errors import ConfigurationError, InvalidInput
from reelguard.fingerprint.landmarks import FRAMES_PER_SECOND, HASH_VALUES, Landmarks, landmark_hashes
from reelguard.fingerprint.matching import Hits, busy_groups
from reelguard.fingerprint.signatures import Signature
from reelguard.fingerprint.thumbnails import DIMENSIONS, DctVideo

__all__ = ["SPEED_HYPOTHESES", "CatalogIndex", "IndexedTitle"]

_EXACT_LIMIT = 20_000  # video rows (about 80 minutes at 2 pictures × 2 views a second) searched exactly
_MAX_BUCKET = 4096  # a landmark hash this common says nothing about which title it is
# An audio entry is one int64: owner << 32 | (frame + bias). The bias keeps an entry minus a
# scaled query anchor from borrowing from the owner bits; the speed hypothesis goes above both.
_OWNER_SHIFT, _FRAME_BIAS, _HYPOTHESIS_SHIFT = 32, 1 << 30, 56
# Coarse audio lines are voted in bins of 32 frames (1 s), on one grid: a copy's landmarks lie
# within a frame or two of their line, so a bin holds the line whole, or its bigger part
# when it sits at an edge; a second grid half a bin over would double the vote's cost.
_LINE_BIN_SHIFT = 5
# (tempo, pitch) of the copy relative to the title: ±10 % in 2 % steps, pitch kept or moved with it
SPEED_HYPOTHESES: tuple[tuple[float, float], ...] = tuple(
    [(1.0, 1.0)] + [(t, p) for t in np.round(np.arange(0.90, 1.101, 0.02), 2) if t != 1.0 for p in (1.0, t)])


@dataclass(frozen=True)
class IndexedTitle:
    number: int  # its place in the index arrays
    title_id: str
    name: str
    seconds: float = 0.0  # how long the title is (the last picture or landmark indexed)


class CatalogIndex:
    """A folder of index generations; see the module docstring."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._loaded: tuple[str, _Generation] | None = None

    # -- reading ---------------------------------------------------------------------
    def titles(self) -> list[IndexedTitle]:
        return self._current().titles

    def search_video(self, query: Signature, *, neighbours: int, min_likeness: float) -> Hits:
        """The ``neighbours`` likest title descriptors of each query row, kept when at least ``min_likeness``.

        A large (IVF fast-scan PQ) index only proposes candidates — its 4-bit codes place
        neighbours well but misjudge likeness by ±0.2 — so candidates are scored again
        exactly against the stored descriptors (a gather from a memory-mapped array).
        """
        generation = self._current()
        if not len(query) or generation.video is None or generation.video.ntotal == 0:
            return Hits.none()
        vectors = np.ascontiguousarray(query.codes, dtype=np.float32)
        exact = not generation.is_ivf
        wanted = min(neighbours * (1 if exact else 2), generation.video.ntotal)
        likeness, rows = generation.video.search(vectors, wanted)
        if not exact:
            found = np.where(rows >= 0, rows, 0)
            stored = np.asarray(generation.video_codes[found.reshape(-1)], dtype=np.float32)
            likeness = np.einsum("qkd,qd->qk", stored.reshape(*found.shape, -1), vectors)
            likeness[rows < 0] = -np.inf
        keep = (rows >= 0) & (likeness >= min_likeness)
        found, query_rows, likeness = _likest_per_picture(rows[keep], np.nonzero(keep)[0], likeness[keep],
                                                          query.times)
        return Hits(generation.video_owner[found].astype(np.int32), query.times[query_rows].astype(np.float64),
                    generation.video_time[found].astype(np.float64), likeness.astype(np.float64),
                    np.zeros(len(found)))

    def search_audio(self, query: Signature) -> Hits:
        """The title landmarks sharing a hash with the query, under each speed hypothesis, on a busy line.

        A query's few thousand lookups find millions of entries in a large catalog, nearly
        all chance. They are voted on as integers — each entry minus its query anchor
        scaled by the hypothesis is its line (hypothesis, title, offset) — and only the
        hits of titles owning a busy line (``matching.busy_groups``) become ``Hits``.
        """
        generation = self._current()
        if not len(query) or not len(generation.audio_entry):
            return Hits.none()
        lookup, anchor, hypothesis = _query_lookups(query)
        starts = np.asarray(generation.audio_start)
        low, high = starts[lookup], starts[lookup + 1]
        found = (high > low) & (high - low <= _MAX_BUCKET)
        if not found.any():
            return Hits.none()
        low, high, anchor, hypothesis = low[found], high[found], anchor[found], hypothesis[found]
        stored = np.asarray(generation.audio_entry)  # each lookup's entries are one run of it
        lines = np.concatenate([stored[start:end] for start, end in zip(low.tolist(), high.tolist(), strict=True)])
        tempo = np.array([t for t, _ in SPEED_HYPOTHESES])[hypothesis]
        moved = np.rint(tempo * anchor).astype(np.int64) - (hypothesis.astype(np.int64) << _HYPOTHESIS_SHIFT)
        counts = high - low
        lines -= np.repeat(moved, counts)  # entry - moved anchor = hypothesis | owner | biased offset
        keep = np.flatnonzero(busy_groups([lines >> _LINE_BIN_SHIFT], lines >> _OWNER_SHIFT))
        of_lookup = np.searchsorted(np.cumsum(counts), keep, side="right")
        kept = lines[keep] + moved[of_lookup]
        return Hits(_owners(kept), anchor[of_lookup] / FRAMES_PER_SECOND,
                    _frames(kept) / FRAMES_PER_SECOND, np.ones(len(keep)), tempo[of_lookup])

    # -- writing ---------------------------------------------------------------------
    def clear(self) -> None:
        """An empty generation becomes current (the old one is removed once nobody points at it)."""
        arrays = _Generation.empty().arrays_without(set())
        self._write_generation([], arrays, _video_index(arrays["video_codes"]))

    def remove(self, title_ids: Collection[str]) -> list[IndexedTitle]:
        """A new generation without these titles (removed, or failed before they were ready); those removed."""
        old = self._current()
        wanted = set(title_ids)
        gone = [t for t in old.titles if t.title_id in wanted]
        if gone:
            arrays = old.arrays_without({t.number for t in gone})
            self._write_generation([t for t in old.titles if t.title_id not in wanted], arrays,
                                   _video_index(arrays["video_codes"]))
        return gone

    def add(self, title_id: str, name: str, video: Signature, audio: Signature) -> IndexedTitle:
        """Index one title's reference signatures (a title already indexed is replaced)."""
        return self.add_many([(title_id, name, video, audio)])[-1]

    def add_many(self, entries: list[tuple[str, str, Signature, Signature]], *,
                 replace_all: bool = False) -> list[IndexedTitle]:
        """Index several titles in one new generation (a catalog import writes the index once, not per title).

        With ``replace_all`` the new generation holds these titles only (a rebuild): readers
        see the old index until the new one is whole, never an empty one.
        """
        for _, _, video, audio in entries:
            if video.kind != DctVideo.name or audio.kind != Landmarks.name:
                raise InvalidInput(f"the index holds {DctVideo.name} and {Landmarks.name} signatures, "
                                   f"got {video.kind} and {audio.kind}")
        old = _Generation.empty() if replace_all else self._current()
        replaced = {title_id for title_id, *_ in entries}
        kept = [t for t in old.titles if t.title_id not in replaced]
        parts = {key: [values] for key, values in
                 old.arrays_without({t.number for t in old.titles} - {t.number for t in kept}).items()}
        number = max([t.number for t in kept], default=-1) + 1
        added = []
        for title_id, name, video, audio in entries:
            added.append(IndexedTitle(number, title_id, name, _seconds(video, audio)))
            hashes, anchors = landmark_hashes(audio.codes)  # type: ignore[arg-type]
            parts["video_codes"].append(video.codes.astype(np.float16))
            parts["video_owner"].append(np.full(len(video), number, np.int32))
            parts["video_time"].append(video.times.astype(np.float32))
            parts["audio_hash"].append(hashes)
            parts["audio_owner"].append(np.full(len(hashes), number, np.int32))
            parts["audio_frame"].append(anchors.astype(np.int32))
            number += 1
        arrays = {key: np.concatenate(values) for key, values in parts.items()}
        trained = old.video if len(kept) == len(old.titles) and old.is_ivf else None
        searchable = _grown(trained, arrays["video_codes"][len(old.video_codes):]) if trained is not None else \
            _video_index(arrays["video_codes"])
        self._write_generation([*kept, *added], arrays, searchable)
        return added

    def _write_generation(self, titles: list[IndexedTitle], arrays: dict[str, NDArray[Any]],
                          video: faiss.Index) -> None:
        hashes = arrays.pop("audio_hash")
        order = np.argsort(hashes, kind="stable")
        owner, frame = arrays.pop("audio_owner")[order], arrays.pop("audio_frame")[order]
        arrays["audio_entry"] = _entries(owner, frame)
        arrays["audio_start"] = _bucket_starts(hashes[order])
        self._root.mkdir(parents=True, exist_ok=True)
        name = f"gen-{uuid.uuid4().hex[:12]}"
        staging = self._root / f".{name}.partial"
        staging.mkdir()
        for key, values in arrays.items():
            np.save(staging / f"{key}.npy", values)
        faiss.write_index(video, str(staging / "video.faiss"))
        (staging / "manifest.json").write_text(json.dumps({
            "video_type": DctVideo.name, "audio_type": Landmarks.name,
            "titles": [{"number": t.number, "title_id": t.title_id, "name": t.name, "seconds": t.seconds}
                       for t in titles]}))
        staging.rename(self._root / name)
        pointer = self._root / ".CURRENT.partial"
        pointer.write_text(name)
        previous = self._current_name()
        pointer.replace(self._root / "CURRENT")
        if previous:
            shutil.rmtree(self._root / previous, ignore_errors=True)

    # -- generations -----------------------------------------------------------------
    def _current_name(self) -> str | None:
        pointer = self._root / "CURRENT"
        return pointer.read_text().strip() if pointer.is_file() else None

    def _current(self) -> _Generation:
        name = self._current_name()
        if name is None:
            return _Generation.empty()
        if self._loaded is None or self._loaded[0] != name:
            self._loaded = (name, _Generation.load(self._root / name))
        return self._loaded[1]


@dataclass
class _Generation:
    titles: list[IndexedTitle]
    video: faiss.Index | None
    video_codes: NDArray[np.float16]
    video_owner: NDArray[np.int32]
    video_time: NDArray[np.float32]
    audio_entry: NDArray[np.int64]  # owner << _OWNER_SHIFT | (frame + _FRAME_BIAS), in hash order
    audio_start: NDArray[np.int64]  # the entries of hash h are audio_entry[audio_start[h]:audio_start[h + 1]]

    def __post_init__(self) -> None:
        self.is_ivf = _is_trained_ivf(self.video)  # asked once per generation, not per search

    @classmethod
    def empty(cls) -> _Generation:
        return cls([], None, np.zeros((0, DIMENSIONS), np.float16), np.zeros(0, np.int32), np.zeros(0, np.float32),
                   np.zeros(0, np.int64), np.zeros(HASH_VALUES + 1, np.int64))

    @classmethod
    def load(cls, folder: Path) -> _Generation:
        try:
            manifest = json.loads((folder / "manifest.json").read_text())
            arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r") for name in
                      ("video_codes", "video_owner", "video_time", "audio_entry", "audio_start")}
            video = faiss.read_index(str(folder / "video.faiss"))
        except (OSError, ValueError, RuntimeError) as exc:
            raise ConfigurationError(f"the fingerprint index at {folder} is unreadable ({exc}); rebuild it with "
                                     f"'reelguard fingerprints rebuild'") from exc
        titles = [IndexedTitle(int(t["number"]), str(t["title_id"]), str(t["name"]), float(t.get("seconds", 0.0)))
                  for t in manifest["titles"]]
        if any(t.seconds <= 0 for t in titles):  # a generation written before titles carried their length
            titles = _with_lengths(titles, arrays["video_owner"], arrays["video_time"], arrays["audio_entry"])
        return cls(titles, video, **arrays)

    def arrays_without(self, numbers: set[int]) -> dict[str, NDArray[Any]]:
        """The arrays that ``add_many`` extends: this generation's, less the titles ``numbers``."""
        video_keep = ~np.isin(self.video_owner, list(numbers))
        entries = np.asarray(self.audio_entry)
        hashes = np.repeat(np.arange(HASH_VALUES, dtype=np.uint32), np.diff(self.audio_start))
        owner = _owners(entries)
        audio_keep = ~np.isin(owner, list(numbers))
        return {"video_codes": np.asarray(self.video_codes[video_keep]),
                "video_owner": np.asarray(self.video_owner[video_keep]),
                "video_time": np.asarray(self.video_time[video_keep]),
                "audio_hash": hashes[audio_keep],
                "audio_owner": owner[audio_keep],
                "audio_frame": _frames(entries[audio_keep]).astype(np.int32)}


def _likest_per_picture(found: NDArray[np.int64], query_rows: NDArray[np.intp], likeness: NDArray[np.float32],
                        times: NDArray[np.float32]) -> tuple[NDArray[np.int64], NDArray[np.intp], NDArray[np.float32]]:
    """Each (suspect picture, title picture) pair once, at the likeness of its likest view.

    A suspect picture is searched in up to eleven views; a flat or still title picture is
    found by many of them at once. Counted once per view, such pictures would outvote a
    real copy's line (seen by one view, the inset) in the shortlist of busy lines.
    """
    if not len(found):
        return found, query_rows, likeness
    moment = np.unique(times, return_inverse=True)[1][query_rows].astype(np.int64)
    order = np.lexsort((-likeness, found, moment))
    pair = moment[order] * (int(found.max(initial=0)) + 1) + found[order]
    first = np.r_[True, pair[1:] != pair[:-1]]
    chosen = np.sort(order[first])
    return found[chosen], query_rows[chosen], likeness[chosen]


def _seconds(video: Signature, audio: Signature) -> float:
    """A title's length as its signatures see it: its last sampled picture or sound frame."""
    last_picture = float(video.times.max()) if len(video) else 0.0
    last_sound = float(audio.codes[:, 0].max()) / FRAMES_PER_SECOND if len(audio) else 0.0
    return round(max(last_picture, last_sound) + 0.5, 3)


def _with_lengths(titles: list[IndexedTitle], video_owner: NDArray[np.int32], video_time: NDArray[np.float32],
                  audio_entry: NDArray[np.int64]) -> list[IndexedTitle]:
    """Titles with their lengths measured from the index arrays (the last picture or landmark of each)."""
    last = np.zeros(max([t.number for t in titles], default=-1) + 1)
    np.maximum.at(last, np.asarray(video_owner), np.asarray(video_time, np.float64))
    entries = np.asarray(audio_entry)
    np.maximum.at(last, _owners(entries), _frames(entries) / FRAMES_PER_SECOND)
    return [replace(t, seconds=round(float(last[t.number]) + 0.5, 3)) for t in titles]


def _query_lookups(query: Signature) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.intp]]:
    """(hash, anchor frame, hypothesis) of the query's landmarks under every speed hypothesis, in hash order.

    In hash order, the lookups read the memory-mapped entries front to back.
    """
    hashes, anchors, hypotheses = [], [], []
    for number, (tempo, pitch) in enumerate(SPEED_HYPOTHESES):
        hashed, anchored = landmark_hashes(query.codes, tempo=tempo, pitch=pitch)  # type: ignore[arg-type]
        hashes.append(hashed)
        anchors.append(anchored)
        hypotheses.append(np.full(len(hashed), number, np.intp))
    lookup = np.concatenate(hashes).astype(np.int64)
    order = np.argsort(lookup, kind="stable")
    return lookup[order], np.concatenate(anchors)[order], np.concatenate(hypotheses)[order]


def _entries(owner: NDArray[np.int32], frame: NDArray[np.int32]) -> NDArray[np.int64]:
    """Audio entries as stored: owner << _OWNER_SHIFT | (frame + _FRAME_BIAS); ``_owners``/``_frames`` undo it."""
    return (owner.astype(np.int64) << _OWNER_SHIFT) | (frame.astype(np.int64) + _FRAME_BIAS)


def _owners(entries: NDArray[np.int64]) -> NDArray[np.int32]:
    return (entries >> _OWNER_SHIFT).astype(np.int32)


def _frames(entries: NDArray[np.int64]) -> NDArray[np.int64]:
    return (entries & ((1 << _OWNER_SHIFT) - 1)) - _FRAME_BIAS


def _bucket_starts(sorted_hashes: NDArray[np.uint32]) -> NDArray[np.int64]:
    """Where each hash value's entries start in ``sorted_hashes`` (and, last, where they all end)."""
    return np.searchsorted(sorted_hashes, np.arange(HASH_VALUES + 1, dtype=np.uint32)).astype(np.int64)


def _is_trained_ivf(index: faiss.Index | None) -> bool:
    try:
        return index is not None and faiss.extract_index_ivf(index).is_trained
    except RuntimeError:  # a flat index has no inverted lists
        return False


def _grown(index: faiss.Index, codes: NDArray[np.float16]) -> faiss.Index:
    """A trained IVF index with more rows: new titles are encoded with the quantisers already trained."""
    grown = faiss.clone_index(index)
    faiss.extract_index_ivf(grown).nprobe = 16
    grown.add(np.ascontiguousarray(codes, dtype=np.float32))
    return grown


def _video_index(codes: NDArray[np.float16]) -> faiss.Index:
    """Exact inner product while small; IVF fast-scan PQ (trained on the catalog itself) once large."""
    vectors = np.ascontiguousarray(codes, dtype=np.float32)
    index: faiss.Index
    if len(vectors) <= _EXACT_LIMIT:
        index = faiss.IndexFlatIP(DIMENSIONS)
    else:
        lists = int(np.sqrt(len(vectors)))  # FAISS's rule of thumb is 4-16·√n; √n keeps training to minutes
        index = faiss.index_factory(DIMENSIONS, f"IVF{lists},PQ21x4fs", faiss.METRIC_INNER_PRODUCT)
        wanted = min(len(vectors), max(64 * lists, 10_000))
        sample = vectors[np.random.default_rng(0).choice(len(vectors), wanted, replace=False)]
        index.train(sample)
        faiss.extract_index_ivf(index).nprobe = 16
    index.add(vectors)
    return index
