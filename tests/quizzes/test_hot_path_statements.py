"""The statements of the quiz hot paths (issue #22): an exam start, an auto-save and a submission, through the views,
as a browser sends them. The figures are today's, to catch any growth; the reads before the write lock and the writes
are listed with each budget."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from lms.core.clock import now_utc
from lms.quizzes import services
from lms.tracks import services as tracks
from tests.quizzes.helpers import answer_all_correctly
from tests.test_query_counts import counting


@pytest.fixture
def enrolled(session, content, agent, manager):
    tracks.enroll(session, actor=manager, agent=agent, track=tracks.find_track(session, "corto"),
                  start_date=date.today() - timedelta(days=4), now=now_utc())
    session.commit()


def statements_of(app, call):
    with counting(app) as statements:
        response = call()
    assert response.status_code in (200, 302), response.status_code
    # (BEGIN, and the content of question versions not in this process's cache yet: read once per process)
    return response, [s for s in statements if not s.startswith("BEGIN") and "question_versions.data" not in s]


def test_start_save_and_submit_issue_few_statements(app, client, auth, agent, enrolled, session):
    auth.login_as(agent)
    # start: the signed-in user, the quiz, the agent's access (their enrollments), their attempts with their accommodation
    # (one statement), the draw's candidates; then the attempt (INSERT … ON CONFLICT DO NOTHING), its slots (one
    # executemany), its history row, the quiz summary's upsert and the progress summaries' activity (11 and two
    # SAVEPOINTs before issue #22's work on it)
    response, start = statements_of(app, lambda: client.post("/quizzes/evaluacion-a/start"))
    attempt_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert len(start) <= 10, start
    assert not any(s.startswith("SAVEPOINT") for s in start)
    values = answer_all_correctly(services.get_attempt(session, attempt_id))
    session.rollback()
    # an auto-save: the user, the attempt with its quiz, its slots; the hold that moves the revision, the answers (one
    # executemany); no second read of the answers when nobody else wrote since (6 before)
    _, save = statements_of(app, lambda: client.post(f"/attempts/{attempt_id}/save", data=values,
                                                     headers={"Accept": "application/json", "X-Requested-With": "fetch"}))
    # (on PostgreSQL the attempt, its quiz and its slots come with the signed-in user, in one statement: 3)
    postgresql = session.connection().dialect.name == "postgresql"
    assert len(save) <= (3 if postgresql else 5), save
    if postgresql:
        assert save[0].startswith("SELECT users.") and "LEFT OUTER JOIN quiz_attempts" in save[0], save[0]
        assert not any(s.startswith("SELECT quiz_attempts") for s in save), save
    # the submission (a first pass): the user, the attempt, its slots; one UPDATE submits at the revision read and reads
    # the summary's figures before, whether the agent has an LTI link to be scored and whether they completed any lesson,
    # every slot in one UPDATE (CASE by id), both history rows in one executemany, the quiz summary's UPDATE,
    # certification's evidence check (the live definitions with the agent's records in one statement; no completions
    # to read), the progress summaries moved by the pass (the rows with whether the module has other steps left and the
    # agent's calendar; the UPDATE) (18 before; 14 before the definitions came with the records and the calendar with
    # the rows; 12 before LTI's links and whether there are completions were read with the submission)
    # On PostgreSQL the attempt, its quiz and its slots are read with the user (one statement), and the slots, the
    # history rows and the quiz summary written in the statement that submits (lms.quizzes.submission): 5
    _, submit = statements_of(app, lambda: client.post(f"/attempts/{attempt_id}/submit", data=values))
    assert len(submit) <= (5 if postgresql else 10), submit
    if postgresql:
        assert submit[0].startswith("SELECT users.") and "LEFT OUTER JOIN quiz_attempts" in submit[0], submit[0]
        assert not any(s.startswith("SELECT quiz_attempts") for s in submit), submit
    if postgresql:  # the statement that submits is kept converted by psycopg between executions: not too long for it
        from psycopg import _queries

        statement = next(s for s in submit if s.startswith("WITH submitted"))
        assert len(statement.encode()) <= _queries.MAX_CACHED_STATEMENT_LENGTH, len(statement.encode())
        assert len(set(re.findall(r"%\((\w+)\)s", statement))) <= _queries.MAX_CACHED_STATEMENT_PARAMS
    assert not any(s.startswith("SELECT lti_") for s in submit), submit  # no link launched: LTI reads nothing more
    assert not any(s.startswith("SELECT lesson_completions") for s in submit), submit  # none to read
    assert sum(1 for s in submit if "attempt_slots SET" in s) == 1
    assert sum(1 for s in submit if "certification_" in s) == 1, submit
    assert not any(s.startswith("SELECT non_working_days") for s in submit), submit  # read with the progress rows
    # the figures before came with the submission: the summary is not read on its own
    assert not any(s.startswith("SELECT quiz_summaries") for s in submit), submit
    session.expire_all()
    attempt = services.get_attempt(session, attempt_id)
    assert attempt.state == "graded" and attempt.score == attempt.max_score


def test_every_statement_that_submits_is_short_enough_for_psycopg_to_keep_it_converted(app):
    """psycopg converts a statement's placeholders once and keeps the result only for a statement of at most
    MAX_CACHED_STATEMENT_LENGTH bytes and MAX_CACHED_STATEMENT_PARAMS parameters; a longer one is parsed again on every
    execution. Every variant of PostgreSQL's statement that submits (lms.quizzes.submission), with what the domains
    registered to read with it, stays within both."""
    from psycopg import _queries
    from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

    from lms.quizzes import submission

    dialect = PGDialect_psycopg()
    assert submission.EXTRAS  # the domains' registrations are in the statement measured
    lengths = []
    for slot_columns in ((), ("answer", "answered_at"), ("score",), ("answer", "answered_at", "score")):
        for summary in (None, ("pending",), ("highest", False), ("highest", True), ("last", False), ("last", True)):
            text = str(submission.submit_and_write_statement(slot_columns, summary).compile(dialect=dialect))
            assert len(text.encode()) <= _queries.MAX_CACHED_STATEMENT_LENGTH, (slot_columns, summary, len(text.encode()))
            assert len(set(re.findall(r"%\((\w+)\)s", text))) <= _queries.MAX_CACHED_STATEMENT_PARAMS, (slot_columns, summary)
            lengths.append(len(text.encode()))
    assert max(lengths) > 3_500  # (what is measured is the whole statement: the longest is about 3,900 bytes)
