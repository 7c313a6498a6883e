"""the Markdown fields' HTML stored with the content (issue #22): an ``html`` JSON column on the tables whose rows
show Markdown, written whenever a row is inserted or its text changes (lms.core.markdown.keep_rendered), so that
a worker serving them never imports Python-Markdown and nh3. The rows already there are rendered here.

Revision ID: a7b8c9d0e104
Revises: f6a7b8c9d003
Create Date: 2026-12-06 19:00:00
"""
import sqlalchemy as sa
from alembic import op


revision = 'a7b8c9d0e104'
down_revision = 'f6a7b8c9d003'
branch_labels = None
depends_on = None

#: table → (its text columns, a function of a row giving the texts to render by field)
TABLES = {
    'tracks': (('description',), lambda row: {'description': row.description}),
    'modules': (('summary',), lambda row: {'summary': row.summary}),
    'lessons': (('body', 'house_rules'),
                lambda row: {'body': row.body, 'house_rules': [rule.get('text') for rule in row.house_rules or []]}),
    'quizzes': (('description',), lambda row: {'description': row.description}),
    'question_versions': (('data',), lambda row: {'text': _text_to_store(row.data), 'situation': row.data.get('situation'),
                                                  'explanation': row.data.get('explanation')}),
    'reference_pages': (('body',), lambda row: {'body': row.body}),
    'reference_sections': (('text',), lambda row: {'text': row.text}),
    'scenarios': (('situation', 'exemplar'), lambda row: {'situation': row.situation, 'exemplar': row.exemplar}),
}
JSON_COLUMNS = {'house_rules', 'data'}


def _text_to_store(data: dict):
    from lms.quizzes.question_types import text_with_placeholders  # a calculated question's variables as placeholders

    return text_with_placeholders(data)


def upgrade() -> None:
    from lms.core.markdown import stored_html

    bind = op.get_bind()
    for name, (columns, texts) in TABLES.items():
        op.add_column(name, sa.Column('html', sa.JSON(), nullable=True))
        table = sa.table(name, sa.column('id', sa.Integer), sa.column('html', sa.JSON),
                         *(sa.column(c, sa.JSON if c in JSON_COLUMNS else sa.Text) for c in columns))
        rows = bind.execute(sa.select(table.c.id, *(table.c[c] for c in columns))).all()
        update = sa.update(table).where(table.c.id == sa.bindparam('row_id')).values(html=sa.bindparam('rendered'))
        for start in range(0, len(rows), 500):
            bind.execute(update, [{'row_id': row.id, 'rendered': stored_html(texts(row))} for row in rows[start:start + 500]])


def downgrade() -> None:
    for name in TABLES:
        with op.batch_alter_table(name) as batch:
            batch.drop_column('html')
