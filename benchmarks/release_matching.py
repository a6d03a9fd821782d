"""Release names → catalog titles: precision and recall on the labelled corpus's evaluation half (issue 19).

Pairs (name, catalog title) are counted: a pack names several episodes, and each is
one pair to find. The comparator, run on the same names in the same run, is what a
matcher without checks does — guessit's title against every catalog name by
``rapidfuzz``'s token-set ratio at 90, the usual first attempt — so the table shows what
the checks (numbers, year, country, kind and episode, one-word titles, size) buy. Every
false match is listed.

    python benchmarks/release_matching.py                        # evaluation half, appended to docs/benchmarks.md
    python benchmarks/release_matching.py --half calibration --print-only
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _release_corpus import LabelledName, corpus
from _report import report
from rapidfuzz import fuzz

from reelguard.monitor.matching import CatalogEntry, CatalogMatcher, normalise_title
from reelguard.monitor.releases import ParsedRelease, parse_release


def naive_matches(release: ParsedRelease, catalog: list[CatalogEntry]) -> set[str]:
    """The comparator: guessit's title against every name, token-set ratio ≥ 90, nothing checked."""
    title = normalise_title(release.title)
    return {entry.title_id for entry in catalog if title and any(
        fuzz.token_set_ratio(title, normalise_title(name)) >= 90 for name in (entry.name, *entry.other_names))}


def score(names: list[LabelledName], answers: list[set[str]]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for labelled, answer in zip(names, answers, strict=True):
        truth = set(labelled.titles)
        counts["true"] += len(answer & truth)
        counts["false"] += len(answer - truth)
        counts["missed"] += len(truth - answer)
        counts["negatives answered"] += bool(answer) and not truth
    return dict(counts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--half", choices=("calibration", "evaluation"), default="evaluation")
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--print-only", action="store_true", help="print, do not append to docs/benchmarks.md")
    args = parser.parse_args()
    catalog, names = corpus(args.half, args.seed)
    matcher = CatalogMatcher(catalog)

    started = time.perf_counter()
    parsed = [parse_release(labelled.name, matcher.numbered_titles) for labelled in names]
    parse_seconds = time.perf_counter() - started
    started = time.perf_counter()
    answers = [{m.title_id for m in matcher.match(release, labelled.size_bytes)}
               for release, labelled in zip(parsed, names, strict=True)]
    match_seconds = time.perf_counter() - started
    naive = [naive_matches(release, catalog) for release in parsed]

    ours, theirs = score(names, answers), score(names, naive)
    rows = []
    by_style: dict[str, list[int]] = defaultdict(list)
    for number, labelled in enumerate(names):
        by_style[labelled.style].append(number)
    for style, members in sorted(by_style.items()):
        got = score([names[i] for i in members], [answers[i] for i in members])
        rows.append([style, str(len(members)), str(sum(len(names[i].titles) for i in members)),
                     str(got.get("true", 0)), str(got.get("missed", 0)), str(got.get("false", 0))])
    totals = [f"precision {_ratio(ours['true'], ours['true'] + ours.get('false', 0))}",
              f"recall {_ratio(ours['true'], ours['true'] + ours.get('missed', 0))}"]
    rows.append(["all", str(len(names)), str(sum(len(n.titles) for n in names)), str(ours.get("true", 0)),
                 str(ours.get("missed", 0)), str(ours.get("false", 0))])
    negatives = [i for i, n in enumerate(names) if not n.titles]
    hard: Counter[str] = Counter(names[i].hard_negative for i in negatives)
    hard_answered: Counter[str] = Counter(names[i].hard_negative for i in negatives if answers[i])
    false_matches = [f"`{names[i].name}` → {sorted(answers[i] - set(names[i].titles))}"
                     for i in range(len(names)) if answers[i] - set(names[i].titles)]
    missed_examples = [f"`{names[i].name}` (missed {sorted(set(names[i].titles) - answers[i])[:2]})"
                       for i in range(len(names)) if set(names[i].titles) - answers[i]][:12]
    notes = [
        f"{args.half} half of the labelled corpus (`benchmarks/_release_corpus.py`, seed {args.seed}): "
        f"{len(names)} names, {len(catalog)} catalog entries, {len(negatives)} names of titles not in it; "
        f"`NAME_BAR` was set on the calibration half, which shares no title with this one",
        f"reelguard: {', '.join(totals)}; negatives answered {ours.get('negatives answered', 0)} of {len(negatives)}",
        f"comparator, same names, same run (guessit title, token-set ratio ≥ 90, no checks): precision "
        f"{_ratio(theirs['true'], theirs['true'] + theirs.get('false', 0))}, recall "
        f"{_ratio(theirs['true'], theirs['true'] + theirs.get('missed', 0))}, negatives answered "
        f"{theirs.get('negatives answered', 0)} of {len(negatives)}",
        "hard negatives answered: " + ", ".join(f"{kind or 'plain'} {hard_answered[kind]}/{count}"
                                               for kind, count in sorted(hard.items())),
        f"speed: parse {len(names) / parse_seconds:.0f} names/s (guessit), match {len(names) / match_seconds:.0f} "
        f"names/s against {len(catalog)} entries (match / parse time {match_seconds / parse_seconds:.2f})",
        "false matches: " + ("; ".join(false_matches) if false_matches else "none"),
        "missed, first ones: " + ("; ".join(missed_examples) if missed_examples else "none"),
    ]
    headers = ["style", "names", "pairs", "found", "missed", "false"]
    if args.print_only:
        print("\n".join(["| " + " | ".join(headers) + " |", *["| " + " | ".join(r) + " |" for r in rows], "",
                         *[f"- {n}" for n in notes]]))
    else:
        report("Monitor: release names → catalog titles", headers, rows, notes)


def _ratio(part: int, whole: int) -> str:
    return f"{part / whole:.3f}" if whole else "-"


if __name__ == "__main__":
    main()
