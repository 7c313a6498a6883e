"""Assignment and Grade Services: scores reach the platform's gradebook (lti1p3platform's token endpoint
verifies our signed client assertion against our JWKS) through the durable outbox."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from lms.accounts import services as accounts
from lms.accounts.models import User
from lms.core import outbox
from lms.core.clock import now_utc
from lms.lti import grades
from lms.lti.models import LtiUserLink
from lms.quizzes import services as quizzes
from lms.quizzes.simulate import answer_attempt
from lms.roleplays import services as roleplays

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"


def _launch(browser, platform, **claims):
    form = browser.auto_form(browser.start(platform, **claims))
    return browser.post_form(form, allow_redirects=False)


def _deliver(lti_app, now):
    with lti_app.app_context():
        from lms.core.db import transaction

        with transaction() as session:
            return outbox.deliver_due(session, {grades.KIND: grades.send_score}, now=now)


def _messages(db_session, user_id):
    db_session.rollback()
    return [m for m in grades.sync_status(db_session, limit=500) if m.payload["user_id"] == user_id]


def _user(db_session, sub):
    db_session.rollback()
    link = db_session.scalar(select(LtiUserLink).where(LtiUserLink.sub == sub))
    return db_session.get(User, link.user_id)


def test_a_graded_quiz_goes_to_a_line_item_created_for_the_link_and_survives_an_outage(platform, browser, db_session, lti_app):
    landed = _launch(browser, platform, user_id="alumno-ags", roles=[LEARNER], name="Ana AGS", resource_link_id="rl-quiz-ags",
                     context_id="curso-ags", ags=True, custom={"target": "quiz:evaluacion-a"})
    assert landed.status_code == 302  # signed in and enrolled in the quiz's track by the launch (auto_enroll)
    agent = _user(db_session, "alumno-ags")
    now = now_utc()
    attempt = quizzes.start_attempt(db_session, agent, quizzes.get_quiz(db_session, "evaluacion-a"), now=now)
    quizzes.submit_attempt(db_session, attempt, agent, answer_attempt(attempt, 1.0), now=now + timedelta(minutes=1))
    db_session.commit()
    [message] = _messages(db_session, agent.id)
    assert message.status == "pending" and message.payload["score_given"] == 100.0

    platform.control("config", refuse_scores=True)  # the gradebook is down: the score waits
    sent, failed = _deliver(lti_app, now_utc() + timedelta(minutes=2))
    assert (sent, failed) == (0, 1)
    [message] = _messages(db_session, agent.id)
    assert message.status == "pending" and "503" in message.last_error and message.attempts == 1

    platform.control("config", refuse_scores=False)
    sent, failed = _deliver(lti_app, now_utc() + timedelta(minutes=10))
    assert (sent, failed) == (1, 0)
    [message] = _messages(db_session, agent.id)
    assert message.status == "sent"
    state = platform.state()
    [item] = [i for i in state["lineitems"] if i.get("resourceLinkId") == "rl-quiz-ags"]
    assert item["tag"] == "quiz:evaluacion-a" and item["scoreMaximum"] == 100 and item["id"].startswith(platform.url + "/lineitems/curso-ags/")
    [score] = [s for s in state["scores"] if s["userId"] == "alumno-ags"]
    assert (score["scoreGiven"], score["scoreMaximum"], score["activityProgress"], score["gradingProgress"]) == (
        100.0, 100, "Completed", "FullyGraded")
    assert score["lineitem"] == item["id"]

    # the same grade is never queued twice
    grades.on_attempt_graded(db_session, attempt, now_utc())
    db_session.commit()
    assert len(_messages(db_session, agent.id)) == 1


def test_a_role_play_reports_submitted_then_its_released_grade(platform, browser, db_session, lti_app):
    platform.control("config", declared_lineitem=f"{platform.url}/lineitems/curso-rp/declarada")
    landed = _launch(browser, platform, user_id="alumno-rp", roles=[LEARNER], name="Rita RP", resource_link_id="rl-rp",
                     context_id="curso-rp", ags=True, lineitem=f"{platform.url}/lineitems/curso-rp/declarada",
                     custom={"target": "roleplay:chat-retraso"})
    assert landed.status_code == 302 and landed.headers["Location"] == "/roleplays/chat-retraso"
    agent = _user(db_session, "alumno-rp")
    trainer = accounts.create_user(db_session, email="formador-rp@example.com", name="Formador", role="trainer")
    now = now_utc()
    practice = roleplays.start_practice(db_session, agent, roleplays.get_scenario(db_session, "chat-retraso"), now=now)
    for text in ("Hola, Ana.", "Gracias, Ana."):
        roleplays.reply(db_session, practice, agent, thread="ana", text=text, now=now)
    roleplays.submit(db_session, practice, agent, escalation=None, now=now)
    db_session.commit()
    assert _deliver(lti_app, now_utc()) == (1, 0), [m.last_error for m in _messages(db_session, agent.id)]

    roleplays.save_grade(db_session, practice, actor=trainer, levels={"tiempo": 3}, comments={}, overall="", inline=[],
                         action="release", expected_revision=0, now=now_utc())
    db_session.commit()
    assert _deliver(lti_app, now_utc()) == (1, 0)
    scores = [s for s in platform.state()["scores"] if s["userId"] == "alumno-rp"]
    assert [(s["activityProgress"], s["gradingProgress"], s.get("scoreGiven")) for s in scores] == [
        ("Submitted", "PendingManual", None), ("Completed", "FullyGraded", 75.0)]
    assert {s["lineitem"] for s in scores} == {f"{platform.url}/lineitems/curso-rp/declarada"}  # the launch's line item


def test_no_score_is_queued_for_users_who_never_launched(db_session, lti_app):
    with lti_app.app_context():
        assert grades.queue_score(db_session, user_id=-1, target="quiz:evaluacion-a", event="x", now=now_utc(), label="x",
                                  score=1.0, activity="Completed", grading="FullyGraded") == 0
