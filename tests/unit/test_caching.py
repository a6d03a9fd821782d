"""The licence caches' bound: no cliff where a full cache was emptied at once."""

from __future__ import annotations

import threading

import pytest

from reelguard.license.caching import Generations


def _round_robin_misses(cache: Generations[int, int], keys: int, rounds: int) -> list[int]:
    """Misses per round when ``keys`` streams renew in turn, each miss refilled (as the licence path does)."""
    per_round = []
    for _ in range(rounds):
        misses = 0
        for key in range(keys):
            if cache.get(key) is None:
                misses += 1
                cache[key] = key
        per_round.append(misses)
    return per_round


def test_a_working_set_up_to_one_generation_is_never_evicted() -> None:
    cache: Generations[int, int] = Generations(1000)
    assert _round_robin_misses(cache, 1000, 5) == [1000, 0, 0, 0, 0]
    assert len(cache) <= 2000


def test_above_the_bound_streams_are_re_verified_a_few_at_a_time_not_all_at_once() -> None:
    """The old cache, cleared whole at 20,000 tokens, missed every renewal of 25,000 playing streams."""
    cache: Generations[int, int] = Generations(20_000)
    misses = _round_robin_misses(cache, 25_000, 12)
    assert misses[0] == 25_000
    # A round (25,000 insertions at most) sees at most two generation changes, and each drops
    # only old entries, which are never in the young generation: at most 25,000 - 20,000 keys.
    assert all(m <= 2 * (25_000 - 20_000) for m in misses[1:]), misses
    assert len(cache) <= 40_000


def test_an_entry_used_again_moves_to_the_young_generation() -> None:
    cache: Generations[str, int] = Generations(2)
    cache["a"], cache["b"] = 1, 2
    cache["c"] = 3  # young was full: {a, b} become old
    assert cache.get("a") == 1  # promoted into young {c, a}
    cache["d"] = 4  # young full again: {c, a} become old, b is dropped
    assert cache.get("b") is None and cache.get("a") == 1 and cache.get("c") == 3 and cache.get("d") == 4
    assert "b" not in cache and "a" in cache and len(cache) <= 4


def test_pop_update_clear_and_default() -> None:
    cache: Generations[str, int] = Generations(2)
    cache.update({"a": 1, "b": 2, "c": 3})
    cache["a"] = 10  # a re-written key lives in one generation only
    assert cache.pop("a") == 10 and cache.get("a") is None and cache.pop("a", -1) == -1
    assert cache.get("missing", 7) == 7
    cache.clear()
    assert len(cache) == 0 and cache.get("b") is None
    with pytest.raises(ValueError, match="at least one entry"):
        Generations(0)


def _promote_while_forgetting(cache: Generations[int, int], keys: range) -> None:
    go = threading.Barrier(3)

    def reader() -> None:
        go.wait()
        for key in keys:
            cache.get(key)

    def forgetter() -> None:
        go.wait()
        for key in keys:
            cache.pop(key)

    threads = [threading.Thread(target=reader), threading.Thread(target=forgetter)]
    for thread in threads:
        thread.start()
    go.wait()
    for thread in threads:
        thread.join()


def test_a_forgotten_entry_is_not_brought_back_by_a_racing_promotion() -> None:
    """Facts are invalidated from the change-feed thread while requests promote them on others."""
    for _attempt in range(20):
        cache: Generations[int, int] = Generations(500)
        for key in range(1000):
            cache[key] = key  # 0..499 old, 500..999 young
        _promote_while_forgetting(cache, range(500))
        assert [key for key in range(500) if key in cache] == []
