"""Migrations are the schema: one head, and upgrading from empty gives exactly the models."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

import lms.models  # noqa: F401
from lms.core.db import Base, make_engine
from lms.migrations import alembic_config, downgrade, upgrade


def test_single_head():
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1


def test_revision_files_are_date_prefixed():
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    for revision in script.walk_revisions():
        name = revision.path.rsplit("/", 1)[1]
        assert name[:8].isdigit() and name[8] == "_", name


def test_upgrade_from_empty_matches_the_models_and_downgrades_cleanly(databases):
    url = databases.create("migrations", migrate=False)
    upgrade(url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
            assert diff == []
            if conn.dialect.name == "postgresql":  # room on each page for an attempt's rows rewritten in place
                options = dict(conn.execute(text("SELECT relname, reloptions FROM pg_class WHERE relname IN "
                                                 "('attempt_slots', 'quiz_attempts')")).all())
                assert options == {"attempt_slots": ["fillfactor=70"], "quiz_attempts": ["fillfactor=80"]}
        downgrade(url, "base")
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
        upgrade(url)
        with engine.connect() as conn:
            assert "users" in inspect(conn).get_table_names()
    finally:
        engine.dispose()
