"""Every route has an access policy, and every role gets what the policy says."""
from __future__ import annotations

from datetime import date

import pytest

from lms.api import services as api_tokens
from lms.core.clock import now_utc
from lms.certification import services as certs
from lms.quizzes import services as quizzes
from lms.roleplays import calibration as cal
from lms.roleplays import services as roleplays
from lms.tracks import services as tracks

PUBLIC = "public"
ANY = "any signed-in user"
#: authenticated by an API bearer token, never by the session: skipped here, covered by tests/api
TOKEN = "bearer token (tests/api)"

#: endpoint → who may GET it (POST-only endpoints are listed with the roles allowed to post)
POLICY: dict[str, object] = {
    "static": PUBLIC,
    "accounts.login": PUBLIC,
    "accounts.password_reset_request": PUBLIC,  # same answer whether or not the account exists
    "accounts.password_reset": PUBLIC,  # the e-mailed one-time token is the proof
    "accounts.logout": ANY,
    "accounts.account": ANY,
    "accounts.admin_users": {"admin"},
    "accounts.admin_login_attempts": {"admin"},
    "accounts.admin_user_new": {"admin"},
    "accounts.admin_user": {"admin"},
    "accounts.admin_user_reset_password": {"admin"},
    "accounts.admin_users_import": {"admin"},
    "accounts.admin_teams": {"admin"},
    "accounts.admin_team": {"admin"},
    "accounts.admin_team_add_member": {"admin"},
    "accounts.admin_team_remove_member": {"admin"},
    "accounts.admin_team_calendar": {"admin"},
    "home": ANY,
    "tracks.track_list": ANY,
    "tracks.track": ANY,
    "tracks.calendar": {"agent"},
    "tracks.calendar_subscription": {"agent"},
    "tracks.calendar_feed": PUBLIC,  # by secret URL: an unknown token is 404 for everyone
    "tracks.lesson": ANY,
    "tracks.complete": {"agent"},
    "reference.index": ANY,
    "reference.page": ANY,
    "reference.search_view": ANY,
    "escalation.advisor": ANY,
    "quizzes.quiz": {"agent"},
    "quizzes.start": {"agent"},
    "quizzes.attempt": {"agent"},
    "quizzes.save": {"agent"},
    "quizzes.submit": {"agent"},
    "quizzes.review": ANY,  # the agent's own; staff who supervise the agent
    "quizzes_manage.quizzes": {"trainer", "manager", "admin"},
    "quizzes_manage.quiz_results": {"trainer", "manager", "admin"},
    "quizzes_manage.grading_queue": {"trainer", "manager", "admin"},
    "quizzes_manage.attempt": {"trainer", "manager", "admin"},
    "quizzes_manage.accommodations": {"manager", "admin"},
    "quizzes_manage.banks": {"trainer", "manager", "admin"},
    "quizzes_manage.export_bank": {"trainer", "manager", "admin"},
    "roleplays.index": {"agent"},
    "roleplays.scenario": {"agent"},
    "roleplays.start": {"agent"},
    "roleplays.practice": {"agent"},
    "roleplays.reply": {"agent"},
    "roleplays.email": {"agent"},
    "roleplays.submit": {"agent"},
    "roleplays.result": {"agent"},
    "roleplays_workspace.practice_state": {"agent"},  # the practice workspace: the agent's own practice only
    "roleplays_workspace.save_draft": {"agent"},
    "roleplays_workspace.send": {"agent"},
    "roleplays_workspace.email_draft": {"agent"},
    "roleplays_workspace.save_ticket": {"agent"},
    "roleplays_workspace.move_private": {"agent"},
    "roleplays_workspace.kb_search": {"agent"},
    "roleplays_workspace.kb_read": {"agent"},
    "roleplays_manage.queue": {"trainer", "manager", "admin"},
    "roleplays_manage.grade": {"trainer", "manager", "admin"},
    "roleplays_manage.assign": {"trainer", "manager", "admin"},
    "roleplays_manage.calibration_list": {"trainer", "admin"},
    "roleplays_manage.calibration": {"trainer", "admin"},
    "certification.mine": {"agent"},
    "certification.certificate": {"agent", "manager", "admin"},  # the agent's own; the agent's managers; admins
    "certification.verify": PUBLIC,
    "certification_manage.records": {"trainer", "manager", "admin"},
    "certification_manage.agent": {"trainer", "manager", "admin"},
    "certification_manage.record": {"trainer", "manager", "admin"},
    "certification_manage.issue": {"admin"},
    "reporting.dashboard": {"trainer", "manager", "admin"},
    "reporting.export": {"manager", "admin"},
    "reporting.agent": {"trainer", "manager", "admin"},
    "reporting.export_xlsx": {"manager", "admin"},
    "reporting.export_certifications": {"manager", "admin"},
    "reporting.start_export": {"manager", "admin"},
    "reporting.export_job": {"manager", "admin"},  # the requester's own export; admins see every one
    "reporting.download_export": {"manager", "admin"},
    "tracks_manage.admin_home": {"admin"},
    "tracks_manage.work_calendar": {"admin"},
    "tracks_manage.remove_holiday": {"admin"},
    "tracks_manage.teams": {"manager", "trainer", "admin"},
    "tracks_manage.team": {"manager", "trainer", "admin"},
    "tracks_manage.agent": {"manager", "trainer", "admin"},
    "tracks_manage.enroll": {"manager", "admin"},
    "tracks_manage.unenroll": {"manager", "admin"},
    "tracks_manage.enroll_import": {"manager", "admin"},
    "notifications.index": ANY,  # one's own notifications
    "notifications.mark_read": ANY,  # one's own (another user's: 404, tests/notifications)
    "notifications.mark_all_read": ANY,
    "notifications.preferences": ANY,
    "notifications.mailbox": {"admin"},  # the development mailbox
    "notifications.mailbox_message": {"admin"},
    "xapi_manage.status": {"admin"},
    "xapi_manage.retry": {"admin"},
    "api.openapi": PUBLIC,
    "api.list_users": TOKEN,
    "api.get_user": TOKEN,
    "api.create_user": TOKEN,
    "api.update_user": TOKEN,
    "api.user_progress": TOKEN,
    "api.list_teams": TOKEN,
    "api.get_team": TOKEN,
    "api.create_team": TOKEN,
    "api.add_team_member": TOKEN,
    "api.remove_team_member": TOKEN,
    "api.list_tracks": TOKEN,
    "api.list_enrollments": TOKEN,
    "api.get_enrollment": TOKEN,
    "api.create_enrollment": TOKEN,
    "api.list_progress": TOKEN,
    "api.list_quiz_results": TOKEN,
    "api.list_roleplay_grades": TOKEN,
    "api.list_certifications": TOKEN,
    "api.get_certification": TOKEN,
    "api.get_certification_by_code": TOKEN,
    "api.unknown": TOKEN,
    "api.unknown_root": TOKEN,
    "api_manage.tokens": {"admin"},
    "api_manage.revoke": {"admin"},
    "badges.issuer_v2": PUBLIC,
    "badges.badge_class": PUBLIC,
    "badges.assertion": PUBLIC,
    "badges.revocation_list": PUBLIC,
    "badges.issuer_v3": PUBLIC,
    "badges.achievement": PUBLIC,
    "badges.status_list": PUBLIC,
    "badges.badge_image": PUBLIC,
    "badges.criteria": PUBLIC,
    "badges.credential": {"agent", "manager", "admin"},  # the agent's own; the agent's managers; admins
    "badges.open_badge": {"agent", "manager", "admin"},
    "lti.login": PUBLIC,  # OIDC login initiation from a platform
    "lti.launch": PUBLIC,  # the id_token is the proof
    "lti.jwks": PUBLIC,
    "lti.deep_link": {"trainer", "admin"},
    "lti.register": {"admin"},  # dynamic registration by an admin signed in here
    "lti.register_invitation": PUBLIC,  # the one-time invitation in the URL is the proof
    "lti_manage.create_invitation": {"admin"},
    "lti_manage.platforms": {"admin"},
    "lti_manage.import_roster": {"admin"},
    "lti_manage.confirm_link": {"admin"},  # POST: an admin confirms a refused launch's staff link
    "accounts.admin_users_import_job": {"admin"},
    "tracks_manage.enroll_import_job": {"manager", "admin"},  # the uploader's own job; admins see every one
    "badges_did.did_document": PUBLIC,  # did:web document of the issuer
    "xapi_extensions.extension": PUBLIC,  # the site's xAPI extension IRIs resolve
    "authoring.index": {"trainer", "admin"},
    "authoring.draft": {"trainer", "admin"},
    "authoring.act": {"trainer", "admin"},
    "authoring.permissions": {"admin"},
    "authoring.preview": {"trainer", "admin"},
    "authoring.reference_search": {"trainer", "admin"},
    "authoring.reference_section": {"trainer", "admin"},
    "authoring.reference_check": {"trainer", "admin"},
    "authoring.lessons_list": {"trainer", "admin"},
    "authoring.new_lesson": {"trainer", "admin"},
    "authoring.edit_lesson": {"trainer", "admin"},
    "authoring.files": {"trainer", "admin"},
    "authoring.edit_item": {"trainer", "admin"},
    "authoring.new_item": {"trainer", "admin"},
    "authoring.edit_file": {"trainer", "admin"},
    "authoring.try_draft": {"trainer", "admin"},
    "authoring.import_bank": {"trainer", "admin"},
    "authoring.impact": {"trainer", "admin"},
}

ROLES = ("agent", "trainer", "manager", "admin")


def test_every_route_has_a_policy(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - POLICY.keys() == set(), "routes without an access policy"
    assert POLICY.keys() - endpoints == set(), "policy entries for routes that no longer exist"


@pytest.fixture
def world(session, content, team, agent, manager, trainer, admin):
    track = tracks.find_track(session, "corto")
    enrollment, _ = tracks.enroll(session, actor=manager, agent=agent, track=track, start_date=date(2026, 1, 5), now=now_utc())
    attempt = quizzes.start_attempt(session, agent, quizzes.get_quiz(session, "evaluacion-a"), now=now_utc())
    practice = roleplays.start_practice(session, agent, roleplays.get_scenario(session, "chat-retraso"), now=now_utc())
    for text in ("Hola, Ana.", "Gracias, Ana."):
        roleplays.reply(session, practice, agent, thread="ana", text=text, now=now_utc())
    roleplays.submit(session, practice, agent, escalation=None, now=now_utc())
    calibration = cal.open_session(session, submission=practice, actor=trainer, title="Sesión", exemplar=False, now=now_utc())
    record = certs.issue_manually(session, certs.get_definition(session, "proceso"), agent, actor=admin, reason="Prueba", now=now_utc())
    token = api_tokens.create_token(session, name="Nóminas", scopes=["users:read"], expires_at=None, created_by=admin, now=now_utc()).token
    from lms.tracks import ical

    feed_token = ical.create(session, agent.id, now=now_utc())
    from lms.badges import services as badges

    published = badges.publish(session, record, now=now_utc())
    from lms.authoring import services as authoring

    draft = authoring.start_draft(session, kind="quiz", slug="evaluacion-a", path="quizzes/evaluacion-a.yaml", title="x", text="id: x\n",
                                  base_text=None, author=trainer, now=now_utc())
    from lms.accounts import imports

    users_job = imports.start_users_import(session, "email,name,role\n", skip_invalid=False, actor=admin, now=now_utc())
    enrollments_job = imports.start_import(session, "enrollments", "email,track,start_date\n", skip_invalid=False, actor=manager,
                                           now=now_utc())
    from lms.reporting import jobs as export_jobs

    export_job = export_jobs.start(session, kind="progress", fmt="standard", team_id=None, actor=manager, total=1, locale="es",
                                   time_zone="UTC", now=now_utc())
    session.commit()
    from flask import current_app

    export_job.status = "done"  # prepared: its file is there to download
    export_jobs.folder().mkdir(parents=True, exist_ok=True)
    export_jobs.path_of(export_job).write_text("agente\n")
    session.commit()
    from lms.notifications import mailbox

    with current_app.app_context():
        mailbox.mailbox_sender(current_app.config)({"to": agent.email, "subject": "Prueba", "body": "Hola"})
        mail_id = mailbox.messages(current_app.config)[0].id
    return {
        "mail_id": mail_id, "request_id": 999, "name": "expires-at",
        "job_id": {"accounts.admin_users_import_job": users_job.id, "tracks_manage.enroll_import_job": enrollments_job.id,
                   "reporting.export_job": export_job.id, "reporting.download_export": export_job.id},
        "user_id": agent.id, "team_id": team.id, "slug": "a-uno", "enrollment_id": enrollment.id, "attempt_id": attempt.id, "submission_id": practice.id, "calibration_id": calibration.id, "record_id": record.id, "code": record.code, "token_id": token.id,
        "token": feed_token, "holiday_id": 1,
        "certification": "proceso", "assertion_id": published.public_id,
        "document": "manual", "chapter": "estandares", "filename": "css/app.css", "draft_id": draft.id, "kind": "quiz",
        "users": {"agent": agent, "manager": manager, "trainer": trainer, "admin": admin},
    }


def _url(app, rule, world):
    from flask import url_for

    values = {}
    for arg in rule.arguments:
        if arg == "slug" and rule.rule.startswith("/roleplays"):
            values[arg] = "chat-retraso"
        elif arg == "slug" and rule.rule.startswith(("/tracks", "/quizzes", "/manage/quizzes", "/authoring/edit/")):
            values[arg] = "corto" if rule.rule.startswith("/tracks") else "evaluacion-a"
        elif arg == "job_id":
            values[arg] = world[arg][rule.endpoint]
        else:
            values[arg] = world[arg]
    with app.test_request_context():
        return url_for(rule.endpoint, **values)


def _cases(app):
    return sorted(((r.endpoint, r) for r in app.url_map.iter_rules()), key=lambda pair: (pair[0], pair[1].rule))


@pytest.mark.parametrize("role", (None,) + ROLES)
def test_each_role_gets_what_the_policy_says(app, client, auth, world, role):
    if role:
        auth.login_as(world["users"][role])
    problems = []
    for endpoint, rule in _cases(app):
        if endpoint in ("accounts.logout",):
            continue
        policy = POLICY[endpoint]
        if policy == TOKEN:
            continue
        url = _url(app, rule, world)
        method = "GET" if "GET" in rule.methods else "POST"
        response = client.open(url, method=method)
        status = response.status_code
        if policy == PUBLIC:
            allowed = True
        elif role is None:
            allowed = False
            if not (status == 302 and "/login" in response.headers.get("Location", "")):
                problems.append(f"{endpoint} {url}: anonymous got {status}, expected a redirect to login")
            continue
        else:
            allowed = policy == ANY or role in policy
        if allowed and status in (403, 404, 405, 500):
            problems.append(f"{endpoint} {method} {url}: {role} got {status}, expected access")
        if not allowed and status not in (403, 404):
            problems.append(f"{endpoint} {method} {url}: {role} got {status}, expected 403/404")
    assert problems == []
