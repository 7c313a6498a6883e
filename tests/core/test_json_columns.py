"""JSON columns are written and read with orjson (lms.core.db.json_dumps / json_loads, issue #22), with json's
results where the two differ: keys that are not text, what json wrote that orjson does not read."""
from __future__ import annotations

import math

from lms.core.db import json_dumps, json_loads


def test_what_json_wrote_and_read_stays_the_same():
    value = {"draw": [{"questions": ["a", "b"]}], 3: {"pass_mark": 80.5, "none": None, "ok": True}, "ñ": "árbol"}
    assert json_loads(json_dumps(value)) == {"draw": [{"questions": ["a", "b"]}], "3": {"pass_mark": 80.5, "none": None, "ok": True},
                                             "ñ": "árbol"}
    assert json_dumps(2**70) == str(2**70)  # (past orjson's 64 bits: json writes it)
    assert math.isnan(json_loads("NaN")) and json_loads("[Infinity]") == [math.inf]  # (json's own extensions)
    assert json_loads(b'{"a": [1, 2]}') == {"a": [1, 2]}


def test_a_json_column_keeps_its_value_on_the_database(session):
    from lms.core.outbox import OutboxMessage  # a model with a JSON column, written and read back

    message = OutboxMessage(kind="prueba", dedupe_key="prueba-json-1",
                            payload={"texto": "¿Qué tal?", "n": [1, 2.5, None], 7: "siete"})
    session.add(message)
    session.flush()
    session.expire_all()
    assert session.get(OutboxMessage, message.id).payload == {"texto": "¿Qué tal?", "n": [1, 2.5, None], "7": "siete"}
