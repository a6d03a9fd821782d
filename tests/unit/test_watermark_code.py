"""The session code: keyed bits, the bias law, and accusations with a bounded false-accusation rate."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from reelguard.watermark.code import SessionCode, bias_distribution, innocent_p_value

KEY = b"k" * 32


def test_bias_laws_are_distributions_symmetric_about_one_half() -> None:
    for collusion in range(1, 13):
        law = bias_distribution(collusion)
        assert abs(sum(q for _p, q in law) - 1) < 1e-12
        assert all(0 < p < 1 for p, _q in law)
        assert abs(sum(p * q for p, q in law) - 0.5) < 1e-12
    assert bias_distribution(2) == ((0.5, 1.0),)
    assert [round(p, 4) for p, _ in bias_distribution(4)] == [0.2113, 0.7887]


def test_bits_are_deterministic_keyed_and_balanced() -> None:
    code = SessionCode(key=KEY)
    assert code.bits("s1", 200) == SessionCode(key=KEY).bits("s1", 200)
    assert code.bits("s1", 200) != code.bits("s2", 200)
    assert code.bits("s1", 200) != SessionCode(key=b"j" * 32).bits("s1", 200)
    ones = sum(code.bits("s1", 4000))
    assert 1800 < ones < 2200


def test_a_leaker_is_accused_from_30_clean_segments_among_1000_sessions_and_nobody_else() -> None:
    code = SessionCode(key=KEY)
    sessions = [f"session-{i}" for i in range(1000)]
    observed = {n: (1.0 if code.bit("session-7", n) == 0 else -1.0) for n in range(30)}
    scores = {s.session_id: s for s in code.scores(observed, sessions)}
    assert scores["session-7"].p_value * len(sessions) <= 1e-6
    assert all(s.p_value * len(sessions) > 1e-6 for sid, s in scores.items() if sid != "session-7")


def test_unmarked_or_random_copies_accuse_no_one_over_10000_innocent_trials() -> None:
    code = SessionCode(key=KEY, collusion=4)
    rng = np.random.default_rng(1)
    sessions = [f"innocent-{i}" for i in range(2000)]
    accused = 0
    for _trial in range(5):
        observed = {n: float(rng.uniform(-1, 1)) for n in range(150)}
        accused += sum(s.p_value * len(sessions) <= 1e-6 for s in code.scores(observed, sessions))
    assert accused == 0


def test_two_interleaving_colluders_are_caught_without_accusing_an_innocent() -> None:
    code = SessionCode(key=KEY)
    sessions = [f"s{i}" for i in range(500)]
    # each colluder gains 0.5 per position on average: about 155 positions are needed
    observed = {n: (1.0 if code.bit(("s3", "s9")[n % 2], n) == 0 else -1.0) for n in range(240)}
    accused = {s.session_id for s in code.scores(observed, sessions) if s.p_value * len(sessions) <= 1e-6}
    assert accused and accused <= {"s3", "s9"}


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-1, 1), min_size=1, max_size=60), st.floats(0, 50))
def test_the_p_value_bound_is_a_probability_and_falls_as_the_score_rises(soft: list[float], score: float) -> None:
    biases = np.full(len(soft), 0.5)
    seen_b = np.array([v < 0 for v in soft])
    weight = np.abs(np.array(soft))
    low = innocent_p_value(score, biases, seen_b, weight)
    high = innocent_p_value(score + 5, biases, seen_b, weight)
    assert 0 <= high <= low <= 1
