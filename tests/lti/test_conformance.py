"""What an independent LTI 1.3 platform (lti1p3platform, tests/lti/platform_server.py) found: scores posted only
where the learner launched from, the id_token checks (exp/iat, aud/azp, clock leeway), account linking that never
hands a platform user a staff account, and Deep Linking as the platform asked for it."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.accounts import services as accounts
from lms.accounts.models import User
from lms.core.clock import now_utc
from lms.lti import grades, linking, services
from lms.lti.models import LtiUserLink
from lms.quizzes import services as quizzes
from lms.quizzes.simulate import answer_attempt
from tests.lti.conftest import error_text, parse

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
DATA_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/data"


def _launch(browser, platform, **claims):
    form = browser.auto_form(browser.start(platform, **claims))
    return browser.post_form(form, allow_redirects=False)


def _claims(**extra):
    return dict(dict(user_id="alumno-conf", roles=[LEARNER], name="Alumno Conf", resource_link_id="rl-conf"), **extra)


def _user(db_session, sub):
    db_session.rollback()
    link = db_session.scalar(select(LtiUserLink).where(LtiUserLink.sub == sub))
    return db_session.get(User, link.user_id) if link else None


def _deliver(lti_app, now):
    from lms.core import outbox
    from lms.core.db import transaction

    with lti_app.app_context(), transaction() as session:
        return outbox.deliver_due(session, {grades.KIND: grades.send_score}, now=now)


def _messages(db_session, user_id):
    db_session.rollback()
    return [m for m in grades.sync_status(db_session, limit=1000) if m.payload["user_id"] == user_id]


# -- AGS: only the learner's own placements ------------------------------------------------------
def test_a_score_goes_only_to_the_line_item_of_the_link_the_learner_launched_from(platform, browser, db_session, lti_app, tool_url):
    from tests.lti.conftest import Browser

    # another course on the same platform places the same quiz; someone else launches from it
    other = Browser(tool_url)
    assert _launch(other, platform, user_id="alumno-otro-curso", roles=[LEARNER], name="Otro", resource_link_id="rl-conf-b",
                   context_id="curso-conf-b", ags=True, custom={"target": "quiz:evaluacion-a"}).status_code == 302
    landed = _launch(browser, platform, user_id="alumno-ags-conf", roles=[LEARNER], name="Ana", resource_link_id="rl-conf-a",
                     context_id="curso-conf-a", ags=True, custom={"target": "quiz:evaluacion-a"})
    assert landed.status_code == 302, error_text(landed)
    # the platform already has a column for course B's link
    agent = _user(db_session, "alumno-ags-conf")
    now = now_utc()
    attempt = quizzes.start_attempt(db_session, agent, quizzes.get_quiz(db_session, "evaluacion-a"), now=now)
    quizzes.submit_attempt(db_session, attempt, agent, answer_attempt(attempt, 1.0), now=now + timedelta(minutes=1))
    db_session.commit()
    [message] = _messages(db_session, agent.id)  # one placement launched from: one score
    assert message.payload["resource_link_id"] == "rl-conf-a"
    assert _deliver(lti_app, now_utc() + timedelta(minutes=2)) == (1, 0)
    state = platform.state()
    scores = [s for s in state["scores"] if s["userId"] == "alumno-ags-conf"]
    [item] = [i for i in state["lineitems"] if i["id"] == scores[0]["lineitem"]]
    assert len(scores) == 1 and item["resourceLinkId"] == "rl-conf-a" and "/lineitems/curso-conf-a/" in item["id"]
    # the line items were looked up with the AGS filter, not by reading the course's whole list
    assert any("resource_link_id=rl-conf-a" in q for q in state["lineitem_queries"])


def test_a_quiz_waiting_for_manual_grading_reports_submitted_pending_manual(platform, browser, db_session, lti_app):
    quiz = quizzes.get_quiz(db_session, "evaluacion-a")
    saved = dict(quiz.settings)
    quiz.settings = dict(saved, draw=[{"questions": ["redactar", "chat-30"]}], shuffle_questions=False)
    db_session.commit()
    try:
        landed = _launch(browser, platform, user_id="alumno-ensayo", roles=[LEARNER], name="Eva", resource_link_id="rl-ensayo",
                         context_id="curso-ensayo", ags=True, custom={"target": "quiz:evaluacion-a"})
        assert landed.status_code == 302, error_text(landed)
        agent = _user(db_session, "alumno-ensayo")
        now = now_utc()
        attempt = quizzes.start_attempt(db_session, agent, quizzes.get_quiz(db_session, "evaluacion-a"), now=now)
        quizzes.submit_attempt(db_session, attempt, agent, answer_attempt(attempt, 1.0), now=now + timedelta(minutes=1))
        db_session.commit()
        assert attempt.state == "submitted" and attempt.percent is None
        [message] = _messages(db_session, agent.id)
        assert (message.payload["activity_progress"], message.payload["grading_progress"], message.payload["score_given"]) == (
            "Submitted", "PendingManual", None)
        assert _deliver(lti_app, now_utc() + timedelta(minutes=2)) == (1, 0)
        [score] = [s for s in platform.state()["scores"] if s["userId"] == "alumno-ensayo"]
        assert (score["activityProgress"], score["gradingProgress"]) == ("Submitted", "PendingManual")
        assert "scoreGiven" not in score
    finally:
        db_session.rollback()
        quiz = quizzes.get_quiz(db_session, "evaluacion-a")
        quiz.settings = saved
        db_session.commit()


# -- id_token checks -----------------------------------------------------------------------------
def test_a_token_without_exp_or_iat_is_refused_and_says_so(platform, browser):
    for claim in ("exp", "iat"):
        response = _launch(browser, platform, **_claims(claims_override={claim: None}))
        assert response.status_code == 403, claim
        assert f"«{claim}»" in error_text(response) and "firma" not in error_text(response)


def test_the_client_id_is_found_in_aud_and_azp_must_name_it(platform, browser):
    client = platform.client_id
    named_second = _launch(browser, platform, **_claims(claims_override={"aud": ["otra-herramienta", client], "azp": client}))
    assert named_second.status_code == 302, error_text(named_second)

    no_azp = _launch(browser, platform, **_claims(claims_override={"aud": [client, "otra-herramienta"], "azp": None}))
    assert no_azp.status_code == 403 and "azp" in error_text(no_azp)

    other_azp = _launch(browser, platform, **_claims(claims_override={"aud": [client], "azp": "otra-herramienta"}))
    assert other_azp.status_code == 403 and "azp" in error_text(other_azp)

    other_aud = _launch(browser, platform, **_claims(claims_override={"aud": ["otra-herramienta"], "azp": None}))
    assert other_aud.status_code == 403


def test_a_platform_clock_a_little_ahead_is_tolerated_and_a_wrong_clock_is_named(platform, browser, lti_app):
    assert lti_app.config["LTI_CLOCK_SKEW_SECONDS"] == 60
    ahead = _launch(browser, platform, **_claims(clock_offset=5))
    assert ahead.status_code == 302, error_text(ahead)

    far = _launch(browser, platform, **_claims(clock_offset=600))
    assert far.status_code == 403
    assert "reloj" in error_text(far) and "firma" not in error_text(far)

    lti_app.config["LTI_CLOCK_SKEW_SECONDS"] = 0
    try:
        strict = _launch(browser, platform, **_claims(clock_offset=5))
        assert strict.status_code == 403 and "reloj" in error_text(strict)
    finally:
        lti_app.config["LTI_CLOCK_SKEW_SECONDS"] = 60


# -- account linking -----------------------------------------------------------------------------
def _confirm_as_admin(tool_url, email, request_id):
    import requests

    http = requests.Session()
    page = http.get(f"{tool_url}/login", timeout=10)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
    signed_in = http.post(f"{tool_url}/login", data={"csrf_token": token, "email": email, "password": "Una clave larga y rara 2026"},
                          allow_redirects=False, timeout=10)
    assert signed_in.status_code == 302, signed_in.text[:300]
    page = http.get(f"{tool_url}/manage/lti", timeout=10)
    assert page.status_code == 200 and f"/manage/lti/link-requests/{request_id}" in page.text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
    done = http.post(f"{tool_url}/manage/lti/link-requests/{request_id}", data={"csrf_token": token}, allow_redirects=False,
                     timeout=10)
    assert done.status_code == 302, done.text[:300]


@pytest.mark.parametrize("role", ["trainer", "manager", "admin"])
def test_an_email_claim_never_signs_a_launch_in_as_a_staff_account(platform, browser, db_session, role, tool_url):
    email = f"{role}-conf@empresa.example.com"
    staff = accounts.find_user_by_email(db_session, email) or accounts.create_user(db_session, email=email, name="Staff", role=role)
    db_session.commit()
    sub = f"plataforma-{role}"
    response = _launch(browser, platform, **_claims(user_id=sub, email=email, roles=[INSTRUCTOR]))
    assert response.status_code == 403
    assert "administrador" in error_text(response)
    assert _user(db_session, sub) is None  # nothing linked
    assert browser.http.get(tool_url + "/manage/lti", allow_redirects=False, timeout=10).status_code in (302, 401, 403)

    # the refused launch waits for an admin on /manage/lti; the admin confirms it: the next launch signs in as the
    # staff account, its role unchanged
    db_session.rollback()
    [pending] = [r for r in linking.pending_link_requests(db_session) if r.sub == sub]
    assert pending.user_id == staff.id
    admin = accounts.find_user_by_email(db_session, "admin-que-confirma@empresa.example.com") or accounts.create_user(
        db_session, email="admin-que-confirma@empresa.example.com", name="Admin", role="admin", password="Una clave larga y rara 2026")
    db_session.commit()
    _confirm_as_admin(tool_url, admin.email, pending.id)
    db_session.rollback()
    assert not [r for r in linking.pending_link_requests(db_session) if r.sub == sub]
    linked = _launch(browser, platform, **_claims(user_id=sub, email=email, roles=[LEARNER]))
    assert linked.status_code == 302, error_text(linked)
    assert _user(db_session, sub).id == staff.id and _user(db_session, sub).role == role


def test_a_launch_never_raises_the_role_of_the_account_it_signs_in(platform, browser, db_session):
    email = "agente-conf@empresa.example.com"
    agent = accounts.find_user_by_email(db_session, email) or accounts.create_user(db_session, email=email, name="Ag", role="agent")
    db_session.commit()
    response = _launch(browser, platform, **_claims(user_id="sube-de-rol", email=email, roles=[INSTRUCTOR]))
    assert response.status_code == 302, error_text(response)
    user = _user(db_session, "sube-de-rol")
    assert user.id == agent.id and user.role == "agent"


# -- Deep Linking --------------------------------------------------------------------------------
def _picker(browser, platform, tool_url, sub, roles=(INSTRUCTOR,), **launch):
    landed = _launch(browser, platform, user_id=sub, roles=list(roles), name=sub, deep_link=True, **launch)
    return landed, browser.http.get(tool_url + "/lti/deep-link", timeout=10) if landed.status_code == 302 else None


def _choose(browser, tool_url, page, targets):
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
    answer = browser.http.post(tool_url + "/lti/deep-link", data={"csrf_token": token, "target": targets}, timeout=10)
    form = next(f for f in parse(answer.text).forms if "JWT" in f["fields"])
    return browser.http.post(form["action"], data=form["fields"], timeout=30)


def test_deep_linking_offers_what_the_platform_accepts_and_echoes_data_only_when_sent(platform, browser, tool_url):
    landed, page = _picker(browser, platform, tool_url, "prof-links", accept_types=["link"], dl_data=None)
    assert landed.status_code == 302, error_text(landed)
    verified = _choose(browser, tool_url, page, ["quiz:evaluacion-a"])
    assert verified.status_code == 200, verified.text
    [item] = verified.json()["content_items"]
    assert item["type"] == "link" and item["url"] == f"{tool_url}/quizzes/evaluacion-a"
    assert DATA_CLAIM not in verified.json()["claims"]  # the request had no data: none is sent back

    landed, page = _picker(browser, platform, tool_url, "prof-links", dl_data={"carrito": "42"})
    verified = _choose(browser, tool_url, page, ["lesson:a-uno"])
    assert verified.json()["claims"][DATA_CLAIM] == {"carrito": "42"}
    assert verified.json()["content_items"][0]["type"] == "ltiResourceLink"

    refused, _page = _picker(browser, platform, tool_url, "prof-links", accept_types=["image"])
    assert refused.status_code == 400 and "imagen" not in error_text(refused) and "tipos" in error_text(refused)


def test_who_may_deep_link_is_decided_by_the_launch_roles_too(platform, browser, tool_url, db_session):
    email = "formador-dl-conf@empresa.example.com"
    trainer = accounts.find_user_by_email(db_session, email) or accounts.create_user(db_session, email=email, name="F", role="trainer")
    linking.link_account(db_session, platform.registration, "prof-como-alumno", trainer, now=now_utc())
    db_session.commit()
    refused, _page = _picker(browser, platform, tool_url, "prof-como-alumno", roles=[LEARNER])
    assert refused.status_code == 403 and "formadores" in error_text(refused)
    allowed, page = _picker(browser, platform, tool_url, "prof-como-alumno", roles=[INSTRUCTOR])
    assert allowed.status_code == 302 and page.status_code == 200
