"""The bounded per-process cache: least recently used out; ``get_all`` reads several keys at once, all or nothing."""
from lms.core.caches import BoundedCache


def test_get_all_is_all_or_nothing_and_keeps_the_keys_recent():
    cache = BoundedCache(3)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get_all(["a", "b"]) == [1, 2]
    assert cache.get_all(["a", "zz", "b"]) is None and cache.misses == 1
    assert cache.get_all([]) == []
    cache.put("c", 3)
    assert cache.get_all(["a"]) == [1]  # "a" is now the most recent: "b" goes first
    cache.put("d", 4)
    assert cache.get("b") is None and cache.get_all(["a", "c", "d"]) == [1, 3, 4]


def test_none_keys_are_never_kept():
    cache = BoundedCache(2)
    assert cache.put(None, "x") == "x" and cache.get(None) is None
