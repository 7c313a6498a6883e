"""The user's notifications (list, mark read) and their e-mail preferences. Every signed-in user has both."""
from __future__ import annotations

import logging
import math

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import SQLAlchemyError

from lms.accounts import services as accounts
from lms.core.clock import now_utc
from lms.core.db import get_session
from lms.core.forms import EmptyForm
from lms.core.security import roles_required
from lms.notifications import services
from lms.notifications.forms import preferences_form

log = logging.getLogger(__name__)

bp = Blueprint("notifications", __name__, template_folder="templates")


#: the name of the unread count read with the signed-in user (lms.accounts.services.load_with_session_user)
UNREAD = "unread_notifications"


def unread_for_current_user() -> int:
    """The header's counter: on a page (GET) the count read with the signed-in user, in the user's own statement;
    after a form (POST) counted again, as the request may have changed it. None for anonymous visitors."""
    if not current_user.is_authenticated:
        return 0
    cached = getattr(request, "_unread_notifications", None)
    if cached is None and request.method in ("GET", "HEAD"):
        cached = (getattr(current_user, "session_extras", None) or {}).get(UNREAD)
    if cached is None:
        try:
            cached = services.unread_count(get_session(), current_user.id)
        except SQLAlchemyError:  # an error page after a failed transaction: the counter is not worth a second error
            log.warning("unread notifications not counted", exc_info=True)
            cached = 0
        request._unread_notifications = cached
    return cached


@bp.route("/notifications")
@login_required
def index():
    page = request.args.get("page", 1, type=int) or 1
    items, total = services.page_of(get_session(), current_user.id, page)
    pages = max(math.ceil(total / services.PAGE_SIZE), 1)
    if page < 1 or page > pages:
        abort(404)
    rendered = [(n, *services.render(n.kind, n.params)) for n in items]
    return render_template("notifications/list.html", items=rendered, page=page, pages=pages, total=total,
                           unread=unread_for_current_user(), form=EmptyForm())


@bp.route("/notifications/read", methods=["POST"])
@login_required
def mark_read():
    if not EmptyForm().validate_on_submit():
        abort(400)
    notification_id = request.form.get("notification_id", type=int)
    if notification_id is None:
        abort(400)
    notification = services.mark_read(get_session(), current_user.id, notification_id, now=now_utc())
    link = notification.link or ""
    if request.form.get("open") and link.startswith("/") and not link.startswith("//"):
        return redirect(request.script_root + link)
    return redirect(url_for("notifications.index", page=request.form.get("page", 1, type=int)))


@bp.route("/notifications/read-all", methods=["POST"])
@login_required
def mark_all_read():
    if not EmptyForm().validate_on_submit():
        abort(400)
    n = services.mark_all_read(get_session(), current_user.id, now=now_utc())
    flash(_("Notificaciones marcadas como leídas: %(n)d.", n=n), "success")
    return redirect(url_for("notifications.index"))


@bp.route("/account/notifications", methods=["GET", "POST"])
@login_required
def preferences():
    session = get_session()
    labels = services.event_labels()
    form = preferences_form(labels, accounts.email_preferences(session, current_user.id))
    if form.validate_on_submit():
        wanted = {field.name for field in form.event_fields if field.data}
        accounts.set_email_preferences(session, current_user._get_current_object(), wanted, now=now_utc())
        flash(_("Preferencias de aviso guardadas."), "success")
        return redirect(url_for("notifications.preferences"))
    if request.method == "POST":
        abort(400)
    return render_template("notifications/preferences.html", form=form)


@bp.route("/manage/mailbox")
@roles_required("admin")
def mailbox():
    """Development: the e-mails the site has sent, as the recipients would read them."""
    from flask import current_app

    from lms.notifications import mailbox as box

    config = current_app.config
    return render_template("notifications/mailbox.html", mails=box.messages(config), enabled=box.enabled(config),
                           smtp_host=config.get("SMTP_HOST"), waiting=services.emails_waiting(get_session()), selected=None)


@bp.route("/manage/mailbox/<mail_id>")
@roles_required("admin")
def mailbox_message(mail_id: str):
    from flask import current_app

    from lms.notifications import mailbox as box

    mail = box.message(current_app.config, mail_id)
    if mail is None:
        abort(404)
    return render_template("notifications/mailbox.html", mails=box.messages(current_app.config), enabled=box.enabled(current_app.config),
                           smtp_host=current_app.config.get("SMTP_HOST"), waiting=services.emails_waiting(get_session()), selected=mail)
