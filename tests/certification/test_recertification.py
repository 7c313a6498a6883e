"""Expiry and renewal: certificates are not re-issued on old evidence; a recertification path opens
before expiry, counts only fresh evidence and renews the record without losing time."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from dateutil.relativedelta import relativedelta
from sqlalchemy import select

from lms.certification import services as certs
from lms.certification.models import RecertificationPath
from lms.core import outbox
from lms.quizzes import services as quizzes
from lms.roleplays import services as roleplays
from tests.concurrency import run_at_once
from tests.certification.test_certification import T0, active_records, meet_everything_but_the_roleplay, qualify
from tests.quizzes.helpers import answer_all_correctly


def pass_roleplay_at(session, agent, trainer, when):
    submission = roleplays.start_practice(session, agent, roleplays.get_scenario(session, "chat-retraso"), now=when)
    for text in ("Hola, Ana.", "Gracias, Ana."):
        roleplays.reply(session, submission, agent, thread="ana", text=text, now=when)
    roleplays.submit(session, submission, agent, escalation=None, now=when)
    roleplays.save_grade(session, submission, actor=trainer, levels={"tiempo": 4}, comments={}, overall="", inline=[],
                         action="release", expected_revision=0, now=when)


def pass_refresher_at(session, agent, when):
    quiz = quizzes.get_quiz(session, "repaso")
    attempt = quizzes.start_attempt(session, agent, quiz, now=when)
    quizzes.submit_attempt(session, attempt, agent, answer_all_correctly(attempt), now=when)


def issued_record(session, agent, admin):
    return certs.issue_manually(session, certs.get_definition(session, "proceso"), agent, actor=admin, reason="Acreditación externa", now=T0)


def test_old_evidence_never_certifies_twice(session, content, agent, manager, trainer, make_user):
    qualify(session, trainer, make_user, make_user("agent"), roleplays.get_scenario(session, "chat-retraso"))
    meet_everything_but_the_roleplay(session, agent, manager)
    pass_roleplay_at(session, agent, trainer, T0)
    (record,) = active_records(session, agent)
    later = record.expires_at + timedelta(days=1)
    assert certs.expire_due(session, now=later) == 1
    # the agent still meets the requirements, but with the evidence that was already certified
    assert certs.evaluate_and_issue(session, agent, now=later) == []
    # a certification with a recertification path is renewed only through it, even on new evidence
    pass_roleplay_at(session, agent, trainer, later)
    assert active_records(session, agent) == []
    # without one, new evidence certifies again
    definition = certs.get_definition(session, "proceso")
    definition.recertification = None
    session.flush()
    (renewed,) = certs.evaluate_and_issue(session, agent, now=later)
    assert renewed.id != record.id and renewed.evidence_hash != record.evidence_hash


def test_path_opens_in_its_window_once_and_tells_the_agent(session, content, agent, admin):
    record = issued_record(session, agent, admin)
    window_opens = record.expires_at - timedelta(days=60)
    assert certs.open_due_paths(session, now=window_opens - timedelta(days=1)) == 0
    assert certs.open_due_paths(session, now=window_opens, base_url="https://academia.example") == 1
    assert certs.open_due_paths(session, now=window_opens + timedelta(days=1)) == 0  # one path per record
    (path,) = certs.open_paths_of(session, agent.id)
    assert path.due_at == record.expires_at and path.opened_at == window_opens and path.status == "open"
    assert [r["type"] for r in path.requirements] == ["quiz_passed", "roleplay_grade"]
    (mail,) = session.scalars(select(outbox.OutboxMessage).where(outbox.OutboxMessage.dedupe_key == f"recert-open:{path.id}")).all()
    assert mail.payload["to"] == agent.email and "Renueva tu certificación «Certificación de proceso»" in mail.payload["subject"]
    assert "https://academia.example/certifications" in mail.payload["body"]
    assert "Aprobar la evaluación «Repaso de recertificación»" in mail.payload["body"]
    assert [e.kind for e in certs.events_of(session, record)] == ["issued", "recertification_opened"]


def test_the_refresher_quiz_is_open_only_while_the_path_is(session, content, agent, admin):
    quiz = quizzes.get_quiz(session, "repaso")
    assert quizzes.ACCESS_POLICY["may_take"](session, agent, quiz) is False  # not in any of the agent's tracks
    record = issued_record(session, agent, admin)
    certs.open_due_paths(session, now=record.expires_at - timedelta(days=30))
    assert quizzes.ACCESS_POLICY["may_take"](session, agent, quiz) is True
    certs.revoke(session, record, actor=admin, reason="Error de emisión", now=T0 + timedelta(days=340))
    assert certs.open_paths_of(session, agent.id) == []  # revoking closes the path
    assert quizzes.ACCESS_POLICY["may_take"](session, agent, quiz) is False
    assert [e.kind for e in certs.events_of(session, record)][-2:] == ["revoked", "recertification_closed"]


def test_renewing_early_counts_only_fresh_evidence_and_loses_no_time(session, content, agent, admin, trainer, make_user):
    qualify(session, trainer, make_user, make_user("agent"), roleplays.get_scenario(session, "chat-retraso"))
    record = issued_record(session, agent, admin)
    opened = record.expires_at - timedelta(days=50)
    pass_roleplay_at(session, agent, trainer, opened - timedelta(days=1))  # before the path: does not count
    certs.open_due_paths(session, now=opened)
    pass_refresher_at(session, agent, opened + timedelta(days=1))
    (progress,) = certs.path_progress(session, agent, certs.open_paths_of(session, agent.id))
    assert [r.met for r in progress.results] == [True, False]
    assert active_records(session, agent) == [record]
    pass_roleplay_at(session, agent, trainer, opened + timedelta(days=2))  # the released grade renews it (signal)
    (renewed,) = active_records(session, agent)
    assert renewed.id != record.id and record.status == "superseded"
    assert renewed.issued_at == opened + timedelta(days=2)
    assert renewed.expires_at == record.expires_at + relativedelta(months=12)
    assert {e["kind"] for e in renewed.evidence} == {"quiz_attempt", "roleplay"}
    path = session.scalar(select(RecertificationPath).where(RecertificationPath.record_id == record.id))
    assert path.status == "completed" and path.renewed_record_id == renewed.id
    assert [e.kind for e in certs.events_of(session, record)] == ["issued", "recertification_opened", "superseded", "recertification_completed"]
    assert [(e.kind, e.reason) for e in certs.events_of(session, renewed)] == [("issued", "Recertificación")]
    # the renewed record gets its own path in its own window, not before
    assert certs.open_due_paths(session, now=opened + timedelta(days=3)) == 0


def test_renewing_after_expiry_runs_from_the_renewal_day(session, content, agent, admin, trainer, make_user):
    qualify(session, trainer, make_user, make_user("agent"), roleplays.get_scenario(session, "chat-retraso"))
    record = issued_record(session, agent, admin)
    late = record.expires_at + timedelta(days=10)
    certs.expire_due(session, now=late)
    assert certs.open_due_paths(session, now=late) == 1  # an expired certificate can still be renewed
    pass_refresher_at(session, agent, late + timedelta(hours=1))
    pass_roleplay_at(session, agent, trainer, late + timedelta(hours=2))
    (renewed,) = active_records(session, agent)
    assert record.status == "expired"
    assert renewed.expires_at == late + timedelta(hours=2) + relativedelta(months=12)


def test_agent_and_manager_see_the_path(client, auth, session, content, agent, manager, admin):
    from lms.core.clock import now_utc

    record = certs.issue_manually(session, certs.get_definition(session, "proceso"), agent, actor=admin, reason="Prueba", now=now_utc())
    record.expires_at = now_utc() + timedelta(days=20)
    certs.open_due_paths(session, now=now_utc())
    session.commit()
    auth.login_as(agent)
    home = client.get("/").get_data(as_text=True)
    assert "tienes una recertificación abierta" in home and "caduca el" not in home
    page = client.get("/certifications").get_data(as_text=True)
    assert "Recertificación: Certificación de proceso" in page and "/quizzes/repaso" in page
    assert client.get("/quizzes/repaso").status_code == 200
    client.post("/logout")
    auth.login_as(manager)
    assert "Recertificación abierta" in client.get("/manage/certifications/").get_data(as_text=True)
    assert "Recertificación: Certificación de proceso" in client.get(f"/manage/certifications/agents/{agent.id}").get_data(as_text=True)


def test_concurrent_renewals_give_one_record(databases, tmp_path):
    """Ten requests see the same completed path at once: one renewal, one active record (real threads, real database)."""
    
    from sqlalchemy import func

    from lms.accounts import services as accounts
    from lms.certification.models import CertificationRecord
    from lms.content import sync
    from lms.core.db import Database, get_db, write_intent
    from lms.roleplays import calibration as cal
    from tests.conftest import TEST_CONTENT, make_test_app

    url = databases.create("recertconcurrency")
    app = make_test_app(url, tmp_path)
    db = Database(url)
    with app.app_context():
        with db.sessionmaker() as session:
            sync(session, TEST_CONTENT)
            users = {role: accounts.create_user(session, email=f"{role}@example.com", name=role.title(), role=kind)
                     for role, kind in (("admin", "admin"), ("agent", "agent"), ("trainer", "trainer"), ("lead", "trainer"), ("anchor", "agent"))}
            record = issued_record(session, users["agent"], users["admin"])
            assert certs.open_due_paths(session, now=record.expires_at - timedelta(days=30)) == 1
            fresh = record.expires_at - timedelta(days=20)
            pass_refresher_at(session, users["agent"], fresh)
            pass_roleplay_at(session, users["agent"], users["trainer"], fresh)  # the trainer's grades do not count yet
            scenario = roleplays.get_scenario(session, "chat-retraso")
            for n in range(2):  # now the trainer qualifies on two exemplars: the path is complete, nobody has renewed it
                practice = roleplays.start_practice(session, users["anchor"], scenario, now=T0)
                for text in ("Hola, Ana.", "Gracias, Ana."):
                    roleplays.reply(session, practice, users["anchor"], thread="ana", text=text, now=T0)
                roleplays.submit(session, practice, users["anchor"], escalation=None, now=T0)
                exemplar = cal.open_session(session, submission=practice, actor=users["lead"], title=f"E{n}", exemplar=True, now=T0)
                level = (3, 1)[n]  # the exemplars span the scale (a good one and a deficient one)
                cal.grade_blind(session, exemplar, actor=users["trainer"], levels={"tiempo": level}, now=T0)
                cal.close_session(session, exemplar, actor=users["lead"], levels={"tiempo": level}, now=T0)
            assert certs.open_paths_of(session, users["agent"].id)
            session.commit()
            agent_id = users["agent"].id
        def renew(_i):
            with app.app_context():
                token = write_intent.set(True)
                try:
                    with db.sessionmaker() as session:
                        try:  # a lost race must not surface as an error
                            issued = certs.evaluate_and_issue(session, accounts.get_user(session, agent_id), now=fresh + timedelta(days=1))
                            session.commit()
                            return f"issued {len(issued)}"
                        except Exception:
                            session.rollback()
                            raise
                finally:
                    write_intent.reset(token)

        outcomes = run_at_once(renew, 10)
        with db.sessionmaker() as session:
            statuses = session.scalars(select(CertificationRecord.status).order_by(CertificationRecord.id)).all()
            paths = session.scalar(select(func.count()).select_from(RecertificationPath).where(RecertificationPath.status == "completed"))
        assert statuses == ["superseded", "active"] and paths == 1, (statuses, outcomes)
        assert outcomes.count("issued 1") == 1 and outcomes.count("issued 0") == 9, outcomes
    db.engine.dispose()
    get_db(app).engine.dispose()
