"""Audit tables are append-only, enforced by the database: the application cannot update or delete a row."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from lms.accounts import services as accounts
from lms.accounts.models import LoginAttempt
from lms.certification import services as certs
from lms.certification.models import CertificationEvent
from lms.core import audit
from lms.core.audit import APPEND_ONLY_TABLES, AuditEvent
from lms.quizzes import services as quizzes
from lms.quizzes.models import AttemptEvent
from lms.roleplays import services as roleplays
from lms.roleplays.models import GradeEvent
from lms.tracks import services as tracks

T0 = datetime(2026, 1, 9, 9, 0, tzinfo=timezone.utc)


def _refused(session, statement) -> str:
    with pytest.raises(DBAPIError) as caught:
        session.execute(statement)
        session.flush()
    session.rollback()
    assert "append-only" in str(caught.value), caught.value
    return str(caught.value)


@pytest.fixture
def audit_rows(session, content, agent, admin, trainer):
    """One row in every audit table."""
    accounts.update_user(session, agent, name=agent.name, role="manager", is_active=True, actor=admin)
    accounts.update_user(session, agent, name=agent.name, role="agent", is_active=True, actor=admin)
    session.add(LoginAttempt(at=T0, user_id=agent.id, email=agent.email, address="127.0.0.1", result="success"))
    tracks.enroll(session, actor=admin, agent=agent, track=tracks.find_track(session, "corto"), start_date=date(2026, 1, 5), now=T0)
    attempt = quizzes.start_attempt(session, agent, quizzes.get_quiz(session, "evaluacion-a"), now=T0)
    practice = roleplays.start_practice(session, agent, roleplays.get_scenario(session, "chat-retraso"), now=T0)
    for n, reply in enumerate(("Hola, Ana. Soy Luis. Reviso tu pedido.", "Lo paso a Logística; mañana te escribo.")):
        roleplays.reply(session, practice, agent, thread="ana", text=reply, now=T0 + timedelta(seconds=20 * (n + 1)))
    roleplays.submit(session, practice, agent, escalation=None, now=T0)
    levels = {c["id"]: "3" for c in roleplays.rubric_of(session, practice)["criteria"]}
    roleplays.save_grade(session, practice, actor=trainer, levels=levels, comments={}, overall="", inline=[], action="release",
                         expected_revision=0, now=T0)
    certs.issue_manually(session, certs.get_definition(session, "proceso"), agent, actor=admin, reason="Prueba", now=T0)
    session.commit()
    return {"attempt": attempt}


def test_every_audited_action_leaves_a_row(session, audit_rows, agent, admin):
    changes = audit.events(session, kind="role_changed", subject=f"user:{agent.id}")
    assert [(e.data["before"], e.data["after"], e.actor_id) for e in changes] == [("agent", "manager", admin.id), ("manager", "agent", admin.id)]
    accounts.change_user(session, agent, role="agent")  # no change of role: no row
    accounts.change_user(session, agent, role="trainer")  # the HR feed (API): a row without an acting person
    assert audit.events(session, kind="role_changed", subject=f"user:{agent.id}")[-1].actor_id is None
    assert audit.events(session, kind="content_published")  # the content fixture's sync is a publish
    for model in (LoginAttempt, AttemptEvent, GradeEvent, CertificationEvent, AuditEvent):
        assert session.scalars(select(model)).first() is not None, model


@pytest.mark.parametrize("model", [AuditEvent, LoginAttempt, AttemptEvent, GradeEvent, CertificationEvent])
def test_updates_and_deletes_of_audit_rows_are_refused_by_the_database(session, audit_rows, model):
    row = session.scalars(select(model).order_by(model.id)).first()
    column = {AuditEvent: "kind", LoginAttempt: "result", AttemptEvent: "kind", GradeEvent: "kind", CertificationEvent: "kind"}[model]
    _refused(session, update(model).where(model.id == row.id).values({column: "bad_password" if model is LoginAttempt else "forged"}))
    _refused(session, delete(model).where(model.id == row.id))
    # through the unit of work too: changing a loaded object and flushing
    row = session.scalars(select(model).order_by(model.id)).first()
    setattr(row, "at", T0 - timedelta(days=1))
    with pytest.raises(DBAPIError, match="append-only"):
        session.flush()
    session.rollback()
    row = session.scalars(select(model).order_by(model.id)).first()
    session.delete(row)
    with pytest.raises(DBAPIError, match="append-only"):
        session.flush()
    session.rollback()
    assert session.get(model, row.id) is not None


def test_only_the_databases_own_set_null_of_the_person_may_touch_a_row(session, audit_rows, agent, admin):
    table, column = "login_attempts", APPEND_ONLY_TABLES["login_attempts"]
    row_id = session.scalar(select(LoginAttempt.id).where(LoginAttempt.user_id == agent.id))
    _refused(session, text(f"UPDATE {table} SET {column} = :other WHERE id = :id").bindparams(other=admin.id, id=row_id))
    _refused(session, text(f"UPDATE {table} SET {column} = NULL, email = 'x' WHERE id = :id").bindparams(id=row_id))
    # what ON DELETE SET NULL does when an account is deleted in the database: allowed, nothing else changes
    session.execute(text(f"UPDATE {table} SET {column} = NULL WHERE id = :id").bindparams(id=row_id))
    session.flush()
    assert session.execute(text(f"SELECT {column}, email FROM {table} WHERE id = :id").bindparams(id=row_id)).one() == (None, agent.email)
    session.rollback()
