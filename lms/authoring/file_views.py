"""Editors for the YAML content files (banks, questions of every type, quizzes, rubrics, certifications,
role-play scenarios), imports of GIFT / Aiken / Moodle XML into draft banks."""
from __future__ import annotations

from flask import abort, flash, get_template_attribute, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from lms.authoring import imports, question_form, questions, services, templates_yaml, tryit
from lms.authoring.citations import check_one
from lms.authoring.exporters import question_as_file
from lms.authoring.tree import FieldProblem
from lms.authoring.views import AUTHORS, bp
from lms.certification.models import CertificationDefinition
from lms.content.export import dump_yaml, export_texts
from lms.content.schema import check_id
from lms.core.clock import now_utc
from lms.core.db import get_session
from lms.core.errors import DomainError
from lms.core.security import roles_required
from lms.quizzes.models import Question, QuestionBank, QuestionVersion, Quiz
from lms.quizzes.question_types import REGISTRY
from lms.roleplays.models import Rubric, Scenario

#: the most a YAML file typed in the site may hold
TEXT_LIMIT = 1_000_000
FILE_KINDS = ("bank", "question", "quiz", "rubric", "scenario", "certification")


@bp.route("/files")
@roles_required(*AUTHORS)
def files():
    session = get_session()
    banks = list(session.scalars(select(QuestionBank).where(QuestionBank.is_archived.is_(False)).order_by(QuestionBank.slug)))
    by_bank: dict[int, list[Question]] = {}
    for question in session.scalars(select(Question).where(Question.is_archived.is_(False)).order_by(Question.position)):
        by_bank.setdefault(question.bank_id, []).append(question)
    drafts = {(d.kind, d.slug): d for d in services.open_drafts(session)}
    return render_template(
        "authoring/files.html", banks=banks, by_bank=by_bank, drafts=drafts, types=sorted(REGISTRY),
        quizzes=list(session.scalars(select(Quiz).where(Quiz.is_archived.is_(False)).order_by(Quiz.slug))),
        rubrics=list(session.scalars(select(Rubric).where(Rubric.is_archived.is_(False)).order_by(Rubric.slug))),
        scenarios=list(session.scalars(select(Scenario).where(Scenario.is_archived.is_(False)).order_by(Scenario.slug))),
        certifications=list(session.scalars(select(CertificationDefinition).where(CertificationDefinition.is_archived.is_(False))
                                            .order_by(CertificationDefinition.slug))))


def published_item(session, kind: str, slug: str) -> tuple[str, str, str, dict] | None:
    """(path, title, published text, options) of an item, or None."""
    if kind == "question":
        row = session.execute(select(Question, QuestionBank, QuestionVersion.data)
                              .join(QuestionBank, QuestionBank.id == Question.bank_id)
                              .join(QuestionVersion, (QuestionVersion.question_id == Question.id) & (QuestionVersion.version == Question.current_version))
                              .where(Question.slug == slug, Question.is_archived.is_(False))).first()
        if row is None:
            return None
        question, bank, data = row
        return bank.source_path, data.get("title") or data.get("text", slug)[:120], dump_yaml(question_as_file(data)), {"bank": bank.slug}
    model = {"bank": QuestionBank, "quiz": Quiz, "rubric": Rubric, "scenario": Scenario, "certification": CertificationDefinition}.get(kind)
    if model is None:
        return None
    row = session.scalar(select(model).where(model.slug == slug, model.is_archived.is_(False)))
    if row is None:
        return None
    path = f"roleplays/rubrics/{slug}.yaml" if kind == "rubric" else row.source_path
    text = export_texts(session).get(path)
    return (path, row.title, text, {}) if text is not None else None


@bp.route("/edit/<kind>/<slug>", methods=["POST"])
@roles_required(*AUTHORS)
def edit_item(kind: str, slug: str):
    """Open the item's draft, starting one from the published version if there is none."""
    session = get_session()
    draft = services.open_draft(session, kind, slug)
    if draft is None:
        found = published_item(session, kind, slug)
        if found is None:
            abort(404)
        path, title, text, options = found
        draft = services.start_draft(session, kind=kind, slug=slug, path=path, title=title, text=text, base_text=text,
                                     author=current_user, now=now_utc(), options=options)
    return redirect(url_for("authoring.edit_file", draft_id=draft.id))


@bp.route("/new/<kind>", methods=["GET", "POST"])
@roles_required(*AUTHORS)
def new_item(kind: str):
    if kind not in FILE_KINDS:
        abort(404)
    session = get_session()
    banks = list(session.scalars(select(QuestionBank).where(QuestionBank.is_archived.is_(False)).order_by(QuestionBank.slug)))
    values = {"slug": request.values.get("slug", "").strip(), "type": request.values.get("type", ""),
              "bank": request.values.get("bank", "")}
    errors: dict[str, str] = {}
    if request.method == "POST":
        if check_id(values["slug"]):
            errors["slug"] = _("El id usa minúsculas, números y guiones simples (p. ej. s1-mi-leccion).")
        elif services.open_draft(session, kind, values["slug"]) or published_item(session, kind, values["slug"]) or (
                kind == "question" and session.scalar(select(Question.id).where(Question.slug == values["slug"]))):
            errors["slug"] = _("Ya existe un contenido (o un borrador) con ese id.")
        bank = next((b for b in banks if b.slug == values["bank"]), None)
        if kind == "question":
            if values["type"] not in REGISTRY:
                errors["type"] = _("Elige el tipo de pregunta.")
            if bank is None:
                errors["bank"] = _("Elige el banco.")
        if not errors:
            slug = values["slug"]
            if kind == "question":
                draft = services.start_draft(session, kind="question", slug=slug, path=bank.source_path, title=slug,
                                             text=templates_yaml.question(slug, values["type"]), base_text=None,
                                             author=current_user, now=now_utc(), options={"bank": bank.slug})
            else:
                draft = services.start_draft(session, kind=kind, slug=slug, path=templates_yaml.PATHS[kind].format(slug=slug),
                                             title=slug, text=templates_yaml.NEW[kind](slug), base_text=None,
                                             author=current_user, now=now_utc())
            return redirect(url_for("authoring.edit_file", draft_id=draft.id))
    return render_template("authoring/new_item.html", kind=kind, values=values, errors=errors, banks=banks, types=sorted(REGISTRY))


@bp.route("/drafts/<int:draft_id>/edit", methods=["GET", "POST"])
@roles_required(*AUTHORS)
def edit_file(draft_id: int):
    session = get_session()
    try:
        draft = services.get_draft(session, draft_id)
    except DomainError:
        abort(404)
    if draft.kind == "lesson":
        return redirect(url_for("authoring.edit_lesson", slug=draft.slug))
    if draft.kind in ("question", "quiz") and not request.values.get("raw") and question_form.values_of(draft.text, draft.kind)[0]:
        return _question_form(draft)
    text = draft.text
    problems = [FieldProblem(**p) for p in draft.problems or []]
    skipped: list[dict] = []
    if request.method == "POST":
        text = request.form.get("text", "").replace("\r\n", "\n")
        action = request.form.get("action", "save")
        now = now_utc()
        try:
            if len(text) > TEXT_LIMIT:
                problems = [FieldProblem("text", 0, _("Demasiado largo: %(n)s caracteres; el máximo es %(max)s.",
                                                      n=f"{len(text):,}".replace(",", "."), max=f"{TEXT_LIMIT:,}".replace(",", ".")))]
                flash(_("No se ha guardado: un campo supera el tamaño máximo. Tu texto sigue en el formulario."), "error")
                return _render(draft, text, problems, skipped)
            if action == "cite_all" and draft.kind == "bank":
                ref, quote = request.form.get("cite_ref", "").strip(), request.form.get("cite_quote", "").strip()
                message = check_one(session, ref, quote)
                if message:
                    return _render(draft, text, problems, skipped, cite_error=message, cite=(ref, quote))
                text, n = imports.cite_all(text, draft.path, ref, quote)
                flash(_("Cita añadida a %(n)d preguntas sin fuentes.", n=n), "success")
            if draft.kind == "bank":
                draft.options = dict(draft.options or {}) | {"skip_invalid": bool(request.form.get("skip_invalid"))}
            old = draft.text
            draft.text = text
            problems = services.check(session, draft)
            draft.text = old
            services.save(session, draft, actor=current_user, now=now, text=text, fields={}, problems=problems)
            if action == "submit":
                services.submit(session, draft, actor=current_user, now=now, problems=problems)
                flash(_("Enviado a revisión. Un revisor verá los cambios y sus fuentes."), "success")
                return redirect(url_for("authoring.draft", draft_id=draft.id))
        except DomainError as exc:
            flash(str(exc), "error")
            return _render(draft, text, problems, skipped)
        if action != "cite_all":
            flash(_("Borrador guardado, con errores que corregir antes de enviarlo a revisión.") if problems else _("Borrador guardado."),
                  "error" if problems else "success")
    return _render(draft, text, problems, skipped)


@bp.route("/drafts/<int:draft_id>/try", methods=["POST"])
@roles_required(*AUTHORS)
def try_draft(draft_id: int):
    """«Probar el role-play»: JSON {replies: [{text, seconds, customer}]} in; the draft's simulation (or its problems) out."""
    session = get_session()
    try:
        draft = services.get_draft(session, draft_id)
    except DomainError:
        abort(404)
    if draft.kind != "scenario":
        return jsonify(ok=False, error=_("Solo se prueban los borradores de escenarios de role-play.")), 400
    replies, message = tryit.replies_of(request.get_json(silent=True))
    if replies is None:
        return jsonify(ok=False, error=message), 400
    out = tryit.play(session, draft, replies).as_json()
    if out["ok"]:  # the pre-check as the agent sees it after a practice: the site's own template, autoescaped
        box, sim = get_template_attribute("roleplays/_parts.html", "precheck_box"), out["simulation"]
        checks = sim["precheck"] if len(out["customers"]) > 1 else {out["customers"][0]["id"]: sim["precheck"]}
        out["precheck_html"] = {cid: str(box(check)) for cid, check in checks.items()}
    return jsonify(out)


def _question_form(draft):
    """The question's (or quiz's) own form: one input per field of its type."""
    session = get_session()
    kind, values = question_form.values_of(draft.text, draft.kind)
    problems = [FieldProblem(**p) for p in draft.problems or []]
    if request.method == "POST":
        values = {f.name: request.form.get(f.name, "") for f in question_form.form_fields(draft.kind, kind)}
        action, now = request.form.get("action", "save"), now_utc()
        if any(len(v) > TEXT_LIMIT for v in values.values()):
            flash(_("No se ha guardado: un campo supera el tamaño máximo. Tu texto sigue en el formulario."), "error")
            return _render_question(draft, kind, values, problems)
        text, problems = question_form.compose(draft.slug, kind, values)
        try:
            if text is not None:
                old = draft.text
                draft.text = text
                problems = services.check(session, draft, extra=problems)
                draft.text = old
            services.save(session, draft, actor=current_user, now=now, text=text, fields=values, problems=problems)
            if action == "submit":
                services.submit(session, draft, actor=current_user, now=now, problems=problems)
                flash(_("Enviado a revisión. Un revisor verá los cambios y sus fuentes."), "success")
                return redirect(url_for("authoring.draft", draft_id=draft.id))
        except DomainError as exc:
            flash(str(exc), "error")
            return _render_question(draft, kind, values, problems)
        flash(_("Borrador guardado, con errores que corregir antes de enviarlo a revisión.") if problems else _("Borrador guardado."),
              "error" if problems else "success")
    elif (draft.options or {}).get("fields"):
        values = draft.options["fields"]
    return _render_question(draft, kind, values, problems)


def _render_question(draft, kind, values, problems):
    errors: dict[str, list[str]] = {}
    for problem in problems:
        errors.setdefault(problem.field if problem.field in values else "", []).append(problem.message)
    text, _problems = question_form.compose(draft.slug, kind, values)
    return render_template("authoring/question_edit.html", draft=draft, kind=kind, values=values, errors=errors,
                           fields=[(f, question_form.widget(f), question_form.LABELS.get(f.name, f.name))
                                   for f in question_form.form_fields(draft.kind, kind)],
                           choices=question_form.CHOICES, preview=questions.preview(text) if text and draft.kind == "question" else None)


def _render(draft, text, problems, skipped, cite_error=None, cite=("", "")):
    if draft.kind == "bank" and (draft.options or {}).get("skip_invalid") and draft.state != "published":
        skipped = (draft.options or {}).get("skipped") or []
    return render_template("authoring/file_edit.html", draft=draft, text=text, problems=problems, skipped=skipped,
                           preview=questions.preview(text) if draft.kind == "question" else None,
                           tryit=questions.scenario_preview(text) if draft.kind == "scenario" else None,
                           cite_error=cite_error, cite=cite, report=(draft.options or {}).get("import"))


@bp.route("/import", methods=["GET", "POST"])
@roles_required(*AUTHORS)
def import_bank():
    session = get_session()
    banks = list(session.scalars(select(QuestionBank).where(QuestionBank.is_archived.is_(False)).order_by(QuestionBank.slug)))
    values = {"fmt": request.form.get("fmt", "auto"), "bank": request.form.get("bank", "").strip(),
              "title": request.form.get("title", "").strip(), "skip_invalid": bool(request.form.get("skip_invalid"))}
    errors: dict[str, str] = {}
    report = None
    if request.method == "POST":
        upload = request.files.get("file")
        if values["fmt"] not in imports.FORMATS:
            abort(400)
        if upload is None or not upload.filename:
            errors["file"] = _("Elige el archivo.")
        elif values["bank"] and check_id(values["bank"]):
            errors["bank"] = _("El id usa minúsculas, números y guiones simples (p. ej. s1-mi-leccion).")
        else:
            raw = upload.read(imports.MAX_BYTES + 1)
            if len(raw) > imports.MAX_BYTES:
                errors["file"] = _("El archivo supera los 2 MB.")
            else:
                fmt, report = imports.read_upload(upload.filename, imports.decode(raw), values["fmt"])
                try:
                    draft = imports.start_import(session, report=report, fmt=fmt, filename=upload.filename, bank=values["bank"],
                                                 title=values["title"], skip_invalid=values["skip_invalid"], author=current_user,
                                                 now=now_utc(), published=export_texts(session))
                except DomainError as exc:
                    errors["file"] = str(exc)
                else:
                    draft.problems = [p.as_dict() for p in services.check(session, draft)]
                    flash(_("Importado como borrador del banco «%(bank)s»: añade las fuentes, revisa y envía a revisión.", bank=draft.slug), "success")
                    return redirect(url_for("authoring.edit_file", draft_id=draft.id))
    return render_template("authoring/import.html", values=values, errors=errors, report=report, banks=banks)
