"""A durable outbox: messages are queued in the database in the same transaction as the change that
causes them, and delivered later by ``flask --app lms worker`` with retries and backoff.

Nothing is lost when the mail server (or any other receiver) is down: the message stays queued and is
retried; nothing is sent twice as two messages: each has a unique ``dedupe_key`` and is claimed by one
worker at a time (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the write lock on SQLite).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable, Mapping

from sqlalchemy import JSON, Integer, String, Text, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column
from werkzeug.utils import import_string

from lms.core.db import Base, UTCDateTime, utcnow

MAX_ATTEMPTS = 12

#: delivers one message's payload; raises to have it retried later (or :class:`Undeliverable`)
Sender = Callable[[dict], None]
#: kind → factory(config) returning the kind's sender, or None while the kind is not configured
#: (its messages then wait, pending, without spending attempts). Domains register theirs at ``register(app)``.
SENDER_FACTORIES: dict[str, Callable[[Mapping], Sender | None]] = {}


class Undeliverable(Exception):
    """The receiver refused the message for good (e.g. rejected it as invalid): retrying cannot help,
    so the message is marked failed at once (``last_error`` says why)."""


def register_sender(kind: str, factory: Callable[[Mapping], Sender | None] | str) -> None:
    """``factory`` makes the sender of ``kind`` from the configuration (None: not configured); a
    ``"package.module:attribute"`` string names it, imported when the worker first asks (a web worker never does)."""
    SENDER_FACTORIES[kind] = factory if callable(factory) else _imported(factory)


def _imported(target: str) -> Callable[[Mapping], Sender | None]:
    def factory(config: Mapping) -> Sender | None:
        return import_string(target)(config)

    factory.target = target  # type: ignore[attr-defined]
    return factory


def configured_senders(config: Mapping) -> dict[str, Sender]:
    """The senders of every registered kind that is configured (what the worker delivers with)."""
    senders = {}
    for kind, factory in SENDER_FACTORIES.items():
        sender = factory(config)
        if sender is not None:
            senders[kind] = sender
    return senders


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: what delivers it: "email" (more kinds join later: xAPI, grade passback)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    #: the same event never queues two messages
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    payload: Mapped[dict] = mapped_column(JSON)
    #: pending → sent, or failed after MAX_ATTEMPTS
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def enqueue(session: Session, *, kind: str, dedupe_key: str, payload: dict, now: datetime) -> bool:
    """Queue a message unless one with the same key exists. Returns True when queued."""
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(OutboxMessage(kind=kind, dedupe_key=dedupe_key[:200], payload=payload, status="pending", attempts=0,
                                      next_attempt_at=now, created_at=now))
            session.flush()
    except IntegrityError:
        return False
    return True


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8 … minutes, at most 6 hours."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 360))


def claim(session: Session, *, now: datetime, limit: int = 50, kinds: list[str] | None = None) -> list[OutboxMessage]:
    stmt = (select(OutboxMessage).where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.id).limit(limit))
    if kinds is not None:
        stmt = stmt.where(OutboxMessage.kind.in_(kinds))
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return list(session.scalars(stmt))


#: a payload flag: the message carries a secret (a password-reset link) that must not outlive its delivery
SECRET = "redact_after_delivery"  # nosec B105  # the name of a payload flag, not a secret


def _redact(message: OutboxMessage) -> None:
    """Once a secret-bearing message is sent (or given up), keep only who it went to and why."""
    if message.payload.get(SECRET):
        message.payload = {key: value for key, value in message.payload.items() if key in ("to", "subject", SECRET)} | {
            "body": "[redacted after delivery]"}


def deliver_due(session: Session, senders: dict[str, Sender], *, now: datetime) -> tuple[int, int]:
    """Try every due message of the kinds in ``senders`` once (other kinds wait untouched).
    Returns (sent, failed attempts)."""
    sent = failed = 0
    for message in claim(session, now=now, kinds=list(senders)):
        sender = senders[message.kind]
        message.attempts += 1
        try:
            sender(message.payload)
        except Exception as exc:  # noqa: BLE001 - any delivery failure is recorded and retried
            failed += 1
            message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if message.attempts >= MAX_ATTEMPTS or isinstance(exc, Undeliverable):
                message.status = "failed"
                _redact(message)
            else:
                message.next_attempt_at = now + backoff(message.attempts)
        else:
            sent += 1
            message.status, message.sent_at, message.last_error = "sent", now, None
            _redact(message)
        session.flush()
    return sent, failed


def smtp_sender(config: dict) -> Callable[[dict], None]:
    """Sends {to, subject, body} through the configured SMTP server."""

    def send(payload: dict) -> None:
        import smtplib  # the worker's sending only: a web worker never loads it (issue #22: memory)
        from email.message import EmailMessage

        host = config.get("SMTP_HOST")
        if not host:
            raise RuntimeError("SMTP_HOST is not configured")
        message = EmailMessage()
        message["From"] = config.get("MAIL_FROM", "academia@localhost")
        message["To"] = payload["to"]
        message["Subject"] = payload["subject"]
        message.set_content(payload["body"])
        with smtplib.SMTP(host, int(config.get("SMTP_PORT", 25)), timeout=10) as smtp:
            if config.get("SMTP_STARTTLS"):
                smtp.starttls()
            if config.get("SMTP_USERNAME"):
                smtp.login(config["SMTP_USERNAME"], config.get("SMTP_PASSWORD", ""))
            smtp.send_message(message)

    return send


# without SMTP_HOST, e-mails wait (pending, no attempts spent) until a mail server is configured
register_sender("email", lambda config: smtp_sender(config) if config.get("SMTP_HOST") else None)
