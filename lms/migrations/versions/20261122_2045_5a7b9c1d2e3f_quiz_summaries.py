"""quiz summaries: one row per (agent, quiz), backfilled from the attempts

Revision ID: 5a7b9c1d2e3f
Revises: c41e0f7a9b12
Create Date: 2026-11-22 20:45:00
"""
from alembic import op
import sqlalchemy as sa
import lms.core.db


revision = '5a7b9c1d2e3f'
down_revision = 'c41e0f7a9b12'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('quiz_summaries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('quiz_id', sa.Integer(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('graded', sa.Integer(), nullable=False),
    sa.Column('pending', sa.Integer(), nullable=False),
    sa.Column('grade', sa.Float(), nullable=True),
    sa.Column('passed', sa.Boolean(), nullable=False),
    sa.Column('first_passed_at', lms.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_activity_at', lms.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['quiz_id'], ['quizzes.id'], name=op.f('fk_quiz_summaries_quiz_id_quizzes')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_quiz_summaries_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quiz_summaries')),
    sa.UniqueConstraint('user_id', 'quiz_id', name=op.f('uq_quiz_summaries_user_id_quiz_id'))
    )
    with op.batch_alter_table('quiz_summaries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quiz_summaries_quiz_id'), ['quiz_id'], unique=False)
    _backfill()


def _backfill() -> None:
    """The summaries of the attempts already there (a frozen copy of lms.quizzes.services.summarise)."""
    bind = op.get_bind()
    when = lms.core.db.UTCDateTime(timezone=True)
    quizzes = sa.table("quizzes", sa.column("id", sa.Integer), sa.column("settings", sa.JSON))
    attempts = sa.table("quiz_attempts", sa.column("user_id", sa.Integer), sa.column("quiz_id", sa.Integer),
                        sa.column("number", sa.Integer), sa.column("state", sa.String), sa.column("started_at", when),
                        sa.column("submitted_at", when), sa.column("graded_at", when), sa.column("percent", sa.Float),
                        sa.column("passed", sa.Boolean))
    summaries = sa.table("quiz_summaries", sa.column("user_id", sa.Integer), sa.column("quiz_id", sa.Integer),
                         sa.column("attempts", sa.Integer), sa.column("graded", sa.Integer), sa.column("pending", sa.Integer),
                         sa.column("grade", sa.Float), sa.column("passed", sa.Boolean), sa.column("first_passed_at", when),
                         sa.column("last_activity_at", when))
    settings = dict(bind.execute(sa.select(quizzes.c.id, quizzes.c.settings)).all())

    def summarise(quiz_id, group):
        graded = [a for a in group if a.state == "graded"]
        method = (settings.get(quiz_id) or {}).get("grade_method", "highest")
        percents = [a.percent for a in graded]
        grade = None
        if percents:
            grade = percents[-1] if method == "last" else round(sum(percents) / len(percents), 2) if method == "average" else max(percents)
        return {"attempts": len(group), "graded": len(graded), "pending": sum(1 for a in group if a.state == "submitted"),
                "grade": grade, "passed": grade is not None and grade >= float((settings.get(quiz_id) or {}).get("pass_mark", 100)),
                "first_passed_at": min(((a.graded_at or a.submitted_at) for a in graded if a.passed), default=None),
                "last_activity_at": max(((a.submitted_at or a.started_at) for a in group), default=None)}

    rows, key, group = [], None, []
    # streamed: a large organisation has millions of attempts
    # (the option on the statement: on the connection it would also apply to alembic's own version update)
    result = bind.execute(sa.select(attempts).order_by(attempts.c.user_id, attempts.c.quiz_id, attempts.c.number)
                          .execution_options(yield_per=5000))
    for attempt in result:
        if (attempt.user_id, attempt.quiz_id) != key:
            if group:
                rows.append({"user_id": key[0], "quiz_id": key[1], **summarise(key[1], group)})
            key, group = (attempt.user_id, attempt.quiz_id), []
            if len(rows) >= 5000:
                bind.execute(sa.insert(summaries), rows)
                rows = []
        group.append(attempt)
    if group:
        rows.append({"user_id": key[0], "quiz_id": key[1], **summarise(key[1], group)})
    if rows:
        bind.execute(sa.insert(summaries), rows)


def downgrade() -> None:
    with op.batch_alter_table('quiz_summaries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quiz_summaries_quiz_id'))
    op.drop_table('quiz_summaries')
