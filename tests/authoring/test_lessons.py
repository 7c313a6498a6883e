"""Lessons authored in the site: draft, review by another person, publish through the content sync path."""
from datetime import date

from sqlalchemy import select

from lms.authoring import services
from lms.authoring.models import Draft
from lms.content.models import ContentSiteEdit
from lms.core.audit import AuditEvent
from lms.tracks import services as tracks
from lms.tracks.models import Lesson

GOOD_QUOTE = "Email: Menos de 2 horas"


def _fields(client, slug="a-uno"):
    page = client.get(f"/authoring/lessons/{slug}/edit")
    assert page.status_code == 200
    return {
        "title": "Tiempos de respuesta", "day": "0", "minutes": "15",
        "objectives": "Recordar el tiempo de respuesta del chat.",
        "sources": '- ref: manual/estandares#respuesta-inicial\n  quote: "Chat: Menos de 30 segundos"\n',
        "house_rules": "",
        "body": "En **chat** respondemos en menos de 30 segundos.\n",
    }


def _draft(session, slug="a-uno"):
    session.expire_all()
    return session.scalar(select(Draft).where(Draft.kind == "lesson", Draft.slug == slug).order_by(Draft.id.desc()))


def test_trainer_drafts_reviewer_publishes_agent_sees_new_text(content, client, auth, session, trainer, admin, agent, manager):
    tracks.enroll(session, actor=manager, agent=agent, track=tracks.find_track(session, "corto"), start_date=date(2026, 1, 5), now=_now())
    session.commit()
    auth.login_as(trainer)
    fields = _fields(client)
    fields["body"] = "Respondemos un **email** en menos de 2 horas y un chat en menos de 30 segundos.\n"
    fields["sources"] += f'- ref: manual/estandares#respuesta-inicial\n  quote: "{GOOD_QUOTE}"\n'
    response = client.post("/authoring/lessons/a-uno/edit", data=fields | {"action": "submit"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    draft = _draft(session)
    assert draft.state == "in_review" and draft.author_id == trainer.id

    # the author cannot approve their own draft
    client.post(f"/authoring/drafts/{draft.id}/act", data={"action": "approve"})
    assert _draft(session).state == "in_review"
    # agents see the published text until the draft is published
    assert "2 horas" not in session.scalar(select(Lesson.body).where(Lesson.slug == "a-uno"))
    auth.logout()

    auth.login_as(admin)
    page = client.get(f"/authoring/drafts/{draft.id}").get_data(as_text=True)
    assert "<ins>" in page and GOOD_QUOTE in page  # the diff and the added citation
    response = client.post(f"/authoring/drafts/{draft.id}/act", data={"action": "approve_publish", "comment": "Bien citado"})
    assert response.status_code == 302
    assert "Aprobado y publicado" in client.get(response.location).get_data(as_text=True)
    draft = _draft(session)
    assert draft.state == "published" and draft.revision == 1 and draft.publisher_id == admin.id
    lesson = session.scalar(select(Lesson).where(Lesson.slug == "a-uno"))
    assert "2 horas" in lesson.body
    assert [c["quote"] for c in lesson.sources][-1] == GOOD_QUOTE
    edit = session.scalar(select(ContentSiteEdit).where(ContentSiteEdit.path == "courses/lessons/semana-a/a-uno.md"))
    assert edit is not None and edit.actor_id == admin.id
    kinds = [e.kind for e in session.scalars(select(AuditEvent).where(AuditEvent.subject == "lesson:a-uno").order_by(AuditEvent.id))]
    assert kinds[:2] == ["authoring_draft_started", "authoring_draft_saved"]
    assert kinds[-3:] == ["authoring_draft_submitted", "authoring_draft_approved", "authoring_draft_published"]
    auth.logout()

    auth.login_as(agent)
    assert "2 horas" in client.get("/lessons/a-uno").get_data(as_text=True)


def test_bad_input_gets_field_errors_and_keeps_what_was_typed(content, client, auth, session, trainer):
    auth.login_as(trainer)
    fields = _fields(client)
    fields["body"] = "Texto nuevo <script>alert(1)</script> que no se pierde.\n"
    fields["sources"] = '- ref: manual/estandares#respuesta-inicial\n  quote: "Chat: en menos de un minuto"\n'
    page = client.post("/authoring/lessons/a-uno/edit", data=fields | {"action": "submit"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # the same message as 'content check', on the sources field
    assert "quote not found in manual/estandares#respuesta-inicial: &#39;Chat: en menos de un minuto&#39;" in html
    assert 'id="sources-error"' in html and 'id="body-error"' in html and "&lt;script&gt;" in html
    assert "Texto nuevo &lt;script&gt;alert(1)&lt;/script&gt; que no se pierde." in html  # what was typed is still there
    draft = _draft(session)
    assert draft.state == "draft"  # not submitted
    assert draft.options["fields"]["body"] == fields["body"]
    assert {p["field"] for p in draft.problems} >= {"sources", "body"}
    # the page shows the draft again, as typed
    assert "que no se pierde" in client.get("/authoring/lessons/a-uno/edit").get_data(as_text=True)


def test_a_five_megabyte_paste_is_refused_on_the_field_and_the_draft_is_kept(content, client, auth, session, trainer):
    auth.login_as(trainer)
    fields = _fields(client)
    fields["body"] = "Primera versión guardada.\n"
    client.post("/authoring/lessons/a-uno/edit", data=fields | {"action": "save"})
    huge = "x" * (5 * 1024 * 1024)
    page = client.post("/authoring/lessons/a-uno/edit", data=fields | {"body": huge, "action": "save"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Demasiado largo" in html and 'id="body-error"' in html
    assert huge in html  # the paste is still in the form
    assert _draft(session).options["fields"]["body"] == "Primera versión guardada.\n"


def test_permissions(content, session, make_user, trainer, admin):
    reviewer = make_user("trainer")
    assert not services.can_review(session, reviewer)
    services.grant(session, admin=admin, user=reviewer, permission="reviewer", now=_now())
    assert services.can_review(session, reviewer) and not services.can_publish(session, reviewer)
    services.grant(session, admin=admin, user=reviewer, permission="publisher", now=_now())
    assert services.can_publish(session, reviewer)
    draft = Draft(kind="lesson", slug="a-uno", path="x", title="x", text="", author_id=reviewer.id)
    assert not services.can_review(session, reviewer, draft) and not services.can_publish(session, reviewer, draft)
    assert not services.can_review(session, trainer)


def test_agents_and_managers_never_reach_drafts(content, client, auth, make_user, session, trainer):
    auth.login_as(trainer)
    client.post("/authoring/lessons/a-uno/edit", data=_fields(client) | {"action": "save"})
    draft = _draft(session)
    auth.logout()
    for role in ("agent", "manager"):
        auth.login_as(make_user(role))
        for url in ("/authoring/", f"/authoring/drafts/{draft.id}", "/authoring/lessons/a-uno/edit"):
            assert client.get(url).status_code == 403
        auth.logout()


def test_preview_is_sanitised(content, client, auth, trainer):
    auth.login_as(trainer)
    data = client.post("/authoring/preview", data={"body": "**hola** <script>alert(1)</script>"}).get_json()
    assert "<strong>hola</strong>" in data["html"] and "<script" not in data["html"]
    assert data["problems"]


def test_citation_check_and_picker_lookups(content, client, auth, trainer):
    auth.login_as(trainer)
    ok = client.post("/authoring/reference/check", data={"ref": "manual/estandares#respuesta-inicial", "quote": "Chat: Menos de 30 segundos"}).get_json()
    assert ok == {"ok": True, "message": None}
    bad = client.post("/authoring/reference/check", data={"ref": "manual/estandares#respuesta-inicial", "quote": "nada"}).get_json()
    assert bad["message"] == "quote not found in manual/estandares#respuesta-inicial: 'nada'"
    found = client.get("/authoring/reference/search?q=respuesta").get_json()["results"]
    assert any(r["ref"] == "manual/estandares#respuesta-inicial" for r in found)
    section = client.get("/authoring/reference/section?ref=manual/estandares%23respuesta-inicial").get_json()
    assert "Menos de 30 segundos" in section["text"]


def _now():
    from lms.core.clock import now_utc

    return now_utc()


def test_a_new_lesson_is_listed_in_its_module_when_published(content, client, auth, session, trainer, admin):
    auth.login_as(trainer)
    page = client.post("/authoring/lessons/new", data={"module": "semana-a", "slug": "A mal", "title": ""}).get_data(as_text=True)
    assert "El id usa minúsculas" in page and "Escribe el título." in page
    response = client.post("/authoring/lessons/new", data={"module": "semana-a", "slug": "a-tres", "title": "Cierre del contacto"})
    assert response.location.endswith("/authoring/lessons/a-tres/edit")
    fields = {"title": "Cierre del contacto", "day": "1", "minutes": "10", "objectives": "Cerrar bien.", "house_rules": "",
              "sources": '- ref: manual/estandares#respuesta-inicial\n  quote: "Chat: Menos de 30 segundos"\n',
              "body": "Responde el chat en menos de 30 segundos y despídete.\n"}
    assert client.post("/authoring/lessons/a-tres/edit", data=fields | {"action": "submit"}).status_code == 302
    draft = _draft(session, "a-tres")
    assert "Contenido nuevo" in client.get(f"/authoring/drafts/{draft.id}").get_data(as_text=True)
    auth.logout()
    auth.login_as(admin)
    client.post(f"/authoring/drafts/{draft.id}/act", data={"action": "approve_publish"})
    session.expire_all()
    lesson = session.scalar(select(Lesson).where(Lesson.slug == "a-tres"))
    assert lesson is not None and lesson.module.slug == "semana-a" and lesson.position == 2
    assert lesson.source_path == "courses/lessons/semana-a/a-tres.md"
