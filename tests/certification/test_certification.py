"""Certification records: issued by rule from real evidence, verifiable, auditable, never duplicated."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from lms.certification import services as certs
from lms.certification.models import CertificationEvent, CertificationRecord
from lms.core.errors import Conflict, InvalidInput
from lms.quizzes import services as quizzes
from lms.roleplays import calibration as cal
from lms.roleplays import services as roleplays
from lms.tracks import services as tracks
from tests.concurrency import run_at_once
from tests.quizzes.helpers import answer_all_correctly

T0 = datetime(2026, 1, 9, 9, 0, tzinfo=timezone.utc)


def qualify(session, trainer, make_user, agent, scenario):
    """Two exemplar calibration sessions graded in agreement: the trainer's grades now count."""
    lead = make_user("trainer")
    for n in range(2):
        submission = roleplays.start_practice(session, agent, scenario, now=T0)
        for text in ("Hola, Ana.", "Gracias, Ana."):
            roleplays.reply(session, submission, agent, thread="ana", text=text, now=T0)
        roleplays.submit(session, submission, agent, escalation=None, now=T0)
        session_ = cal.open_session(session, submission=submission, actor=lead, title=f"Ejemplo {n}", exemplar=True, now=T0)
        level = (3, 1)[n]  # the exemplars span the scale (a good one and a deficient one)
        cal.grade_blind(session, session_, actor=trainer, levels={"tiempo": level}, now=T0)
        cal.close_session(session, session_, actor=lead, levels={"tiempo": level}, now=T0)


def meet_everything_but_the_roleplay(session, agent, manager):
    tracks.enroll(session, actor=manager, agent=agent, track=tracks.find_track(session, "largo"), start_date=date(2026, 1, 5), now=T0)
    for slug in ("a-uno", "a-dos"):
        tracks.complete_lesson(session, agent, tracks.get_lesson(session, slug), now=T0)
    quiz = quizzes.get_quiz(session, "evaluacion-a")
    attempt = quizzes.start_attempt(session, agent, quiz, now=T0)
    quizzes.submit_attempt(session, attempt, agent, answer_all_correctly(attempt), now=T0)


def pass_roleplay(session, agent, trainer, score_level=4):
    scenario = roleplays.get_scenario(session, "chat-retraso")
    submission = roleplays.start_practice(session, agent, scenario, now=T0)
    for text in ("Hola, Ana.", "Gracias, Ana."):
        roleplays.reply(session, submission, agent, thread="ana", text=text, now=T0)
    roleplays.submit(session, submission, agent, escalation=None, now=T0)
    roleplays.save_grade(session, submission, actor=trainer, levels={"tiempo": score_level}, comments={}, overall="", inline=[],
                         action="release", expected_revision=0, now=T0)
    return submission


def active_records(session, agent):
    return [r for r in certs.records_of(session, agent.id) if r.status == "active"]


def test_issued_automatically_when_the_last_requirement_is_met(session, content, agent, manager, trainer, make_user):
    scenario = roleplays.get_scenario(session, "chat-retraso")
    qualify(session, trainer, make_user, make_user("agent"), scenario)
    meet_everything_but_the_roleplay(session, agent, manager)
    assert active_records(session, agent) == []
    progress = certs.progress_for(session, agent, T0)[0]
    assert [r.met for r in progress.results] == [True, True, False, False]
    assert progress.coverage == {"channels": {"chat": False}, "customer_types": {"frustrado": False}}
    pass_roleplay(session, agent, trainer)
    (record,) = active_records(session, agent)
    assert record.definition.slug == "proceso" and record.issued_by_id is None
    assert record.expires_at == T0 + (datetime(2027, 1, 9, tzinfo=timezone.utc) - datetime(2026, 1, 9, tzinfo=timezone.utc))
    kinds = {e["kind"] for e in record.evidence}
    assert kinds == {"lesson", "quiz_attempt", "roleplay"} and len(record.code) >= 20
    events = session.scalars(select(CertificationEvent).where(CertificationEvent.record_id == record.id)).all()
    assert [e.kind for e in events] == ["issued"]
    # more evidence never issues a second active record
    pass_roleplay(session, agent, trainer)
    assert len(active_records(session, agent)) == 1


def test_grades_of_trainers_not_yet_qualified_do_not_count(session, content, agent, manager, trainer):
    meet_everything_but_the_roleplay(session, agent, manager)
    pass_roleplay(session, agent, trainer)
    assert active_records(session, agent) == []
    assert certs.progress_for(session, agent, T0)[0].results[2].met is False


def test_a_failed_critical_criterion_is_no_evidence(session, content, agent, manager, trainer, make_user):
    qualify(session, trainer, make_user, make_user("agent"), roleplays.get_scenario(session, "chat-retraso"))
    meet_everything_but_the_roleplay(session, agent, manager)
    pass_roleplay(session, agent, trainer, score_level=1)  # 'tiempo' is critical with pass level 2
    assert active_records(session, agent) == []


def test_manual_issue_revoke_reinstate_and_expiry_are_audited(session, content, agent, admin):
    definition = certs.get_definition(session, "proceso")
    with pytest.raises(InvalidInput, match="motivo"):
        certs.issue_manually(session, definition, agent, actor=admin, reason=" ", now=T0)
    record = certs.issue_manually(session, definition, agent, actor=admin, reason="Acreditación externa", now=T0)
    with pytest.raises(Conflict):
        certs.issue_manually(session, definition, agent, actor=admin, reason="Otra vez", now=T0)
    with pytest.raises(InvalidInput):
        certs.revoke(session, record, actor=admin, reason="", now=T0)
    certs.revoke(session, record, actor=admin, reason="Copió en la evaluación", now=T0)
    assert record.status == "revoked" and record.revoked_reason == "Copió en la evaluación"
    certs.reinstate(session, record, actor=admin, reason="Revisión: no hubo copia", now=T0)
    assert record.status == "active"
    later = record.expires_at + timedelta(days=1)
    assert certs.effective_status(record, later) == "expired"
    assert certs.expire_due(session, now=later) == 1
    kinds = [e.kind for e in certs.events_of(session, record)]
    assert kinds == ["issued", "revoked", "reinstated", "expired"]
    assert session.scalar(select(func.count()).select_from(CertificationRecord)) == 1  # nothing is ever deleted


def test_public_verification_page_says_only_what_it_should(client, session, content, agent, admin):
    record = certs.issue_manually(session, certs.get_definition(session, "proceso"), agent, actor=admin, reason="Prueba", now=T0)
    session.commit()
    page = client.get(f"/verify/{record.code}").get_data(as_text=True)
    assert "Certificado válido." in page and "Lucía Agente" in page and "Certificación de proceso" in page
    assert agent.email not in page and "Prueba" not in page
    assert client.get("/verify/no-existe").status_code == 404
    certs.revoke(session, record, actor=admin, reason="Error de emisión", now=T0)
    session.commit()
    page = client.get(f"/verify/{record.code}").get_data(as_text=True)
    assert "fue revocado" in page and "Error de emisión" in page


def test_certificate_pdf_for_the_agent_and_their_manager_only(client, auth, session, content, agent, manager, admin, make_user, team):
    record = certs.issue_manually(session, certs.get_definition(session, "proceso"), agent, actor=admin, reason="Prueba", now=T0)
    session.commit()
    auth.login_as(agent)
    response = client.get(f"/certificates/{record.id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf" and response.data.startswith(b"%PDF")
    client.post("/logout")
    auth.login_as(manager)
    assert client.get(f"/certificates/{record.id}.pdf").status_code == 200
    client.post("/logout")
    auth.login_as(make_user("agent", teams=[team]))
    assert client.get(f"/certificates/{record.id}.pdf").status_code == 404


def test_concurrent_issuing_gives_one_record(databases, tmp_path):
    """Ten requests issue the same certification at once: exactly one active record (real threads, real database)."""
    from lms.accounts import services as accounts
    from lms.content import sync
    from lms.core.db import Database, get_db, write_intent
    from tests.conftest import TEST_CONTENT, make_test_app

    url = databases.create("certconcurrency")
    app = make_test_app(url, tmp_path)
    db = Database(url)
    with app.app_context():
        with db.sessionmaker() as session:
            sync(session, TEST_CONTENT)
            admin = accounts.create_user(session, email="a@example.com", name="A", role="admin")
            agent = accounts.create_user(session, email="b@example.com", name="B", role="agent")
            session.commit()
            admin_id, agent_id = admin.id, agent.id
        def issue(_i):
            with app.app_context():
                token = write_intent.set(True)
                try:
                    with db.sessionmaker() as session:
                        try:
                            certs.issue_manually(session, certs.get_definition(session, "proceso"), accounts.get_user(session, agent_id),
                                                 actor=accounts.get_user(session, admin_id), reason="Simultánea", now=T0)
                            session.commit()
                            return "ok"
                        except Conflict:
                            session.rollback()
                            return "conflict"
                        except Exception:
                            session.rollback()
                            raise
                finally:
                    write_intent.reset(token)

        outcomes = run_at_once(issue, 10)
        with db.sessionmaker() as session:
            active = session.scalar(select(func.count()).select_from(CertificationRecord).where(CertificationRecord.status == "active"))
        assert active == 1 and outcomes.count("ok") == 1 and outcomes.count("conflict") == 9, outcomes
    db.engine.dispose()
    get_db(app).engine.dispose()


def test_only_the_evidence_a_requirement_reads_can_change_it():
    reqs = [{"type": "lessons_completed", "modules": ["semana-a"]}, {"type": "quiz_passed", "quiz": "evaluacion-a"}]
    assert certs.could_change(reqs, ("quiz", "evaluacion-a")) and certs.could_change(reqs, ("lesson", None))
    assert not certs.could_change(reqs, ("quiz", "repaso")) and not certs.could_change(reqs, ("roleplay", None))
    assert certs.could_change([{"type": "coverage", "channels": ["chat"]}], ("roleplay", None))
    assert certs.could_change(reqs, None)  # "anything": the catch-up command


def test_evidence_evaluates_only_what_it_can_change_and_the_command_catches_up(session, content, agent, manager, trainer, make_user):
    """A certification whose requirements an agent met before it existed (or before a requirement was edited) is
    issued by the next evidence it reads, or by ``certification evaluate``; evidence it does not read leaves it."""
    from lms.certification.models import CertificationDefinition

    scenario = roleplays.get_scenario(session, "chat-retraso")
    qualify(session, trainer, make_user, make_user("agent"), scenario)
    definition = session.scalar(select(CertificationDefinition).where(CertificationDefinition.slug == "proceso"))
    tracks.enroll(session, actor=manager, agent=agent, track=tracks.find_track(session, "largo"), start_date=date(2026, 1, 5), now=T0)
    definition.requirements = [{"type": "quiz_passed", "quiz": "repaso"}]  # nothing the lessons change
    session.flush()
    for slug in ("a-uno", "a-dos"):
        tracks.complete_lesson(session, agent, tracks.get_lesson(session, slug), now=T0)
    definition.requirements = [{"type": "lessons_completed", "modules": ["semana-a"]}]  # now met, by earlier evidence
    session.flush()
    quiz = quizzes.get_quiz(session, "evaluacion-a")
    attempt = quizzes.start_attempt(session, agent, quiz, now=T0)
    quizzes.submit_attempt(session, attempt, agent, answer_all_correctly(attempt), now=T0)
    assert active_records(session, agent) == []  # a quiz attempt cannot change a lessons requirement
    assert certs.evaluate_and_issue(session, agent, now=T0, evidence=("roleplay", None)) == []
    (record,) = certs.evaluate_and_issue(session, agent, now=T0)  # the catch-up evaluates everything
    assert record.definition.slug == "proceso" and [e["kind"] for e in record.evidence] == ["lesson", "lesson"]


def test_an_attempt_below_the_pass_mark_brings_no_evidence():
    """Graded below the quiz's pass mark (as it is now, not as the attempt recorded it when it started), an attempt can
    make no "quiz_passed" requirement met: highest, last and average grades, and a path's best attempt, stay below it."""
    from types import SimpleNamespace

    quiz = SimpleNamespace(slug="evaluacion-a", settings={"pass_mark": 70})
    assert certs.attempt_evidence(SimpleNamespace(quiz=quiz, percent=69.99, passed=False)) is None
    assert certs.attempt_evidence(SimpleNamespace(quiz=quiz, percent=70.0, passed=True)) == ("quiz", "evaluacion-a")
    # the pass mark lowered since the attempt started: it passes the quiz as it is now
    assert certs.attempt_evidence(SimpleNamespace(quiz=quiz, percent=75.0, passed=False)) == ("quiz", "evaluacion-a")
    assert certs.attempt_evidence(SimpleNamespace(quiz=quiz, percent=None, passed=None)) == ("quiz", "evaluacion-a")


def test_a_failed_attempt_reads_nothing_of_certification_and_the_next_pass_issues(app, session, content, agent, manager):
    from lms.certification.models import CertificationDefinition
    from tests.test_query_counts import counting

    definition = session.scalar(select(CertificationDefinition).where(CertificationDefinition.slug == "proceso"))
    definition.requirements = [{"type": "quiz_passed", "quiz": "evaluacion-a"}]
    tracks.enroll(session, actor=manager, agent=agent, track=tracks.find_track(session, "largo"), start_date=date(2026, 1, 5), now=T0)
    quiz = quizzes.get_quiz(session, "evaluacion-a")
    quiz.settings = dict(quiz.settings, attempts_allowed=None, delay_between_attempts_minutes=None)
    session.flush()
    failed = quizzes.start_attempt(session, agent, quiz, now=T0)
    with counting(app) as statements:
        quizzes.submit_attempt(session, failed, agent, {}, now=T0 + timedelta(minutes=5))  # nothing answered: 0 %
    assert failed.state == "graded" and failed.percent == 0 and not failed.passed
    assert not any("certification" in s or "recertification" in s for s in statements), statements
    assert active_records(session, agent) == []
    passed = quizzes.start_attempt(session, agent, quiz, now=T0 + timedelta(hours=1))
    with counting(app) as statements:
        quizzes.submit_attempt(session, passed, agent, answer_all_correctly(passed), now=T0 + timedelta(hours=1, minutes=5))
    assert passed.passed and any("certification_definitions" in s for s in statements)
    (record,) = active_records(session, agent)
    assert record.definition.slug == "proceso"
    assert [(e["kind"], e["ref"]) for e in record.evidence] == [("quiz_attempt", failed.id), ("quiz_attempt", passed.id)]
