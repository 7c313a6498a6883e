"""Illegal moves of the attempt, role-play and certificate state machines are refused (409, or 400/403
where the move is malformed) and leave every row as it was — through the services and over HTTP."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from lms.certification import services as certs
from lms.core.clock import now_utc
from lms.core.errors import DomainError, InvalidInput
from lms.quizzes import services as quizzes
from lms.quizzes.simulate import answer_attempt
from lms.roleplays import calibration as cal
from lms.roleplays import services as roleplays
from lms.tracks import services as tracks
from tests.security.helpers import changed_tables, db_state


@pytest.fixture
def enrolled(session, content, agent, manager):
    tracks.enroll(session, actor=manager, agent=agent, track=tracks.find_track(session, "corto"),
                  start_date=date.today() - timedelta(days=1), now=now_utc())
    session.commit()
    return agent


def refused(session, call, status=409, exc_type=DomainError):
    """``call()`` raises a domain error with ``status`` and changes no row."""
    session.commit()
    before = db_state(session)
    with pytest.raises(exc_type) as caught:
        call()
    assert caught.value.status == status, caught.value
    session.rollback()
    assert changed_tables(before, db_state(session)) == []
    return caught.value


def _submitted_attempt(session, agent):
    attempt = quizzes.start_attempt(session, agent, quizzes.get_quiz(session, "evaluacion-a"), now=now_utc())
    quizzes.submit_attempt(session, attempt, agent, answer_attempt(attempt, 1.0), now=now_utc())
    session.commit()
    return attempt


def test_a_submitted_attempt_cannot_be_submitted_or_saved_again(session, enrolled):
    agent = enrolled
    attempt = _submitted_attempt(session, agent)
    wrong = answer_attempt(attempt, 0.0)
    refused(session, lambda: quizzes.submit_attempt(session, attempt, agent, wrong, now=now_utc()), exc_type=quizzes.AttemptClosed)
    refused(session, lambda: quizzes.submit_attempt(session, attempt, agent, None, now=now_utc()), exc_type=quizzes.AttemptClosed)
    refused(session, lambda: quizzes.save_answers(session, attempt, agent, wrong, now=now_utc()), exc_type=quizzes.AttemptClosed)


def test_an_expired_attempt_takes_no_answer_and_cannot_be_submitted(session, enrolled):
    agent = enrolled
    start = now_utc() - timedelta(hours=1)  # the quiz allows 10 minutes
    attempt = quizzes.start_attempt(session, agent, quizzes.get_quiz(session, "evaluacion-a"), now=start)
    session.commit()
    # the first late request records the abandonment; nothing else moves, then or later
    with pytest.raises(quizzes.AttemptClosed) as caught:
        quizzes.save_answers(session, attempt, agent, answer_attempt(attempt, 1.0), now=now_utc())
    assert caught.value.status == 409
    session.commit()
    assert attempt.state == "abandoned" and all(slot.answer is None for slot in attempt.slots)
    refused(session, lambda: quizzes.submit_attempt(session, attempt, agent, answer_attempt(attempt, 1.0), now=now_utc()),
            exc_type=quizzes.AttemptClosed)
    refused(session, lambda: quizzes.save_answers(session, attempt, agent, answer_attempt(attempt, 1.0), now=now_utc()),
            exc_type=quizzes.AttemptClosed)


def test_over_http_a_second_submission_or_a_late_save_is_409_and_changes_nothing(client, auth, session, enrolled):
    agent = enrolled
    attempt = _submitted_attempt(session, agent)
    auth.login_as(agent)
    before = db_state(session)
    response = client.post(f"/attempts/{attempt.id}/save", data=answer_attempt(attempt, 0.0), headers={"X-Requested-With": "fetch"})
    assert response.status_code == 409 and response.get_json()["closed"] is True
    response = client.post(f"/attempts/{attempt.id}/submit", data=answer_attempt(attempt, 0.0))
    assert response.status_code == 303
    assert changed_tables(before, db_state(session)) == []


def test_only_submitted_attempts_are_graded(session, enrolled, trainer):
    agent = enrolled
    attempt = quizzes.start_attempt(session, agent, quizzes.get_quiz(session, "evaluacion-a"), now=now_utc())
    slot = attempt.slots[0]
    refused(session, lambda: quizzes.set_slot_score(session, attempt, slot, score=1, feedback="", reason="x", actor=trainer,
                                                    expected_revision=attempt.revision, now=now_utc()))


def _practice(session, agent, *, submit=True):
    submission = roleplays.start_practice(session, agent, roleplays.get_scenario(session, "chat-retraso"), now=now_utc())
    for text in ("Hola, Ana.", "Gracias, Ana."):
        roleplays.reply(session, submission, agent, thread="ana", text=text, now=now_utc())
    if submit:
        roleplays.submit(session, submission, agent, escalation=None, now=now_utc())
    session.commit()
    return submission


def _grade(session, submission, trainer, action, levels=None, revision=0, reason=""):
    return roleplays.save_grade(session, submission, actor=trainer, levels=levels if levels is not None else {"tiempo": 3},
                                comments={}, overall="", inline=[], action=action, expected_revision=revision, reason=reason,
                                now=now_utc())


def test_roleplay_moves_out_of_order_are_refused(session, content, agent, trainer):
    open_one = _practice(session, agent, submit=False)
    # grading (or calibrating) a practice still in progress
    refused(session, lambda: _grade(session, open_one, trainer, "draft"))
    refused(session, lambda: _grade(session, open_one, trainer, "release"))
    refused(session, lambda: cal.open_session(session, submission=open_one, actor=trainer, title="x", exemplar=False, now=now_utc()))
    roleplays.submit(session, open_one, agent, escalation=None, now=now_utc())
    session.commit()
    # submitting or replying again
    refused(session, lambda: roleplays.submit(session, open_one, agent, escalation=None, now=now_utc()))
    refused(session, lambda: roleplays.reply(session, open_one, agent, thread="ana", text="otra", now=now_utc()))
    # releasing (or returning) a grade with criteria left ungraded
    refused(session, lambda: _grade(session, open_one, trainer, "release", levels={}), status=400, exc_type=InvalidInput)
    refused(session, lambda: _grade(session, open_one, trainer, "return", levels={}), status=400, exc_type=InvalidInput)
    refused(session, lambda: _grade(session, open_one, trainer, "publish"), status=400, exc_type=InvalidInput)
    # a released grade changes only with a reason, and only from the revision the editor saw
    grade = _grade(session, open_one, trainer, "release")
    session.commit()
    refused(session, lambda: _grade(session, open_one, trainer, "draft", levels={"tiempo": 1}, revision=grade.revision),
            status=400, exc_type=InvalidInput)
    refused(session, lambda: _grade(session, open_one, trainer, "draft", levels={"tiempo": 1}, revision=grade.revision - 1,
                                    reason="Corrección"))


def test_over_http_grading_an_unsubmitted_roleplay_is_refused(client, auth, session, content, agent, trainer):
    open_one = _practice(session, agent, submit=False)
    auth.login_as(trainer)
    before = db_state(session)
    for action in ("draft", "release", "return"):
        response = client.post(f"/manage/roleplays/{open_one.id}", data={"level-tiempo": "4", "action": action, "revision": "0"})
        assert response.status_code == 404
    assert changed_tables(before, db_state(session)) == []


def test_over_http_releasing_an_ungraded_roleplay_changes_nothing(client, auth, session, content, agent, trainer):
    submission = _practice(session, agent)
    auth.login_as(trainer)
    before = db_state(session)
    response = client.post(f"/manage/roleplays/{submission.id}", data={"action": "release", "revision": "0"})
    assert response.status_code == 422  # refused, and the page comes back with what was typed
    assert changed_tables(before, db_state(session)) == []
    assert roleplays.grade_for(session, submission) is None


def test_certificates_are_not_issued_without_evidence(session, content, agent):
    before = db_state(session)
    assert certs.evaluate_and_issue(session, agent, now=now_utc()) == []
    session.flush()
    assert changed_tables(before, db_state(session)) == []


def test_certificate_moves_out_of_order_are_refused(session, content, agent, admin):
    definition = certs.get_definition(session, "proceso")
    record = certs.issue_manually(session, definition, agent, actor=admin, reason="Prueba", now=now_utc())
    session.commit()
    refused(session, lambda: certs.issue_manually(session, definition, agent, actor=admin, reason="Otra vez", now=now_utc()))
    refused(session, lambda: certs.reinstate(session, record, actor=admin, reason="ya activo", now=now_utc()))
    refused(session, lambda: certs.revoke(session, record, actor=admin, reason="", now=now_utc()), status=400, exc_type=InvalidInput)
    certs.revoke(session, record, actor=admin, reason="Fraude", now=now_utc())
    session.commit()
    refused(session, lambda: certs.revoke(session, record, actor=admin, reason="otra vez", now=now_utc()))
    refused(session, lambda: certs.reinstate(session, record, actor=admin, reason="", now=now_utc()), status=400, exc_type=InvalidInput)


def test_over_http_revoking_a_revoked_record_changes_nothing(client, auth, session, content, agent, admin):
    record = certs.issue_manually(session, certs.get_definition(session, "proceso"), agent, actor=admin, reason="Prueba", now=now_utc())
    certs.revoke(session, record, actor=admin, reason="Fraude", now=now_utc())
    session.commit()
    auth.login_as(admin)
    before = db_state(session)
    for action in ("revoke", "reinstate"):
        data = {"action": action, "reason": ""} if action == "reinstate" else {"action": action, "reason": "otra vez"}
        response = client.post(f"/manage/certifications/records/{record.id}", data=data)
        assert response.status_code == 302
    assert client.post(f"/manage/certifications/records/{record.id}", data={"action": "expire", "reason": "x"}).status_code == 400
    assert changed_tables(before, db_state(session)) == []

