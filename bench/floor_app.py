"""The floor: the smallest Flask app under the same server settings, against the same database.

GET /read/<id>  reads one row by primary key; POST /insert inserts one row durably.
"""
from __future__ import annotations

import os

from flask import Flask, jsonify
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select

from lms.core.db import make_engine

metadata = MetaData()
floor_rows = Table("bench_floor_rows", metadata, Column("id", Integer, primary_key=True), Column("payload", String(100)))


def create_app() -> Flask:
    app = Flask(__name__)
    engine = make_engine(os.environ["DATABASE_URL"])
    metadata.create_all(engine)

    @app.post("/insert")
    def insert_row():
        with engine.begin() as conn:
            new_id = conn.execute(insert(floor_rows).values(payload="x" * 40)).inserted_primary_key[0]
        return jsonify(id=new_id)

    @app.get("/read/<int:row_id>")
    def read_row(row_id: int):
        with engine.connect() as conn:
            row = conn.execute(select(floor_rows).where(floor_rows.c.id == row_id)).first()
        return jsonify(id=row.id if row else None)

    return app


app = create_app()
