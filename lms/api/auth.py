"""Bearer-token authentication and scopes for the API views.

Only ``Authorization: Bearer <token>`` authenticates: the API never looks at the session
cookie, so a signed-in browser gets 401 like anyone else without a token.  The token is
checked in a short session of its own, and its last use recorded (at most once a minute) in
another short write transaction, so that a failed request still counts as a use and a read
request never turns into a write.
"""
from __future__ import annotations

from datetime import timedelta
from functools import wraps

from flask import g, request
from flask_babel import gettext as _

from lms.api import services
from lms.api.errors import REALM, ApiError
from lms.api.models import ApiToken
from lms.core.clock import now_utc
from lms.core.db import get_db, write_intent
from lms.core.idempotency import idempotent

#: last_used_at is written when older than this
TOUCH_EVERY = timedelta(minutes=1)


def _challenge(**params: str) -> dict:
    attributes = ", ".join([f'realm="{REALM}"'] + [f'{k}="{v}"' for k, v in params.items()])
    return {"WWW-Authenticate": f"Bearer {attributes}"}


def authenticate_request() -> ApiToken:
    scheme, _sep, presented = request.headers.get("Authorization", "").partition(" ")
    presented = presented.strip()
    if scheme.lower() != "bearer" or not presented:
        raise ApiError(401, "unauthorized", _("Falta el token: envía la cabecera «Authorization: Bearer <token>»."), headers=_challenge())
    now = now_utc()
    db = get_db()
    with db.sessionmaker() as session:
        try:
            token = services.authenticate(session, presented, now=now)
        except services.TokenRejected as exc:
            raise ApiError(401, "invalid_token", str(exc), headers=_challenge(error="invalid_token")) from None
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        marker = write_intent.set(True)
        try:
            with db.sessionmaker() as session, session.begin():
                services.record_use(session, token.id, now=now, every=TOUCH_EVERY)
        finally:
            write_intent.reset(marker)
    return token


def scope_required(scope: str):
    """The view needs a valid token holding ``scope`` (401 / 403 otherwise)."""
    if scope not in services.SCOPES:
        raise ValueError(f"unknown API scope {scope!r}; known: {', '.join(sorted(services.SCOPES))}")

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            token = authenticate_request()
            if scope not in token.scopes:
                raise ApiError(403, "insufficient_scope", _("Este token no tiene el permiso «%(scope)s».", scope=scope),
                               details={"required_scope": scope}, headers=_challenge(error="insufficient_scope", scope=scope))
            g.api_token = token
            return view(*args, **kwargs)

        wrapped.required_scope = scope  # read by the OpenAPI conformance test
        return wrapped

    return decorator


def token_owner() -> tuple[str, int | None] | None:
    """Whose idempotency keys a request uses: the API token's (after :func:`scope_required`)."""
    token = g.get("api_token")
    return (f"token:{token.id}", None) if token is not None else None


#: for write endpoints, under ``@scope_required``: a repeat with the same ``Idempotency-Key`` gets the first answer
idempotent_for_token = idempotent(token_owner)
