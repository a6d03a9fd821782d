"""What a release name says: title, year, season and episode, source, group — and whether it was filmed in a cinema.

Pirates name releases by convention, not by schema: ``Dune.Part.Two.2024.1080p.WEB-DL.DDP5.1
.H.264-FLUX`` (scene), ``Dune Part Two (2024) [1080p] [WEBRip] [YTS.MX]`` (P2P),
``[SubsPlease] Attack on Titan - 60 (1080p)`` (fansub), ``Breaking.Bad.S01-S05.COMPLETE``
(a pack). ``guessit`` knows those conventions; this module cleans the name first (a name
from an indexer is untrusted text: control and bidirectional-override characters are
dropped, its length is bounded), keeps guessit's whole answer beside the fields read from
it, and flags copies filmed in a cinema (CAM, TS, TC, workprint) — the leaks a cinema
release window most needs to know about, some of whose tags guessit does not know::

    release = parse_release("Oppenheimer.2023.HDTS.x264-SUNSCREEN")
    release.title, release.year, release.cinema_copy    # "Oppenheimer", 2023, True
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from guessit import guessit

from reelguard.errors import InvalidInput

__all__ = ["MAX_NAME_LENGTH", "ParsedRelease", "clean_release_name", "parse_release", "read_release"]

MAX_NAME_LENGTH = 512  # release names are at most 255 characters on every indexer seen; twice that is hostile
# guessit's sources for copies made in a cinema, and the tags of them it does not know
_CINEMA_SOURCES = frozenset({"Camera", "HD Camera", "Telesync", "HD Telesync", "Telecine", "HD Telecine", "Workprint"})
_CINEMA_TAGS = frozenset({"CAM", "CAMRIP", "HDCAM", "HQCAM", "TS", "HDTS", "TSRIP", "TELESYNC", "PDVD", "PREDVD",
                          "PREDVDRIP", "TC", "HDTC", "TELECINE", "WORKPRINT"})
_TAG_SPLIT = re.compile(r"[^0-9A-Za-z]+")
# words that join a title to its season or episode number (whose tag covers the number only)
_TITLE_CONNECTORS = frozenset({"season", "seasons", "s", "saison", "staffel", "temporada", "stagione", "series",
                               "episode", "episodes", "ep", "e", "x", "complete", "vol", "volume"})
# tags after which a release name no longer spells its title
_TITLE_ENDS = frozenset({"year", "season", "episode", "date", "screen_size", "source", "video_codec", "audio_codec",
                         "audio_channels", "release_group", "other", "edition", "streaming_service", "container",
                         "size", "website", "episode_details", "bonus", "film", "crc32", "uuid", "proper_count"})


@dataclass(frozen=True)
class ParsedRelease:
    """A release name read: the fields matching needs, and guessit's whole answer in ``raw``."""

    name: str  # the name as cleaned (what was parsed)
    title: str  # the title as guessit reads it ("" when none could be read)
    kind: str  # "movie" or "episode"
    # every word from the title up to the year, the episode or the first technical tag that no tag
    # claims: "Dune.Part.Two.Ending.Explained.2024" is title "Dune", part 2 to guessit, whose
    # answer drops "Ending Explained"; these words keep it (``title_words`` = "Dune Part Two Ending Explained")
    title_words: str = ""
    year: int | None = None
    seasons: tuple[int, ...] = ()
    episodes: tuple[int, ...] = ()
    part: int | None = None  # "Dune.Part.Two" is title "Dune", part 2
    alternative_titles: tuple[str, ...] = ()
    source: str | None = None
    streaming_service: str | None = None
    screen_size: str | None = None
    video_codec: str | None = None
    release_group: str | None = None
    languages: tuple[str, ...] = ()
    country: str | None = None
    cinema_copy: bool = False  # filmed in a cinema: camcorder, telesync, telecine or workprint
    pack: bool = False  # more than one episode: a season, several seasons, or a range
    raw: dict[str, Any] = field(default_factory=dict)  # guessit's answer, every value as text or a list of text

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "kind": self.kind, "year": self.year,
                "seasons": list(self.seasons), "episodes": list(self.episodes), "part": self.part,
                "alternative_titles": list(self.alternative_titles), "source": self.source,
                "streaming_service": self.streaming_service, "screen_size": self.screen_size,
                "video_codec": self.video_codec, "release_group": self.release_group,
                "languages": list(self.languages), "country": self.country, "cinema_copy": self.cinema_copy,
                "pack": self.pack, "raw": self.raw}


def clean_release_name(name: object) -> str:
    """``name`` as text fit to parse: control, format (bidirectional overrides) and separator characters dropped.

    Raises ``InvalidInput`` for a name that is not text, is empty once cleaned, or is
    longer than ``MAX_NAME_LENGTH`` characters.
    """
    if not isinstance(name, str):
        raise InvalidInput(f"expected a release name as text, got {type(name).__name__}")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInput(f"expected a release name of at most {MAX_NAME_LENGTH} characters, got {len(name)}")
    kept = "".join(" " if unicodedata.category(char)[0] in "CZ" else char for char in name)
    cleaned = " ".join(kept.split())
    if not cleaned:
        raise InvalidInput(f"expected a release name, got {name!r} (nothing but spaces and control characters)")
    return cleaned


def parse_release(name: object, known_titles: Sequence[str] = ()) -> ParsedRelease:
    """Read a release name (``clean_release_name`` first); never raises for a name in any script or style.

    ``known_titles`` are titles with numbers in them ("Blade Runner 2049", "1917"), which
    guessit otherwise reads as a year or a season and episode ("Blade.Runner.2049.1080p" is
    season 20, episode 49 of "Blade Runner"); ``CatalogMatcher.numbered_titles`` has the catalog's.
    """
    cleaned = clean_release_name(name)
    options: dict[str, Any] = {"advanced": True}
    if known_titles:
        options["expected_title"] = list(known_titles)
    matches = dict(guessit(cleaned, options))
    guess = {key: ([m.value for m in match] if isinstance(match, list) else match.value)
             for key, match in matches.items()}
    tags = {tag.upper() for tag in _TAG_SPLIT.split(cleaned) if tag}
    sources = _texts(guess.get("source"))
    seasons, episodes = _numbers(guess.get("season")), _numbers(guess.get("episode"))
    others = _texts(guess.get("other"))
    alternatives = tuple(text for text in _texts(guess.get("alternative_title")) if text.upper() not in _CINEMA_TAGS)
    return ParsedRelease(
        name=cleaned, title=str(guess.get("title", "")), title_words=_title_words(cleaned, matches),
        kind=str(guess.get("type", "movie")),
        year=_first_number(guess.get("year")), seasons=seasons, episodes=episodes,
        part=_first_number(guess.get("part")), alternative_titles=alternatives,
        source=sources[0] if sources else None, streaming_service=_first_text(guess.get("streaming_service")),
        screen_size=_first_text(guess.get("screen_size")), video_codec=_first_text(guess.get("video_codec")),
        release_group=_first_text(guess.get("release_group")), languages=_texts(guess.get("language")),
        country=_first_text(guess.get("country")),
        cinema_copy=bool(_CINEMA_SOURCES.intersection(sources) or _CINEMA_TAGS & tags),
        pack=_is_pack(seasons, episodes, others, str(guess.get("type", "movie"))),
        raw={key: _as_json(value) for key, value in guess.items()},
    )


@lru_cache(maxsize=65_536)
def read_release(name: str, known_titles: tuple[str, ...] = ()) -> ParsedRelease:
    """``parse_release``, remembered: reading a name is most of a monitoring round's time, and
    sources list the same names round after round (a record is frozen, so one may be shared)."""
    return parse_release(name, known_titles)


def _title_words(name: str, matches: dict[str, Any]) -> str:
    """The text from the title's start to the first tag that ends a title, without the tags inside it.

    A name whose title guessit took for a tag ("Us.2019.1080p": the country US) keeps the
    text before its first such tag, as it stands.
    """
    spans = {key: [m.span for m in (match if isinstance(match, list) else [match])] for key, match in matches.items()}
    start = spans["title"][0][0] if "title" in spans else 0
    stop = min((begin for key, found in spans.items() if key in _TITLE_ENDS for begin, _ in found if begin > start),
               default=len(name))
    text = list(name[start:stop])
    for key, found in spans.items():
        if key in ("title", "part") or "title" not in spans:
            continue
        for begin, end in found:
            for at in range(max(begin, start), min(end, stop)):
                text[at - start] = " "
    words = "".join(text).replace(".", " ").replace("_", " ").split()
    while words and (words[-1].casefold() in _TITLE_CONNECTORS or not any(c.isalnum() for c in words[-1])):
        words.pop()  # "Season" of "Season 2", the "S" of "S02E03", a dash before an episode number
    return " ".join(words)


def _is_pack(seasons: tuple[int, ...], episodes: tuple[int, ...], others: tuple[str, ...], kind: str) -> bool:
    if kind != "episode":
        return False
    return len(seasons) > 1 or len(episodes) > 1 or (bool(seasons) and not episodes) or "Complete" in others


def _texts(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    values = value if isinstance(value, list) else [value]
    return tuple(str(item) for item in values)


def _first_text(value: object) -> str | None:
    texts = _texts(value)
    return texts[0] if texts else None


def _numbers(value: object) -> tuple[int, ...]:
    return tuple(sorted({int(item) for item in _texts(value) if item.isdigit()}))


def _first_number(value: object) -> int | None:
    numbers = [int(text) for text in _texts(value) if text.isdigit()]
    return numbers[0] if numbers else None


def _as_json(value: object) -> Any:
    if isinstance(value, list):
        return [_as_json(item) for item in value]
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    return str(value)
