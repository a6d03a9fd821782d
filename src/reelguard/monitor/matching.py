"""Which catalog titles a release names — each with a score and the reasons, or none.

A sighting is worth probing only if its name points at a catalog title, and a wrong
pointer costs twice: a probe of someone else's content, and — if nothing downstream
catches it — a notice about it. So a name is matched on its words and then *checked*
against everything else the name says, and any contradiction refuses the match:

- **the title's words** (``rapidfuzz``'s ratio of whole normalised names, never a partial
  or token-set ratio: "Dune" is inside "Dune Part Two" and is not it). Names are
  normalised first — accents and case folded, any script transliterated to Latin
  (``anyascii``: "Игра престолов" is "igra prestolov", as pirates spell it), "&" is
  "and", number words and roman numerals are digits ("Part Two" and "Part II" are
  "part 2"), a leading English article is dropped ("Lion.King.1994") — and compared
  against the title's name and each of its other names (original, translated,
  transliterated);
- **the numbers in the title** must be the same: a sequel ("Frozen 2", "Mission
  Impossible … Part Two") differs from its first part by one digit, which a ratio forgives;
- **the year**, when both know one, within a year (festival and release years differ);
- **kind, season and episode**: an episode of the catalog is matched only by a release
  that names its season and episode, or a pack that holds them (a season, seasons, a
  range); a movie only by a release that names no episode;
- **the country**, when both name one ("The.Office.UK" against the American series);
- **a one-word title** ("Her", "Up", "Heat") is matched only with its year or its
  episode: the word alone is in too many other names;
- **size against runtime**, when both are known and the release is one file: an average
  bit rate under 0.1 Mbit/s or over 120 Mbit/s is not this title.

The bar on the words (``NAME_BAR``) was set on the calibration half of the release corpus
(``benchmarks/_release_corpus.py``); the benchmark reports the other half::

    matcher = CatalogMatcher([CatalogEntry("t1", "Dune: Part Two", year=2024)])
    matcher.match(parse_release("Dune.Part.Two.2024.1080p.WEB-DL-FLUX"))
    # [ReleaseMatch(title_id="t1", score=1.0, reasons=("title 1.00", "year 2024 ✔"), ...)]
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from anyascii import anyascii
from rapidfuzz import fuzz, process

from reelguard.monitor.releases import ParsedRelease

__all__ = ["NAME_BAR", "CatalogEntry", "CatalogMatcher", "ReleaseMatch", "normalise_title"]

# The least word likeness of a match. On the calibration half of the corpus every bar from 0.60
# to 0.90 found every pair with no false one (the checks below refuse the look-alikes; a
# dropped letter scores 0.92 or more); 0.88 is near the top of that range, since a false
# match costs more than a missed one.
NAME_BAR = 0.88
_YEAR_SLACK = 1
_MIN_MBITS, _MAX_MBITS = 0.1, 120.0  # a single-file release's average bit rate, from a phone clip to a UHD remux
_NUMBER_WORDS = {"one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
                 "eight": "8", "nine": "9", "ten": "10", "ii": "2", "iii": "3", "iv": "4", "vi": "6", "vii": "7",
                 "viii": "8", "ix": "9"}  # not "i", "v", "x": "I Am Legend", "V for Vendetta", "Malcolm X"
_ARTICLES = frozenset({"the", "a", "an"})
_NOT_WORD = re.compile(r"[^0-9a-z]+")


@dataclass(frozen=True)
class CatalogEntry:
    """A catalog title as release names refer to it. An episode carries its series' name and year."""

    title_id: str
    name: str
    year: int | None = None
    other_names: tuple[str, ...] = ()  # original, translated and transliterated titles
    season: int | None = None  # both set: an episode of a series
    episode: int | None = None
    runtime_seconds: float | None = None
    country: str | None = None  # ISO 3166 alpha-2, for a title remade elsewhere under its name ("The Office", US)

    @property
    def is_episode(self) -> bool:
        return self.season is not None and self.episode is not None


@dataclass(frozen=True)
class ReleaseMatch:
    """A catalog title a release names: how alike the words are (``score``) and what else agreed."""

    title_id: str
    score: float
    reasons: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"title_id": self.title_id, "score": round(self.score, 3), "reasons": list(self.reasons)}


def normalise_title(name: str) -> str:
    """``name`` folded for comparison: Latin letters and digits, number words as digits, single spaces."""
    latin = anyascii(unicodedata.normalize("NFKC", name)).casefold().replace("&", " and ")
    latin = re.sub(r"['`]", "", latin)  # "d'Amelie" is "damelie", as dotted names write it
    words = [_NUMBER_WORDS.get(word, word) for word in _NOT_WORD.split(latin) if word]
    if len(words) > 1 and words[0] in _ARTICLES:
        words = words[1:]  # "Lion.King.1994" is how many uploaders write "The Lion King"
    return " ".join(words)


class CatalogMatcher:
    """Release names against one catalog; the catalog's names are normalised once."""

    def __init__(self, entries: Sequence[CatalogEntry], *, name_bar: float = NAME_BAR) -> None:
        self.entries = list(entries)
        self.name_bar = name_bar
        # names with a number in them, which guessit must be told of (``parse_release``'s ``known_titles``)
        self.numbered_titles = sorted({name for entry in self.entries for name in (entry.name, *entry.other_names)
                                       if any(char.isdigit() for char in name)})
        self._owner: list[int] = []  # every (normalised) name of every entry, flat, for one search per spelling
        self._names: list[str] = []
        for number, entry in enumerate(self.entries):
            for name in dict.fromkeys(normalise_title(n) for n in (entry.name, *entry.other_names)):
                if name:
                    self._owner.append(number)
                    self._names.append(name)

    def match(self, release: ParsedRelease, size_bytes: int | None = None) -> list[ReleaseMatch]:
        """Every catalog entry ``release`` names, best first (several for a pack); [] when none."""
        spellings = _spellings(release)
        best: dict[int, tuple[float, str]] = {}  # entry → its likest name
        for spelling in spellings:
            for name, ratio, at in process.extract(spelling, self._names, scorer=fuzz.ratio, limit=None,
                                                   score_cutoff=self.name_bar * 100):
                owner = self._owner[at]
                if ratio / 100.0 > best.get(owner, (0.0, ""))[0]:
                    best[owner] = (ratio / 100.0, name)
        matches = []
        for owner, (score, name) in best.items():
            entry = self.entries[owner]
            reasons = _checked(release, entry, name, spellings, size_bytes)
            if reasons is not None:
                matches.append(ReleaseMatch(entry.title_id, score, (f"title {score:.2f}", *reasons)))
        return sorted(matches, key=lambda match: (-match.score, match.title_id))


def _spellings(release: ParsedRelease) -> list[str]:
    """The normalised titles a release may mean: the words it spells its title with, and its alternative titles.

    Its title words, not guessit's title: "Dune.Part.Two.Ending.Explained.2024" is title
    "Dune", part 2 to guessit, which drops the two words that make it another video.
    """
    spelled = release.title_words or release.title + (f" part {release.part}" if release.part is not None else "")
    names = [normalise_title(text) for text in (spelled, *release.alternative_titles)]
    return [text for text in dict.fromkeys(names) if text]


def _checked(release: ParsedRelease, entry: CatalogEntry, name: str, spellings: list[str],
             size_bytes: int | None) -> tuple[str, ...] | None:
    """The reasons that agree with the match, or None when anything in the name contradicts it."""
    if not any(_digits(spelling) == _digits(name) for spelling in spellings):
        return None  # a sequel, a part, another year in the title
    reasons: list[str] = []
    if entry.country is not None and release.country is not None:
        if entry.country.upper() != release.country.upper():
            return None  # "The.Office.UK" is not the American one
        reasons.append(f"country {entry.country.upper()} ✔")
    if entry.year is not None and release.year is not None:
        if abs(entry.year - release.year) > _YEAR_SLACK:
            return None
        reasons.append(f"year {release.year} ✔")
    episode = _episode_reason(release, entry)
    if episode is None:
        return None
    reasons.extend(episode)
    if " " not in name and not reasons:
        return None  # a one-word title needs its year or its episode
    size = _size_reason(release, entry, size_bytes)
    if size is None:
        return None
    reasons.extend(size)
    return tuple(reasons)


def _digits(name: str) -> list[str]:
    return sorted(word for word in name.split() if word.isdigit())


def _episode_reason(release: ParsedRelease, entry: CatalogEntry) -> list[str] | None:
    if not entry.is_episode:
        return None if (release.seasons or release.episodes) else []
    if entry.season not in release.seasons:
        return None
    if release.episodes and entry.episode not in release.episodes:
        return None
    label = f"S{entry.season:02d}E{entry.episode:02d}"
    return [f"{label} ✔ (in a pack)" if release.pack else f"{label} ✔"]


def _size_reason(release: ParsedRelease, entry: CatalogEntry, size_bytes: int | None) -> list[str] | None:
    if size_bytes is None or not entry.runtime_seconds or release.pack:
        return []
    mbits = size_bytes * 8 / entry.runtime_seconds / 1e6
    if not _MIN_MBITS <= mbits <= _MAX_MBITS:
        return None
    return [f"size {mbits:.1f} Mbit/s ✔"]
