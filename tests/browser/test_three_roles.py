"""The three roles' journey in a real browser, in Spanish and in English.

A new agent logs in for the first time, completes the lesson still missing from month 2, takes the week 2
quiz and practises the warranty chat; the trainer grades and releases that practice, which completes the
product certification; the manager follows the agent's progress, exports the team's CSV and downloads the
certificate.  The interface speaks the agent's chosen language (their setting) and the staff's browser
language; the learning content stays in Spanish, as authored.
"""
from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import timedelta

import pytest
from babel.support import Translations
from playwright.sync_api import expect

from lms.accounts import services as accounts
from lms.core.clock import now_utc
from lms.core.db import get_db
from lms.core.security import hash_password
from lms.demo import DEMO_PASSWORD, story
from lms.roleplays import services as roleplays
from lms.tracks import services as tracks
from tests.browser.conftest import SITE, screenshot
from tests.conftest import PROJECT

pytestmark = pytest.mark.browser

#: the chat role-play practised in the browser; the phone one is already graded
CHAT_SCENARIO = "informe-consulta-garantia"
PHONE_SCENARIO = "crm-plan-40-horas-upgrade"
WARRANTY_REPLIES = [
    "¡Hola, Rosa! Soy Marcos, de Distribuciones Alba. Si te entiendo bien, tu lavadora hace ruido al centrifugar, ¿es así?",
    "Tu lavadora está en garantía hasta octubre de 2026; la caja no hace falta.",
    "La visita del técnico no tiene coste dentro de la garantía. ¿Te va bien el lunes 15 por la mañana?",
    "Perfecto, queda pedida la visita del lunes 15 de 9:00 a 13:00. Gracias, Rosa, que tengas un buen día.",
]
BROWSER_LOCALE = {"es": "es-ES", "en": "en-US"}


def translator(lang: str):
    """The interface's words in ``lang``: the Spanish msgid, or its entry in the compiled catalog."""
    if lang == "es":
        return lambda text: text
    catalog = Translations.load(str(PROJECT / "lms" / "translations"), [lang])
    assert catalog.gettext("Entrar") != "Entrar", f"no compiled catalog for {lang}: run 'make translations'"
    return catalog.gettext


def new_agent_nearly_certified(lang: str):
    """A new agent of Soporte Madrid (the demo trainer's and manager's team) who has everything for the
    product certification except the last lesson of month 2 and the warranty chat role-play."""
    app = SITE["app"]
    with app.app_context():
        session = get_db(app).sessionmaker()
        now = now_utc()
        team = accounts.find_team_by_name(session, "Soporte Madrid")
        admin = accounts.find_user_by_email(session, "admin@demo.lms")
        trainer = accounts.find_user_by_email(session, "formador@demo.lms")
        name = {"es": "Nuria Nueva", "en": "Nora Newcomer"}[lang] + f" {uuid.uuid4().hex[:4]}"
        agent = accounts.create_user(session, email=f"nueva-{uuid.uuid4().hex[:8]}@demo.lms", name=name, role="agent")
        agent.password_hash = hash_password(DEMO_PASSWORD)
        agent.locale = lang
        accounts.add_to_team(session, team, agent)
        track = tracks.find_track(session, "onboarding-3-meses")
        tracks.enroll(session, actor=admin, agent=agent, track=track, start_date=(now - timedelta(days=70)).date(),
                      now=now - timedelta(days=70))
        track = tracks.get_track(session, "onboarding-3-meses")
        lessons = [lesson for tm in track.track_modules if tm.module.slug in ("semana-1-fundamentos", "mes-2-especializacion")
                   for lesson in tm.module.lessons if not lesson.is_archived]
        for n, lesson in enumerate(lessons[:-1]):
            tracks.complete_lesson(session, agent, lesson, now=now - timedelta(days=65 - n))
        story.pass_quizzes(session, agent, trainer, now)
        practice = story.practise(session, agent, roleplays.get_scenario(session, PHONE_SCENARIO), now - timedelta(days=5))
        roleplays.save_grade(session, practice, actor=trainer, levels=story.top_levels(session, practice), comments={},
                             overall="Muy buena práctica.", inline=[], action="release", expected_revision=0,
                             now=now - timedelta(days=4))
        session.commit()
        result = (agent.id, agent.email, agent.name)
        session.close()
    return result


def log_in(page, base: str, email: str, t) -> None:
    page.goto(f"{base}/login")
    page.get_by_label(t("Correo electrónico")).fill(email)
    page.get_by_label(t("Contraseña")).fill(DEMO_PASSWORD)
    page.get_by_role("button", name=t("Entrar")).click()
    page.wait_for_url(re.compile(r".*/(manage/.*)?$"))


@pytest.mark.parametrize("lang", ["es", "en"])
def test_agent_trainer_and_manager_journey(browser, site_url, lang):
    t = translator(lang)
    agent_id, email, name = new_agent_nearly_certified(lang)
    shot = f"journey-{lang}"

    # ── the agent: first login, a lesson, a quiz, a chat role-play ──────────────────────────────────
    agent_ctx = browser.new_context(locale=BROWSER_LOCALE["es"], viewport={"width": 1280, "height": 900})
    page = agent_ctx.new_page()
    log_in(page, site_url, email, translator("es"))  # the browser asks for Spanish: after login the agent's setting wins
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.get_by_role("heading", name=t("Hola, %(name)s") % {"name": name})).to_be_visible()
    screenshot(page, f"{shot}-1-agent-home")

    page.goto(f"{site_url}/tracks/onboarding-3-meses")
    month_2 = page.locator("section.card", has=page.get_by_role("heading", name=re.compile("Mes 2")))
    pending = month_2.locator("li", has_not=page.locator(".badge-done")).locator("a[href*='/lessons/']")
    expect(pending).to_have_count(1)
    pending.click()
    screenshot(page, f"{shot}-2-agent-lesson")
    page.get_by_role("button", name=t("Marcar como completada")).click()
    expect(page.get_by_text(t("¡Lección completada!"))).to_be_visible()

    page.goto(f"{site_url}/quizzes/evaluacion-semana-2")
    expect(page.get_by_role("heading", name=re.compile("Evaluación de la semana 2"))).to_be_visible()  # content: Spanish
    page.get_by_role("button", name=t("Empezar un intento")).click()
    page.wait_for_url(re.compile(r".*/attempts/\d+$"))
    for group in page.eval_on_selector_all("input[type=radio]", "els => [...new Set(els.map(e => e.name))]"):
        page.locator(f"input[type=radio][name='{group}']").first.check()
    screenshot(page, f"{shot}-3-agent-quiz")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name=t("Enviar el intento")).click()
    page.wait_for_url(re.compile(r".*/review\?submitted=1$"))
    expect(page.get_by_role("heading", name=t("Revisión del intento %(n)d") % {"n": 1})).to_be_visible()
    screenshot(page, f"{shot}-4-agent-quiz-review")

    page.get_by_role("link", name=t("Role-plays")).first.click()
    page.get_by_role("link", name=re.compile("garantía", re.I)).first.click()
    page.get_by_role("button", name=t("Empezar la práctica")).click()
    page.wait_for_url(re.compile(r".*/practice/\d+$"))
    for text in WARRANTY_REPLIES:
        if not page.locator("textarea[name=text]").count():
            break  # the customer's conversation has reached its ending
        page.locator("textarea[name=text]").first.fill(text)
        page.get_by_role("button", name=t("Enviar"), exact=True).first.click()
        expect(page.locator(".ws-log").first).to_contain_text(text[:40])  # sent by fetch: wait for it in the conversation
    screenshot(page, f"{shot}-5-agent-roleplay-chat")
    page.get_by_role("button", name=t("Terminar y enviar")).click()
    expect(page.get_by_role("dialog")).to_be_visible()  # finishing asks for confirmation
    page.keyboard.press("Enter")  # the confirm button has the focus
    page.wait_for_url(re.compile(r".*/result$"))
    screenshot(page, f"{shot}-6-agent-roleplay-result")

    # ── the trainer grades and releases that practice ────────────────────────────────────────────
    trainer_ctx = browser.new_context(locale=BROWSER_LOCALE[lang], viewport={"width": 1280, "height": 900})
    trainer = trainer_ctx.new_page()
    log_in(trainer, site_url, "formador@demo.lms", t)
    trainer.get_by_role("link", name=t("Role-plays")).first.click()
    expect(trainer.get_by_role("heading", name=t("Role-plays por calificar"))).to_be_visible()
    trainer.locator("tr", has_text=name).get_by_role("link", name=t("Calificar")).click()
    for fieldset in trainer.locator("fieldset.criterion").all():
        fieldset.locator("input[type=radio][value='4']").check()
    trainer.get_by_label(t("Comentario general")).fill("Muy bien: confirma la garantía y cierra con un resumen.")
    screenshot(trainer, f"{shot}-7-trainer-grading")
    trainer.get_by_role("button", name=t("Publicar al agente")).click()
    expect(trainer.get_by_text(t("Calificación publicada para el agente."))).to_be_visible()
    trainer_ctx.close()

    # the release completed the product certification: the agent sees it
    page.goto(f"{site_url}/certifications")
    row = page.locator("table tr", has_text="Certificación de producto")
    expect(row.get_by_text(t("Vigente"))).to_be_visible()
    screenshot(page, f"{shot}-8-agent-certifications")
    agent_ctx.close()

    # ── the manager: progress, CSV export, the certificate ────────────────────────────────────────
    manager_ctx = browser.new_context(locale=BROWSER_LOCALE[lang], viewport={"width": 1280, "height": 900}, accept_downloads=True)
    manager = manager_ctx.new_page()
    log_in(manager, site_url, "gerente@demo.lms", t)
    manager.goto(f"{site_url}/manage/dashboard/")
    agent_row = manager.locator("tr", has_text=name)
    expect(agent_row).to_have_count(1)
    screenshot(manager, f"{shot}-9-manager-dashboard")
    with manager.expect_download() as download:
        manager.get_by_role("link", name=t("Exportar CSV estándar")).first.click()
    exported = list(csv.reader(io.StringIO(open(download.value.path(), encoding="utf-8-sig").read())))
    mine = [r for r in exported if name in r]
    assert len(mine) == 1, exported[:3]

    agent_row.get_by_role("link", name=name).first.click()
    expect(manager.get_by_role("heading", name=re.compile(re.escape(name)))).to_be_visible()
    screenshot(manager, f"{shot}-10-manager-agent")
    manager.goto(f"{site_url}/manage/certifications/agents/{agent_id}")
    manager.locator("a", has_text="Certificación de producto").first.click()
    with manager.expect_download() as download:
        manager.get_by_role("link", name=t("Descargar PDF")).click()
    assert open(download.value.path(), "rb").read(4) == b"%PDF"
    screenshot(manager, f"{shot}-11-manager-certificate")
    manager_ctx.close()
