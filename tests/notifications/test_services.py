"""Each event: exactly one in-site notification and (if wanted) one e-mail, never twice; preferences honoured."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from flask_babel import force_locale

from lms.accounts import services as accounts
from lms.certification import services as certs
from lms.notifications import services
from lms.tracks import services as tracks
from tests.notifications.conftest import T0, emails_to, grade, notifications_of, submitted_practice


# Preferences ----------------------------------------------------------------------------------

def test_wants_email_by_default_until_turned_off_and_never_for_inactive_users(session, agent, admin):
    assert accounts.wants_email(session, agent.id, "roleplay_graded") is True
    accounts.set_email_preferences(session, agent, {"certificate_issued"}, now=T0)
    assert accounts.wants_email(session, agent.id, "roleplay_graded") is False
    assert accounts.wants_email(session, agent.id, "certificate_issued") is True
    assert accounts.email_preferences(session, agent.id)["week_overdue"] is False
    accounts.set_email_preferences(session, agent, {"roleplay_graded", "certificate_issued"}, now=T0)
    assert accounts.wants_email(session, agent.id, "roleplay_graded") is True
    accounts.update_user(session, agent, name=agent.name, role="agent", is_active=False, actor=admin)
    assert accounts.wants_email(session, agent.id, "certificate_issued") is False
    assert accounts.wants_email(session, 999999, "certificate_issued") is False


# Role-plays -----------------------------------------------------------------------------------

def test_a_released_grade_notifies_the_agent_once_with_one_email(session, content, agent, trainer):
    submission = submitted_practice(session, agent)
    grade(session, submission, trainer, "draft")
    assert notifications_of(session, agent) == []  # drafts are not news
    grade(session, submission, trainer, "release")
    [notification] = notifications_of(session, agent)
    assert notification.kind == "roleplay_graded" and notification.link == f"/practice/{submission.id}/result"
    assert notification.params["passed"] is True and notification.params["score"] == "75"
    [email] = emails_to(session, agent)
    assert "Role-play calificado" in email.payload["subject"] and "75 sobre 100, aprobada" in email.payload["body"]
    grade(session, submission, trainer, "draft", level=4, reason="Revisado")  # a released grade edited: released again
    assert len(notifications_of(session, agent)) == 1 and len(emails_to(session, agent)) == 1


def test_a_returned_practice_notifies_once_and_the_preference_stops_only_the_email(session, content, agent, trainer):
    accounts.set_email_preferences(session, agent, set(), now=T0)  # nothing by e-mail
    submission = submitted_practice(session, agent)
    grade(session, submission, trainer, "return")
    grade(session, submission, trainer, "return")
    grade(session, submission, trainer, "draft", level=2)
    [notification] = notifications_of(session, agent)
    assert notification.kind == "roleplay_returned"
    title, body = services.render(notification.kind, notification.params)
    assert "devuelto" in title and "n.º 1" in body
    assert emails_to(session, agent) == []


# Certification --------------------------------------------------------------------------------

def test_an_issued_certificate_notifies_the_agent_once(session, content, agent, admin):
    record = certs.issue_manually(session, certs.get_definition(session, "proceso"), agent, actor=admin, reason="Prueba", now=T0)
    [notification] = notifications_of(session, agent)
    assert notification.kind == "certificate_issued" and notification.params["title"] == "Certificación de proceso"
    [email] = emails_to(session, agent)
    assert email.dedupe_key == f"notification:certificate-issued:{record.id}"
    assert services.on_record_issued(session, record, T0) is None  # the same event again: nothing new
    assert len(notifications_of(session, agent)) == 1 and len(emails_to(session, agent)) == 1


def test_expiry_reminders_notify_in_site_and_email_only_those_who_want_it(session, content, agent, manager, admin):
    record = certs.issue_manually(session, certs.get_definition(session, "proceso"), agent, actor=admin, reason="Prueba", now=T0)
    record.expires_at = T0 + timedelta(days=20)
    accounts.set_email_preferences(session, agent, {"certificate_issued"}, now=T0)  # no expiry e-mails for the agent
    session.flush()
    assert certs.queue_expiry_reminders(session, now=T0, base_url="https://academia.example") == 1  # the manager's only
    assert certs.queue_expiry_reminders(session, now=T0, base_url="https://academia.example") == 0
    [mine] = notifications_of(session, agent, "certificate_expiring")
    [theirs] = notifications_of(session, manager, "certificate_expiring")
    assert mine.params["own"] is True and mine.link == "/certifications"
    assert theirs.params["own"] is False and theirs.params["agent"] == agent.name and theirs.link == f"/manage/certifications/records/{record.id}"
    assert "de Lucía Agente caduca el" in services.render(theirs.kind, theirs.params)[0]
    assert emails_to(session, agent, "cert-expiry:") == []
    [email] = emails_to(session, manager, "cert-expiry:")
    assert "/account/notifications" in email.payload["body"]


def test_an_opened_recertification_notifies_in_site_and_emails_as_preferred(session, content, agent, make_user, admin):
    other = make_user("agent")
    for person in (agent, other):
        record = certs.issue_manually(session, certs.get_definition(session, "proceso"), person, actor=admin, reason="Prueba", now=T0)
        record.expires_at = T0 + timedelta(days=30)
    accounts.set_email_preferences(session, other, {"certificate_issued"}, now=T0)
    session.flush()
    assert certs.open_due_paths(session, now=T0, base_url="https://academia.example") == 2
    assert certs.open_due_paths(session, now=T0, base_url="https://academia.example") == 0
    for person in (agent, other):
        [notification] = notifications_of(session, person, "recertification_open")
        assert notification.params["due"] == (T0 + timedelta(days=30)).isoformat()  # a moment: its day is written in the reader's zone
    assert len(emails_to(session, agent, "recert-open:")) == 1
    assert emails_to(session, other, "recert-open:") == []


# The daily job ----------------------------------------------------------------------------------

def test_lessons_due_tomorrow_and_overdue_modules_once_each(session, content, agent, manager):
    track = tracks.find_track(session, "corto")
    tracks.enroll(session, actor=manager, agent=agent, track=track, start_date=date(2026, 1, 5), now=T0)
    tracks.complete_lesson(session, agent, tracks.get_lesson(session, "a-uno"), now=T0)
    # 6 January: a-dos (day 2 of semana-a) is due on the 7th
    now = datetime(2026, 1, 6, 6, 0, tzinfo=timezone.utc)
    assert services.queue_due_reminders(session, today=now.date(), now=now) == 1
    assert services.queue_due_reminders(session, today=now.date(), now=now) == 0
    [due] = notifications_of(session, agent, "lesson_due_tomorrow")
    assert due.params == {"lesson": "Resolución por niveles", "track": "Itinerario corto", "date": "2026-01-07"}
    assert due.link == "/lessons/a-dos"
    assert len(emails_to(session, agent, "notification:lesson-due:")) == 1
    # 10 January: semana-a (due the 9th) has steps left; a lesson already done is never announced
    later = datetime(2026, 1, 10, 6, 0, tzinfo=timezone.utc)
    assert services.queue_due_reminders(session, today=later.date(), now=later) == 1
    assert services.queue_due_reminders(session, today=later.date(), now=later) == 0
    [overdue] = notifications_of(session, agent, "week_overdue")
    assert overdue.params["module"] == "Semana A" and overdue.params["pending"] >= 1 and overdue.link == "/tracks/corto"
    assert len(emails_to(session, agent, "notification:week-overdue:")) == 1
    # long past: a module overdue for more than a week is old news
    much_later = datetime(2026, 2, 10, 6, 0, tzinfo=timezone.utc)
    assert services.queue_due_reminders(session, today=much_later.date(), now=much_later) == 0



def test_tomorrow_is_the_agents_own_tomorrow(session, content, agent, manager):
    """At 03:00 UTC on 6 January it is still the 5th in Bogotá: a lesson due on the 7th is not 'due tomorrow' there yet."""
    agent.time_zone = "America/Bogota"
    track = tracks.find_track(session, "corto")
    tracks.enroll(session, actor=manager, agent=agent, track=track, start_date=date(2026, 1, 5), now=T0)
    tracks.complete_lesson(session, agent, tracks.get_lesson(session, "a-uno"), now=T0)
    night = datetime(2026, 1, 6, 3, 0, tzinfo=timezone.utc)
    services.queue_due_reminders(session, today=night.date(), now=night)
    assert [n for n in notifications_of(session, agent, "lesson_due_tomorrow") if n.params["date"] == "2026-01-07"] == []
    morning = datetime(2026, 1, 6, 14, 0, tzinfo=timezone.utc)  # 09:00 in Bogotá on the 6th
    services.queue_due_reminders(session, today=morning.date(), now=morning)
    assert [n.params["date"] for n in notifications_of(session, agent, "lesson_due_tomorrow")].count("2026-01-07") == 1

def test_emails_speak_the_recipient_language_and_link_back(app, session, content, agent, trainer, make_user):
    english = make_user("agent", name="Emma")
    english.locale = "en"
    session.flush()
    for person in (agent, english):
        grade(session, submitted_practice(session, person), trainer, "release")
    [spanish_email] = emails_to(session, agent)
    [english_email] = emails_to(session, english)
    base = app.config["PUBLIC_URL"].rstrip("/")
    assert spanish_email.payload["body"].startswith(f"Hola, {agent.name}:")
    assert f"{base}/practice/" in spanish_email.payload["body"] and f"{base}/account/notifications" in spanish_email.payload["body"]
    with force_locale("en"):
        expected_subject = services.render("roleplay_graded", {"scenario": "Un pedido retrasado"})[0]
    assert english_email.payload["subject"] == expected_subject
    assert english_email.payload["subject"].startswith("Role-play graded")  # needs the English catalogue (lead merges /tmp/i18n)
