"""Notifications: one in-site row per event and person, and (if the person wants it) an e-mail queued in the
durable outbox, both in the transaction of the event.

Texts are rendered from ``kind`` + ``params`` through gettext when shown (the reader's language) and when an
e-mail is queued (the recipient's language: their setting, else the site's default, Spanish).
Plain functions; ``now``/``today`` are arguments; they flush, never commit.
"""
from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from functools import cache

from flask import current_app, has_app_context
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import Select, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session, undefer

from lms.accounts import services as accounts
from lms.accounts.models import NOTIFICATION_EVENTS, User
from lms.accounts.zones import by_local_day, zone_of
from lms.core import outbox
from lms.core.i18n import force_timezone
from lms.core.templating import format_day
from lms.core.errors import NotFound
from lms.notifications.models import Notification

log = logging.getLogger(__name__)

#: a module that became overdue more than this many days ago is not announced any more (no flood of old news
#: when the feature is switched on, or when an agent is enrolled late into a track that began long ago)
OVERDUE_NOTICE_DAYS = 7
PAGE_SIZE = 20
PREFERENCES_PATH = "/account/notifications"


# Texts ----------------------------------------------------------------------------------------

def _day(iso: str | None) -> str:
    """A day (``2026-12-05``) or a moment (``2026-12-05T03:00:00+00:00``: its day in the reader's time zone)."""
    if not iso:
        return ""
    try:
        value = datetime.fromisoformat(iso) if len(iso) > 10 else date.fromisoformat(iso)
        return format_day(value, "long")
    except ValueError:
        return iso


def render(kind: str, params: dict) -> tuple[str, str]:
    """(title, body) of a notification in the current language."""
    p = params or {}
    if kind == "lesson_due_tomorrow":
        return (_("Mañana vence la lección «%(lesson)s»", lesson=p.get("lesson", "")),
                _("La lección «%(lesson)s» del itinerario «%(track)s» vence el %(date)s.",
                  lesson=p.get("lesson", ""), track=p.get("track", ""), date=_day(p.get("date"))))
    if kind == "week_overdue":
        return (_("Módulo atrasado: «%(module)s»", module=p.get("module", "")),
                _("El módulo «%(module)s» del itinerario «%(track)s» venció el %(date)s y te quedan pasos pendientes: %(pending)d.",
                  module=p.get("module", ""), track=p.get("track", ""), date=_day(p.get("date")), pending=int(p.get("pending", 0))))
    if kind == "roleplay_graded":
        title = _("Role-play calificado: «%(scenario)s»", scenario=p.get("scenario", ""))
        if p.get("passed"):
            body = _("Tu formador ha publicado la calificación de tu práctica n.º %(number)d de «%(scenario)s»: %(score)s sobre 100, aprobada.",
                     number=int(p.get("number", 0)), scenario=p.get("scenario", ""), score=p.get("score", ""))
        else:
            body = _("Tu formador ha publicado la calificación de tu práctica n.º %(number)d de «%(scenario)s»: %(score)s sobre 100, no aprobada.",
                     number=int(p.get("number", 0)), scenario=p.get("scenario", ""), score=p.get("score", ""))
        return title, body
    if kind == "roleplay_returned":
        return (_("Role-play devuelto: «%(scenario)s»", scenario=p.get("scenario", "")),
                _("Tu formador te ha devuelto la práctica n.º %(number)d de «%(scenario)s» para que lo intentes de nuevo: lee sus comentarios.",
                  number=int(p.get("number", 0)), scenario=p.get("scenario", "")))
    if kind == "certificate_issued":
        return (_("Certificación obtenida: «%(title)s»", title=p.get("title", "")),
                _("Has obtenido la certificación «%(title)s». Es válida hasta el %(date)s.", title=p.get("title", ""),
                  date=_day(p.get("expires"))))
    if kind == "certificate_expiring":
        if p.get("own"):
            title = _("Tu certificación «%(title)s» caduca el %(date)s", title=p.get("title", ""), date=_day(p.get("expires")))
        else:
            title = _("La certificación «%(title)s» de %(agent)s caduca el %(date)s", title=p.get("title", ""),
                      agent=p.get("agent", ""), date=_day(p.get("expires")))
        body = (_("Para renovarla hay que completar su recertificación antes de esa fecha.") if p.get("recertification")
                else _("Para renovarla hay que volver a cumplir sus requisitos con evidencias nuevas."))
        return title, body
    if kind == "recertification_open":
        return (_("Se ha abierto la recertificación de «%(title)s»", title=p.get("title", "")),
                _("Complétala antes del %(date)s para renovar tu certificación «%(title)s» (cuentan los pasos que hagas a partir de su apertura).",
                  title=p.get("title", ""), date=_day(p.get("due"))))
    return kind, ""


def event_labels() -> dict[str, str]:
    """What each event is called on the preferences page (current language)."""
    return {
        "lesson_due_tomorrow": _("Una lección vence mañana"),
        "week_overdue": _("Un módulo de mi itinerario está atrasado"),
        "roleplay_graded": _("Un formador ha calificado un role-play mío"),
        "roleplay_returned": _("Un formador me ha devuelto un role-play para otro intento"),
        "certificate_issued": _("He obtenido una certificación"),
        "certificate_expiring": _("Una certificación (mía o de mi equipo) está a punto de caducar"),
        "recertification_open": _("Se ha abierto la recertificación de una certificación mía"),
    }


def _config(key: str, default):
    return current_app.config.get(key, default) if has_app_context() else default


def recipient_locale(user: User) -> str:
    languages = list(_config("LANGUAGES", ["es"]))
    return user.locale if user.locale in languages else languages[0]


def email_payload(user: User, notification: Notification) -> dict:
    """{to, subject, body} (see lms.core.outbox.smtp_sender) in the recipient's language, with a link back and
    a line on how to choose which notices arrive by e-mail."""
    base = str(_config("PUBLIC_URL", "http://127.0.0.1:5000")).rstrip("/")
    session = object_session(user)
    with force_locale(recipient_locale(user)), force_timezone(zone_of(session, user) if session is not None else None):
        title, body = render(notification.kind, notification.params)
        lines = [_("Hola, %(name)s:", name=user.name), "", body, ""]
        if notification.link:
            lines.append(_("Más información: %(url)s", url=base + notification.link))
        lines += [_("Todas tus notificaciones: %(url)s", url=base + "/notifications"), "",
                  _("Para elegir qué avisos recibes por correo: %(url)s", url=base + PREFERENCES_PATH)]
    return {"to": user.email, "subject": title, "body": "\n".join(lines) + "\n"}


def _path(endpoint: str, **values) -> str | None:
    """A path inside the site, built without a request (the worker has none)."""
    if not has_app_context():
        return None
    return current_app.url_map.bind("localhost").build(endpoint, values)


# Creating -------------------------------------------------------------------------------------

def notify(session: Session, user: User, kind: str, params: dict, *, link: str | None, key: str, now: datetime,
           email: bool = True) -> Notification | None:
    """One notification for ``user`` (none if ``key`` was already used) and, with ``email`` and if the user wants
    this kind by e-mail, one e-mail in the outbox. Returns the notification, or None when it existed already."""
    if kind not in NOTIFICATION_EVENTS:
        raise ValueError(f"unknown notification kind {kind!r}")
    key = key[:200]
    if session.scalar(select(Notification.id).where(Notification.dedupe_key == key)) is not None:
        return None
    notification = Notification(user_id=user.id, kind=kind, params=params, link=link, dedupe_key=key, created_at=now)
    try:
        with session.begin_nested():
            session.add(notification)
            session.flush()
    except IntegrityError:
        return None  # the same event, notified by another process at the same moment
    if email and accounts.wants_email(session, user.id, kind):
        outbox.enqueue(session, kind="email", dedupe_key=f"notification:{key}"[:200], payload=email_payload(user, notification), now=now)
    return notification


def on_grade_released(session: Session, submission, now: datetime) -> Notification | None:
    if not submission.user_id:
        return None  # a calibration anchor: nobody to tell
    user = accounts.get_user(session, submission.user_id)
    score = submission.score
    params = {"scenario": submission.scenario.title, "number": submission.number,
              "score": f"{score:.0f}" if score is not None else "", "passed": bool(submission.passed)}
    return notify(session, user, "roleplay_graded", params, link=_path("roleplays.result", submission_id=submission.id),
                  key=f"roleplay-graded:{submission.id}", now=now)


def on_grade_returned(session: Session, submission, now: datetime) -> Notification | None:
    if not submission.user_id:
        return None
    user = accounts.get_user(session, submission.user_id)
    params = {"scenario": submission.scenario.title, "number": submission.number}
    return notify(session, user, "roleplay_returned", params, link=_path("roleplays.result", submission_id=submission.id),
                  key=f"roleplay-returned:{submission.id}", now=now)


def on_record_issued(session: Session, record, now: datetime) -> Notification | None:
    user = accounts.get_user(session, record.user_id)
    params = {"title": record.definition.title, "expires": record.expires_at.isoformat()}
    return notify(session, user, "certificate_issued", params, link=_path("certification.mine"),
                  key=f"certificate-issued:{record.id}", now=now)


def on_expiry_reminder(session: Session, record, person: User, window: int, now: datetime) -> Notification | None:
    """In-site only: certification queues the e-mail itself (respecting the preference)."""
    own = person.id == record.user_id
    agent_name = person.name if own else accounts.get_user(session, record.user_id).name
    params = {"title": record.definition.title, "expires": record.expires_at.isoformat(), "own": own,
              "agent": agent_name, "recertification": bool(record.definition.recertification)}
    link = _path("certification.mine") if own and person.role == "agent" else (
        _path("certification_manage.record", record_id=record.id) if person.role in ("trainer", "manager", "admin") else None)
    return notify(session, person, "certificate_expiring", params, link=link,
                  key=f"certificate-expiring:{record.id}:{window}:{person.id}", now=now, email=False)


def on_recertification_opened(session: Session, path, now: datetime) -> Notification | None:
    """In-site only: certification queues the e-mail itself (respecting the preference)."""
    user = accounts.get_user(session, path.user_id)
    params = {"title": path.definition.title, "due": path.due_at.isoformat()}
    return notify(session, user, "recertification_open", params, link=_path("certification.mine"),
                  key=f"recertification-open:{path.id}", now=now, email=False)


def queue_due_reminders(session: Session, *, today: date, now: datetime, batch: int = 200) -> int:
    """The daily job (idempotent): a lesson due tomorrow (one per agent, lesson and due day) and a module whose due
    date has just passed with steps left (one per agent, enrollment and module). Returns how many were created."""
    from lms.tracks import services as tracks
    from lms.tracks.models import Enrollment

    agents = list(session.scalars(select(User).where(User.role == "agent", User.is_active_user.is_(True),
                                                     User.id.in_(select(Enrollment.user_id))).order_by(User.id)
                                  .options(undefer(User.zone_in_effect))))
    # "tomorrow" is the agent's: their own day at ``now`` in their time zone (``today`` shifted by the zone's offset)
    created = 0
    for local, group in sorted(by_local_day(session, agents, now).items()):
        created += _due_reminders(session, group, today=today + (local - now.date()), now=now, batch=batch)
    return created


def _due_reminders(session: Session, agents: list[User], *, today: date, now: datetime, batch: int) -> int:
    from lms.tracks import services as tracks

    tomorrow, created = today + timedelta(days=1), 0
    for start in range(0, len(agents), batch):
        for row in tracks.team_overview(session, agents[start:start + batch], today):
            for progress in row.progress:
                track = progress.track
                for step in progress.lessons:
                    if step.state is not tracks.LessonState.done and step.due_date == tomorrow:
                        created += notify(session, row.agent, "lesson_due_tomorrow",
                                          {"lesson": step.title, "track": track.title, "date": step.due_date.isoformat()},
                                          link=_path("tracks.lesson", slug=step.slug),
                                          key=f"lesson-due:{row.agent.id}:{step.lesson.id}:{step.due_date.isoformat()}", now=now) is not None
                for module in progress.modules:
                    pending = module.total - module.done
                    if pending and today - timedelta(days=OVERDUE_NOTICE_DAYS) <= module.due_date < today:
                        created += notify(session, row.agent, "week_overdue",
                                          {"module": module.module.title, "track": track.title, "date": module.due_date.isoformat(),
                                           "pending": pending},
                                          link=_path("tracks.track", slug=track.slug),
                                          key=f"week-overdue:{row.agent.id}:{progress.enrollment.id}:{module.module.id}", now=now) is not None
    return created


def safely(handler):
    """A signal receiver that never costs the user their action: a failure is logged and rolled back alone."""
    def receive(session, **event):
        try:
            with session.begin_nested():
                handler(session, **event)
        except Exception:  # noqa: BLE001 - a notification must never undo the event it reports
            log.exception("notification of %s not recorded", handler.__name__)
    return receive


# Reading --------------------------------------------------------------------------------------

def unread_count(session: Session, user_id: int) -> int:
    """One COUNT on an index (the header's counter, on every page: its statement is built once)."""
    return session.scalar(_unread_count(), {"user_id": user_id}) or 0


def unread_count_column():
    """The same count as a scalar subquery correlated to ``users``: read with the signed-in user (no statement of its
    own on every page)."""
    return (select(func.count(Notification.id)).where(Notification.user_id == User.id, Notification.read_at.is_(None))
            .correlate(User).scalar_subquery())


@cache
def _unread_count() -> Select:
    return select(func.count(Notification.id)).where(Notification.user_id == bindparam("user_id"), Notification.read_at.is_(None))


def page_of(session: Session, user_id: int, page: int, per_page: int = PAGE_SIZE) -> tuple[list[Notification], int]:
    """The user's notifications, newest first: (this page's, how many in all)."""
    total = session.scalar(select(func.count(Notification.id)).where(Notification.user_id == user_id)) or 0
    page = max(page, 1)
    items = list(session.scalars(select(Notification).where(Notification.user_id == user_id)
                                 .order_by(Notification.created_at.desc(), Notification.id.desc())
                                 .offset((page - 1) * per_page).limit(per_page)))
    return items, total


def mark_read(session: Session, user_id: int, notification_id: int, *, now: datetime) -> Notification:
    """Mark one of the user's own notifications read (another user's is NotFound, as if it did not exist)."""
    notification = session.scalar(select(Notification).where(Notification.id == notification_id, Notification.user_id == user_id))
    if notification is None:
        raise NotFound(_("Esa notificación no existe."))
    if notification.read_at is None:
        notification.read_at = now
        session.flush()
    return notification


def mark_all_read(session: Session, user_id: int, *, now: datetime) -> int:
    moved = session.execute(update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
                            .values(read_at=now).execution_options(synchronize_session=False)).rowcount
    session.flush()
    return moved


def emails_waiting(session: Session) -> int:
    """E-mails queued and not yet delivered (the mailbox page says so)."""
    return session.scalar(select(func.count(outbox.OutboxMessage.id)).where(outbox.OutboxMessage.kind == "email",
                                                                          outbox.OutboxMessage.status == "pending")) or 0
