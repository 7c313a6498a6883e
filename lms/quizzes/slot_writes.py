"""The writes of an attempt's slots on the hot paths (an auto-save, a submission): one UPDATE however many slots change.

``UPDATE attempt_slots SET answer = CASE id WHEN :id_0 THEN :answer_0 … ELSE answer END, … WHERE id IN (:id_0, …)``
instead of an executemany of one UPDATE by primary key per slot: the parameters are processed in one pass (an
executemany processes each row's on its own: SQLAlchemy's per-row work was most of its cost, and on PostgreSQL the
driver's per-row statements), and it is one statement on both backends. Built once per set of columns and number of
slots (a chunk of at most :data:`CHUNK`), their SQL compiled once and cached.

On PostgreSQL the values go as one JSON parameter instead, whatever the number of slots, read as rows of the table's
own types: ``UPDATE attempt_slots SET answer = v.answer, … FROM json_populate_recordset(NULL::attempt_slots, :slot_rows)
AS v WHERE id = v.id``. Its text and its one parameter stay the same from one submission to the next, so psycopg
converts it once (it does not keep statements of more than 50 parameters: the CASE form's 60 to 80 were converted
again on every submission, a millisecond of the worker's CPU) and prepares it on the server after a few executions.
One ``json.dumps`` of the rows costs the worker a third of what psycopg's dumping of one array a column did (an array
of 20 JSON answers, one of 20 timestamps…: 0.68 against 0.25 ms of CPU an execution, measured on the benchmark's host).
"""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from sqlalchemy import JSON, bindparam, case, func, literal_column, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from lms.core.db import UTCDateTime
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


@lru_cache(maxsize=16)
def slot_update_rows(columns: tuple[str, ...]):
    """PostgreSQL's UPDATE of ``columns`` of any number of slots: one parameter ``slot_rows``, a JSON array of objects
    (:func:`rows_param`), read by ``json_populate_recordset`` as rows of ``attempt_slots`` (its columns' own types)."""
    rows = func.json_populate_recordset(literal_column(f"NULL::{_SLOTS.name}"), bindparam("slot_rows", type_=JSON()))
    values = rows.table_valued("id", *columns).alias("v")
    return update(_SLOTS).where(_SLOTS.c.id == values.c.id).values({column: values.c[column] for column in columns})


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
    """Write the changed slots (``changes``: {slot id: {column: value}}) in one statement (on SQLite, one a chunk of
    :data:`CHUNK` slots), every changed slot's columns that any change names (a column a slot's change does not name
    keeps its value), then record the new values on the slots without marking them dirty (nothing is written twice)."""
    planned = plan(slots_, changes)
    if planned is None:
        return
    columns, written = planned
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(slot_update_rows(columns), rows_param(columns, written))
    else:
        _write_in_chunks(connection, columns, written)
    record(columns, written)


def plan(slots_: list, changes: dict[int, dict]) -> tuple[tuple[str, ...], list] | None:
    """What :func:`write_slots` writes: (the columns, [(slot, its values of those columns)]), or None (no change)."""
    if not changes:
        return None
    columns = tuple(sorted({column for change in changes.values() for column in change}))
    slots = {slot.id: slot for slot in slots_}
    written = []
    for slot_id, change in changes.items():
        slot = slots[slot_id]
        written.append((slot, [change[column] if column in change else getattr(slot, column) for column in columns]))
    return columns, written


_MOMENT = UTCDateTime()


def rows_param(columns: tuple[str, ...], written: list) -> dict:
    """The parameter of :func:`slot_update_rows`: [{"id": …, column: value, …}, …], a moment as ISO 8601 in UTC (as
    ``UTCDateTime`` binds it: a naive one is refused)."""
    rows = []
    for slot, values in written:
        row = {"id": slot.id}
        for column, value in zip(columns, values):
            row[column] = _MOMENT.process_bind_param(value, None).isoformat() if isinstance(value, datetime) else value
        rows.append(row)
    return {"slot_rows": rows}


def record(columns: tuple[str, ...], written: list) -> None:
    """Record on the slots what was written to their rows (loaded ones are not marked changed)."""
    for slot, values in written:
        if type(slot) is SlotRow:  # (plain values: set as they are)
            for column, value in zip(columns, values):
                setattr(slot, column, value)
        else:
            for column, value in zip(columns, values):
                set_committed_value(slot, column, value)


def _write_in_chunks(connection, columns: tuple[str, ...], written: list) -> None:
    for start in range(0, len(written), CHUNK):
        chunk = written[start:start + CHUNK]
        params = {}
        for k, (slot, values) in enumerate(chunk):
            params[f"b_id_{k}"] = slot.id
            for column, value in zip(columns, values):
                params[f"b_{column}_{k}"] = value
        connection.execute(slot_update(columns, len(chunk)), params)  # (Core: no ORM execution)
