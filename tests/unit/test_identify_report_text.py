"""What ``reelguard identify`` prints for a suspect it cannot match (the report's text, from its JSON)."""

from __future__ import annotations

from typing import Any

from reelguard.cli._shared import console
from reelguard.cli.identify import _render_report


def _no_match(reach: dict[str, dict[str, float | int]]) -> dict[str, Any]:
    return {"suspect": "clip.mp4", "duration": 6.0, "modalities": list(reach), "segments": [], "matched": False,
            "best": {modality: 1.0 for modality in reach}, "read": {}, "max_false_match_probability": 1e-6,
            "reach": reach}


def test_a_suspect_too_still_to_prove_says_so_and_how_many_looks_it_would_need() -> None:
    with console.capture() as captured:
        _render_report(_no_match({"video": {"looks": 3, "needed": 11, "strongest_possible": 1.0},
                                  "audio": {"looks": 240, "needed": 11, "strongest_possible": 1e-300}}))
    text = captured.get()
    assert "clip.mp4: no match" in text
    assert "pictures: 3 distinct looks" in text and "at least 11" in text and "by its pictures alone" in text
    assert "sound:" not in text  # enough anchors: the sound could have proved a copy, and did not find one


def test_a_suspect_with_enough_looks_gets_no_such_line() -> None:
    with console.capture() as captured:
        _render_report(_no_match({"video": {"looks": 40, "needed": 11, "strongest_possible": 1e-40}}))
    assert "distinct looks" not in captured.get()
