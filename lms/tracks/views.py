"""What agents see: home, tracks, lessons, calendar."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.accounts import services as accounts
from lms.accounts.zones import zone_of
from lms.core.i18n import force_timezone
from lms.core.clock import local_today as today
from lms.core.clock import now_utc
from lms.core.db import get_session
from lms.core.forms import EmptyForm
from lms.core.security import roles_required
from lms.tracks import calendar as work_calendar
from lms.tracks import ical, services

bp = Blueprint("tracks", __name__, template_folder="templates")


@login_required
def home():
    """Each role's own home page."""
    role = current_user.role
    if role == "agent":
        session = get_session()
        progress = services.progress_for_user(session, current_user, today())
        notices = [notice for source in services.HOME_NOTICES for notice in source(session, current_user, now_utc())]
        return render_template("tracks/learn/home.html", progress=progress, notices=notices)
    if role in ("manager", "trainer"):
        return redirect(url_for("tracks_manage.teams"))
    return redirect(url_for("tracks_manage.admin_home"))


@bp.route("/tracks")
@login_required
def track_list():
    session = get_session()
    tracks = services.list_tracks(session)
    mine = {}
    if current_user.role == "agent":
        mine = {p.track.id: p for p in services.progress_for_user(session, current_user, today())}
    return render_template("tracks/learn/tracks.html", tracks=tracks, mine=mine)


@bp.route("/tracks/<slug>")
@login_required
def track(slug: str):
    session = get_session()
    track = services.get_track(session, slug)
    progress = None
    if current_user.role == "agent":
        progress = next((p for p in services.progress_for_user(session, current_user, today()) if p.track.id == track.id), None)
    return render_template("tracks/learn/track.html", track=track, progress=progress)


@bp.route("/tracks/<slug>/calendar")
@roles_required("agent")
def calendar(slug: str):
    session = get_session()
    track = services.get_track(session, slug)
    progress = next((p for p in services.progress_for_user(session, current_user, today()) if p.track.id == track.id), None)
    if progress is None:
        abort(404)
    holidays = {h.day: h.name for h in work_calendar.holidays(session)}
    return render_template("tracks/learn/calendar.html", progress=progress, weeks=services.calendar_weeks(progress, holidays))


@bp.route("/calendar/subscription", methods=["GET", "POST"])
@roles_required("agent")
def calendar_subscription():
    """The agent's secret calendar-feed URL: create (shown once), replace, or stop it."""
    session = get_session()
    url = None
    if request.method == "POST":
        if not EmptyForm().validate_on_submit():
            abort(400)
        if request.form.get("action") == "revoke":
            ical.revoke(session, current_user.id, now=now_utc())
            flash(_("El enlace del calendario ya no funciona."), "success")
            return redirect(url_for("tracks.calendar_subscription"))
        token = ical.create(session, current_user.id, now=now_utc())
        url = url_for("tracks.calendar_feed", token=token, _external=True)
    return render_template("tracks/learn/subscription.html", feed=ical.live_feed(session, current_user.id), url=url, form=EmptyForm())


@bp.route("/calendar/<token>.ics")
def calendar_feed(token: str):
    """Public by secret URL: the agent's due dates as iCalendar (for Outlook, Google Calendar…)."""
    session = get_session()
    feed = ical.by_token(session, token)
    if feed is None:
        abort(404)
    user = accounts.get_user(session, feed.user_id)
    if not user.is_active:
        abort(404)

    def link(step):
        return url_for("tracks.lesson" if step.kind == "lesson" else "quizzes.quiz", slug=step.slug, _external=True)

    zone = zone_of(session, user)
    with force_locale(user.locale or current_app.config["LANGUAGES"][0]), force_timezone(zone):  # the agent's, not the app's
        body = ical.build(services.progress_for_user(session, user, today()), name=_("Academia: mis fechas"), url_for_step=link,
                          host=urlsplit(request.host_url).hostname or "localhost", now=now_utc(), zone=zone)
    return Response(body, mimetype="text/calendar", headers={"Content-Disposition": 'inline; filename="academia.ics"',
                                                              "Cache-Control": "private, max-age=900"})


@bp.route("/lessons/<slug>")
@login_required
def lesson(slug: str):
    session = get_session()
    lesson = services.get_lesson(session, slug)
    if not services.lesson_visible_to(session, lesson, current_user):
        abort(404)
    completion = services.completion_of(session, current_user, lesson) if current_user.role == "agent" else None
    status, previous, following = None, None, None
    if current_user.role == "agent":
        for progress in services.progress_for_user(session, current_user, today()):
            match = next((s for s in progress.lessons if s.lesson.id == lesson.id), None)
            if match:
                status = match
                previous, following = services.neighbours(progress.track, lesson)
                break
    return render_template(
        "tracks/learn/lesson.html", lesson=lesson, completion=completion, status=status,
        previous=previous, following=following, form=EmptyForm(),
    )


@bp.route("/lessons/<slug>/complete", methods=["POST"])
@roles_required("agent")
def complete(slug: str):
    session = get_session()
    lesson = services.get_lesson(session, slug)
    if not services.lesson_visible_to(session, lesson, current_user):
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    _completion, created = services.complete_lesson(session, current_user, lesson, now=now_utc())
    if created:
        flash(_("¡Lección completada!"), "success")
    else:
        flash(_("Ya habías completado esta lección."), "info")
    return redirect(url_for("tracks.lesson", slug=lesson.slug))
