"""Names and Role Provisioning: the platform's course roster imported as a team."""
from __future__ import annotations

from sqlalchemy import select

from lms.accounts import services as accounts
from lms.accounts.models import User
from lms.core.clock import now_utc
from lms.lti import roster
from lms.lti.models import LtiContext

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"


def test_the_course_roster_becomes_a_team(platform, browser, db_session, lti_app):
    platform.control("members", context_id="curso-nrps", members=[
        {"user_id": "prof-nrps", "name": "Profe Roster", "email": "profe.roster@colegio.example.com", "roles": [INSTRUCTOR],
         "status": "Active"},
        {"user_id": "al-1", "name": "Alumno Uno", "email": "al1.roster@colegio.example.com", "roles": [LEARNER], "status": "Active"},
        {"user_id": "al-2", "name": "Alumno Dos", "roles": ["Learner"], "status": "Active"},
        {"user_id": "al-3", "name": "Alumno Baja", "email": "baja@colegio.example.com", "roles": [LEARNER], "status": "Inactive"},
    ])
    form = browser.auto_form(browser.start(platform, user_id="prof-nrps", roles=[INSTRUCTOR], name="Profe Roster",
                                           email="profe.roster@colegio.example.com", resource_link_id="rl-nrps",
                                           context_id="curso-nrps", context_title="Curso de atención", nrps=True))
    assert browser.post_form(form, allow_redirects=False).status_code == 302
    db_session.rollback()
    context = db_session.scalar(select(LtiContext).where(LtiContext.context_id == "curso-nrps"))
    assert context.memberships_url == f"{platform.url}/memberships/curso-nrps"
    assert context in roster.contexts(db_session)

    with lti_app.app_context():
        result = roster.import_roster(db_session, context.id, now=now_utc())
        db_session.commit()
    assert result.team_name == "Curso de atención (LTI)"
    assert (sorted(result.created), result.added, result.skipped) == (["Alumno Dos", "Alumno Uno"], ["Profe Roster"], ["Alumno Baja"])
    team = accounts.get_team(db_session, context.team_id)
    members = {u.name: u.role for u in accounts.team_members(db_session, team, "agent")}
    assert members == {"Alumno Uno": "agent", "Alumno Dos": "agent"}
    assert [u.name for u in accounts.team_members(db_session, team, "trainer")] == ["Profe Roster"]
    assert db_session.scalar(select(User).where(User.email == "baja@colegio.example.com")) is None

    # a second import is idempotent
    with lti_app.app_context():
        again = roster.import_roster(db_session, context.id, now=now_utc())
        db_session.commit()
    assert again.created == [] and len(again.added) == 3
