"""Password resets by e-mail. Plain functions; they flush, never commit.

Asking for a reset always gets the same answer, whether or not the address has an account, so the form
tells nobody which addresses exist; the same work is done either way (a token is drawn and hashed, the
limits are counted) except writing the link and its e-mail. An active account gets an e-mail (through the
durable outbox) with a link ``/password-reset/<token>``: the token is random (``secrets``) and only its
SHA-256 is stored. A link works once, for ``PASSWORD_RESET_MINUTES``, and only while the password is the
one it was issued for: any password change (own, by an admin, by another reset) voids it. Opening the link
changes nothing; posting the new password (which must pass the password policy) uses it, ends every
session of the user and clears the sign-in failure counter of the account.

At most ``PASSWORD_RESET_MAX_PER_ACCOUNT`` links per account and ``PASSWORD_RESET_MAX_PER_ADDRESS`` per
client address are sent per hour; further requests get the same answer and no e-mail.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from lms.accounts import services, signin
from lms.accounts.models import PasswordResetToken, User
from lms.core import outbox

WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class ResetLimits:
    """How long a link lives and how many are sent per hour (see lms/config.py for the defaults)."""

    minutes: int = 30
    per_account: int = 3
    per_address: int = 10

    @classmethod
    def from_config(cls, cfg) -> "ResetLimits":
        return cls(minutes=cfg["PASSWORD_RESET_MINUTES"], per_account=cfg["PASSWORD_RESET_MAX_PER_ACCOUNT"],
                   per_address=cfg["PASSWORD_RESET_MAX_PER_ADDRESS"])


def token_digest(token: str) -> str:
    return hashlib.sha256((token or "").encode("utf-8")).hexdigest()


def password_fingerprint(user: User) -> str:
    """Changes whenever the password does (every argon2 hash has its own salt)."""
    return hashlib.sha256(("password:" + (user.password_hash or "")).encode("utf-8")).hexdigest()


def request_reset(session: Session, email: str, *, address: str | None, now: datetime, base_url: str,
                  limits: ResetLimits) -> bool:
    """Send a reset link to ``email`` if it names an active account and no limit is reached. Returns whether a
    link was sent — for tests and logs only: the person asking must get the same answer either way."""
    token = secrets.token_urlsafe(32)
    digest = token_digest(token)
    user = services.find_user_by_email(session, email)
    since = now - WINDOW
    address = (address or "")[:64] or None
    sent_to_account = session.scalar(
        select(func.count()).select_from(PasswordResetToken)
        .where(PasswordResetToken.user_id == (user.id if user else -1), PasswordResetToken.created_at > since))
    sent_from_address = session.scalar(
        select(func.count()).select_from(PasswordResetToken)
        .where(PasswordResetToken.requested_from == address, PasswordResetToken.created_at > since)) if address else 0
    if user is None or not user.is_active_user:
        return False
    if sent_to_account >= limits.per_account or sent_from_address >= limits.per_address:
        return False
    row = PasswordResetToken(user_id=user.id, token_hash=digest, password_fingerprint=password_fingerprint(user),
                             requested_from=address, created_at=now, expires_at=now + timedelta(minutes=limits.minutes))
    session.add(row)
    session.flush()
    link = f"{base_url.rstrip('/')}/password-reset/{token}"
    with force_locale(services.email_locale(user)):  # in the person's language
        subject = _("Restablece tu contraseña de la Academia de Atención")
        body = (_("Hola, %(name)s:", name=user.name) + "\n\n"
                + _("Hemos recibido una petición para restablecer la contraseña de tu cuenta (%(email)s) en la Academia de Atención.",
                    email=user.email) + "\n\n"
                + _("Para elegir una contraseña nueva, abre este enlace en los próximos %(minutes)d minutos:", minutes=limits.minutes)
                + f"\n\n{link}\n\n"
                + _("El enlace sirve una sola vez. Si no has pedido tú el cambio, ignora este mensaje: tu contraseña sigue siendo la misma.")
                + "\n")
    outbox.enqueue(session, kind="email", dedupe_key=f"password-reset:{row.id}", now=now, payload={
        "to": user.email, "subject": subject, "body": body,
        outbox.SECRET: True,  # the link is erased from the outbox once the e-mail is sent
    })
    return True


def valid_token(session: Session, token: str, *, now: datetime, for_update: bool = False) -> PasswordResetToken | None:
    """The unused, unexpired link for this token whose user is active and has not changed password since; or None.
    Reads only (``for_update`` locks the row on PostgreSQL, so two posts of one link cannot both use it)."""
    if not token or len(token) > 200:
        return None
    stmt = select(PasswordResetToken).where(PasswordResetToken.token_hash == token_digest(token))
    row = session.scalar(stmt.with_for_update() if for_update else stmt)
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    user = row.user
    if not user.is_active_user or row.password_fingerprint != password_fingerprint(user):
        return None
    return row


class InvalidResetLink(Exception):
    """The link is unknown, used, expired, or voided by a password change."""


def complete_reset(session: Session, token: str, password: str, *, now: datetime) -> User:
    """Set the new password through the link (once): the password policy applies (InvalidInput), every session
    of the user ends, every other link of the user is voided and the account's sign-in failures are cleared."""
    row = valid_token(session, token, now=now, for_update=True)
    if row is None:
        raise InvalidResetLink()
    user = row.user
    services.set_password(session, user, password)
    session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session="fetch")
    )
    signin.clear_account(session, user.email)
    session.flush()
    return user


def prune_tokens(session: Session, *, now: datetime) -> int:
    """Delete links that expired more than a day ago (used or not); returns how many."""
    stale = session.execute(
        PasswordResetToken.__table__.delete().where(PasswordResetToken.expires_at < now - timedelta(days=1))
    )
    return stale.rowcount
