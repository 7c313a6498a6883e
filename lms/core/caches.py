"""Bounded per-process caches of pure functions' results: least recently used out, thread-safe.

Used where a request would otherwise redo work whose result depends only on its key: a question's rendered HTML by
(version, layout, saved answer, language), the site navigation by (role, language, script root).
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, Hashable, TypeVar

V = TypeVar("V")


class BoundedCache(Generic[V]):
    """At most ``maxsize`` entries; ``get(None)`` is always a miss and ``put(None, v)`` keeps nothing, so a caller
    whose key cannot be built (None) renders every time."""

    def __init__(self, maxsize: int):
        self.maxsize = maxsize
        self._entries: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable | None) -> V | None:
        if key is None:
            return None
        with self._lock:
            value = self._entries.get(key)
            if value is None:
                self.misses += 1
            else:
                self._entries.move_to_end(key)
                self.hits += 1
            return value

    def get_all(self, keys: list[Hashable]) -> list[V] | None:
        """The values of all these keys (one lock for all), or None when any is missing (none is counted a hit)."""
        with self._lock:
            entries = self._entries
            values = [entries.get(key) for key in keys]
            if None in values:
                self.misses += 1
                return None
            for key in keys:
                entries.move_to_end(key)
            self.hits += len(keys)
            return values

    def put(self, key: Hashable | None, value: V) -> V:
        if key is not None:
            with self._lock:
                self._entries[key] = value
                self._entries.move_to_end(key)
                while len(self._entries) > self.maxsize:
                    self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.hits = self.misses = 0

    def __contains__(self, key: Hashable) -> bool:
        """Whether the key has an entry (neither a hit nor a miss, nor a use)."""
        with self._lock:
            return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)
