"""The lesson editor: Markdown with live preview, the citation picker, save as draft, submit for review."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from lms.authoring import lessons, services
from lms.authoring.tree import FieldProblem
from lms.authoring.views import AUTHORS, bp
from lms.content.schema import check_id
from lms.core.clock import now_utc
from lms.core.db import get_session
from lms.core.errors import DomainError
from lms.core.security import roles_required
from lms.tracks.models import Lesson, Module


@bp.route("/lessons")
@roles_required(*AUTHORS)
def lessons_list():
    session = get_session()
    modules = list(session.scalars(select(Module).where(Module.is_archived.is_(False)).order_by(Module.slug)))
    by_module: dict[int, list[Lesson]] = {}
    for lesson in session.scalars(select(Lesson).where(Lesson.is_archived.is_(False)).order_by(Lesson.position)):
        by_module.setdefault(lesson.module_id, []).append(lesson)
    drafts = {d.slug: d for d in services.open_drafts(session) if d.kind == "lesson"}
    new_drafts = [d for d in drafts.values() if not any(lesson.slug == d.slug for ls in by_module.values() for lesson in ls)]
    return render_template("authoring/lessons.html", modules=modules, by_module=by_module, drafts=drafts, new_drafts=new_drafts)


@bp.route("/lessons/new", methods=["GET", "POST"])
@roles_required(*AUTHORS)
def new_lesson():
    session = get_session()
    modules = list(session.scalars(select(Module).where(Module.is_archived.is_(False)).order_by(Module.slug)))
    errors: dict[str, str] = {}
    values = {"module": request.form.get("module", ""), "slug": request.form.get("slug", "").strip(),
              "title": request.form.get("title", "").strip()}
    if request.method == "POST":
        if values["module"] not in {m.slug for m in modules}:
            errors["module"] = _("Elige el módulo.")
        if check_id(values["slug"]):
            errors["slug"] = _("El id usa minúsculas, números y guiones simples (p. ej. s1-mi-leccion).")
        elif session.scalar(select(Lesson.id).where(Lesson.slug == values["slug"])) or services.open_draft(session, "lesson", values["slug"]):
            errors["slug"] = _("Ya existe una lección (o un borrador) con ese id.")
        if not values["title"]:
            errors["title"] = _("Escribe el título.")
        if not errors:
            fields = {"title": values["title"], "day": "0", "minutes": "15", "objectives": "", "sources": "",
                      "house_rules": "", "body": ""}
            text, _problems = lessons.compose(values["slug"], values["module"], fields)
            services.start_draft(session, kind="lesson", slug=values["slug"], path=lessons.lesson_path(values["module"], values["slug"]),
                                 title=values["title"], text=text or "", base_text=None, author=current_user, now=now_utc(),
                                 options={"module": values["module"], "fields": fields})
            return redirect(url_for("authoring.edit_lesson", slug=values["slug"]))
    return render_template("authoring/lesson_new.html", modules=modules, values=values, errors=errors)


@bp.route("/lessons/<slug>/edit", methods=["GET", "POST"])
@roles_required(*AUTHORS)
def edit_lesson(slug: str):
    session = get_session()
    found = lessons.get_lesson(session, slug)
    draft = services.open_draft(session, "lesson", slug)
    if found is None and draft is None:
        abort(404)
    module_slug = found[1].slug if found else draft.options["module"]
    problems: list[FieldProblem] = []
    if request.method == "GET":
        fields = (draft.options or {}).get("fields") if draft else None
        fields = fields or lessons.fields_of_lesson(*found)
        problems = [FieldProblem(**p) for p in (draft.problems or [])] if draft else []
        return _render(draft, slug, module_slug, fields, problems, found)

    fields = {name: request.form.get(name, "") for name in lessons.FIELDS}
    fields = {k: v.replace("\r\n", "\n") for k, v in fields.items()}
    action = request.form.get("action", "save")
    now = now_utc()
    if draft is None:
        published = lessons.published_text(*found)
        draft = services.start_draft(session, kind="lesson", slug=slug, path=lessons.lesson_path(module_slug, slug),
                                     title=found[0].title, text=published, base_text=published, author=current_user, now=now,
                                     options={"module": module_slug})
    text, problems = lessons.compose(slug, module_slug, fields)
    over_limit = lessons.too_long(fields)
    try:
        if text is not None:
            old_text = draft.text
            draft.text = text
            problems = services.check(session, draft, extra=problems)
            draft.text = old_text
        services.save(session, draft, actor=current_user, now=now, text=text, title=fields["title"].strip() or None,
                      fields=None if over_limit else fields, problems=problems)
        if action == "submit":
            services.submit(session, draft, actor=current_user, now=now, problems=problems)
            flash(_("Enviado a revisión. Un revisor verá los cambios y sus fuentes."), "success")
            return redirect(url_for("authoring.draft", draft_id=draft.id))
    except DomainError as exc:
        flash(str(exc), "error")
        return _render(draft, slug, module_slug, fields, problems, found)
    if over_limit:
        flash(_("No se ha guardado: un campo supera el tamaño máximo. Tu texto sigue en el formulario."), "error")
    elif problems:
        flash(_("Borrador guardado, con errores que corregir antes de enviarlo a revisión."), "warning")
    else:
        flash(_("Borrador guardado."), "success")
    return _render(draft, slug, module_slug, fields, problems, found)


def _render(draft, slug, module_slug, fields, problems, found):
    by_field: dict[str, list[str]] = {}
    for problem in problems:
        by_field.setdefault(problem.field if problem.field in lessons.FIELDS else "", []).append(problem.message)
    return render_template("authoring/lesson_edit.html", draft=draft, slug=slug, module=module_slug, fields=fields,
                           errors=by_field, lesson=found[0] if found else None,
                           body_limit=lessons.BODY_LIMIT)
