"""Drafts: who may write, review and publish them, and their life (draft → in review → approved → published).

Every step leaves a row in the audit trail (``audit_events``: who, when, what) and, for the review, a comment
on the draft.  Nothing here is seen by agents: drafts live in their own tables until published.
"""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lms.accounts.models import User
from lms.authoring import tree
from lms.authoring.models import OPEN_STATES, AuthoringGrant, Draft, DraftComment
from lms.content.export import dump_yaml, export_texts
from lms.content.files import ContentFileError, parse_yaml, plain
from lms.core import audit
from lms.core.errors import DomainError, Forbidden, NotFound

AUTHOR_ROLES = ("trainer", "admin")
PERMISSIONS = ("reviewer", "publisher")
#: kinds whose file is Markdown with front matter
MARKDOWN_KINDS = ("lesson", "scenario")
KINDS = ("lesson", "question", "bank", "quiz", "rubric", "scenario", "certification")


# -- permissions -----------------------------------------------------------------------------------------------
def grants_of(session: Session, user_id: int) -> set[str]:
    return set(session.scalars(select(AuthoringGrant.permission).where(AuthoringGrant.user_id == user_id)))


def can_author(user) -> bool:
    return getattr(user, "role", None) in AUTHOR_ROLES


def editors(draft: Draft) -> set[int]:
    """Who changed the draft's text: none of them may review or publish it."""
    options = draft.options or {}
    if "editors" not in options:
        return {draft.author_id} if draft.author_id else set()
    return set(options["editors"])


def can_review(session: Session, user, draft: Draft | None = None) -> bool:
    if draft is not None and user.id in editors(draft):
        return False
    return user.role == "admin" or (user.role == "trainer" and "reviewer" in grants_of(session, user.id))


def can_publish(session: Session, user, draft: Draft | None = None) -> bool:
    if draft is not None and user.id in editors(draft):
        return False
    return user.role == "admin" or (user.role == "trainer" and {"reviewer", "publisher"} <= grants_of(session, user.id))


def grant(session: Session, *, admin: User, user: User, permission: str, now: datetime) -> None:
    if admin.role != "admin":
        raise Forbidden(_l("Solo un administrador da permisos de revisión y publicación."))
    if user.role != "trainer":
        raise DomainError(_l("Solo los formadores reciben permisos de revisión o publicación (los administradores ya los tienen)."))
    wanted = ["reviewer", "publisher"] if permission == "publisher" else [permission]
    have = grants_of(session, user.id)
    for perm in wanted:
        if perm not in have:
            session.add(AuthoringGrant(user_id=user.id, permission=perm, granted_by_id=admin.id, granted_at=now))
    audit.record(session, kind="authoring_grant", subject=f"user:{user.id}", actor_id=admin.id,
                 data={"permission": permission, "granted": [p for p in wanted if p not in have]}, now=now)


def revoke(session: Session, *, admin: User, user: User, permission: str, now: datetime) -> None:
    if admin.role != "admin":
        raise Forbidden(_l("Solo un administrador da permisos de revisión y publicación."))
    dropped = ["reviewer", "publisher"] if permission == "reviewer" else [permission]
    for row in session.scalars(select(AuthoringGrant).where(AuthoringGrant.user_id == user.id, AuthoringGrant.permission.in_(dropped))):
        session.delete(row)
    audit.record(session, kind="authoring_revoke", subject=f"user:{user.id}", actor_id=admin.id,
                 data={"permission": permission}, now=now)


def grants(session: Session) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for user_id, permission in session.execute(select(AuthoringGrant.user_id, AuthoringGrant.permission)):
        out.setdefault(user_id, set()).add(permission)
    return out


# -- drafts ------------------------------------------------------------------------------------------------------
def get_draft(session: Session, draft_id: int) -> Draft:
    draft = session.get(Draft, draft_id)
    if draft is None:
        raise NotFound(_l("Ese borrador no existe."))
    return draft


def open_draft(session: Session, kind: str, slug: str) -> Draft | None:
    return session.scalar(select(Draft).where(Draft.kind == kind, Draft.slug == slug, Draft.state.in_(OPEN_STATES))
                          .order_by(Draft.id.desc()))


def open_drafts(session: Session) -> list[Draft]:
    return list(session.scalars(select(Draft).where(Draft.state.in_(OPEN_STATES)).order_by(Draft.updated_at.desc())))


def recent_published(session: Session, limit: int = 20) -> list[Draft]:
    return list(session.scalars(select(Draft).where(Draft.state == "published").order_by(Draft.published_at.desc()).limit(limit)))


def revisions(session: Session, kind: str, slug: str) -> list[Draft]:
    """The site revisions of an item (published drafts), newest first."""
    return list(session.scalars(select(Draft).where(Draft.kind == kind, Draft.slug == slug, Draft.state == "published")
                                .order_by(Draft.revision.desc())))


def _audit(session: Session, draft: Draft, what: str, actor_id: int | None, now: datetime, **data) -> None:
    audit.record(session, kind=f"authoring_{what}", subject=f"{draft.kind}:{draft.slug}", actor_id=actor_id,
                 data={"draft": draft.id, "path": draft.path, **data}, now=now)


def start_draft(session: Session, *, kind: str, slug: str, path: str, title: str, text: str, base_text: str | None,
                author: User, now: datetime, options: dict | None = None) -> Draft:
    if not can_author(author):
        raise Forbidden(_l("Solo formadores y administradores redactan contenido."))
    if open_draft(session, kind, slug) is not None:
        raise DomainError(_l("Ya hay un borrador abierto de este contenido."))
    options = dict(options or {}) | {"editors": [author.id] if text != base_text else []}
    draft = Draft(kind=kind, slug=slug, path=path, title=title[:200], text=text, base_text=base_text, state="draft",
                  problems=[], options=options, author_id=author.id, created_at=now, updated_at=now)
    session.add(draft)
    session.flush()
    _audit(session, draft, "draft_started", author.id, now)
    return draft


def editable(draft: Draft) -> bool:
    return draft.state in OPEN_STATES


def save(session: Session, draft: Draft, *, actor: User, now: datetime, text: str | None, title: str | None = None,
         fields: dict | None = None, problems: list[tree.FieldProblem] = ()) -> None:
    """Keep what was typed (``fields``), the file text when it could be composed, and the problems found.

    Editing a draft under review or approved sends it back to draft: the review was of other text.
    """
    if not can_author(actor):
        raise Forbidden(_l("Solo formadores y administradores redactan contenido."))
    if not editable(draft):
        raise DomainError(_l("Este borrador ya no se puede editar (publicado o retirado)."))
    changed = text is not None and text != draft.text
    if text is not None:
        draft.text = text
    if title:
        draft.title = title[:200]
    if fields is not None:
        draft.options = dict(draft.options or {}) | {"fields": fields}
    if changed and actor.id not in editors(draft):
        draft.options = dict(draft.options or {}) | {"editors": sorted(editors(draft) | {actor.id})}
    draft.problems = [p.as_dict() for p in problems]
    draft.updated_at = now
    if changed and draft.state in ("in_review", "approved"):
        draft.state = "draft"
        draft.comments.append(DraftComment(author_id=actor.id, kind="reopened", body="", at=now))
    _audit(session, draft, "draft_saved", actor.id, now, problems=len(draft.problems), changed=changed)


def submit(session: Session, draft: Draft, *, actor: User, now: datetime, problems: list[tree.FieldProblem]) -> None:
    if not can_author(actor):
        raise Forbidden(_l("Solo formadores y administradores redactan contenido."))
    if draft.state != "draft":
        raise DomainError(_l("Solo un borrador se envía a revisión."))
    draft.problems = [p.as_dict() for p in problems]
    if problems:
        raise DomainError(_l("Corrige los errores señalados antes de enviar a revisión."))
    draft.state, draft.submitted_at, draft.updated_at = "in_review", now, now
    draft.comments.append(DraftComment(author_id=actor.id, kind="submitted", body="", at=now))
    _audit(session, draft, "draft_submitted", actor.id, now)


def comment(session: Session, draft: Draft, *, actor: User, body: str, now: datetime) -> None:
    if not (can_author(actor)):
        raise Forbidden(_l("Solo formadores y administradores comentan borradores."))
    body = (body or "").strip()
    if not body:
        raise DomainError(_l("Escribe el comentario."))
    draft.comments.append(DraftComment(author_id=actor.id, kind="comment", body=body[:5000], at=now))
    _audit(session, draft, "draft_commented", actor.id, now)


def approve(session: Session, draft: Draft, *, reviewer: User, now: datetime, body: str = "") -> None:
    if not can_review(session, reviewer, draft):
        raise Forbidden(_l("Revisa otra persona: un formador con permiso de revisión o un administrador, no quien lo redactó."))
    if draft.state != "in_review":
        raise DomainError(_l("Solo se aprueba un borrador enviado a revisión."))
    draft.state, draft.reviewer_id, draft.reviewed_at, draft.updated_at = "approved", reviewer.id, now, now
    draft.comments.append(DraftComment(author_id=reviewer.id, kind="approved", body=(body or "").strip()[:5000], at=now))
    _audit(session, draft, "draft_approved", reviewer.id, now)


def send_back(session: Session, draft: Draft, *, reviewer: User, now: datetime, body: str) -> None:
    if not can_review(session, reviewer, draft):
        raise Forbidden(_l("Revisa otra persona: un formador con permiso de revisión o un administrador, no quien lo redactó."))
    if draft.state not in ("in_review", "approved"):
        raise DomainError(_l("Solo se devuelve un borrador en revisión o aprobado."))
    body = (body or "").strip()
    if not body:
        raise DomainError(_l("Di qué hay que cambiar: el comentario es obligatorio al devolver."))
    draft.state, draft.reviewer_id, draft.reviewed_at, draft.updated_at = "draft", reviewer.id, now, now
    draft.comments.append(DraftComment(author_id=reviewer.id, kind="sent_back", body=body[:5000], at=now))
    _audit(session, draft, "draft_sent_back", reviewer.id, now)


def withdraw(session: Session, draft: Draft, *, actor: User, now: datetime) -> None:
    if not (actor.id == draft.author_id or actor.role == "admin"):
        raise Forbidden(_l("Solo quien lo redactó o un administrador retira un borrador."))
    if not editable(draft):
        raise DomainError(_l("Este borrador ya no se puede editar (publicado o retirado)."))
    draft.state, draft.updated_at = "withdrawn", now
    draft.comments.append(DraftComment(author_id=actor.id, kind="withdrawn", body="", at=now))
    _audit(session, draft, "draft_withdrawn", actor.id, now)


def publish(session: Session, draft: Draft, *, publisher: User, now: datetime):
    """Publish an approved draft: a new version of the item through the content sync code path."""
    if not can_publish(session, publisher, draft):
        raise Forbidden(_l("Publica un administrador, o un revisor en quien un administrador delegó la publicación; nunca quien lo redactó."))
    if draft.state != "approved":
        raise DomainError(_l("Solo se publica un borrador aprobado."))
    files = files_of(session, draft)
    draft_id, publisher_id = draft.id, publisher.id
    try:
        report = tree.publish_files(session, files, kind=draft.kind, slug=draft.slug, actor_id=publisher_id, now=now)
    except tree.PublishRefused as exc:
        draft.problems = [p.as_dict() for p in tree.problems_for(exc.problems, draft.path, draft.text,
                                                                    markdown=draft.kind in MARKDOWN_KINDS)]
        raise DomainError(_l("No se ha publicado: el contenido tiene errores (ver la lista).")) from None
    # the sync may have emptied the session (the progress rebuild expunges its batches): read the draft again
    draft = session.get(Draft, draft_id)
    previous = session.scalar(select(func.max(Draft.revision)).where(Draft.kind == draft.kind, Draft.slug == draft.slug)) or 0
    draft.state, draft.publisher_id, draft.published_at, draft.updated_at = "published", publisher_id, now, now
    draft.revision = previous + 1
    draft.problems = []
    draft.comments.append(DraftComment(author_id=publisher_id, kind="published", body="", at=now))
    _audit(session, draft, "draft_published", publisher_id, now, revision=draft.revision, changes=report.lines())
    from lms.authoring.impact import resolve_by_edit

    resolve_by_edit(session, draft.kind, draft.slug, actor_id=publisher_id, now=now)
    return draft


# -- the files a draft stands for -----------------------------------------------------------------------------------
def files_of(session: Session, draft: Draft, published: dict[str, str] | None = None) -> dict[str, str | None]:
    """{path: text} the draft puts in the published content (a question is merged into its bank's file;
    a new lesson is also listed in its module's file)."""
    files: dict[str, str | None] = {}
    if draft.kind == "question":
        published = export_texts(session) if published is None else published
        files[draft.path] = merge_question(published.get(draft.path), draft.text, draft.slug)
    elif draft.kind == "bank" and (draft.options or {}).get("skip_invalid"):
        from lms.authoring.imports import without_invalid

        files[draft.path] = without_invalid(session, draft, published)[0]
    else:
        files[draft.path] = draft.text
    if draft.kind == "lesson" and (draft.options or {}).get("module") and draft.base_text is None:
        published = export_texts(session) if published is None else published
        module_path = f"courses/modules/{draft.options['module']}.yaml"
        module_text = published.get(module_path)
        if module_text is not None:
            data = plain(parse_yaml(module_text, module_path))
            if draft.slug not in data.get("lessons", []):
                data["lessons"] = list(data.get("lessons") or []) + [draft.slug]
                files[module_path] = dump_yaml(data)
    return files


def merge_question(bank_text: str | None, question_text: str, slug: str) -> str:
    """The bank file with the question (its YAML mapping) in place of the one with its id, or appended."""
    bank = plain(parse_yaml(bank_text, "bank")) if bank_text else {}
    try:
        question = plain(parse_yaml(question_text, "question"))
    except Exception:  # an unreadable question is reported by the editor; the bank stays as it is
        return bank_text or ""
    questions = list(bank.get("questions") or [])
    for index, existing in enumerate(questions):
        if isinstance(existing, dict) and existing.get("id") == slug:
            questions[index] = question
            break
    else:
        questions.append(question)
    bank["questions"] = questions
    return dump_yaml(bank)


def check(session: Session, draft: Draft, extra: list[tree.FieldProblem] = ()) -> list[tree.FieldProblem]:
    """``content check`` over the published content with the draft in place, placed on the draft's fields."""
    published = export_texts(session)
    if draft.kind == "bank" and (draft.options or {}).get("skip_invalid"):
        from lms.authoring.imports import without_invalid

        _text, skipped, errors = without_invalid(session, draft, published)
        draft.options = dict(draft.options or {}) | {"skipped": skipped}
        return list(extra) + tree.problems_for(errors, draft.path, draft.text, markdown=False)
    if draft.kind == "bank":
        draft.options = dict(draft.options or {}) | {"skipped": []}
    files = files_of(session, draft, published)
    errors = tree.check_files(session, files, published)
    if draft.kind == "question":
        return list(extra) + question_problems(errors, draft, files[draft.path])
    return list(extra) + tree.problems_for(errors, draft.path, draft.text, markdown=draft.kind in MARKDOWN_KINDS)


def question_problems(errors, draft: Draft, bank_text: str) -> list[tree.FieldProblem]:
    """Problems of the bank file, those of the draft's question on its fields (by the key at the error's line)."""
    from lms.authoring.imports import question_spans

    span = next(((first, last) for qid, first, last in question_spans(bank_text, draft.path) if qid == draft.slug), None)
    merged_keys: list[tuple[int, str]] = []
    if span is not None:
        try:
            bank = parse_yaml(bank_text, draft.path)
            question = next(q for q in bank["questions"] if isinstance(q, dict) and q.get("id") == draft.slug)
            merged_keys = sorted((line, str(key)) for key, line in question.key_lines.items())
        except (ContentFileError, StopIteration, KeyError, TypeError, AttributeError):
            merged_keys = []
    draft_keys = {key: line for line, key in tree.key_ranges(draft.text, draft.path, False)[0]}
    out = []
    for error in errors:
        if error.path == draft.path and span is not None and span[0] <= error.line <= span[1]:
            field = tree.field_of(error.line, merged_keys, None)
            if "the key states" in error.message:
                field = "sources"  # cite the passage the key's number comes from
            out.append(tree.FieldProblem(field, draft_keys.get(field, 0), error.message))
        else:
            out.append(tree.FieldProblem("", error.line, str(error)))
    return out
