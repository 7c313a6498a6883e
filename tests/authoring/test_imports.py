"""GIFT, Aiken and Moodle XML files uploaded in the site become a draft bank to review and publish."""
import io
from pathlib import Path

from sqlalchemy import select

from lms.authoring import moodle_xml
from lms.authoring.models import Draft
from lms.quizzes.models import Question, QuestionBank

DATA = Path(__file__).parent / "data"
CITE = {"cite_ref": "manual/estandares#respuesta-inicial", "cite_quote": "Chat: Menos de 30 segundos"}


def _upload(client, name="ejemplos_gift.gift", **form):
    data = {"file": (io.BytesIO((DATA / name).read_bytes()), name), "fmt": "auto", "bank": "atencion", "title": "Atención"} | form
    return client.post("/authoring/import", data=data, content_type="multipart/form-data")


def _draft(session):
    session.expire_all()
    return session.scalar(select(Draft).where(Draft.kind == "bank", Draft.slug == "atencion"))


def test_invalid_questions_are_refused_with_their_line_unless_skipped(content, client, auth, session, trainer):
    auth.login_as(trainer)
    page = _upload(client)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Línea 24" in html and "el bloque de respuestas no se cierra con «}»" in html and 'id="file-error"' in html
    assert _draft(session) is None


def test_upload_review_publish(content, client, auth, session, trainer, admin):
    auth.login_as(trainer)
    response = _upload(client, skip_invalid="1")
    assert response.status_code == 302
    draft = _draft(session)
    assert draft.state == "draft" and draft.options["import"]["errors"] == [[24, "el bloque de respuestas no se cierra con «}»"]]
    assert draft.text.count("- id: ") == 6
    edit = f"/authoring/drafts/{draft.id}/edit"
    page = client.get(edit).get_data(as_text=True)
    assert "Línea 24" in page

    # no citations yet: every question would be left out
    page = client.post(edit, data={"text": draft.text, "skip_invalid": "1", "action": "save"}).get_data(as_text=True)
    assert "6 preguntas se omitirán al publicar" in page
    # a citation that is not in its section is refused on its field, with content check's message
    page = client.post(edit, data={"text": draft.text, "skip_invalid": "1", "action": "cite_all", "cite_ref": CITE["cite_ref"],
                                   "cite_quote": "Chat: al instante"}).get_data(as_text=True)
    assert "quote not found in manual/estandares#respuesta-inicial: &#39;Chat: al instante&#39;" in page and 'id="cite-error"' in page
    page = client.post(edit, data={"text": draft.text, "skip_invalid": "1", "action": "cite_all", **CITE}).get_data(as_text=True)
    assert "Cita añadida a 6 preguntas sin fuentes" in page
    # keys stating numbers no quote states are left out (80, 1822, the 2 hours of the true/false and the matching)
    assert "4 preguntas se omitirán al publicar" in page and "the key states 1822 but no cited quote says 1822" in page
    draft = _draft(session)
    response = client.post(edit, data={"text": draft.text, "skip_invalid": "1", "action": "submit"})
    assert response.status_code == 302
    assert _draft(session).state == "in_review"
    auth.logout()

    auth.login_as(admin)
    client.post(f"/authoring/drafts/{draft.id}/act", data={"action": "approve_publish"})
    assert _draft(session).state == "published"
    bank = session.scalar(select(QuestionBank).where(QuestionBank.slug == "atencion"))
    assert bank.source_path == "quizzes/banks/atencion.yaml"
    assert sorted(session.scalars(select(Question.slug).where(Question.bank_id == bank.id))) == ["canal-chat", "respuesta-corta"]


def test_moodle_xml_is_read():
    xml = """<?xml version="1.0" encoding="UTF-8"?>
<quiz>
  <question type="category"><category><text>$course$/Canales</text></category></question>
  <question type="multichoice">
    <name><text>Chat</text></name>
    <questiontext format="html"><text><![CDATA[<p>¿Tiempo del <b>chat</b>?</p>]]></text></questiontext>
    <generalfeedback><text>30 segundos.</text></generalfeedback>
    <single>true</single>
    <answer fraction="100"><text>Menos de 30 segundos</text></answer>
    <answer fraction="0"><text>Menos de 2 horas</text><feedback><text>Eso es el email.</text></feedback></answer>
  </question>
  <question type="truefalse">
    <name><text>Email</text></name>
    <questiontext><text>El email se responde en menos de 2 horas.</text></questiontext>
    <answer fraction="100"><text>true</text></answer><answer fraction="0"><text>false</text></answer>
  </question>
  <question type="numerical">
    <name><text>Nivel 1</text></name>
    <questiontext><text>¿Porcentaje?</text></questiontext>
    <answer fraction="100"><text>80</text><tolerance>1</tolerance></answer>
  </question>
  <question type="calculatedmulti"><name><text>X</text></name><questiontext><text>?</text></questiontext></question>
</quiz>"""
    report = moodle_xml.parse(xml)
    assert report.category == "Canales"
    assert [q["type"] for q in report.questions] == ["single_choice", "true_false", "numeric"]
    first = report.questions[0]
    assert first["id"] == "chat" and first["text"] == "¿Tiempo del chat?" and first["explanation"] == "30 segundos."
    assert first["choices"] == [{"text": "Menos de 30 segundos", "correct": True}, {"text": "Menos de 2 horas", "feedback": "Eso es el email."}]
    assert report.questions[2]["answer"] == 80 and report.questions[2]["tolerance"] == 1
    assert report.errors == [(22, "question type 'calculatedmulti' is not supported (multichoice, truefalse, shortanswer, numerical, matching, essay)")]


def test_moodle_xml_with_entities_is_refused():
    report = moodle_xml.parse('<?xml version="1.0"?><!DOCTYPE q [<!ENTITY a "aaaa">]><quiz>&a;</quiz>')
    assert report.errors and "entities" in report.errors[0][1] and not report.questions
    assert moodle_xml.parse("<quiz><question")  .errors[0][1].startswith("not well-formed XML")



def test_moodles_own_gift_examples_become_a_draft_bank(content, client, auth, session, trainer):
    """Moodle's GIFT documentation examples and test file (tests/quizzes/data/moodle_gift_examples.txt) upload whole."""
    auth.login_as(trainer)
    moodle = Path(__file__).resolve().parent.parent / "quizzes" / "data" / "moodle_gift_examples.txt"
    response = client.post("/authoring/import", data={"file": (io.BytesIO(moodle.read_bytes()), "moodle.gift"), "fmt": "auto",
                                                      "bank": "moodle", "title": "Ejemplos de Moodle"},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    session.expire_all()
    draft = session.scalar(select(Draft).where(Draft.kind == "bank", Draft.slug == "moodle"))
    assert draft.state == "draft" and draft.options["import"]["errors"] == []
    assert draft.options["import"]["count"] == draft.text.count("- id: ") == 44
    for kind in ("essay", "matching", "multiple_choice", "numeric", "short_text", "single_choice", "true_false"):
        assert f"type: {kind}" in draft.text, kind
