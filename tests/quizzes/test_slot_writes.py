"""An attempt's slots are written in one UPDATE (issue #22): on SQLite one (CASE by id) per chunk of slots, on
PostgreSQL one in all (one JSON parameter, ``json_populate_recordset``). What is stored is what an UPDATE per slot would store, for every question
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
        saved_at = now_utc()
        assert services.save_answers(session, services.get_attempt(session, attempt.id), agent, first, now=saved_at) == 3
    assert sum(1 for s in statements if s.startswith("UPDATE attempt_slots")) == 1
    postgresql = session.connection().dialect.name == "postgresql"
    assert ("json_populate_recordset(" in next(s for s in statements if s.startswith("UPDATE attempt_slots"))) == postgresql
    session.commit()
    session.expire_all()
    # the submission: the other answers and every mark, in chunks of three
    attempt = services.get_attempt(session, attempt.id)
    with counting(app) as statements:
        submitted_at = now_utc()
        services.submit_attempt(session, attempt, agent, values, now=submitted_at)
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
        assert row.answer == expected, slot.position
        # the moment of the write that changed the answer, to the microsecond and in UTC
        assert row.answered_at == (saved_at if slot.position < 3 else submitted_at), slot.position
        if version.kind.manual:
            assert row.score is None, slot.position  # an essay waits for a trainer
        else:
            assert row.score == slot.points, (slot.position, row.score)  # every right answer's full mark
    assert graded.state == "submitted"  # the essay waits for a trainer


def test_slots_read_with_the_attempt_are_the_slots_read_on_their_own(app, session, content, agent):
    """An auto-save and a submission read an attempt's slots with the attempt (on PostgreSQL, a JSON array in the same
    statement): the same values, of the same types, and the same cached versions as the slots' own statement gives."""
    questions = _questions(session)
    quiz = make_quiz(session, "lectura-con-intento", questions)
    attempt = services.start_attempt(session, agent, quiz, now=now_utc(), may_take=True)
    session.commit()
    slots = services.get_attempt(session, attempt.id).slots
    half = {}
    for slot in slots[: len(slots) // 2]:
        half |= correct_values(versions.version_of(slot).data, slot.layout, f"q{slot.position}")
    services.save_answers(session, services.get_attempt(session, attempt.id, slots=False), agent, half, now=now_utc())
    session.commit()
    session.expire_all()
    columns = ("id", "position", "points", "layout", "answer", "answered_at", "score")

    def both_ways():
        session.expire_all()
        on_their_own = services.slots_of(session, services.get_attempt(session, attempt.id, slots=False))
        session.expire_all()
        with_the_attempt = services.slots_of(session, services.get_attempt_to_write(session, attempt.id))
        assert [[getattr(s, c) for c in columns] for s in with_the_attempt] == [[getattr(s, c) for c in columns] for s in on_their_own]
        assert [[type(getattr(s, c)) for c in columns] for s in with_the_attempt] == [[type(getattr(s, c)) for c in columns]
                                                                                     for s in on_their_own]
        assert [versions.version_of(s) for s in with_the_attempt] == [versions.version_of(s) for s in on_their_own]
        return with_the_attempt

    read = both_ways()  # half answered, no marks
    assert any(s.answered_at is not None for s in read) and any(s.answer is None for s in read)
    services.submit_attempt(session, services.get_attempt_to_write(session, attempt.id), agent, {}, now=now_utc())
    session.commit()
    read = both_ways()  # marked
    assert any(isinstance(s.score, float) and s.score > 0 for s in read)
