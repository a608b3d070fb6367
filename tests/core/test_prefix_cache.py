"""The prefix cache's bookkeeping: longest shared beginning, byte budget, replacement."""

from __future__ import annotations

from desktop_app.core.engine.prefix_cache import MIN_TOKENS, PrefixCache, common_prefix


def test_the_state_sharing_the_longest_beginning_is_chosen() -> None:
    cache = PrefixCache(budget_bytes=1000)
    a = list(range(100))
    b = [*range(50), *range(500, 560)]
    cache.put(a, b"a" * 10)
    cache.put(b, b"b" * 10)
    tokens, state, n = cache.best([*range(80), 7, 7], limit=200)  # type: ignore[misc]
    assert (state, n, tokens) == (b"a" * 10, 80, tuple(a))
    assert cache.best([*range(50), 500, 501], limit=51)[2] == 51  # type: ignore[index]


def test_the_budget_drops_the_least_recently_used_and_short_sequences_are_not_kept() -> None:
    cache = PrefixCache(budget_bytes=25)
    cache.put(list(range(100)), b"x" * 10)
    cache.put(list(range(1000, 1100)), b"y" * 10)
    cache.best(list(range(100)), limit=100)  # used: now the most recent
    cache.put(list(range(2000, 2100)), b"z" * 10)
    assert len(cache) == 2 and cache.used == 20
    assert cache.best(list(range(1000, 1100)), limit=100)[2] == 0  # type: ignore[index]
    cache.put(list(range(MIN_TOKENS - 1)), b"s")
    cache.put(list(range(3000, 3100)), b"w" * 26)  # larger than the whole budget
    assert len(cache) == 2


def test_a_longer_state_of_the_same_conversation_replaces_its_beginning() -> None:
    cache = PrefixCache()
    cache.put(list(range(100)), b"short")
    cache.put(list(range(150)), b"longer")
    assert len(cache) == 1 and cache.used == len(b"longer")
    assert common_prefix([1, 2, 3], [1, 2, 4]) == 2
    assert common_prefix([1, 2, 3], [1, 2, 3], limit=1) == 1
