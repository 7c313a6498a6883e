"""Babel's global table in a worker: the one part a page needs, the rest read when a call asks for it.

The first time Babel reads a locale's data (the first date or number a page writes) it loads its whole global table
(``babel/global.dat``: likely subtags, the territories' languages and currencies, time-zone names; about 2 MiB of
Python objects, kept by every worker for the life of the process) only to look up the locale's parent
(``parent_exceptions``, 11 KiB). :func:`install` hands Babel that small part up front; the first call that asks for
any other key (parsing an unusual locale identifier, a time zone's name, a currency) reads the whole table as Babel
would have. Same answers either way; a worker that writes dates and numbers only keeps 2 MiB less (issue #22).

Babel keeps the table in ``babel.core._global_data`` and reads it only through ``get_global`` (``.get(key, {})``);
where a Babel release does otherwise, :func:`install` leaves Babel alone.
"""
from __future__ import annotations

import babel.core

#: the keys loading a locale's data asks for ("cldr": the data's version, a dozen bytes)
PAGE_KEYS = ("parent_exceptions", "cldr")


def read_whole_table() -> dict:
    """Babel's whole global table, read from its file by Babel itself (whatever Babel holds now stays)."""
    held = babel.core._global_data
    babel.core._global_data = None
    try:
        babel.core.get_global("cldr")
        return babel.core._global_data
    finally:
        babel.core._global_data = held


class GlobalTable(dict):
    """Some keys of Babel's global table; any other key read completes it first."""

    def __init__(self, part: dict):
        super().__init__(part)
        self._partial = True

    def _complete(self) -> None:
        if self._partial:
            self._partial = False
            self.update(read_whole_table())

    def get(self, key, default=None):
        if self._partial and not dict.__contains__(self, key):
            self._complete()
        return dict.get(self, key, default)

    def __missing__(self, key):
        if not self._partial:
            raise KeyError(key)
        self._complete()
        return self[key]

    def __contains__(self, key) -> bool:
        if self._partial and not dict.__contains__(self, key):
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


def install() -> bool:
    """Give Babel the page keys of its global table, unless it has loaded the table already; True if installed."""
    if getattr(babel.core, "_global_data", False) is not None or not callable(getattr(babel.core, "get_global", None)):
        return False
    whole = read_whole_table()
    babel.core._global_data = GlobalTable({key: whole[key] for key in PAGE_KEYS if key in whole})
    return True
