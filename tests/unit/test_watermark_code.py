"""The session code: keyed bits, the bias law, and accusations with a bounded false-accusation rate."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reelguard.watermark.code import (
    MAX_SUSPECTED,
    AccusationScore,
    SessionCode,
    Verdict,
    accuse,
    bias_distribution,
    family_p_value,
    innocent_p_value,
)

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
    verdict = accuse(code.scores(observed, sessions), bound=1e-6)
    assert [s.session_id for s in verdict.accused] == ["session-7"]


@pytest.mark.slow
def test_unmarked_or_random_copies_accuse_no_one_over_10000_innocent_trials() -> None:
    code = SessionCode(key=KEY, collusion=4)
    rng = np.random.default_rng(1)
    sessions = [f"innocent-{i}" for i in range(2000)]
    accused = 0
    for _trial in range(5):
        observed = {n: float(rng.uniform(-1, 1)) for n in range(150)}
        accused += len(accuse(code.scores(observed, sessions), bound=1e-6).accused)
    assert accused == 0


def test_two_interleaving_colluders_are_caught_without_accusing_an_innocent() -> None:
    code = SessionCode(key=KEY)
    sessions = [f"s{i}" for i in range(500)]
    # each colluder gains 0.5 per position on average: about 155 positions are needed
    observed = {n: (1.0 if code.bit(("s3", "s9")[n % 2], n) == 0 else -1.0) for n in range(240)}
    accused = {s.session_id for s in accuse(code.scores(observed, sessions), bound=1e-6).accused}
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


def test_the_family_wise_p_value_is_the_union_bound_over_the_sessions_scored() -> None:
    """The correction every accusation rests on, made in one place (it was written four times in trace)."""
    assert family_p_value(1e-9, 1000) == pytest.approx(1e-6)
    assert family_p_value(0.01, 1000) == 1.0  # a probability, never above 1
    with pytest.raises(ValueError, match="at least one session"):
        family_p_value(0.5, 0)
    code = SessionCode(key=KEY)
    observed = {n: (1.0 if code.bit("s1", n) == 0 else -1.0) for n in range(20)}
    for sessions in (["s1"], [f"s{i}" for i in range(1, 400)]):
        for score in code.scores(observed, sessions):
            assert score.family_p_value == family_p_value(score.p_value, len(sessions))


def test_a_verdict_accuses_exactly_those_within_the_bound_most_certain_first() -> None:
    def scored(session: str, family: float) -> AccusationScore:
        return AccusationScore(session, 1.0, family / 10, 30, family)

    verdict = accuse([scored("a", 1e-7), scored("b", 2e-6), scored("c", 1e-9), scored("d", 1e-6)], bound=1e-6)
    assert [s.session_id for s in verdict.accused] == ["c", "a", "d"]  # the bound itself accuses
    assert verdict.best_innocent_p == 2e-6 and verdict.best_p == 1e-9
    nobody = accuse([scored("a", 0.3)], bound=1e-6)
    assert nobody.accused == () and nobody.best_innocent_p == 0.3 and nobody.best_p == 0.3
    assert accuse([], bound=1e-6) == Verdict((), None, 1.0)


def test_suspicion_names_the_best_few_not_accused_within_the_lead_bound_and_never_an_accused_one() -> None:
    def scored(session: str, family: float) -> AccusationScore:
        return AccusationScore(session, 1.0, family / 10, 30, family)

    scores = [scored("a", 1e-7), scored("b", 2e-5), scored("c", 5e-4), scored("d", 2e-3), scored("e", 1e-4),
              scored("f", 3e-4), scored("g", 0.5)]
    verdict = accuse(scores, bound=1e-6, lead_bound=1e-3)
    assert [s.session_id for s in verdict.accused] == ["a"]
    # within 1e-3 and not accused: b, e, f, c — the best MAX_SUSPECTED of them, most certain first
    assert [s.session_id for s in verdict.suspected] == ["b", "e", "f"][:MAX_SUSPECTED]
    assert accuse(scores, bound=1e-6).suspected == ()  # no lead bound: nobody is suspected
    assert accuse([scored("g", 0.5)], bound=1e-6, lead_bound=1e-3).suspected == ()


def test_an_unmarked_copy_leaves_no_one_suspected_over_10000_innocent_trials_at_the_default_lead_bound() -> None:
    code = SessionCode(key=KEY)
    rng = np.random.default_rng(11)
    sessions = [f"s{i}" for i in range(1000)]
    suspected = 0
    for _ in range(10):  # 10 copies × 1,000 innocent sessions
        observed = {n: float(rng.uniform(-1, 1)) for n in range(60)}
        suspected += len(accuse(code.scores(observed, sessions), bound=1e-6, lead_bound=1e-3).suspected)
    assert suspected == 0
