"""Launches from a real LTI 1.3 platform (lti1p3platform) into the site over HTTP."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from lms.accounts import services as accounts
from lms.accounts.models import User
from lms.core.clock import now_utc
from lms.lti import linking, services
from lms.lti.models import LtiContext, LtiPlatform, LtiResourceLink, LtiUserLink
from lms.tracks import services as tracks
from tests.lti.conftest import error_text

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
MENTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Mentor"
INSTITUTION_ADMIN = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"


def _launch(browser, platform, **claims):
    response = browser.start(platform, **claims)
    form = browser.auto_form(response)
    return browser.post_form(form, allow_redirects=False)


def test_learner_launch_provisions_links_and_signs_in(platform, browser, db_session):
    response = browser.start(platform, user_id="alumno-1", roles=[LEARNER], name="Alumna Uno",
                             email="alumna.uno@colegio.example.com", resource_link_id="rl-1",
                             context_id="curso-1", context_title="Curso LTI", custom={"target": "track:corto"})
    form = browser.auto_form(response)
    assert form["action"] == browser.tool_url + "/lti/launch" and set(form["fields"]) == {"id_token", "state"}
    landed = browser.post_form(form, allow_redirects=False)
    assert landed.status_code == 302, error_text(landed)
    assert landed.headers["Location"] == "/tracks/corto"
    page = browser.http.get(browser.tool_url + "/tracks/corto", timeout=10)
    assert page.status_code == 200 and "Itinerario corto" in page.text and "Alumna Uno" in page.text
    # the framing platform may show every page of this session
    assert f"frame-ancestors 'self' {platform.url}" in page.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in page.headers

    user = db_session.scalar(select(User).where(User.email == "alumna.uno@colegio.example.com"))
    assert user.role == "agent" and user.name == "Alumna Uno"
    link = db_session.scalar(select(LtiUserLink).where(LtiUserLink.user_id == user.id))
    assert (link.issuer, link.sub) == (platform.url, "alumno-1")
    rl = db_session.scalar(select(LtiResourceLink).where(LtiResourceLink.resource_link_id == "rl-1",
                                                         LtiResourceLink.platform_id == platform.registration.id))
    assert rl.target == "track:corto"
    context = db_session.get(LtiContext, rl.context_pk)
    assert (context.context_id, context.title) == ("curso-1", "Curso LTI")


def test_a_second_launch_finds_the_user_by_sub_and_the_lesson_opens_once_enrolled(platform, browser, db_session, tool_url):
    db_session.get(LtiPlatform, platform.registration.id).auto_enroll = False  # enrolled by an admin here instead
    db_session.commit()
    claims = dict(user_id="alumno-2", roles=[LEARNER], name="Beto", email="beto@colegio.example.com",
                  resource_link_id="rl-2", custom={"target": "lesson:a-uno"})
    first = _launch(browser, platform, **claims)
    assert first.status_code == 200 and "Todavía no estás inscrito" in error_text(first)
    user = db_session.scalar(select(User).where(User.email == "beto@colegio.example.com"))
    admin = accounts.create_user(db_session, email=f"admin-{user.id}@example.com", name="Admin", role="admin")
    tracks.enroll(db_session, actor=admin, agent=user, track=tracks.get_track(db_session, "corto"),
                  start_date=date.today(), now=now_utc())
    db_session.commit()

    again = _launch(browser, platform, **dict(claims, email="otro-correo@colegio.example.com", custom={}))
    assert again.status_code == 302 and again.headers["Location"] == "/lessons/a-uno"  # the stored link target
    page = browser.http.get(tool_url + "/lessons/a-uno", timeout=10)
    assert page.status_code == 200 and "Tiempos de respuesta" in page.text and "Beto" in page.text
    assert db_session.scalar(select(User).where(User.email == "otro-correo@colegio.example.com")) is None


def test_a_staff_account_linked_by_an_admin_is_opened_and_roles_are_mapped(platform, browser, db_session):
    existing = accounts.create_user(db_session, email="formadora@empresa.example.com", name="Formadora", role="trainer")
    linking.link_account(db_session, db_session.get(LtiPlatform, platform.registration.id), "prof-1", existing, now=now_utc())
    db_session.commit()
    landed = _launch(browser, platform, user_id="prof-1", roles=[INSTRUCTOR], email="formadora@empresa.example.com",
                     resource_link_id="rl-3", custom={"target": "quiz:evaluacion-a"})
    assert landed.status_code == 302 and landed.headers["Location"] == "/manage/quizzes/evaluacion-a"
    link = db_session.scalar(select(LtiUserLink).where(LtiUserLink.sub == "prof-1"))
    assert link.user_id == existing.id

    for sub, roles, expected in [("mentor-1", [MENTOR], "manager"), ("inst-admin", [INSTITUTION_ADMIN], "trainer"),
                                 ("nadie", [], "agent")]:
        fresh = type(browser)(browser.tool_url)
        response = _launch(fresh, platform, user_id=sub, roles=roles, name=sub, email=f"{sub}@colegio.example.com",
                           resource_link_id="rl-roles")
        assert response.status_code == 302, error_text(response)
        db_session.rollback()  # a new snapshot: the server committed after this session's last read
        user = db_session.scalar(select(User).where(User.email == f"{sub}@colegio.example.com"))
        assert user.role == expected, (sub, user.role)


def test_an_admin_account_is_never_taken_over_by_email(platform, browser, db_session):
    accounts.create_user(db_session, email="jefa@empresa.example.com", name="Jefa", role="admin")
    db_session.commit()
    response = _launch(browser, platform, user_id="intruso", roles=[LEARNER], email="jefa@empresa.example.com",
                       resource_link_id="rl-4")
    assert response.status_code == 403
    assert "administración" in error_text(response)
    assert db_session.scalar(select(LtiUserLink).where(LtiUserLink.sub == "intruso")) is None


def test_a_user_without_email_gets_a_placeholder_account(platform, browser, db_session):
    response = _launch(browser, platform, user_id="anon-42", roles=[LEARNER], name="Sin Correo", resource_link_id="rl-5")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    link = db_session.scalar(select(LtiUserLink).where(LtiUserLink.sub == "anon-42"))
    user = db_session.get(User, link.user_id)
    assert user.name == "Sin Correo" and user.email.startswith("lti-")


def test_a_target_that_does_not_exist_is_a_clear_error(platform, browser):
    response = _launch(browser, platform, user_id="a-3", roles=[LEARNER], resource_link_id="rl-6",
                       custom={"target": "lesson:no-existe"})
    assert response.status_code == 404
    assert "lesson:no-existe" in error_text(response)


def test_a_pasted_platform_key_is_used_instead_of_a_keyset(platform, browser, db_session):
    import uuid

    from lms.lti import services

    client_id, deployment = "pegada-" + uuid.uuid4().hex[:6], "dep-pegada"
    services.save_platform(db_session, None, name="Con clave pegada", issuer=platform.url, client_id=client_id,
                           auth_login_url=f"{platform.url}/auth", auth_token_url=f"{platform.url}/token",
                           public_key_pem=platform.state()["signing_public"], deployment_ids=[deployment], now=now_utc())
    db_session.commit()
    platform.control("config", client_id=client_id, deployment_id=deployment)
    response = _launch(browser, platform, user_id="pegada-1", roles=[LEARNER], resource_link_id="rl-pegada")
    assert response.status_code == 302, error_text(response)


def test_the_target_link_uri_can_name_the_activity(platform, browser, tool_url):
    response = _launch(browser, platform, user_id="tl-1", roles=[INSTRUCTOR], resource_link_id="rl-tl",
                       extra_claims={"https://purl.imsglobal.org/spec/lti/claim/target_link_uri": f"{tool_url}/roleplays/chat-retraso"})
    assert response.status_code == 302 and response.headers["Location"] == "/manage/roleplays/"


PRESENTATION = "https://purl.imsglobal.org/spec/lti/claim/launch_presentation"


def test_the_interface_speaks_the_launch_locale_unless_the_person_chose_a_language(platform, browser, db_session):
    claims = dict(user_id="alumno-en", roles=[LEARNER], name="Ann English", email="ann@colegio.example.com",
                  resource_link_id="rl-en", custom={"target": "track:corto"},
                  extra_claims={PRESENTATION: {"document_target": "iframe", "locale": "en-US"}})
    assert _launch(browser, platform, **claims).status_code == 302
    page = browser.http.get(browser.tool_url + "/tracks/corto", headers={"Accept-Language": "es-ES"}, timeout=10)
    assert '<html lang="en">' in page.text  # the platform's language wins over the browser's

    user = db_session.scalar(select(User).where(User.email == "ann@colegio.example.com"))
    user.locale = "es"  # her own setting here wins over the platform's
    db_session.commit()
    assert _launch(browser, platform, **claims).status_code == 302
    page = browser.http.get(browser.tool_url + "/tracks/corto", headers={"Accept-Language": "en-US"}, timeout=10)
    assert '<html lang="es">' in page.text


def test_launch_locale_reads_the_language_of_the_presentation_claim():
    from lms.lti.services import launch_locale

    assert launch_locale({PRESENTATION: {"locale": "en-US"}}) == "en"
    assert launch_locale({PRESENTATION: {"locale": "es_MX"}}) == "es"
    assert launch_locale({PRESENTATION: {"document_target": "iframe"}}) is None
    assert launch_locale({PRESENTATION: "en"}) is None
    assert launch_locale({}) is None
