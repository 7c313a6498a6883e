"""API tokens: creating (shown once), listing, revoking and checking them. Plain functions; they flush, never commit.

A token is ``lms_`` followed by 43 URL-safe characters (256 random bits).  Only its SHA-256 is
stored: a high-entropy secret needs no slow hash, and a database leak gives nothing usable.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from lms.api.models import ApiToken
from lms.core.errors import InvalidInput, NotFound

TOKEN_PREFIX = "lms_"  # nosec B105  # the public prefix every token starts with, not a secret
#: characters of the token kept in clear to recognise it (``lms_`` + 6)
SHOWN_PREFIX_LENGTH = len(TOKEN_PREFIX) + 6

#: every scope a token may hold, with what it allows
SCOPES: dict[str, object] = {
    "users:read": _l("Consultar usuarios y sus equipos"),
    "users:write": _l("Dar de alta, modificar y desactivar usuarios"),
    "teams:read": _l("Consultar equipos y sus miembros"),
    "teams:write": _l("Crear equipos y cambiar sus miembros"),
    "enrollments:read": _l("Consultar inscripciones e itinerarios"),
    "enrollments:write": _l("Inscribir agentes en itinerarios"),
    "progress:read": _l("Consultar el progreso de los agentes"),
    "results:read": _l("Consultar resultados de evaluaciones y calificaciones de role-plays publicadas"),
    "certifications:read": _l("Consultar certificaciones"),
}


class TokenRejected(Exception):
    """The presented token does not authenticate; ``reason`` is unknown, revoked or expired."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def parse_scopes(raw) -> list[str]:
    """Scopes from a list or a comma-separated string: known, deduplicated, in the canonical order."""
    items = raw.split(",") if isinstance(raw, str) else list(raw or [])
    wanted = {item.strip() for item in items if item and item.strip()}
    unknown = sorted(wanted - SCOPES.keys())
    if unknown:
        raise InvalidInput(_("Permisos desconocidos: %(unknown)s. Los posibles son: %(known)s.",
                             unknown=", ".join(unknown), known=", ".join(SCOPES)))
    if not wanted:
        raise InvalidInput(_("Elige al menos un permiso."))
    return [scope for scope in SCOPES if scope in wanted]


@dataclass
class NewToken:
    token: ApiToken
    #: the plain token: give it to the integration now, it is never shown again
    secret: str


def create_token(session: Session, *, name: str, scopes, expires_at: datetime | None, created_by, now: datetime) -> NewToken:
    name = (name or "").strip()
    if not name:
        raise InvalidInput(_("El nombre del token es obligatorio."))
    if len(name) > 100:
        raise InvalidInput(_("El nombre del token es demasiado largo (máximo 100 caracteres)."))
    if expires_at is not None and expires_at <= now:
        raise InvalidInput(_("La fecha de caducidad debe ser futura."))
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(name=name, prefix=secret[:SHOWN_PREFIX_LENGTH], token_hash=hash_token(secret), scopes=parse_scopes(scopes),
                     created_at=now, created_by_id=created_by.id if created_by is not None else None, expires_at=expires_at)
    session.add(token)
    session.flush()
    return NewToken(token, secret)


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc(), ApiToken.id.desc())))


def get_token(session: Session, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(_("Ese token no existe."))
    return token


def revoke_token(session: Session, token: ApiToken, *, actor, now: datetime) -> bool:
    """Revoke a token at once (idempotent: False when it already was)."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = now
    token.revoked_by_id = actor.id if actor is not None else None
    session.flush()
    return True


def authenticate(session: Session, presented: str, *, now: datetime) -> ApiToken:
    """The active token matching ``presented``, or TokenRejected saying why not."""
    presented = presented or ""
    digest = hash_token(presented)
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest)) if presented.startswith(TOKEN_PREFIX) else None
    # the lookup is by digest; compare again in constant time so no code path depends on a partial match
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        raise TokenRejected("unknown", _("El token no es válido."))
    if token.revoked_at is not None:
        raise TokenRejected("revoked", _("Este token se revocó."))
    if token.expires_at is not None and token.expires_at <= now:
        raise TokenRejected("expired", _("Este token caducó el %(date)s.", date=token.expires_at.strftime("%Y-%m-%d %H:%M UTC")))
    return token


def record_use(session: Session, token_id: int, *, now: datetime, every) -> None:
    """Set last_used_at to ``now`` unless it was set less than ``every`` ago (one UPDATE, safe under concurrency)."""
    session.execute(update(ApiToken).where(ApiToken.id == token_id,
                                           or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - every))
                    .values(last_used_at=now))
