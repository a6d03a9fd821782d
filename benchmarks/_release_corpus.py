"""A labelled corpus of release names, in two halves that share no title (issue 19).

Each half is a small catalog — films and episodes of series, some with foreign,
original-script and transliterated names — plus **hard negatives**: titles that are *not*
in it and look like one that is (a sequel, the same name in another year, a remake in
another country, a longer title that starts with a catalog title, another episode of a
catalog series, a film that shares a series' name, a video about a catalog title: "…
Ending Explained"). Names are written the way release
groups and indexers really write them: scene (dotted, ``-GROUP``), P2P (``Title (Year)
[1080p] [WEBRip] [YTS.MX]``), fansub (``[Group] Title - 05 (1080p)``), site-prefixed,
lower-case with underscores, cinema copies (CAM, TS, TC), language tags, packs (a
season, seasons, a range of episodes). Each name carries the catalog entries it really
names (none for a negative).

The **calibration** half is where ``reelguard.monitor.matching.NAME_BAR`` was set; the
benchmark reports the **evaluation** half::

    catalog, names = corpus("evaluation", seed=19)
    names[0].name, names[0].titles     # "Arrival.2016.1080p.BluRay.x264-SPARKS", ("arrival",)
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from reelguard.monitor.matching import CatalogEntry

__all__ = ["LabelledName", "corpus"]


@dataclass(frozen=True)
class _Film:
    key: str
    name: str
    year: int
    other_names: tuple[str, ...] = ()
    runtime_minutes: int = 110


@dataclass(frozen=True)
class _Series:
    key: str
    name: str
    year: int
    episodes: dict[int, int]  # season → episodes in the catalog (1..n)
    other_names: tuple[str, ...] = ()
    country: str | None = None


@dataclass(frozen=True)
class LabelledName:
    name: str
    titles: tuple[str, ...]  # catalog title ids it names; () for a negative
    style: str
    hard_negative: str = ""  # what makes a negative hard ("" for a positive or a plain one)
    size_bytes: int | None = None


# -- the two halves: catalog titles, and titles that are not in the catalog ----------------
_HALVES: dict[str, tuple[list[_Film], list[_Series], list[tuple[str, _Film | _Series]]]] = {
    "calibration": (
        [_Film("dune", "Dune", 2021, runtime_minutes=155), _Film("inception", "Inception", 2010, runtime_minutes=148),
         _Film("amelie", "Amélie", 2001, ("Le Fabuleux Destin d'Amélie Poulain",)),
         _Film("parasite", "Parasite", 2019, ("기생충", "Gisaengchung")), _Film("up", "Up", 2009, runtime_minutes=96),
         _Film("frozen", "Frozen", 2013), _Film("lion-king", "The Lion King", 1994, runtime_minutes=88),
         _Film("spirited-away", "Spirited Away", 2001, ("千と千尋の神隠し", "Sen to Chihiro no Kamikakushi")),
         _Film("heat", "Heat", 1995, runtime_minutes=170), _Film("lola", "Run Lola Run", 1998, ("Lola rennt",)),
         _Film("br2049", "Blade Runner 2049", 2017, runtime_minutes=164), _Film("alien", "Alien", 1979),
         _Film("crouching-tiger", "Crouching Tiger, Hidden Dragon", 2000, ("臥虎藏龍", "Wo hu cang long")),
         _Film("leviathan", "Leviathan", 2014, ("Левиафан", "Leviafan")),
         _Film("mi7", "Mission: Impossible \u2013 Dead Reckoning Part One", 2023, runtime_minutes=163),
         _Film("her", "Her", 2013, runtime_minutes=126)],
        [_Series("office-us", "The Office", 2005, {2: 6}, country="US"),
         _Series("got", "Game of Thrones", 2011, {1: 3}, ("Игра престолов", "Igra prestolov")),
         _Series("dark", "Dark", 2017, {1: 4}),
         _Series("money-heist", "Money Heist", 2017, {1: 3}, ("La Casa de Papel",))],
        [("sequel", _Film("", "Dune: Part Two", 2024)), ("same name, other year", _Film("", "Dune", 1984)),
         ("sequel", _Film("", "Frozen II", 2019)), ("same name, other year", _Film("", "The Lion King", 2019)),
         ("sequel", _Film("", "Aliens", 1986)), ("longer title", _Film("", "Her Smell", 2018)),
         ("longer title", _Film("", "Up in the Air", 2009)), ("longer title", _Film("", "The Heat", 2013)),
         ("sequel", _Film("", "Mission: Impossible \u2013 Dead Reckoning Part Two", 2025)),
         ("sequel", _Film("", "Blade Runner", 1982)), ("longer title", _Film("", "Inception: The Cobol Job", 2010)),
         ("other country", _Series("", "The Office", 2001, {2: 6}, country="GB")),
         ("other episodes", _Series("", "The Office", 2005, {4: 3}, country="US")),
         ("longer title", _Series("", "Dark Matter", 2024, {1: 3})),
         ("film of the series' name", _Film("", "Dark", 2005)),
         ("unrelated", _Film("", "Paddington", 2014)), ("unrelated", _Film("", "Amores Perros", 2000)),
         ("a video about the title", _Film("", "Inception Ending Explained", 2010)),
         ("a video about the title", _Film("", "Frozen Behind the Scenes", 2013))],
    ),
    "evaluation": (
        [_Film("oppenheimer", "Oppenheimer", 2023, runtime_minutes=180), _Film("roma", "Roma", 2018),
         _Film("amour", "Amour", 2012), _Film("arrival", "Arrival", 2016),
         _Film("toy-story", "Toy Story", 1995, runtime_minutes=81),
         _Film("oceans-11", "Ocean's Eleven", 2001), _Film("the-hunt", "The Hunt", 2012, ("Jagten",)),
         _Film("shoplifters", "Shoplifters", 2018, ("万引き家族", "Manbiki Kazoku")),
         _Film("stalker", "Stalker", 1979, ("Сталкер",), runtime_minutes=161),
         _Film("pans-labyrinth", "Pan's Labyrinth", 2006, ("El laberinto del fauno",)),
         _Film("avatar", "Avatar", 2009, runtime_minutes=162), _Film("cars", "Cars", 2006),
         _Film("leon", "Léon: The Professional", 1994, ("Léon",)),
         _Film("godzilla-minus-one", "Godzilla Minus One", 2023, ("ゴジラ-1.0", "Gojira -1.0")),
         _Film("across-spider-verse", "Spider-Man: Across the Spider-Verse", 2023),
         _Film("us", "Us", 2019), _Film("nope", "Nope", 2022, runtime_minutes=130)],
        [_Series("fargo", "Fargo", 2014, {2: 4}), _Series("chernobyl", "Chernobyl", 2019, {1: 5}),
         _Series("squid-game", "Squid Game", 2021, {1: 3}, ("오징어 게임", "Ojingeo Geim")),
         _Series("the-bureau", "The Bureau", 2015, {1: 2}, ("Le Bureau des Légendes",))],
        [("sequel", _Film("", "Toy Story 2", 1999)), ("sequel", _Film("", "Toy Story 4", 2019)),
         ("sequel", _Film("", "Avatar: The Way of Water", 2022)), ("sequel", _Film("", "Cars 2", 2011)),
         ("sequel", _Film("", "Ocean's Twelve", 2004)), ("sequel", _Film("", "Ocean's 8", 2018)),
         ("same name, other year", _Film("", "The Hunt", 2020)), ("same name, other year", _Film("", "Roma", 1972)),
         ("longer title", _Film("", "Godzilla", 2014)),
         ("sequel", _Film("", "Spider-Man: Into the Spider-Verse", 2018)),
         ("longer title", _Film("", "Us and Them", 2018)), ("longer title", _Film("", "Arrival of the Train", 1896)),
         ("film of the series' name", _Film("", "Fargo", 1996)),
         ("other episodes", _Series("", "Fargo", 2014, {3: 3})),
         ("longer title", _Series("", "Squid Game: The Challenge", 2023, {1: 3})),
         ("longer title", _Series("", "Chernobyl Diaries", 2012, {1: 1})),
         ("unrelated", _Film("", "Paterson", 2016)), ("unrelated", _Film("", "Amores Perros", 2000)),
         ("a video about the title", _Film("", "Oppenheimer Ending Explained", 2023)),
         ("a video about the title", _Film("", "Arrival Behind the Scenes", 2016))],
    ),
}

_GROUPS = ("FLUX", "NTb", "SPARKS", "GECKOS", "EVO", "RARBG", "YIFY", "GalaxyRG", "TGx", "PSA", "ION10", "EDITH",
           "CMRG", "SMURF", "playWEB", "TEPES", "KOGi", "NOGRP")
_SOURCES = ("BluRay", "WEB-DL", "WEBRip", "HDTV", "BRRip", "DVDRip", "AMZN.WEB-DL", "NF.WEBRip", "DSNP.WEB-DL",
            "HMAX.WEB-DL", "UHD.BluRay")
_CODECS = ("x264", "x265", "H.264", "HEVC", "H264", "XviD", "AV1")
_RESOLUTIONS = ("720p", "1080p", "2160p", "480p")
_AUDIO = ("DDP5.1", "AAC2.0", "DTS-HD.MA.5.1", "TrueHD.7.1.Atmos", "AC3", "EAC3")
_CINEMA = ("CAM", "HDCAM", "TS", "HDTS", "TELESYNC", "HDTC", "HQCAM", "PDVD")
_LANGUAGES = ("FRENCH", "GERMAN", "KOREAN", "SPANISH", "MULTi", "iTALiAN", "RUSSiAN", "HINDI", "JAPANESE")
_SITES = ("www.TamilBlasters.xyz", "www.1TamilMV.fi", "Torrent9.nz", "[ www.Speed.Cd ]")


def corpus(half: str, seed: int) -> tuple[list[CatalogEntry], list[LabelledName]]:
    """The catalog of ``half`` ("calibration" or "evaluation") and its labelled names."""
    films, series, negatives = _HALVES[half]
    rng = random.Random(seed)
    catalog = [CatalogEntry(f.key, f.name, f.year, f.other_names, runtime_seconds=f.runtime_minutes * 60.0)
               for f in films]
    for show in series:
        for season, count in show.episodes.items():
            catalog += [CatalogEntry(_episode_id(show, season, e), show.name, show.year, show.other_names,
                                     season=season, episode=e, runtime_seconds=50 * 60.0, country=show.country)
                        for e in range(1, count + 1)]
    names: list[LabelledName] = []
    for film in films:
        names += [_film_name(rng, film, (film.key,)) for _ in range(36)]
    for show in series:
        names += _series_names(rng, show, known=True, count=60)
    for why, negative in negatives:
        for _ in range(14):
            if isinstance(negative, _Film):
                names.append(_film_name(rng, negative, (), why))
            else:
                names += _series_names(rng, negative, known=False, count=1, why=why)
    return catalog, names


def _episode_id(show: _Series, season: int, episode: int) -> str:
    return f"{show.key}-s{season:02d}e{episode:02d}"


def _dotted(text: str) -> str:
    kept = "".join(char if char.isalnum() or char in " '&-" else " " for char in text)
    return ".".join(kept.replace("'", "").split())


def _spelled(rng: random.Random, name: str, other_names: tuple[str, ...]) -> str:
    """The name a release uses: mostly the title's own, sometimes an original or transliterated one.

    As uploaders write it: now and then without its leading article ("Lion.King.1994"), or
    with a letter dropped from a long word (a typo).
    """
    spelled = rng.choice(other_names) if other_names and rng.random() < 0.35 else name
    words = spelled.split()
    if len(words) > 1 and words[0].lower() in ("the", "a", "an") and rng.random() < 0.3:
        words = words[1:]
    long_words = [i for i, word in enumerate(words) if len(word) > 6 and word.isalpha()]
    if long_words and rng.random() < 0.08:
        i = rng.choice(long_words)
        cut = rng.randrange(1, len(words[i]) - 1)
        words[i] = words[i][:cut] + words[i][cut + 1:]
    return " ".join(words)


def _film_name(rng: random.Random, film: _Film, titles: tuple[str, ...], why: str = "") -> LabelledName:
    title = _spelled(rng, film.name, film.other_names)
    dotted, year, group = _dotted(title), film.year, rng.choice(_GROUPS)
    res, source, codec = rng.choice(_RESOLUTIONS), rng.choice(_SOURCES), rng.choice(_CODECS)
    multiword = len(title.split()) > 1
    styles = {
        "scene": f"{dotted}.{year}.{res}.{source}.{codec}-{group}",
        "scene, language": f"{dotted}.{year}.{rng.choice(_LANGUAGES)}.{res}.{source}.{codec}-{group}",
        "scene, editions": f"{dotted}.{year}.EXTENDED.REMASTERED.{res}.{source}.{rng.choice(_AUDIO)}.{codec}-{group}",
        "p2p": f"{title} ({year}) [{res}] [{source.split('.')[-1]}] [{rng.choice(('5.1', '2.0'))}] [{group}]",
        "yts": f"{title} ({year}) [{res}] [BluRay] [YTS.MX]",
        "cinema copy": f"{dotted}.{year}.{rng.choice(_CINEMA)}.{rng.choice(('x264', 'XviD'))}-{group}",
        "lower case": f"{title.lower().replace(' ', '_')}_{year}_{res}_{source.lower()}",
        "site prefix": f"{rng.choice(_SITES)} - {title} ({year}) {res} HQ HDRip - {codec} - 2.5GB.mkv",
        "spaces": f"{title} {year} {res} {source} {codec} {group}",
    }
    if multiword and why != "same name, other year":  # without its year such a name is either film
        styles["scene, no year"] = f"{dotted}.{res}.{source}.{codec}-{group}"
    style = rng.choice(sorted(styles))
    size = int(film.runtime_minutes * 60 * rng.uniform(1.0, 12.0) * 1e6 / 8)
    return LabelledName(styles[style], titles, style, why, size)


def _series_names(rng: random.Random, show: _Series, *, known: bool, count: int,
                  why: str = "") -> list[LabelledName]:
    names = []
    seasons = sorted(show.episodes)
    for _ in range(count):
        season = rng.choice(seasons)
        episode = rng.randint(1, show.episodes[season])
        title = _spelled(rng, show.name, show.other_names)
        if show.country and (not known or rng.random() < 0.5):  # a negative says which country, or no one could tell
            title += f" {'UK' if show.country == 'GB' else show.country}"
        dotted, group = _dotted(title), rng.choice(_GROUPS)
        res, source, codec = rng.choice(_RESOLUTIONS), rng.choice(_SOURCES), rng.choice(_CODECS)
        last = show.episodes[season]
        styles: dict[str, tuple[str, tuple[int, ...]]] = {
            "scene episode": (f"{dotted}.S{season:02d}E{episode:02d}.{res}.{source}.{codec}-{group}", (episode,)),
            "scene episode, year": (f"{dotted}.{show.year}.S{season:02d}E{episode:02d}.{res}.{source}-{group}",
                                    (episode,)),
            "p2p episode": (f"{title} - S{season:02d}E{episode:02d} - {res} {source.split('.')[-1]}", (episode,)),
            "x episode": (f"{title} {season}x{episode:02d} {res} {codec}", (episode,)),
            "season pack": (f"{dotted}.S{season:02d}.COMPLETE.{res}.{source}.{codec}-{group}",
                            tuple(range(1, last + 1))),
            "season pack, words": (f"{title} Season {season} Complete {res} {source.split('.')[-1]}",
                                   tuple(range(1, last + 1))),
            "episode range": (f"{dotted}.S{season:02d}E01-E{min(last, 2):02d}.{res}.{source}-{group}",
                              tuple(range(1, min(last, 2) + 1))),
            "fansub": (f"[{group}] {title} - S{season:02d}E{episode:02d} ({res}) [{rng.randrange(16**8):08X}].mkv",
                       (episode,)),
        }
        style = rng.choice(sorted(styles))
        name, episodes = styles[style]
        titles = tuple(_episode_id(show, season, e) for e in episodes) if known else ()
        names.append(LabelledName(name, titles, style, why))
    return names
