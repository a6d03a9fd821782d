"""The catalog index: generations switch atomically, titles are replaced not doubled, IVF grows untrained."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reelguard.errors import InvalidInput
from reelguard.fingerprint import index as catalog
from reelguard.fingerprint import matching
from reelguard.fingerprint.landmarks import FRAMES_PER_SECOND
from reelguard.fingerprint.signatures import Signature


def _title(seed: int, rows: int = 1200) -> tuple[Signature, Signature]:
    rng = np.random.default_rng(seed)
    codes = rng.normal(size=(rows, 63)).astype(np.float32)
    codes /= np.linalg.norm(codes, axis=1, keepdims=True)
    video = Signature("dct-video-v1", (np.arange(rows) / 4).astype(np.float32), codes, np.zeros(rows, np.uint8))
    peaks = np.stack([np.arange(0, 4000, 8), rng.integers(2, 255, 500)], axis=1).astype(np.int32)
    audio = Signature("landmark-audio-v1", (peaks[:, 0] / FRAMES_PER_SECOND).astype(np.float32), peaks,
                      np.zeros(len(peaks), np.uint8))
    return video, audio


def _query(video: Signature, audio: Signature) -> tuple[Signature, Signature]:
    picked = slice(100, 160)
    return (Signature(video.kind, video.times[picked], video.codes[picked], video.tags[picked]),
            Signature(audio.kind, audio.times[50:150], audio.codes[50:150], audio.tags[50:150]))


def test_titles_are_found_by_both_modalities_and_a_re_add_replaces(tmp_path: Path) -> None:
    index = catalog.CatalogIndex(tmp_path)
    titles = {f"t{i}": _title(i) for i in range(3)}
    index.add_many([(name, name, *signatures) for name, signatures in titles.items()])
    index.add("t1", "t1", *titles["t1"])  # ingest resumed: the same title again
    assert sorted(t.name for t in index.titles()) == ["t0", "t1", "t2"]
    number = {t.name: t.number for t in index.titles()}
    video, audio = _query(*titles["t1"])
    assert set(index.search_video(video, neighbours=3, min_likeness=0.99).title.tolist()) == {number["t1"]}
    audio_hits = index.search_audio(audio)
    assert np.bincount(audio_hits.title).argmax() == number["t1"]
    generations = [p.name for p in tmp_path.iterdir() if p.name.startswith("gen-")]
    assert len(generations) == 1 and (tmp_path / "CURRENT").read_text() == generations[0]


@pytest.mark.slow
def test_a_large_index_is_ivf_and_grows_without_retraining(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(catalog, "_EXACT_LIMIT", 3000)
    index = catalog.CatalogIndex(tmp_path)
    index.add_many([(f"t{i}", f"t{i}", *_title(i, rows=2000)) for i in range(3)])
    centroids = _centroids(catalog.CatalogIndex(tmp_path)._current().video)
    late = _title(99, rows=2000)
    index.add("late", "late", *late)
    grown = catalog.CatalogIndex(tmp_path)._current().video
    assert type(grown).__name__ == "IndexIVFPQFastScan" and grown.ntotal == 8000
    assert np.array_equal(_centroids(grown), centroids)  # encoded with the quantisers already trained
    number = next(t.number for t in index.titles() if t.name == "late")
    hits = index.search_video(_query(*late)[0], neighbours=3, min_likeness=0.8)
    assert np.bincount(hits.title).argmax() == number


def _centroids(index: object) -> np.ndarray:
    ivf = catalog.faiss.extract_index_ivf(index)
    return np.asarray(ivf.quantizer.reconstruct_n(0, ivf.nlist))


def test_the_index_refuses_other_signature_types_and_clears(tmp_path: Path) -> None:
    index = catalog.CatalogIndex(tmp_path)
    video, audio = _title(1)
    with pytest.raises(InvalidInput, match="the index holds dct-video-v1 and landmark-audio-v1 signatures"):
        index.add("t", "t", audio, video)
    index.add("t", "t", video, audio)
    index.clear()
    assert index.titles() == [] and len(index.search_video(video, neighbours=1, min_likeness=0.0)) == 0


@pytest.mark.slow
def test_a_large_audio_search_votes_on_integers_and_keeps_the_copy(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """When the coarse vote prunes (as it does over 50,000 hits), the copy's title and offset survive it."""
    monkeypatch.setattr(matching, "_SHORTLIST_FROM", 0)
    index = catalog.CatalogIndex(tmp_path)
    titles = {f"t{i}": _title(i) for i in range(40)}
    index.add_many([(name, name, *signatures) for name, signatures in titles.items()])
    _, audio = _query(*titles["t7"])
    hits = index.search_audio(audio)
    number = next(t.number for t in index.titles() if t.name == "t7")
    assert set(hits.title.tolist()) != set(range(40))  # chance titles were dropped …
    on_copy = (hits.title == number) & (hits.slope == 1.0)
    offsets = hits.title_time[on_copy] - hits.query_time[on_copy]
    assert np.bincount(hits.title).argmax() == number  # … the copy was not
    assert np.median(offsets) == pytest.approx(0.0, abs=0.05)  # the query is the title's own peaks 50-150


def test_a_rebuild_replaces_every_title_in_one_generation(tmp_path: Path) -> None:
    index = catalog.CatalogIndex(tmp_path)
    index.add_many([(f"t{i}", f"t{i}", *_title(i)) for i in range(3)])
    index.add_many([("t9", "t9", *_title(9))], replace_all=True)
    assert [t.name for t in index.titles()] == ["t9"]
    assert set(index.search_audio(_query(*_title(1))[1]).title.tolist()) <= {0}


def test_titles_carry_their_length_and_an_older_generation_gets_it_from_its_arrays(tmp_path: Path) -> None:
    """A line's false-match probability is corrected by the catalog's length, so every title must know its own."""
    import json

    index = catalog.CatalogIndex(tmp_path)
    index.add_many([("t0", "t0", *_title(0, rows=400)), ("t1", "t1", *_title(1, rows=800))])
    lengths = {t.name: t.seconds for t in index.titles()}
    last_sound = 3992 / FRAMES_PER_SECOND  # the synthetic titles share 128 s of peaks; t1 has 200 s of pictures
    assert lengths == {"t0": pytest.approx(last_sound + 0.5, abs=0.01), "t1": pytest.approx(199.75 + 0.5, abs=0.01)}
    folder = tmp_path / (tmp_path / "CURRENT").read_text()
    manifest = json.loads((folder / "manifest.json").read_text())
    for title in manifest["titles"]:
        del title["seconds"]  # as written before titles carried their length
    (folder / "manifest.json").write_text(json.dumps(manifest))
    measured = {t.name: t.seconds for t in catalog.CatalogIndex(tmp_path).titles()}
    # the arrays keep hash anchors, and the last peaks anchor no pair: a fraction of a second shorter at most
    assert measured == {name: pytest.approx(seconds, abs=0.5) for name, seconds in lengths.items()}


def test_a_title_picture_found_by_several_views_of_one_suspect_picture_is_one_hit(tmp_path: Path) -> None:
    """A flat or still title picture matches every view of a picture; counted per view it would outvote copies."""
    index = catalog.CatalogIndex(tmp_path)
    video, audio = _title(4)
    index.add("t", "t", video, audio)
    rows = [110, 110, 110, 111]  # one picture in three views (all alike), and the next picture
    times = np.array([27.5, 27.5, 27.5, 27.75], np.float32)
    codes = video.codes[rows] + np.random.default_rng(1).normal(0, 0.05, (4, 63)).astype(np.float32)
    codes /= np.linalg.norm(codes, axis=1, keepdims=True)
    query = Signature(video.kind, times, codes, np.array([0, 7, 8, 0], np.uint8))
    hits = index.search_video(query, neighbours=2, min_likeness=0.0)
    pairs = list(zip(hits.query_time.tolist(), hits.title_time.tolist(), strict=True))
    assert len(pairs) == len(set(pairs))  # no (suspect picture, title picture) pair twice …
    assert pairs.count((27.5, 27.5)) == 1 and pairs.count((27.75, 27.75)) == 1  # … however many views found it
    likeness = dict(zip(pairs, hits.weight.tolist(), strict=True))
    likeliest_view = float((codes[:3] @ video.codes[110]).max())
    assert likeness[(27.5, 27.5)] == pytest.approx(likeliest_view, abs=1e-3)  # the index keeps float16
    nothing_alike = index.search_video(query, neighbours=2, min_likeness=1.5)
    assert len(nothing_alike) == 0
