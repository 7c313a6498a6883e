"""xAPI statements for learning events, delivered to a configured LRS through the durable outbox.

Lesson completions, graded quiz attempts, role-plays handed in and graded, and certificates issued are
recorded as xAPI 1.0.3 statements in the same transaction as the event (:mod:`lms.xapi.services`) when
``XAPI_ENDPOINT`` (or ``XAPI_RECORD``) is set, and the worker delivers them (:mod:`lms.xapi.sender`).
"""
from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Flask, current_app, has_app_context

from lms.config import ConfigError

log = logging.getLogger(__name__)

_SUBSCRIBED: list = []


def register(app: Flask) -> None:
    from lms.core import lazy, outbox

    check_config(app.config)
    outbox.register_sender("xapi", "lms.xapi.sender:lrs_sender")  # lms.xapi.services.KIND
    # the pages are imported on their first request, the statements' module by the first event (lms/core/lazy.py)
    lazy.register_blueprint(app, "lms.xapi.views:bp")
    lazy.register_blueprint(app, "lms.xapi.views:extensions_bp")
    app.cli.add_lazy_command("xapi", "lms.xapi.cli:xapi_cli")
    if not _SUBSCRIBED:
        _subscribe()
        _SUBSCRIBED.append(True)


def check_config(cfg) -> None:
    """Refuse to start with xAPI settings that cannot work."""
    endpoint = cfg.get("XAPI_ENDPOINT")
    if endpoint:
        parts = urlsplit(str(endpoint))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError("XAPI_ENDPOINT must be the LRS's http(s) address, e.g. https://lrs.example.com/xapi/")
    if cfg.get("XAPI_ACTOR") not in ("account", "mbox"):
        raise ConfigError("XAPI_ACTOR must be 'account' or 'mbox'")
    if cfg.get("XAPI_TOKEN") and cfg.get("XAPI_USERNAME"):
        raise ConfigError("Set either XAPI_USERNAME and XAPI_PASSWORD (Basic auth) or XAPI_TOKEN (bearer), not both")
    try:
        if float(cfg.get("XAPI_TIMEOUT") or 0) <= 0:
            raise ValueError
    except (TypeError, ValueError):
        raise ConfigError("XAPI_TIMEOUT must be a positive number of seconds") from None
    if endpoint or cfg.get("XAPI_RECORD"):
        public = urlsplit(str(cfg.get("PUBLIC_URL") or ""))
        if public.scheme not in ("http", "https") or not public.netloc:
            raise ConfigError("PUBLIC_URL must be the site's http(s) address: xAPI activity ids are built on it")


def site_from(cfg):
    """The statements' view of the configuration, or None when statements are not recorded."""
    from lms.xapi.statements import Site

    if not (cfg.get("XAPI_ENDPOINT") or cfg.get("XAPI_RECORD")):
        return None
    return Site(base_url=str(cfg["PUBLIC_URL"]).rstrip("/"), actor=cfg.get("XAPI_ACTOR") or "account",
                installation=installation_id(cfg))


_INSTALLATIONS: dict[str, str] = {}


def installation_id(cfg) -> str:
    """This installation's own id, part of every statement id: ``XAPI_INSTALLATION_ID``, else a random one made on
    first use and kept in the instance folder (``xapi-installation-id``). A second installation, or a copy restored
    from a backup into a fresh instance folder, gets another one, so its new events never reuse an id the LRS holds."""
    if cfg.get("XAPI_INSTALLATION_ID"):
        return str(cfg["XAPI_INSTALLATION_ID"])
    if not has_app_context():
        return ""
    import os
    import secrets

    path = os.path.join(current_app.instance_path, "xapi-installation-id")
    if path not in _INSTALLATIONS:
        try:
            with open(path, "x", encoding="ascii") as handle:  # the first process to get here makes it
                handle.write(secrets.token_hex(16) + "\n")
        except FileExistsError:
            pass
        with open(path, encoding="ascii") as handle:
            _INSTALLATIONS[path] = handle.read().strip()
    return _INSTALLATIONS[path]


def _subscribe() -> None:
    """Each learning event → its statement, queued in the event's own transaction."""
    from lms.certification.signals import record_issued
    from lms.quizzes.signals import attempt_graded
    from lms.roleplays.signals import grade_released, submitted
    from lms.tracks.signals import lesson_completed

    def handler(name):
        def handle(session, **event):
            site = site_from(current_app.config) if has_app_context() else None
            if site is None:  # statements are not recorded: lms.xapi.services is not even imported
                return
            from lms.xapi import services

            try:
                with session.begin_nested():
                    getattr(services, name)(session, site, **event)
            except Exception:  # noqa: BLE001 - a statement must never cost the agent their action
                log.exception("xAPI statement of %s not recorded (flask --app lms xapi backfill can record it later)", name)
        return handle

    for signal, name in ((lesson_completed, "record_lesson_completed"), (attempt_graded, "record_attempt_graded"),
                         (submitted, "record_submitted"), (grade_released, "record_grade_released"),
                         (record_issued, "record_issued")):
        signal.connect(handler(name), weak=False)
