"""Sign-in: throttling of failed attempts and the audit trail. Plain functions; they flush, never commit.

Throttling counts failures per account (the normalised e-mail, whether or not it exists) and per client
address in the ``login_throttles`` table, so every worker and server shares the counts. A blocked
attempt is refused before any password hash is computed. A success clears the account's counter (not
the address's: an attacker's own account must not reset it). Each block lasts twice the previous one,
up to a cap, and the strikes are forgotten after a quiet window, so nobody is locked out for ever.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from lms.accounts.models import LoginAttempt, LoginResult, LoginThrottle, User
from lms.accounts.services import find_user_by_email, record_sign_in, verify_credentials
from lms.core.db import begin_writes

RESULTS = tuple(r.value for r in LoginResult)
ACCOUNT, ADDRESS = "account", "address"


@dataclass(frozen=True)
class Limits:
    """Throttling thresholds (see lms/config.py for the defaults)."""

    per_account: int = 5
    per_address: int = 20
    window_seconds: int = 900
    block_seconds: int = 300
    block_max_seconds: int = 3600

    @classmethod
    def from_config(cls, cfg) -> "Limits":
        return cls(
            per_account=cfg["LOGIN_MAX_FAILURES_PER_ACCOUNT"], per_address=cfg["LOGIN_MAX_FAILURES_PER_ADDRESS"],
            window_seconds=cfg["LOGIN_FAILURE_WINDOW_SECONDS"], block_seconds=cfg["LOGIN_BLOCK_SECONDS"],
            block_max_seconds=cfg["LOGIN_BLOCK_MAX_SECONDS"],
        )


@dataclass(frozen=True)
class Outcome:
    """What a sign-in attempt came to: the user on success; ``retry_after`` seconds when throttled."""

    result: str
    user: User | None = None
    retry_after: int | None = None

    @property
    def ok(self) -> bool:
        return self.result == LoginResult.success.value


def account_key(email: str) -> str:
    return (email or "").strip().lower()[:254]


def sign_in(session: Session, email: str, password: str, *, address: str | None, user_agent: str | None,
            now: datetime, limits: Limits) -> Outcome:
    """Check a sign-in attempt against the throttles and the credentials, count it and audit it."""
    keys = [(ACCOUNT, account_key(email))] + ([(ADDRESS, address[:254])] if address else [])
    # The reads, then the password hash, then the writes (the login view is reads_first): on SQLite the writes'
    # transaction holds the database's one write lock, and 8 sign-ins at once queued behind each other's argon2
    # (35 ms each) inside it.
    wait = blocked_for(session, keys, now=now)
    user = find_user_by_email(session, email)  # for the audit too when blocked: then no password hash is computed
    begin_writes(session, end_reads=True)  # ends the read transaction: none is open while the hash is computed
    if wait:
        outcome = Outcome(LoginResult.throttled.value, retry_after=wait)
    else:
        result, new_hash = verify_credentials(user, password)
        if result == LoginResult.success.value:
            record_sign_in(session, user, new_hash, now=now)
            _clear(session, keys[0])
            outcome = Outcome(result, user=user)
        else:
            limit = {ACCOUNT: limits.per_account, ADDRESS: limits.per_address}
            for key in keys:
                _count_failure(session, key, limit[key[0]], now=now, limits=limits)
            outcome = Outcome(result)
    session.add(LoginAttempt(
        at=now, user_id=user.id if user else None, email=(email or "").strip()[:254], address=(address or None) and address[:64],
        user_agent=(user_agent or "")[:255] or None, result=outcome.result,
    ))
    session.flush()
    return outcome


def blocked_for(session: Session, keys: list[tuple[str, str]], *, now: datetime) -> int | None:
    """Seconds until the longest block on any of these keys ends, or None (one query)."""
    until = session.scalar(
        select(LoginThrottle.blocked_until)
        .where(tuple_(LoginThrottle.scope, LoginThrottle.key).in_(keys), LoginThrottle.blocked_until > now)
        .order_by(LoginThrottle.blocked_until.desc()).limit(1)
    )
    return max(1, math.ceil((until - now).total_seconds())) if until else None


def clear_account(session: Session, email: str) -> None:
    """Forget the account's failures and block (its owner proved who they are, e.g. by a password reset)."""
    _clear(session, (ACCOUNT, account_key(email)))


def _clear(session: Session, key: tuple[str, str]) -> None:
    row = session.get(LoginThrottle, key)
    if row is not None:
        row.failures = 0
        row.strikes = 0
        row.blocked_until = None


def _count_failure(session: Session, key: tuple[str, str], limit: int, *, now: datetime, limits: Limits) -> None:
    window = timedelta(seconds=limits.window_seconds)
    row = _row_for_update(session, key, now)
    if now - row.window_start >= window:  # a fresh window
        quiet_since = row.blocked_until or row.window_start
        if now - quiet_since >= window:
            row.strikes = 0
        row.failures = 0
        row.window_start = now
    row.failures += 1
    if row.failures >= limit:
        row.strikes += 1
        seconds = min(limits.block_seconds * 2 ** (row.strikes - 1), limits.block_max_seconds)
        row.blocked_until = now + timedelta(seconds=seconds)
        row.failures = 0
        row.window_start = now


def _row_for_update(session: Session, key: tuple[str, str], now: datetime) -> LoginThrottle:
    """The key's row, locked (PostgreSQL) so that concurrent workers count every failure."""
    stmt = select(LoginThrottle).where(LoginThrottle.scope == key[0], LoginThrottle.key == key[1]).with_for_update()
    row = session.scalar(stmt)
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = LoginThrottle(scope=key[0], key=key[1], failures=0, strikes=0, window_start=now)
            session.add(row)
    except IntegrityError:  # another worker created it meanwhile
        row = session.scalar(stmt.execution_options(populate_existing=True))
    return row


def prune_throttles(session: Session, *, now: datetime, limits: Limits) -> int:
    """Delete counters that no longer matter (no block running, quiet for a whole window); returns how many.
    Keeps the table small when attackers try many e-mails; their strikes would have been forgotten anyway."""
    quiet_since = now - timedelta(seconds=limits.window_seconds)
    stale = session.execute(
        delete(LoginThrottle).where(
            LoginThrottle.window_start < quiet_since,
            or_(LoginThrottle.blocked_until.is_(None), LoginThrottle.blocked_until < quiet_since),
        )
    )
    return stale.rowcount


# The audit trail -----------------------------------------------------------------

def recent_attempts(session: Session, *, query: str | None = None, result: str | None = None,
                    user_id: int | None = None, limit: int = 200) -> list[LoginAttempt]:
    """The latest attempts, newest first, filtered by e-mail/name (substring), result or user."""
    stmt = select(LoginAttempt).order_by(LoginAttempt.at.desc(), LoginAttempt.id.desc()).limit(limit)
    if result in RESULTS:
        stmt = stmt.where(LoginAttempt.result == result)
    if user_id is not None:
        stmt = stmt.where(LoginAttempt.user_id == user_id)
    if query:
        like = f"%{query.strip().lower()}%"
        named = select(User.id).where(User.name.ilike(like) | User.email.like(like))
        stmt = stmt.where(or_(LoginAttempt.email.ilike(like), LoginAttempt.user_id.in_(named)))
    return list(session.scalars(stmt.options(selectinload(LoginAttempt.user))))
