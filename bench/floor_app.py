"""The floor: the smallest Flask app under the same server settings, against the same database.

GET /read/<id>  reads one row by primary key; POST /insert inserts one row durably (its own committed
transaction). The engine comes from lms.core.db.make_engine, so the connection settings are the LMS's
own: SQLite in WAL mode with synchronous=FULL, a busy timeout, and BEGIN IMMEDIATE for writes (as the LMS
does for every POST); PostgreSQL with the server's default synchronous_commit=on.

The table is created (and filled with rows to read) by :func:`prepare`, before the server starts.
"""
from __future__ import annotations

import os

from flask import Flask, jsonify
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select

from lms.core.db import make_engine, write_intent

metadata = MetaData()
floor_rows = Table("bench_floor_rows", metadata, Column("id", Integer, primary_key=True), Column("payload", String(100)))
READ_ROWS = 10_000


def normalise(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def prepare(url: str) -> None:
    """Create the floor's table with READ_ROWS rows (ids 1..READ_ROWS) if it is not there yet."""
    engine = make_engine(normalise(url))
    try:
        metadata.create_all(engine)
        with engine.begin() as conn:
            if not conn.execute(select(func.count()).select_from(floor_rows)).scalar():
                # no explicit ids: PostgreSQL's sequence must move past them (a fresh table numbers them 1..READ_ROWS)
                conn.execute(insert(floor_rows), [{"payload": "x" * 40} for _ in range(READ_ROWS)])
    finally:
        engine.dispose()


def create_app() -> Flask:
    app = Flask(__name__)
    engine = make_engine(normalise(os.environ["DATABASE_URL"]))

    @app.post("/insert")
    def insert_row():
        token = write_intent.set(True)  # as the LMS does for every POST: BEGIN IMMEDIATE on SQLite
        try:
            with engine.begin() as conn:
                new_id = conn.execute(insert(floor_rows).values(payload="x" * 40)).inserted_primary_key[0]
        finally:
            write_intent.reset(token)
        return jsonify(id=new_id)

    @app.get("/read/<int:row_id>")
    def read_row(row_id: int):
        with engine.connect() as conn:
            row = conn.execute(select(floor_rows).where(floor_rows.c.id == row_id)).first()
        return jsonify(id=row.id if row else None)

    return app


app = create_app() if "DATABASE_URL" in os.environ else None
