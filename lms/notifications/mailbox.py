"""The development mailbox: with no SMTP server configured and ``DEV_MAILBOX`` on (``make run`` turns it on), the
worker delivers every e-mail of the outbox into the instance folder (``instance/mailbox/``, one JSON file per
message) instead of leaving it queued, and admins read them at ``/manage/mailbox``. So a newcomer sees what the
site sends (reminders, grades, certificates, password resets) without a mail server.

Never on in production, nor once an SMTP server is configured.
"""
from __future__ import annotations

import json
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping

from flask import current_app

from lms.core import outbox

FILE_PATTERN = re.compile(r"^\d{8}T\d{6}\d{6}-[0-9a-f]{8}\.json$")
URL_PATTERN = re.compile(r"https?://[^\s<>\"']+")


def enabled(config: Mapping) -> bool:
    """On when asked for (DEV_MAILBOX=1), outside production, while no SMTP server is configured."""
    flag = str(config.get("DEV_MAILBOX") or os.environ.get("DEV_MAILBOX", "")).lower() in {"1", "true", "yes", "on"}
    return flag and not config.get("SMTP_HOST") and config.get("LMS_ENV") != "production"


def folder(config: Mapping) -> Path:
    """``DEV_MAILBOX_DIR``, else ``mailbox/`` in the instance folder (the site and the worker share it)."""
    chosen = config.get("DEV_MAILBOX_DIR") or os.environ.get("DEV_MAILBOX_DIR")
    if chosen:
        return Path(str(chosen))
    return Path(current_app.instance_path) / "mailbox"


def mailbox_sender(config: Mapping):
    """A sender that drops {to, subject, body} into the mailbox folder."""
    target = folder(config)

    def send(payload: dict) -> None:
        target.mkdir(parents=True, exist_ok=True)
        now = datetime.now(timezone.utc)
        name = f"{now.strftime('%Y%m%dT%H%M%S%f')}-{secrets.token_hex(4)}.json"
        record = {"to": payload.get("to", ""), "subject": payload.get("subject", ""), "body": payload.get("body", ""),
                  "at": now.isoformat()}
        tmp = target / (name + ".tmp")
        tmp.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
        tmp.replace(target / name)

    return send


def email_sender_factory(config: Mapping):
    """The "email" kind's sender: SMTP when configured, else the development mailbox when it is on, else none
    (messages then wait in the outbox until a mail server is configured)."""
    if config.get("SMTP_HOST"):
        return outbox.smtp_sender(dict(config))
    if enabled(config):
        return mailbox_sender(config)
    return None


@dataclass
class Mail:
    id: str
    to: str
    subject: str
    body: str
    at: datetime

    def pieces(self) -> list[tuple[str, str]]:
        """The body as ("text", …) and ("link", url) pieces: the template escapes each and links the web addresses."""
        out, at = [], 0
        for match in URL_PATTERN.finditer(self.body):
            if match.start() > at:
                out.append(("text", self.body[at:match.start()]))
            out.append(("link", match.group(0)))
            at = match.end()
        if at < len(self.body):
            out.append(("text", self.body[at:]))
        return out


def _read(path: Path) -> Mail | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Mail(id=path.stem, to=str(data.get("to", "")), subject=str(data.get("subject", "")), body=str(data.get("body", "")),
                    at=datetime.fromisoformat(data["at"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def messages(config: Mapping, limit: int = 200) -> list[Mail]:
    """The newest messages first."""
    target = folder(config)
    if not target.is_dir():
        return []
    names = sorted((p for p in target.iterdir() if FILE_PATTERN.match(p.name)), key=lambda p: p.name, reverse=True)[:limit]
    return [mail for mail in (_read(p) for p in names) if mail is not None]


def message(config: Mapping, mail_id: str) -> Mail | None:
    if not FILE_PATTERN.match(f"{mail_id}.json"):
        return None
    path = folder(config) / f"{mail_id}.json"
    return _read(path) if path.is_file() else None
