"""The writes of an attempt's slots on the hot paths (an auto-save, a submission): one UPDATE however many slots change.

``UPDATE attempt_slots SET answer = CASE id WHEN :id_0 THEN :answer_0 … ELSE answer END, … WHERE id IN (:id_0, …)``
instead of an executemany of one UPDATE by primary key per slot: the parameters are processed in one pass (an
executemany processes each row's on its own: SQLAlchemy's per-row work was most of its cost, and on PostgreSQL the
driver's per-row statements), and it is one statement on both backends. Built once per set of columns and number of
slots (a chunk of at most :data:`CHUNK`), their SQL compiled once and cached.
"""
from __future__ import annotations

from functools import lru_cache

from sqlalchemy import bindparam, case, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from lms.quizzes.models import AttemptSlot

_SLOTS = AttemptSlot.__table__
#: the most slots one UPDATE writes (an attempt with more questions writes them in chunks of this many)
CHUNK = 64


@lru_cache(maxsize=256)
def slot_update(columns: tuple[str, ...], n: int):
    """The UPDATE of ``columns`` of ``n`` slots: parameters ``b_id_<k>`` and ``b_<column>_<k>`` for k in range(n)."""
    ids = [bindparam(f"b_id_{k}", type_=_SLOTS.c.id.type) for k in range(n)]
    values = {}
    for column in columns:
        col = _SLOTS.c[column]
        values[column] = case({ids[k]: bindparam(f"b_{column}_{k}", type_=col.type) for k in range(n)}, value=_SLOTS.c.id, else_=col)
    return update(_SLOTS).where(_SLOTS.c.id.in_(ids)).values(values)


class SlotRow:
    """A slot as a submission or an auto-save reads it: plain values instead of an ORM object (twenty of them are read
    on every submission), its question version attached as on a loaded slot (``versions.version_of`` gives it). What
    the hot paths read and write of an :class:`AttemptSlot` it has too; what they write is set on it as written."""

    __slots__ = ("id", "position", "points", "layout", "answer", "answered_at", "score", "__dict__")

    def __init__(self, id: int, position: int, points: float, layout: dict | None, answer, answered_at, score):
        self.id, self.position, self.points, self.layout = id, position, points, layout
        self.answer, self.answered_at, self.score = answer, answered_at, score


def committed(slot, column: str, value) -> None:
    """Record on a slot what was written to its row (a loaded one is not marked changed)."""
    if type(slot) is SlotRow:
        setattr(slot, column, value)
    else:
        set_committed_value(slot, column, value)


def write_slots(session: Session, slots_: list, changes: dict[int, dict]) -> None:
    """Write the changed slots (``changes``: {slot id: {column: value}}) in one statement (a chunk of :data:`CHUNK` slots
    each), every changed slot's columns that any change names (a column a slot's change does not name keeps its value),
    then record the new values on the slots without marking them dirty (nothing is written twice)."""
    if not changes:
        return
    columns = tuple(sorted({column for change in changes.values() for column in change}))
    slots = {slot.id: slot for slot in slots_}
    written = []
    for slot_id, change in changes.items():
        slot = slots[slot_id]
        written.append((slot, [change[column] if column in change else getattr(slot, column) for column in columns]))
    for start in range(0, len(written), CHUNK):
        chunk = written[start:start + CHUNK]
        params = {}
        for k, (slot, values) in enumerate(chunk):
            params[f"b_id_{k}"] = slot.id
            for column, value in zip(columns, values):
                params[f"b_{column}_{k}"] = value
        session.connection().execute(slot_update(columns, len(chunk)), params)  # (Core: no ORM execution)
    for slot, values in written:
        if type(slot) is SlotRow:  # (plain values: set as they are)
            for column, value in zip(columns, values):
                setattr(slot, column, value)
        else:
            for column, value in zip(columns, values):
                set_committed_value(slot, column, value)
