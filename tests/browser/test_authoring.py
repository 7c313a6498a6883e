"""Authoring journeys in a real browser: edit a lesson with the citation picker, review the diff and publish,
the agent reads the new text while an earlier attempt keeps its question; import a GIFT file into a draft bank,
publish it, draw a quiz from it and take it; bad input gets field errors and keeps what was typed."""
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from lms.core.db import get_db
from lms.quizzes.models import QuizAttempt
from lms.accounts.models import User
from tests.browser.conftest import SITE, screenshot
from tests.browser.test_journeys import log_in

pytestmark = pytest.mark.browser
COMPILE_MS = 30_000  # a draft checked against the whole content tree (see the try-it journey)

GIFT = Path(__file__).resolve().parent.parent / "authoring" / "data" / "ejemplos_gift.gift"
LESSON = "s1-base-de-conocimiento"
NEW_PARAGRAPH = "Antes de responder, busca la respuesta en la base de conocimiento y valora el artículo."


def log_out(page):
    page.get_by_role("button", name="Salir").click()


def select_in_picker(page, words: int = 5) -> str:
    """Select the first words of the first plain line of the section shown in the picker; return them."""
    return page.evaluate("""(words) => {
      const pre = document.getElementById('picker-text');
      const text = pre.textContent;
      const line = text.split('\\n').find(l => l.trim() && !l.trim().startsWith('#'));
      const clean = line.replace(/^[-*\\s]+/, '');
      const chosen = clean.split(/\\s+/).slice(0, words).join(' ');
      const start = text.indexOf(chosen);
      const range = document.createRange();
      range.setStart(pre.firstChild, start);
      range.setEnd(pre.firstChild, start + chosen.length);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      return chosen;
    }""", words)


def _attempt_of(email):
    session = get_db(SITE["app"]).sessionmaker()
    try:
        user = session.scalar(select(User).where(User.email == email))
        attempt = session.scalar(select(QuizAttempt).where(QuizAttempt.user_id == user.id, QuizAttempt.state == "graded"))
        slot = attempt.slots[0]
        return attempt.id, slot.question_version.question.slug, slot.question_version.data["text"]
    finally:
        session.close()


def test_trainer_edits_a_lesson_reviewer_publishes_agent_reads_it_and_old_attempts_keep_their_question(page, site_url):
    attempt_id, question_slug, original_text = _attempt_of("agente4@demo.lms")

    log_in(page, site_url, "formador@demo.lms")
    page.get_by_role("link", name="Redacción").click()
    page.get_by_role("link", name="Lecciones").first.click()
    page.locator(f"a[href$='/lessons/{LESSON}/edit']").click()
    body = page.locator("#body")
    body.fill(body.input_value().rstrip() + "\n\n" + NEW_PARAGRAPH + "\n")
    expect(page.locator("#preview")).to_contain_text(NEW_PARAGRAPH)  # the live preview, rendered by the server

    page.get_by_label("Buscar en la biblioteca de referencia").fill("base conocimiento")
    page.get_by_role("button", name="Buscar", exact=True).click()
    page.locator("#picker-results button").first.click()
    expect(page.locator("#picker-text")).not_to_be_empty()
    quote = select_in_picker(page)
    page.get_by_role("button", name="Citar la selección").click()
    expect(page.locator("#picker-status")).to_have_text("Cita insertada en las fuentes.")
    assert quote in page.locator("#sources").input_value()
    screenshot(page, "authoring-lesson-editor")
    page.get_by_role("button", name="Enviar a revisión").click()
    expect(page.locator(".flash-success")).to_contain_text("Enviado a revisión")
    draft_url = page.url

    # the author cannot review their own draft
    assert page.get_by_role("button", name="Aprobar y publicar").count() == 0
    # meanwhile the trainer proposes a new wording of a question an agent already answered
    page.goto(f"{site_url}/authoring/files")
    page.evaluate("document.querySelectorAll('details.bank-list').forEach(d => d.open = true)")
    page.locator("li", has=page.locator(f"code:text-is('{question_slug}')")).get_by_role("button", name="Editar").click()
    statement = page.get_by_label("Enunciado")  # the question's own form
    statement.fill("NUEVA REDACCIÓN: " + statement.input_value())
    page.get_by_role("button", name="Enviar a revisión").click()
    expect(page.locator(".flash-success")).to_contain_text("Enviado a revisión")
    question_draft_url = page.url
    log_out(page)

    log_in(page, site_url, "admin@demo.lms")
    page.goto(draft_url)
    expect(page.locator("table.diff ins").filter(has_text=NEW_PARAGRAPH)).to_be_visible()
    expect(page.locator(".cite-added").filter(has_text=quote)).to_be_visible()
    screenshot(page, "authoring-review-diff")
    page.get_by_label("Comentario").fill("Bien citado.")
    page.get_by_role("button", name="Aprobar y publicar").click()
    expect(page.locator(".flash-success")).to_contain_text("Aprobado y publicado")
    page.goto(question_draft_url)
    page.get_by_role("button", name="Aprobar y publicar").click()
    expect(page.locator(".flash-success")).to_contain_text("Aprobado y publicado")
    log_out(page)

    log_in(page, site_url, "agente@demo.lms")
    page.goto(f"{site_url}/lessons/{LESSON}")
    expect(page.get_by_text(NEW_PARAGRAPH)).to_be_visible()
    log_out(page)

    log_in(page, site_url, "agente4@demo.lms")
    page.goto(f"{site_url}/attempts/{attempt_id}/review")
    first = page.locator(".q-text").first
    expect(first).to_contain_text(original_text.split("\n")[0].replace("**", "").strip()[:40])
    expect(first).not_to_contain_text("NUEVA REDACCIÓN")


def test_trainer_imports_a_gift_file_reviewer_publishes_agent_takes_a_quiz_from_it(page, site_url):
    log_in(page, site_url, "formador@demo.lms")
    page.goto(f"{site_url}/manage/banks")
    page.get_by_role("link", name="Importar preguntas").last.click()
    page.get_by_label("Archivo GIFT, Aiken o Moodle XML").set_input_files(str(GIFT))
    page.get_by_label(re.compile("Banco \\(id")).fill("atencion-importada")
    page.get_by_label("Título del banco nuevo").fill("Atención (importado)")
    page.get_by_role("button", name="Importar como borrador").click()
    expect(page.locator("#file-error")).to_contain_text("Hay preguntas que no se pueden leer")
    page.get_by_label("Archivo GIFT, Aiken o Moodle XML").set_input_files(str(GIFT))
    page.get_by_label(re.compile("Omitir las preguntas no válidas")).check()
    page.get_by_role("button", name="Importar como borrador").click()
    expect(page.get_by_text("Línea 24: el bloque de respuestas no se cierra con «}»")).to_be_visible()

    # one citation for every question, picked from the handbook
    page.get_by_label("Buscar en la biblioteca de referencia").fill("respuesta inicial")
    page.get_by_role("button", name="Buscar", exact=True).click()
    page.locator("#picker-results button[data-ref^='manual/estandares-de-servicio']").first.click()
    expect(page.locator("#picker-text")).to_contain_text("Menos de 30 segundos")
    page.evaluate("""() => {
      const pre = document.getElementById('picker-text'); const text = pre.textContent;
      const start = text.indexOf('Chat**: Menos de 30 segundos');
      const range = document.createRange(); range.setStart(pre.firstChild, start); range.setEnd(pre.firstChild, start + 'Chat**: Menos de 30 segundos'.length);
      const s = window.getSelection(); s.removeAllRanges(); s.addRange(range);
    }""")
    page.get_by_role("button", name="Citar la selección").click()
    expect(page.locator("#cite_ref")).to_have_value(re.compile("^manual/estandares-de-servicio#"))
    page.get_by_role("button", name="Añadir la cita").click()
    expect(page.locator(".flash-success")).to_contain_text("Cita añadida a 6 preguntas")
    expect(page.locator("#skipped")).to_contain_text("4 preguntas se omitirán al publicar")
    screenshot(page, "authoring-import-draft")
    page.get_by_role("button", name="Enviar a revisión").click()
    expect(page.locator(".flash-success")).to_contain_text("Enviado a revisión")
    bank_draft = page.url
    log_out(page)

    # an admin publishes the bank, delegates publishing to the trainer, and writes a quiz drawing from the bank
    log_in(page, site_url, "admin@demo.lms")
    page.goto(bank_draft)
    expect(page.locator(".cite-added").first).to_be_visible()
    page.get_by_role("button", name="Aprobar y publicar").click()
    expect(page.locator(".flash-success")).to_contain_text("Aprobado y publicado")
    page.goto(f"{site_url}/authoring/permissions")
    page.locator("tr", has_text="Tomás Formador").locator("td").nth(2).get_by_role("button", name="Dar").click()
    expect(page.locator(".flash-success")).to_contain_text("Permisos actualizados")
    page.goto(f"{site_url}/authoring/new/quiz")
    page.get_by_label("Id (no cambia nunca)").fill("repaso-atencion")
    page.get_by_role("button", name="Crear el borrador").click()
    page.get_by_label("Título").fill("Repaso de atención (importado)")
    page.locator("#f-module").fill("semana-1-fundamentos")
    page.locator("#f-day").fill("0")
    page.locator("#f-draw").fill("- bank: atencion-importada\n  count: 2\n")
    page.locator("#f-time_limit_minutes").fill("")
    page.locator("#f-pass_mark").fill("50")
    page.get_by_label("Nota de la evaluación").select_option("last")
    page.get_by_role("button", name="Enviar a revisión").click()
    expect(page.locator(".flash-success")).to_contain_text("Enviado a revisión")
    quiz_draft = page.url
    log_out(page)

    log_in(page, site_url, "formador@demo.lms")
    page.goto(quiz_draft)
    page.get_by_role("button", name="Aprobar y publicar").click()
    expect(page.locator(".flash-success")).to_contain_text("Aprobado y publicado")
    log_out(page)

    log_in(page, site_url, "agente@demo.lms")
    page.goto(f"{site_url}/quizzes/repaso-atencion")
    page.get_by_role("button", name=re.compile("Empezar un intento")).click()
    page.wait_for_url(re.compile(r".*/attempts/\d+$"))
    assert page.get_by_text(re.compile("chat|teléfono")).first.is_visible()
    for name in page.eval_on_selector_all("input[type=radio]", "els => [...new Set(els.map(e => e.name))]"):
        page.locator(f"input[type=radio][name='{name}']").first.check()
    for field in page.locator("input[type=text]").all():
        field.fill("teléfono")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Enviar el intento").click()
    page.wait_for_url(re.compile(r".*/review\?submitted=1$"))
    assert page.get_by_role("heading", name=re.compile("Revisión del intento")).is_visible()


def test_bad_input_gets_a_field_error_and_the_draft_keeps_what_was_typed(page, site_url):
    log_in(page, site_url, "formadora@demo.lms")
    page.goto(f"{site_url}/authoring/lessons")
    page.locator("a[href*='/authoring/lessons/'][href$='/edit']").nth(3).click()
    body = page.locator("#body")
    typed = body.input_value().rstrip() + "\n\n<script>alert('x')</script> Texto que no se pierde.\n"
    body.fill(typed)
    expect(page.locator("#preview-problems")).to_contain_text("HTML que el sitio no muestra")
    page.get_by_role("button", name="Guardar borrador").click()
    expect(page.locator("#body-error")).to_contain_text("<script>")
    assert page.locator("#body").input_value() == typed

    # a 5 MB paste: refused on the field before sending, the text stays in the editor
    page.evaluate("() => { const b = document.getElementById('body'); b.value = 'x'.repeat(5 * 1024 * 1024); }")
    page.get_by_role("button", name="Guardar borrador").click()
    expect(page.locator("#body-limit-error")).to_contain_text("Demasiado largo")
    assert len(page.locator("#body").input_value()) == 5 * 1024 * 1024

    # a formula that divides by zero: an error on the formula field, what was typed stays
    page.goto(f"{site_url}/authoring/new/question?bank=metricas-y-kpis&type=calculated")
    page.get_by_label("Id (no cambia nunca)").fill("fcr-division-por-cero")
    page.get_by_role("button", name="Crear el borrador").click()
    page.get_by_label("Fórmula").fill("resueltos / (total - total)")
    page.get_by_role("button", name="Enviar a revisión").click()
    expect(page.locator("#formula-error")).to_contain_text("division by zero")
    expect(page.get_by_label("Fórmula")).to_have_value("resueltos / (total - total)")
    screenshot(page, "authoring-formula-error")

    # an escalation drill whose ticket cannot happen: an error on the ticket field
    page.goto(f"{site_url}/authoring/new/question?bank=escalamiento&type=escalation_drill")
    page.get_by_label("Id (no cambia nunca)").fill("drill-imposible")
    page.get_by_role("button", name="Crear el borrador").click()
    expect(page.locator("#f-ticket")).to_be_visible()
    ticket = page.locator("#f-ticket").input_value().replace("hours_at_current_level: 26", "hours_at_current_level: 90")
    page.locator("#f-ticket").fill(ticket)
    page.get_by_role("button", name="Guardar borrador").click()
    expect(page.locator("#ticket-error")).to_contain_text("hours_at_current_level cannot exceed hours_since_opening")
    assert page.locator("#f-ticket").input_value() == ticket
    screenshot(page, "authoring-drill-error")


def test_trainer_tries_a_scenario_draft_against_its_customer_model(page, site_url):
    """«Probar el role-play»: the draft's customer reacts to each reply (moves, needs, mood), what was typed is shown
    as text, and the conversation ends with the ending line and the pre-check; a draft with errors shows them."""
    log_in(page, site_url, "formadora@demo.lms")
    page.goto(f"{site_url}/authoring/files")
    page.locator("form[action$='/authoring/edit/scenario/queja-facturacion-cobro-duplicado'] button").click()
    panel = page.locator("#try-it")
    # each new text of the draft is checked with the whole published tree (content check's code path): a few
    # seconds on a loaded two-core machine, so the first answer of each text gets longer than expect's 5 s
    expect(panel.locator(".try-log li.customer").first).to_contain_text("Me habéis cobrado DOS veces", timeout=COMPILE_MS)
    reply = page.get_by_label("Tú")
    reply.fill("Hola, Gabriela. Soy Álvaro, de Kontia. Entiendo tu frustración. <b>ya</b>")
    panel.get_by_role("button", name="Responder").click()
    expect(panel.locator(".try-log li.try-facts")).to_have_count(1)
    expect(panel.locator(".try-log li.agent").first).to_contain_text("<b>ya</b>")  # text, not HTML
    assert panel.locator(".try-log b").count() == 0
    expect(panel.locator(".try-log li.customer").nth(1)).to_contain_text("gracias por entenderlo")
    expect(panel.locator(".try-log li.try-facts").first).to_contain_text("Reconoce la emoción del cliente")
    expect(panel.locator(".try-log li.try-facts").first).to_contain_text("3 · tranquilo")
    reply.fill("Paso ahora tu caso al equipo de logistica, nivel 4; te escribirán en 24 horas.")
    panel.get_by_role("button", name="Responder").click()
    expect(panel.locator(".try-log li.end")).to_contain_text("hacia un destino que no le corresponde")
    expect(panel.locator("#try-it-end .precheck")).to_contain_text("Revisión automática (orientativa)")
    expect(panel.locator("#try-it-end .precheck")).to_contain_text("nivel de escalamiento distinto del esperado")
    expect(reply).to_be_hidden()
    for width, height in ((1366, 768), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        screenshot(page, f"authoring-try-it-{width}")
    page.set_viewport_size({"width": 1280, "height": 900})

    # a draft with errors: the panel lists them instead of a conversation
    text = page.locator("#text").input_value()
    page.locator("#text").fill(text.replace("mode: chat", "mode: email"))
    page.get_by_role("button", name="Guardar borrador").click()
    expect(page.locator("#try-it-problems")).to_contain_text("a email role-play is timed against the email standard, not chat",
                                                             timeout=COMPILE_MS)
    expect(panel.locator(".try-thread")).to_have_count(0)
