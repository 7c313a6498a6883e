"""Auto-enrollment: a learner launched from a course into an activity of a track they are not enrolled in is
enrolled in that track (from today) and joins the course's team, unless the platform's setting is off."""
from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

from sqlalchemy import select

from lms.accounts import services as accounts
from lms.accounts.models import Team, TeamMembership, User
from lms.core.clock import now_utc, today
from lms.lti.models import LtiPlatform
from lms.tracks import services as tracks
from lms.tracks.models import Enrollment
from tests.lti.conftest import error_text

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"


def _claims(target: str, **extra) -> dict:
    sub = "auto-" + uuid.uuid4().hex[:8]
    return dict(user_id=sub, roles=[LEARNER], name="Alumna " + sub, email=f"{sub}@colegio.example.com",
                resource_link_id="rl-" + sub, context_id="curso-" + sub, context_title="Curso " + sub,
                custom={"target": target}, **extra)


def _launch(browser, platform, claims):
    response = browser.start(platform, **claims)
    return browser.post_form(browser.auto_form(response), allow_redirects=False)


def _user(db_session, claims) -> User:
    db_session.rollback()  # a fresh snapshot: the site wrote in its own transactions
    return db_session.scalar(select(User).where(User.email == claims["email"]))


def _enrollments(db_session, user) -> list[Enrollment]:
    db_session.rollback()
    return list(db_session.scalars(select(Enrollment).where(Enrollment.user_id == user.id)))


def test_learner_is_enrolled_in_the_lessons_track_and_lands_on_the_lesson(platform, browser, db_session, tool_url):
    claims = _claims("lesson:a-uno")
    landed = _launch(browser, platform, claims)
    assert landed.status_code == 302, error_text(landed)
    assert landed.headers["Location"] == "/lessons/a-uno"
    page = browser.http.get(tool_url + "/lessons/a-uno", timeout=10)
    assert page.status_code == 200 and "Tiempos de respuesta" in page.text
    assert "Te hemos inscrito en el itinerario «Itinerario corto»" in page.text  # recorded for the learner

    user = _user(db_session, claims)
    [enrollment] = _enrollments(db_session, user)
    track = tracks.get_track(db_session, "corto")  # semana-a opens both tracks: the first by position, then title
    assert (enrollment.track_id, enrollment.start_date, enrollment.enrolled_by_id) == (track.id, today(), None)
    team = db_session.scalar(select(Team).where(Team.name == f"{claims['context_title']} (LTI)"))
    assert team is not None
    assert db_session.scalar(select(TeamMembership).where(TeamMembership.team_id == team.id,
                                                          TeamMembership.user_id == user.id)) is not None

    second = _launch(browser, platform, dict(claims, custom={}))  # the next launch changes nothing
    assert second.status_code == 302 and second.headers["Location"] == "/lessons/a-uno"
    assert len(_enrollments(db_session, user)) == 1
    assert "Te hemos inscrito" not in browser.http.get(tool_url + "/lessons/a-uno", timeout=10).text


def test_quiz_and_track_targets_enroll_in_their_track_role_plays_and_staff_do_not(platform, browser, db_session):
    quiz = _claims("quiz:evaluacion-a")
    landed = _launch(browser, platform, quiz)
    assert landed.status_code == 302 and landed.headers["Location"] == "/quizzes/evaluacion-a", error_text(landed)
    assert [e.track_id for e in _enrollments(db_session, _user(db_session, quiz))] == [tracks.get_track(db_session, "corto").id]

    track = _claims("track:largo")
    landed = _launch(browser, platform, track)
    assert landed.status_code == 302 and landed.headers["Location"] == "/tracks/largo"
    assert [e.track_id for e in _enrollments(db_session, _user(db_session, track))] == [tracks.get_track(db_session, "largo").id]

    roleplay = _claims("roleplay:chat-retraso")
    assert _launch(browser, platform, roleplay).status_code == 302
    assert _enrollments(db_session, _user(db_session, roleplay)) == []

    teacher = dict(_claims("lesson:a-uno"), roles=[INSTRUCTOR])
    assert _launch(browser, platform, teacher).status_code == 302
    assert _enrollments(db_session, _user(db_session, teacher)) == []


def test_an_enrolled_learner_keeps_their_enrollment(platform, browser, db_session):
    claims = _claims("track:corto")
    user = accounts.create_user(db_session, email=claims["email"], name="Ya inscrita", role="agent")
    started = date.today() - timedelta(days=9)
    tracks.enroll_for_organisation(db_session, agent=user, track=tracks.get_track(db_session, "corto"),
                                   start_date=started, now=now_utc())
    db_session.commit()
    landed = _launch(browser, platform, claims)
    assert landed.status_code == 302 and landed.headers["Location"] == "/tracks/corto"
    [enrollment] = _enrollments(db_session, _user(db_session, claims))
    assert enrollment.start_date == started  # unchanged
    assert db_session.scalar(select(Team).where(Team.name == f"{claims['context_title']} (LTI)")) is None


def test_with_the_setting_off_the_learner_is_asked_to_see_their_manager(platform, browser, db_session):
    row = db_session.get(LtiPlatform, platform.registration.id)
    row.auto_enroll = False
    db_session.commit()
    claims = _claims("lesson:a-uno")
    landed = _launch(browser, platform, claims)
    assert landed.status_code == 200 and "Todavía no estás inscrito" in error_text(landed)
    assert _enrollments(db_session, _user(db_session, claims)) == []


def _checkbox(page: str) -> str:
    return re.search(r'<input[^>]*name="auto_enroll"[^>]*>', page).group(0)


def test_the_setting_is_on_the_platform_form(client, auth, admin, session):
    auth.login_as(admin)
    assert "checked" in _checkbox(client.get("/manage/lti").get_data(as_text=True))  # on by default
    form = dict(name="Moodle", issuer="https://moodle.form.example.com", client_id="f1", deployment_ids="1",
                auth_login_url="https://moodle.form.example.com/auth", auth_token_url="https://moodle.form.example.com/token",
                key_set_url="https://moodle.form.example.com/jwks")
    assert client.post("/manage/lti", data=form).status_code == 302  # the box left unticked
    row = session.scalar(select(LtiPlatform).where(LtiPlatform.client_id == "f1"))
    assert row.auto_enroll is False
    assert client.post(f"/manage/lti?edit={row.id}", data=dict(form, auto_enroll="y")).status_code == 302
    session.expire_all()
    assert session.get(LtiPlatform, row.id).auto_enroll is True
    assert "checked" in _checkbox(client.get(f"/manage/lti?edit={row.id}").get_data(as_text=True))
