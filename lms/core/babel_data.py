"""Babel's data in a worker: the parts pages read, the rest read again when a call asks for it (issue #22: memory).

The first date or number a page writes makes Babel load, and keep for the life of the process:

- its whole global table (``babel/global.dat``: likely subtags, territories' languages and currencies, time-zone
  names; about 2 MiB of Python objects), only to look up the locale's parent (``parent_exceptions``, 11 KiB);
- the locale's whole data merged with its parents' (Spanish and root: about 2.5 MiB; English 1.1 more): unit
  patterns, currency, language and territory names, time-zone names, of which pages read five keys (date, time
  and datetime formats, months, number symbols).

:func:`install` keeps only those parts: Babel gets a :class:`Partial` table holding the keys pages read, and the
first read of any other key (a time zone's name, a currency, an unusual locale identifier) reads the whole table as
Babel would, through Babel itself. Same answers either way; a worker keeps about 4.5 MiB less.

Babel keeps the global table in ``babel.core._global_data`` (read through ``get_global``) and each locale's data in
``babel.localedata`` (``load``'s cache, ``get_locale_data``'s wrappers); where a Babel release does otherwise,
:func:`install` leaves Babel alone.
"""
from __future__ import annotations

import threading
from typing import Callable

import babel.core
import babel.localedata

#: the global table's keys that loading a locale's data reads ("cldr": the data's version, a dozen bytes)
PAGE_GLOBAL_KEYS = ("parent_exceptions", "cldr")
#: a locale's keys that writing dates, times and numbers reads (pages read the first five; the others are small
#: and read by other date or number patterns)
PAGE_LOCALE_KEYS = ("date_formats", "time_formats", "datetime_formats", "months", "number_symbols", "days", "quarters",
                    "eras", "periods", "day_periods", "day_period_rules", "week_data", "decimal_formats",
                    "percent_formats", "default_numbering_system", "plural_form", "ordinal_form")


#: held while a table is read whole (a thread reading meanwhile waits for it) and while a locale's part is built
_lock = threading.RLock()


class Partial(dict):
    """Some keys of one of Babel's tables; the first read of any other key completes it from ``read_whole()``."""

    def __init__(self, part: dict, read_whole: Callable[[], dict]):
        super().__init__(part)
        self._read_whole: Callable[[], dict] | None = read_whole

    @property
    def partial(self) -> bool:
        return self._read_whole is not None

    def _complete(self) -> None:
        if self._read_whole is None:
            return
        with _lock:  # another thread reading meanwhile waits for the whole table, not a part of it
            if self._read_whole is not None:
                for key, value in self._read_whole().items():
                    dict.setdefault(self, key, value)  # a value Babel memoized in the part (a resolved alias) stays
                self._read_whole = None

    def get(self, key, default=None):
        if self._read_whole is not None and not dict.__contains__(self, key):
            self._complete()
        return dict.get(self, key, default)

    def __missing__(self, key):
        if self._read_whole is None:
            raise KeyError(key)
        self._complete()
        return self[key]

    def __contains__(self, key) -> bool:
        if self._read_whole is not None and not dict.__contains__(self, key):
            self._complete()
        return dict.__contains__(self, key)

    def __iter__(self):
        self._complete()
        return dict.__iter__(self)

    def __len__(self) -> int:
        self._complete()
        return dict.__len__(self)

    def keys(self):
        self._complete()
        return dict.keys(self)

    def values(self):
        self._complete()
        return dict.values(self)

    def items(self):
        self._complete()
        return dict.items(self)

    def copy(self) -> dict:
        self._complete()
        return dict(dict.items(self))


def read_whole_global_table() -> dict:
    """Babel's whole global table, read from its file by Babel itself (whatever Babel holds now stays)."""
    held = babel.core._global_data
    babel.core._global_data = None
    try:
        babel.core.get_global("cldr")
        return babel.core._global_data
    finally:
        babel.core._global_data = held


def read_whole_locale_data(name: str) -> dict:
    """A locale's whole data merged with its parents', read by Babel itself; Babel's own cache of it is forgotten
    (the part kept by :func:`page_locale_data` holds what pages read)."""
    try:
        return babel.localedata.load(name)
    finally:
        with babel.localedata._cache_lock:
            babel.localedata._cache.clear()


def page_locale_data(name: str):
    """Babel's ``get_locale_data``: the wrapper over a locale's data, holding the keys pages read."""
    cache = babel.localedata._dict_cache
    found = cache.get(name)
    if found is not None:
        return found
    with _lock:
        whole = read_whole_locale_data(name)
        part = Partial({key: whole[key] for key in PAGE_LOCALE_KEYS if key in whole},
                       lambda: read_whole_locale_data(name))
        return cache.setdefault(name, babel.localedata.LocaleDataDict(part))


def install() -> bool:
    """Babel keeps the parts of its data pages read (unless it has loaded some already); True if installed."""
    localedata = babel.localedata
    if (getattr(babel.core, "_global_data", False) is not None or not callable(getattr(babel.core, "get_global", None))
            or not all(hasattr(localedata, name) for name in ("_cache", "_cache_lock", "_dict_cache", "get_locale_data",
                                                               "LocaleDataDict", "load"))
            or localedata._dict_cache or localedata._cache):
        return False
    whole = read_whole_global_table()
    babel.core._global_data = Partial({key: whole[key] for key in PAGE_GLOBAL_KEYS if key in whole},
                                      read_whole_global_table)
    localedata.get_locale_data = page_locale_data
    return True
