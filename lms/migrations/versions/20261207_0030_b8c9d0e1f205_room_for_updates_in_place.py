"""room on the page for the rows a quiz attempt rewrites (issue #22): an attempt's slots are written at every
auto-save and at the submission, and the attempt's row with them. On PostgreSQL a new version of a row that fits
on its page, with no indexed column changed, is a heap-only (HOT) update: no new entry in any of the table's
indexes. With the default fillfactor (100) the pages that exam starts fill have no room left, so every slot the
submission marked was written to another page with an entry in each of its four indexes (80 index entries a
20-question submission). ``attempt_slots`` now fills its pages to 70% and ``quiz_attempts`` to 80% (new pages; the
rows already there keep theirs until rewritten), and the two indexes that repeat the first column of a unique
constraint's are dropped: ``ix_attempt_slots_attempt_id`` (``uq_attempt_slots_attempt_id_position``) and
``ix_quiz_attempts_quiz_id`` (``uq_quiz_attempts_quiz_id_user_id_number``), which serve the same lookups.
SQLite has no fillfactor: there only the indexes go.

Revision ID: b8c9d0e1f205
Revises: a7b8c9d0e104
Create Date: 2026-12-07 00:30:00
"""
from alembic import op


revision = 'b8c9d0e1f205'
down_revision = 'a7b8c9d0e104'
branch_labels = None
depends_on = None

#: table → the share of each new page its inserts fill (PostgreSQL)
FILLFACTOR = {'attempt_slots': 70, 'quiz_attempts': 80}


def upgrade() -> None:
    op.drop_index('ix_attempt_slots_attempt_id', table_name='attempt_slots')
    op.drop_index('ix_quiz_attempts_quiz_id', table_name='quiz_attempts')
    if op.get_bind().dialect.name == 'postgresql':
        for table, fillfactor in FILLFACTOR.items():
            op.execute(f'ALTER TABLE {table} SET (fillfactor = {fillfactor})')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for table in FILLFACTOR:
            op.execute(f'ALTER TABLE {table} RESET (fillfactor)')
    op.create_index('ix_quiz_attempts_quiz_id', 'quiz_attempts', ['quiz_id'], unique=False)
    op.create_index('ix_attempt_slots_attempt_id', 'attempt_slots', ['attempt_id'], unique=False)
