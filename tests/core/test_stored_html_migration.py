"""Migration a7b8c9d0e104 stores the HTML of the Markdown already in the database."""
from datetime import datetime, timezone

import sqlalchemy as sa

from lms.core.db import make_engine
from lms.core.markdown import RENDERER, render_markdown
from lms.migrations import downgrade, upgrade

NOW = datetime(2026, 1, 9, 9, tzinfo=timezone.utc)
CALCULATED = {"id": "calc", "type": "calculated", "text": "De **{total}** tickets, {resueltos} resueltos.",
              "variables": {"total": {"min": 1, "max": 2}, "resueltos": {"min": 1, "max": 2}},
              "explanation": "Resueltos *entre* total."}


def test_the_rows_already_there_get_their_html(databases):
    url = databases.create("html-migration", migrate=False)
    upgrade(url, "f6a7b8c9d003")
    engine = make_engine(url)
    meta = sa.MetaData()
    tracks, modules, lessons, banks, questions, versions = (
        sa.Table(name, meta, autoload_with=engine)
        for name in ("tracks", "modules", "lessons", "question_banks", "questions", "question_versions"))
    try:
        with engine.begin() as conn:
            conn.execute(tracks.insert(), [{"id": 1, "slug": "t", "title": "T", "description": "Pista **uno**",
                                            "content_hash": "x", "is_archived": False}])
            conn.execute(modules.insert(), [{"id": 1, "slug": "m", "title": "M", "summary": "", "sources": [],
                                             "content_hash": "x", "is_archived": False}])
            conn.execute(lessons.insert(), [{"id": 1, "slug": "l", "module_id": 1, "position": 1, "title": "L", "day": 0,
                                             "minutes": 5, "objectives": [], "sources": [],
                                             "house_rules": [{"text": "Regla *de la casa*", "sources": []}],
                                             "body": "## Título\n\nTexto <script>x</script>", "source_path": "l.md",
                                             "content_hash": "x", "is_archived": False, "updated_at": NOW}])
            conn.execute(banks.insert(), [{"id": 1, "slug": "b", "title": "B", "source_path": "b.yaml", "content_hash": "x", "is_archived": False}])
            conn.execute(questions.insert(), [{"id": 1, "bank_id": 1, "slug": "calc", "current_version": 1, "position": 1, "type": "calculated", "tags": [],
                                               "is_archived": False}])
            conn.execute(versions.insert(), [{"id": 1, "question_id": 1, "version": 1, "data": CALCULATED,
                                              "content_hash": "x", "created_at": NOW}])
        upgrade(url)
        meta = sa.MetaData()
        tracks, modules, lessons, versions = (sa.Table(name, meta, autoload_with=engine)
                                              for name in ("tracks", "modules", "lessons", "question_versions"))
        with engine.connect() as conn:
            track = conn.execute(sa.select(tracks.c.html)).scalar_one()
            module = conn.execute(sa.select(modules.c.html)).scalar_one()
            lesson = conn.execute(sa.select(lessons.c.html)).scalar_one()
            version = conn.execute(sa.select(versions.c.html)).scalar_one()
        assert track == {"_v": RENDERER, "description": "<p>Pista <strong>uno</strong></p>"}
        assert module == {"_v": RENDERER, "summary": ""}
        assert lesson["body"] == str(render_markdown("## Título\n\nTexto <script>x</script>")) and "<script" not in lesson["body"]
        assert lesson["house_rules"] == ["<p>Regla <em>de la casa</em></p>"]
        assert version["text"] == "<p>De <strong>\ue000total\ue001</strong> tickets, \ue000resueltos\ue001 resueltos.</p>"
        assert version["explanation"] == "<p>Resueltos <em>entre</em> total.</p>" and version["situation"] == ""
        downgrade(url, "f6a7b8c9d003")
        with engine.connect() as conn:
            assert "html" not in {c["name"] for c in sa.inspect(conn).get_columns("lessons")}
    finally:
        engine.dispose()
