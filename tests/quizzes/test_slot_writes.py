"""An attempt's slots are written in one UPDATE (issue #22): on SQLite one (CASE by id) per chunk of slots, on
PostgreSQL one in all (arrays, ``unnest``). What is stored is what an UPDATE per slot would store, for every question
type, however many chunks it takes."""
from __future__ import annotations

from sqlalchemy import select

from lms.core.clock import now_utc
from lms.quizzes import services, slot_writes, versions
from lms.quizzes.models import AttemptSlot
from lms.quizzes.simulate import correct_values
from tests.quizzes.helpers import make_quiz
from tests.quizzes.test_attempt_fragments import _questions
from tests.test_query_counts import counting


def test_slots_written_in_chunks_store_every_answer_and_mark(app, session, content, agent, monkeypatch):
    questions = _questions(session)
    quiz = make_quiz(session, "escritura-por-lotes", questions)
    attempt = services.start_attempt(session, agent, quiz, now=now_utc(), may_take=True)
    session.commit()
    slots = services.get_attempt(session, attempt.id).slots
    assert len(slots) == len(questions) > 7
    values, first = {}, {}
    for slot in slots:
        answer = correct_values(versions.version_of(slot).data, slot.layout, f"q{slot.position}")
        values |= answer
        if slot.position < 3:
            first |= answer
    monkeypatch.setattr(slot_writes, "CHUNK", 3)
    session.expire_all()
    # an auto-save of three answers: one chunk
    with counting(app) as statements:
        assert services.save_answers(session, services.get_attempt(session, attempt.id), agent, first, now=now_utc()) == 3
    assert sum(1 for s in statements if s.startswith("UPDATE attempt_slots")) == 1
    postgresql = session.connection().dialect.name == "postgresql"
    assert ("unnest(" in next(s for s in statements if s.startswith("UPDATE attempt_slots"))) == postgresql
    session.commit()
    session.expire_all()
    # the submission: the other answers and every mark, in chunks of three
    attempt = services.get_attempt(session, attempt.id)
    with counting(app) as statements:
        services.submit_attempt(session, attempt, agent, values, now=now_utc())
    # (PostgreSQL: every slot in one statement, whatever the chunk: the submission's own, lms.quizzes.submission)
    if postgresql:
        assert not any(s.startswith("UPDATE attempt_slots") for s in statements), statements
        assert sum(1 for s in statements if s.startswith("WITH submitted AS") and "UPDATE attempt_slots" in s) == 1
    else:
        assert sum(1 for s in statements if s.startswith("UPDATE attempt_slots")) == -(-len(slots) // 3)
    session.commit()
    session.expire_all()
    stored = {row.id: row for row in session.execute(select(AttemptSlot.id, AttemptSlot.answer, AttemptSlot.answered_at,
                                                            AttemptSlot.score).where(AttemptSlot.attempt_id == attempt.id))}
    graded = services.get_attempt(session, attempt.id)
    for slot in graded.slots:
        version = versions.version_of(slot)
        expected = version.kind.parse(version.data, slot.layout, values, f"q{slot.position}")
        row = stored[slot.id]
        assert row.answer == expected and row.answered_at is not None, slot.position
        if version.kind.manual:
            assert row.score is None, slot.position  # an essay waits for a trainer
        else:
            assert row.score == slot.points, (slot.position, row.score)  # every right answer's full mark
    assert graded.state == "submitted"  # the essay waits for a trainer
