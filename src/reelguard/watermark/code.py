"""The session code (pure): which variant each session gets per segment, and who is accused.

Bits come from a keyed PRF, so an edge server computes ``bit(session, n)`` from the token
alone — no database, no per-session state. The code is a *symmetric Tardos code* with
Nuida's discrete bias distribution (the Gauss-Legendre discretisation of Tardos' arcsine
law): position ``n`` has a keyed bias ``p_n``, and a session's bit is 1 (variant B) with
probability ``p_n``. ``collusion`` picks the distribution: 2 → ``p = 1/2`` (optimal for one
or two colluders, fastest single-leaker identification); 3-4 → ``p ∈ {0.211, 0.789}``;
5-6 → three values. Larger ``collusion`` resists bigger coalitions but needs more segments.

Accusation uses the symmetric Tardos score with soft weights from the detector, and an
innocent's score is bounded exactly: an innocent's bits are independent of the suspect,
so given the observed symbols, biases and weights its score is a sum of independent
two-valued terms. A Chernoff bound on that sum is a rigorous p-value; multiplying by the
number of sessions scored (union bound, ``family_p_value``) bounds the chance of accusing
anyone innocent. That correction is made here and nowhere else::

    code = SessionCode(key=title_bits_key, collusion=2)
    code.bits("session-id", 150)                    # variant per segment (0 = A, 1 = B)
    scores = code.scores(observed, sessions)         # observed: {segment: soft symbol}
    verdict = accuse(scores, bound=1e-6)             # verdict.accused: most certain first
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

__all__ = ["MAX_SUSPECTED", "AccusationScore", "InnocentBound", "SessionCode", "Verdict", "accuse", "bias_distribution",
           "family_p_value", "innocent_p_value", "tardos_scores"]

_BITS_LABEL = b"reelguard-wm-bit/"
_BIAS_LABEL = b"reelguard-wm-bias/"


@lru_cache(maxsize=8)
def bias_distribution(collusion: int) -> tuple[tuple[float, float], ...]:
    """Nuida's discrete bias law for up to ``collusion`` colluders: ((p, probability), ...)."""
    if not 1 <= collusion <= 12:
        raise ValueError(f"expected a collusion size from 1 to 12, got {collusion}")
    nodes, weights = np.polynomial.legendre.leggauss(max(1, math.ceil(collusion / 2)))
    biases = (nodes + 1) / 2
    mass = weights / np.sqrt(biases * (1 - biases))
    mass /= mass.sum()
    return tuple((float(p), float(q)) for p, q in zip(biases, mass, strict=True))


def _uniform(key: bytes, label: bytes, message: bytes) -> float:
    digest = hmac.new(key, label + message, hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def family_p_value(p_value: float, sessions_scored: int) -> float:
    """The chance that *any* of ``sessions_scored`` innocents scores this high (union bound)."""
    if sessions_scored < 1:
        raise ValueError(f"expected at least one session scored, got {sessions_scored}")
    return min(1.0, p_value * sessions_scored)


@dataclass(frozen=True, slots=True)
class AccusationScore:
    session_id: str
    score: float
    p_value: float  # Chernoff bound on an innocent reaching this score (one session)
    positions: int
    family_p_value: float  # p_value corrected for every session scored beside it: what an accusation cites


@dataclass(frozen=True, slots=True)
class Verdict:
    """Who is accused at a family-wise bound, who is only suspected, and how close the rest came."""

    accused: tuple[AccusationScore, ...]  # family_p_value <= bound, most certain first
    best_innocent_p: float | None  # smallest family-wise p of those not accused (None: all accused)
    best_p: float  # smallest family-wise p of all (1.0 when nothing was scored)
    # not accused, but within the looser lead bound: where an analyst looks for more copies; never acted on
    suspected: tuple[AccusationScore, ...] = ()


MAX_SUSPECTED = 3  # a copy rarely carries evidence against more than a coalition's few


def accuse(scores: Sequence[AccusationScore], bound: float, lead_bound: float | None = None) -> Verdict:
    """Accuse exactly the sessions whose family-wise p-value is within ``bound``.

    With ``lead_bound`` (looser than ``bound``), the best few of the rest whose family-wise
    p-value is within it are *suspected*: the evidence points at them, but not strongly
    enough to accuse — an innocent is among them with probability at most ``lead_bound``.
    """
    ranked = sorted(scores, key=lambda s: s.family_p_value)
    accused = tuple(s for s in ranked if s.family_p_value <= bound)
    rest = [s for s in ranked if s.family_p_value > bound]
    suspected = tuple(s for s in rest[:MAX_SUSPECTED] if lead_bound is not None and s.family_p_value <= lead_bound)
    return Verdict(accused, rest[0].family_p_value if rest else None,
                   ranked[0].family_p_value if ranked else 1.0, suspected)


class SessionCode:
    """Keyed symmetric Tardos code of one title."""

    def __init__(self, *, key: bytes, collusion: int = 2) -> None:
        if len(key) < 16:
            raise ValueError(f"expected a code key of at least 16 bytes, got {len(key)}")
        self._key = key
        self.collusion = collusion
        self._law = bias_distribution(collusion)

    def bias(self, segment: int) -> float:
        """``p_n``: the probability that a session gets variant B at ``segment``."""
        u = _uniform(self._key, _BIAS_LABEL, segment.to_bytes(8, "big"))
        cumulative = 0.0
        for p, mass in self._law:
            cumulative += mass
            if u < cumulative:
                return p
        return self._law[-1][0]

    def bit(self, session_id: str, segment: int) -> int:
        """0 (variant A) or 1 (variant B) for ``session_id`` at ``segment``: what the edge serves."""
        u = _uniform(self._key, _BITS_LABEL, session_id.encode() + b"/" + segment.to_bytes(8, "big"))
        return int(u < self.bias(segment))

    def bits(self, session_id: str, count: int, start: int = 0) -> list[int]:
        return [self.bit(session_id, n) for n in range(start, start + count)]

    def scores(self, observed: Mapping[int, float], session_ids: Sequence[str]) -> list[AccusationScore]:
        """Symmetric Tardos score of every session against soft observed symbols.

        ``observed`` maps segment → soft symbol in [-1, 1]: its sign is the variant seen
        (+ = A, - = B) and its size the detector's confidence (0 = erased).
        """
        positions = sorted(n for n, v in observed.items() if v != 0.0)
        if not positions:
            return [AccusationScore(s, 0.0, 1.0, 0, 1.0) for s in session_ids]
        biases = np.array([self.bias(n) for n in positions])
        soft = np.array([observed[n] for n in positions])
        bound = InnocentBound(biases, soft < 0, np.abs(soft))
        bits = np.array([[self.bit(session, n) for n in positions] for session in session_ids], dtype=bool)
        results = []
        for session, score in zip(session_ids, tardos_scores(bits.reshape(len(session_ids), len(positions)),
                                                             biases, soft), strict=True):
            p_value = bound.p_value(score)
            results.append(AccusationScore(session, score, p_value, len(positions),
                                           family_p_value(p_value, len(session_ids))))
        return results


def tardos_scores(bits: NDArray[np.bool_], biases: NDArray[np.float64], soft: NDArray[np.float64]) -> list[float]:
    """Each session's symmetric Tardos score: its bits (a row, True = B) against soft symbols seen there.

    Each position adds its confidence ``|soft|`` times a gain where the session's bit is the
    one seen, and takes a loss where it is not; both weigh how unlikely an innocent is to
    hold the bit seen (worked out once for every session).
    """
    seen_b = soft < 0
    gain, loss = _tardos_terms(biases, seen_b)
    return [float(score) for score in np.sum(np.abs(soft) * np.where(bits == seen_b, gain, -loss), axis=1)]


def _tardos_terms(biases: NDArray[np.float64], seen_b: NDArray[np.bool_]) -> tuple[NDArray[np.float64], ...]:
    """Per position: (gain when a session's bit matches what was seen, loss when it does not)."""
    p_seen = np.where(seen_b, biases, 1 - biases)  # probability an innocent holds the seen bit
    return np.sqrt((1 - p_seen) / p_seen), np.sqrt(p_seen / (1 - p_seen))


class InnocentBound:
    """Chernoff bound on P(an innocent's score ≥ s): min over λ of e^{-λs}·E[e^{λS}].

    The innocent's score distribution depends only on what was observed (biases, seen
    symbols, weights), so its log-MGF is computed once per trace on a grid of λ.
    """

    _LAMBDAS = np.geomspace(1e-3, 20, 200)

    def __init__(self, biases: NDArray[np.float64], seen_b: NDArray[np.bool_], weight: NDArray[np.float64]) -> None:
        p_seen = np.where(seen_b, biases, 1 - biases)
        gain, loss = _tardos_terms(biases, seen_b)
        lam = self._LAMBDAS[:, None]
        self._log_mgf = np.sum(np.log(p_seen * np.exp(lam * weight * gain)
                                      + (1 - p_seen) * np.exp(-lam * weight * loss)), axis=1)

    def p_value(self, score: float) -> float:
        if score <= 0:
            return 1.0
        return math.exp(min(0.0, float(np.min(self._log_mgf - self._LAMBDAS * score))))


def innocent_p_value(score: float, biases: NDArray[np.float64], seen_b: NDArray[np.bool_],
                     weight: NDArray[np.float64]) -> float:
    """The Chernoff bound of one score (see InnocentBound)."""
    return InnocentBound(biases, seen_b, weight).p_value(score)
