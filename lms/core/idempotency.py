"""Idempotency keys: a submission repeated with the same key gives the first outcome again, never a second write.

A client (a browser form carries a random key generated when the page was rendered; an API client sends
``Idempotency-Key``) may repeat a POST whose answer it never saw: a dropped connection, a killed worker, a
double click.  :func:`idempotent` wraps such a view:

- the key is claimed (a row in ``idempotency_keys``, unique per owner and key) in the request's own
  transaction, before the view writes anything: before the view runs, or, in a view marked
  :func:`~lms.core.db.reads_first`, as its first write (a committed key is looked up first; the claim is
  made at ``begin_writes()``, and a key claimed in between gives its stored answer).  Two requests with one
  key cannot both write: on SQLite the write transaction (BEGIN IMMEDIATE) serialises them; on PostgreSQL
  the second INSERT waits on the first one's uncommitted row and then finds it;
- a successful answer (< 400) is stored in the same row (status, redirect location, body and its hash),
  committed together with the submission itself, so the key exists if and only if the submission does;
- a repeat finds the row and gets the stored answer (with ``Idempotent-Replayed: true``); a failed
  request rolls everything back, key included, so a retry runs again.

Keys belong to their owner (the signed-in user, or the API token): another user's key is simply
unknown to you, so nobody can replay someone else's outcome.  The same key on another URL is refused.
"""
from __future__ import annotations

import hashlib
import json
import re
import secrets
from datetime import datetime
from functools import lru_cache, wraps
from typing import Callable

from flask import Response, flash, jsonify, make_response, redirect, request
from flask import session as flask_session
from flask_babel import gettext as _
from sqlalchemy import Integer, String, Text, UniqueConstraint, bindparam, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from lms.core.clock import now_utc
from lms.core.db import Base, UTCDateTime, get_session, on_begin_writes, reading_first
from lms.core.errors import Conflict, InvalidInput

HEADER = "Idempotency-Key"
FORM_FIELD = "idempotency_key"
KEY_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{8,100}$")
#: bodies larger than this are not kept (only their hash); replays then answer with the status alone
MAX_BODY = 64 * 1024


class IdempotencyKey(Base):
    """One claimed key and the answer given to it."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("owner", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: "user:<id>" for a signed-in user, "token:<id>" for an API token
    owner: Mapped[str] = mapped_column(String(40))
    #: the user, when the owner is one (for listing and clean-up)
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    key: Mapped[str] = mapped_column(String(100))
    #: method and path the key was used for ("POST /attempts/5/submit")
    endpoint: Mapped[str] = mapped_column(String(300))
    #: the stored answer; NULL while the first request runs (never visible once it committed)
    status: Mapped[int | None] = mapped_column(Integer)
    location: Mapped[str | None] = mapped_column(String(1000))
    content_type: Mapped[str | None] = mapped_column(String(100))
    body: Mapped[str | None] = mapped_column(Text)
    body_hash: Mapped[str | None] = mapped_column(String(64))
    #: messages flashed by the first answer, shown again on a replay
    flashes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


def new_key() -> str:
    """A fresh random key (forms render one per page view)."""
    return secrets.token_urlsafe(24)


def presented_key() -> str | None:
    raw = request.headers.get(HEADER)
    if raw is None:
        raw = request.form.get(FORM_FIELD) if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data") else None
    if raw is None or not raw.strip():
        return None
    raw = raw.strip()
    if not KEY_PATTERN.match(raw):
        raise InvalidInput(_("Clave de idempotencia no válida: usa de 8 a 100 letras, cifras o - _ . :"))
    return raw


def claim(session: Session, *, owner: str, user_id: int | None, key: str, endpoint: str, now: datetime) -> IdempotencyKey | None:
    """Claim ``key`` for ``owner``; None when this request is the first (it then runs the view), else the row
    of the earlier request (committed: a concurrent first request is waited for)."""
    inserted = session.execute(_claim_statement(session.get_bind().dialect.name), {
        "owner": owner, "user_id": user_id, "key": key, "endpoint": endpoint, "created_at": now}).scalar()
    if inserted is not None:
        return None
    return session.scalars(_KEY_ROW.execution_options(populate_existing=True), {"b_owner": owner, "b_key": key}).one()


@lru_cache(maxsize=2)
def _claim_statement(dialect: str):
    """INSERT of a key, nothing when it is there (RETURNING its id when inserted), built once per dialect. The dialect's
    own INSERT … ON CONFLICT, imported here: a SQLite site never loads PostgreSQL's dialect (2.4 MiB)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    table = IdempotencyKey.__table__
    return upsert(table).on_conflict_do_nothing(index_elements=["owner", "key"]).returning(table.c.id)


#: the row of one owner's key (statements built once)
_KEY_ROW = select(IdempotencyKey).where(IdempotencyKey.owner == bindparam("b_owner"), IdempotencyKey.key == bindparam("b_key"))
_RECORD = (update(IdempotencyKey.__table__)
           .where(IdempotencyKey.__table__.c.owner == bindparam("b_owner"), IdempotencyKey.__table__.c.key == bindparam("b_key"))
           .values({name: bindparam(f"b_{name}") for name in ("status", "location", "content_type", "body", "body_hash", "flashes")}))


def lookup(session: Session, *, owner: str, key: str) -> IdempotencyKey | None:
    """The committed row of ``key`` (a plain read: no claim)."""
    return session.scalars(_KEY_ROW, {"b_owner": owner, "b_key": key}).one_or_none()


class _ClaimedMeanwhile(Exception):
    """Raised at begin_writes() when a request with the same key committed after this one looked it up."""

    def __init__(self, row: IdempotencyKey):
        super().__init__(row.key)
        self.row = row


def record(session: Session, *, owner: str, key: str, response: Response, flashes: list) -> None:
    """Store the answer in the claimed row (same transaction as the submission)."""
    body = response.get_data() if not response.is_streamed else b""
    location = response.headers.get("Location")
    session.execute(_RECORD, {
        "b_owner": owner, "b_key": key, "b_status": response.status_code, "b_location": location,
        "b_content_type": response.content_type,
        "b_body": body.decode("utf-8", "replace") if len(body) <= MAX_BODY and not 300 <= response.status_code < 400 else None,
        "b_body_hash": hashlib.sha256(body).hexdigest(), "b_flashes": json.dumps(flashes) if flashes else None})


def replay(row: IdempotencyKey, endpoint: str):
    """The stored answer of ``row`` to a repeated request."""
    if row.endpoint != endpoint:
        raise Conflict(_("Esta clave de idempotencia ya se usó para otra operación."))
    if row.status is None:
        raise Conflict(_("Esta operación todavía se está procesando; inténtalo de nuevo en unos segundos."))
    for category, message in json.loads(row.flashes or "[]"):
        flash(message, category)
    if row.location and 300 <= row.status < 400:
        response = redirect(row.location, code=row.status)
    else:  # e.g. the API's 201 with its document and Location
        response = make_response(row.body or "", row.status)
        if row.content_type:
            response.content_type = row.content_type
        if row.location:
            response.headers["Location"] = row.location
    response.headers["Idempotent-Replayed"] = "true"
    return response


def idempotent(owner: Callable[[], tuple[str, int | None] | None]):
    """Make a POST view idempotent under a presented key. ``owner()`` returns ``(owner, user_id)`` of the
    request's principal, or None (then the view runs as if no key had been sent)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            try:
                key = presented_key()
            except InvalidInput as exc:
                if request.path.startswith("/api/"):
                    return jsonify(error="invalid_idempotency_key", message=str(exc)), 400
                raise
            principal = owner() if key else None
            if principal is None:
                return view(*args, **kwargs)
            owner_name, user_id = principal
            endpoint = f"{request.method} {request.path}"[:300]
            session = get_session()
            now = now_utc()
            claimed = []
            read_first = reading_first()
            if read_first:  # look now, claim as the view's first write
                earlier = lookup(session, owner=owner_name, key=key)
                if earlier is None:
                    def claim_first(session_: Session) -> None:
                        row = claim(session_, owner=owner_name, user_id=user_id, key=key, endpoint=endpoint, now=now)
                        if row is not None:
                            raise _ClaimedMeanwhile(row)
                        claimed.append(True)

                    on_begin_writes(claim_first)
            else:
                earlier = claim(session, owner=owner_name, user_id=user_id, key=key, endpoint=endpoint, now=now)
                claimed.append(True)
            if earlier is not None:
                return _answer_again(earlier, endpoint)
            flashed_before = len(flask_session.get("_flashes", []))
            try:
                response = make_response(view(*args, **kwargs))
            except _ClaimedMeanwhile as exc:
                session.rollback()
                return _answer_again(exc.row, endpoint)
            if read_first and not claimed:
                # the view ended before its first write (an attempt found closed, say): if a request with the same key
                # committed since the lookup above, the state this view read is that request's doing, and the answer
                # is that request's (without this, a repeat that read after the first one committed answered "already
                # submitted" instead of the first answer)
                again = lookup(session, owner=owner_name, key=key)
                if again is not None:
                    session.rollback()
                    return _answer_again(again, endpoint)
            # a view that never began writing wrote nothing: its answer is not kept (a repeat runs it again)
            if claimed and response.status_code < 400:
                flashes = [list(item) for item in flask_session.get("_flashes", [])[flashed_before:]]
                record(session, owner=owner_name, key=key, response=response, flashes=flashes)
            return response

        return wrapped

    return decorator


def _answer_again(earlier: IdempotencyKey, endpoint: str):
    if earlier.endpoint != endpoint and request.path.startswith("/api/"):
        return jsonify(error="idempotency_key_reused", message=_("Esta clave de idempotencia ya se usó para otra operación.")), 422
    return replay(earlier, endpoint)


def signed_in_owner() -> tuple[str, int | None] | None:
    """The owner for browser views: the signed-in user."""
    from flask_login import current_user

    if not current_user.is_authenticated:
        return None
    return f"user:{current_user.id}", current_user.id


#: for browser views: ``@idempotent_for_user``
idempotent_for_user = idempotent(signed_in_owner)
