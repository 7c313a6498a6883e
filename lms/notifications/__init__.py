"""Notifications: in-site (``/notifications``, a counter in the header) and by e-mail through the durable
outbox, for the events of the domains below (role-plays graded or returned, certificates issued, expiring or
up for renewal) and the daily job (a lesson due tomorrow, a module overdue). Each user chooses which arrive by
e-mail (``/account/notifications``; stored in lms.accounts so that lower layers honour it too).
Public functions: :mod:`lms.notifications.services`.
"""
from __future__ import annotations

from flask import Flask

_SUBSCRIBED: list = []


def register(app: Flask) -> None:
    from lms.core import outbox
    from lms.notifications import mailbox, views

    app.register_blueprint(views.bp)
    # e-mails: SMTP when configured; in development without one, the local mailbox (/manage/mailbox)
    outbox.register_sender("email", mailbox.email_sender_factory)
    app.jinja_env.globals["unread_notifications"] = views.unread_for_current_user
    from lms.accounts import services as accounts

    accounts.load_with_session_user(views.UNREAD, services.unread_count_column())
    if not _SUBSCRIBED:
        _subscribe()
        _SUBSCRIBED.append(True)


def _subscribe() -> None:
    """Each event → its notification (and e-mail), in the event's own transaction."""
    from lms.certification.signals import expiry_reminder, recertification_opened, record_issued
    from lms.notifications import services
    from lms.roleplays.signals import grade_released, grade_returned

    def released(session, submission, now, **_):
        services.on_grade_released(session, submission, now)

    def returned(session, submission, now, **_):
        services.on_grade_returned(session, submission, now)

    def issued(session, record, now, **_):
        services.on_record_issued(session, record, now)

    def expiring(session, record, person, window, now, **_):
        services.on_expiry_reminder(session, record, person, window, now)

    def opened(session, path, now, **_):
        services.on_recertification_opened(session, path, now)

    for signal, receiver in ((grade_released, released), (grade_returned, returned), (record_issued, issued),
                             (expiry_reminder, expiring), (recertification_opened, opened)):
        signal.connect(services.safely(receiver), weak=False)
