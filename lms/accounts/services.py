"""Rules about users and teams. Plain functions; they flush, never commit."""
from __future__ import annotations

import secrets
from datetime import datetime
from functools import cache
from typing import Callable, NamedTuple, Sequence

from flask import current_app, has_app_context
from flask_babel import gettext as _
from sqlalchemy import Select, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from lms.accounts.models import TEAM_NAME_MAX, LoginResult, MembershipKind, Role, Team, TeamMembership, User, fold_name
from lms.core import audit
from lms.core.clock import now_utc
from lms.core.db import Direct, as_loaded, own_columns
from lms.core.errors import Conflict, InvalidInput, NotFound
from lms.core.security import burn_password_check, hash_password, password_needs_rehash, password_problem, verify_password

ROLES = tuple(r.value for r in Role)
MEMBERSHIP_KINDS = tuple(k.value for k in MembershipKind)


def normalise_email(raw: str) -> str:
    """Lower-cased, validated address; raises InvalidInput with a readable reason."""
    # email_validator (with idna) is loaded by the first address checked, not by every worker at start
    from email_validator import EmailNotValidError, validate_email

    raw = (raw or "").strip()
    try:
        info = validate_email(raw, check_deliverability=False)
    except EmailNotValidError:
        raise InvalidInput(_("«%(email)s» no es una dirección de correo válida.", email=raw)) from None
    return info.normalized.lower()


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(_("Ese usuario no existe."))
    return user


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == (email or "").strip().lower()))


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    role: str,
    password: str | None = None,
    locale: str | None = None,
) -> User:
    """Create a user; the password, when given, must pass the password policy."""
    email = normalise_email(email)
    name = (name or "").strip()
    if not name:
        raise InvalidInput(_("El nombre es obligatorio."))
    if len(name) > 200:
        raise InvalidInput(_("El nombre es demasiado largo (máximo 200 caracteres)."))
    if role not in ROLES:
        raise InvalidInput(_("Rol desconocido «%(role)s»; usa uno de: %(roles)s.", role=role, roles=", ".join(ROLES)))
    if find_user_by_email(session, email) is not None:
        raise Conflict(_("Ya existe un usuario con el correo %(email)s.", email=email))
    user = User(email=email, name=name, role=role, locale=locale, is_active_user=True, session_version=1)
    if password is not None:
        _apply_password(user, password)
    session.add(user)
    session.flush()
    return user


def _apply_password(user: User, password: str) -> None:
    problem = password_problem(password, email=user.email, name=user.name)
    if problem:
        raise InvalidInput(problem)
    user.password_hash = hash_password(password)


def check_credentials(session: Session, email: str, password: str, *, now: datetime) -> tuple[User | None, str]:
    """(the user, "success") or (the named user or None, why not: bad_password / unknown_user / inactive).

    Costs one argon2 verification either way, so timing does not tell whether the e-mail exists."""
    user = find_user_by_email(session, email)
    result, new_hash = verify_credentials(user, password)
    if result == LoginResult.success.value:
        record_sign_in(session, user, new_hash, now=now)
    return user, result


def verify_credentials(user: User | None, password: str) -> tuple[str, str | None]:
    """The slow part of a sign-in, which touches no database: (result, the password hashed again with today's
    argon2 parameters when the stored hash used others, else None). One argon2 verification whoever asks."""
    if user is None or not user.password_hash:
        burn_password_check(password)
        return (LoginResult.unknown_user.value if user is None else LoginResult.bad_password.value), None
    if not verify_password(user.password_hash, password):
        return LoginResult.bad_password.value, None
    if not user.is_active_user:
        return LoginResult.inactive.value, None
    return LoginResult.success.value, hash_password(password) if password_needs_rehash(user.password_hash) else None


def record_sign_in(session: Session, user: User, new_hash: str | None, *, now: datetime) -> None:
    """A successful sign-in: the time, and the rehashed password unless the password changed meanwhile."""
    if new_hash is not None:
        moved = session.execute(
            update(User).where(User.id == user.id, User.password_hash == user.password_hash).values(password_hash=new_hash)
            .execution_options(synchronize_session=False)).rowcount
        if moved == 1:
            set_committed_value(user, "password_hash", new_hash)
    user.last_login_at = now
    session.flush()


def authenticate(session: Session, email: str, password: str, *, now: datetime) -> User | None:
    """The active user with that e-mail and password, or None (same cost either way)."""
    user, result = check_credentials(session, email, password, now=now)
    return user if result == LoginResult.success.value else None


def set_password(session: Session, user: User, password: str) -> None:
    """Set a new password and end every existing session of the user."""
    _apply_password(user, password)
    end_sessions(session, user)


def generate_password() -> str:
    """A random password for resets done by an admin (shown once)."""
    return secrets.token_urlsafe(12)


def end_sessions(session: Session, user: User) -> None:
    user.session_version = (user.session_version or 0) + 1
    session.flush()


#: what other domains read of the signed-in user on every page, in the user's own statement: name → a scalar
#: subquery correlated to ``users`` (the header's unread notifications). Read back as ``user.session_extras[name]``.
_SESSION_EXTRAS: dict = {}


def load_with_session_user(name: str, column) -> None:
    """Have ``column`` (a scalar subquery correlated to ``users``) read with the signed-in user on every request."""
    _SESSION_EXTRAS[name] = column
    _session_user.cache_clear()


#: the users table's columns: the signed-in user is read as a plain row and made the session's User (below)
_USER_COLUMNS = tuple(column for _key, column in own_columns(User))


class ReadWithUser(NamedTuple):
    """What a view reads in the signed-in user's statement (:func:`read_with_session_user`)."""
    #: the user's statement → the same with the view's outer joins, and its columns after the user's
    add: Callable[[Select], Select]
    #: (the database's dialect, the view's arguments) → the added parameters, or None: not read with the user here
    params: Callable[[str, dict], dict | None]
    #: (the session, the values of the added columns) → what the view takes (None: nothing found)
    take: Callable[[Session, Sequence], object]


#: endpoint → what its view reads with the signed-in user
_READ_WITH_USER: dict[str, ReadWithUser] = {}


def read_with_session_user(endpoint: str, add: Callable, params: Callable, take: Callable) -> None:
    """Have the view of ``endpoint`` read its first rows in the signed-in user's statement: one round trip and
    one statement's work less on a hot path (issue #22: the attempt of an auto-save or a submission). The view
    finds what ``take`` made in ``read[endpoint]`` (:func:`load_user_for_session`), or reads it itself when it is
    not there (another database, no user signed in, nothing found)."""
    _READ_WITH_USER[endpoint] = ReadWithUser(add, params, take)
    _session_user.cache_clear()


@cache
def _session_user(with_extras: bool = True, endpoint: str | None = None) -> Direct:
    """The statement of every signed-in request, built once and run on the driver's cursor (:class:`Direct`):
    the user's columns with the reader's zone and what other domains asked for (:func:`load_with_session_user`),
    then what the view of ``endpoint`` reads with them (:func:`read_with_session_user`)."""
    extras = [column.label(f"extra_{name}") for name, column in _SESSION_EXTRAS.items()] if with_extras else []
    statement = select(*_USER_COLUMNS, User.zone_in_effect.expression.label("zone_in_effect"), *extras).where(
        User.id == bindparam("user_id"))
    return Direct(statement if endpoint is None else _READ_WITH_USER[endpoint].add(statement))


#: where the session's version and whether the user is active are in the row
_SESSION_VERSION, _IS_ACTIVE = (tuple(key for key, _column in own_columns(User)).index(key) for key in ("session_version", "is_active_user"))


def load_user_for_session(session: Session, token: str, *, with_extras: bool = True, endpoint: str | None = None,
                          view_args: dict | None = None, read: dict | None = None) -> User | None:
    """flask-login's loader: ``"<id>:<session_version>"`` → the user if still valid.

    Every request runs it, so the row is read without the ORM's per-query loading machinery (about a tenth of a
    page's work) and becomes the session's User as if the ORM had loaded it (:func:`lms.core.db.as_loaded`).
    ``with_extras=False``: without what other domains asked for (``session_extras`` is then empty): for a request that
    changes things, after which they count again (a form post: the header's unread notifications).
    ``endpoint``, ``view_args``, ``read``: the request's view, its arguments and where to put what it asked to read
    with the user (:func:`read_with_session_user`): ``read[endpoint]``, for a valid user only."""
    try:
        raw_id, raw_version = token.split(":", 1)
        user_id, version = int(raw_id), int(raw_version)
    except (ValueError, AttributeError):
        return None
    connection = session.connection()
    params = {"user_id": user_id}
    reader = _READ_WITH_USER.get(endpoint) if read is not None and endpoint is not None else None
    if reader is not None:
        added = reader.params(connection.dialect.name, view_args or {})
        if added is None:
            reader = None
        else:
            params |= added
    row = _session_user(with_extras, endpoint if reader is not None else None).first(connection, params)
    if row is None or row[_SESSION_VERSION] != version or not row[_IS_ACTIVE]:
        return None
    n = len(_USER_COLUMNS)
    user = as_loaded(session, User, row[:n])
    if "zone_in_effect" not in user.__dict__:
        set_committed_value(user, "zone_in_effect", row[n])
    extras = len(_SESSION_EXTRAS) if with_extras else 0
    user.session_extras = dict(zip(_SESSION_EXTRAS, row[n + 1:n + 1 + extras]))  # (none without extras)
    if reader is not None:
        read[endpoint] = reader.take(session, row[n + 1 + extras:])
    return user


def update_user(session: Session, user: User, *, name: str, role: str, is_active: bool, actor: User) -> None:
    name = (name or "").strip()
    if not name:
        raise InvalidInput(_("El nombre es obligatorio."))
    if role not in ROLES:
        raise InvalidInput(_("Rol desconocido «%(role)s».", role=role))
    if user.id == actor.id and (role != Role.admin.value or not is_active):
        raise InvalidInput(_("No puedes quitarte a ti mismo el rol de administrador ni desactivarte."))
    was_active = user.is_active_user
    _audit_role_change(session, user, role, actor_id=actor.id)
    user.name = name
    user.role = role
    user.is_active_user = is_active
    if was_active and not is_active:
        end_sessions(session, user)
    session.flush()


def set_locale(session: Session, user: User, locale: str | None, languages: list[str]) -> None:
    if locale is not None and locale not in languages:
        raise InvalidInput(_("Idioma no disponible."))
    user.locale = locale
    session.flush()


def list_users(session: Session, *, role: str | None = None, query: str | None = None) -> list[User]:
    stmt = select(User).order_by(User.name, User.id)
    if role:
        stmt = stmt.where(User.role == role)
    if query:
        like = f"%{query.strip().lower()}%"
        stmt = stmt.where(func.lower(User.name).like(like) | User.email.like(like))
    return list(session.scalars(stmt))


# Teams -------------------------------------------------------------------

def create_team(session: Session, name: str) -> Team:
    """A new team; its name is unique ignoring accents, capitals and repeated spaces (:func:`fold_name`)."""
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput(_("El nombre del equipo es obligatorio."))
    if len(name) > TEAM_NAME_MAX:
        raise InvalidInput(_("El nombre del equipo admite %(n)d caracteres como mucho; «%(name)s…» tiene %(length)d.",
                             n=TEAM_NAME_MAX, name=name[:40], length=len(name)))
    existing = find_team_by_name(session, name)
    if existing is not None:
        raise Conflict(_("Ya existe un equipo llamado «%(name)s».", name=existing.name))
    team = Team(name=name)
    try:
        with session.begin_nested():  # another request may create the same name at the same moment
            session.add(team)
            session.flush()
    except IntegrityError:
        raise Conflict(_("Ya existe un equipo llamado «%(name)s».", name=name)) from None
    return team


def get_team(session: Session, team_id: int) -> Team:
    team = session.get(Team, team_id)
    if team is None:
        raise NotFound(_("Ese equipo no existe."))
    return team


def find_team_by_name(session: Session, name: str) -> Team | None:
    return session.scalar(select(Team).where(Team.name_key == fold_name(name)))


def list_teams(session: Session) -> list[Team]:
    return list(session.scalars(select(Team).order_by(Team.name)))


_KIND_FOR_ROLE = {
    Role.agent.value: MembershipKind.agent.value,
    Role.trainer.value: MembershipKind.trainer.value,
    Role.manager.value: MembershipKind.manager.value,
}


def add_to_team(session: Session, team: Team, user: User) -> TeamMembership:
    """Add a user to a team in the capacity their role gives them (idempotent)."""
    kind = _KIND_FOR_ROLE.get(user.role)
    if kind is None:
        raise InvalidInput(_("Los administradores no pertenecen a equipos."))
    existing = session.scalar(
        select(TeamMembership).where(
            TeamMembership.team_id == team.id, TeamMembership.user_id == user.id, TeamMembership.kind == kind
        )
    )
    if existing:
        return existing
    membership = TeamMembership(team_id=team.id, user_id=user.id, kind=kind)
    session.add(membership)
    session.flush()
    return membership


def remove_from_team(session: Session, team: Team, user: User) -> None:
    for membership in session.scalars(
        select(TeamMembership).where(TeamMembership.team_id == team.id, TeamMembership.user_id == user.id)
    ):
        session.delete(membership)
    session.flush()


def team_members(session: Session, team: Team, kind: str) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .join(TeamMembership, TeamMembership.user_id == User.id)
            .where(TeamMembership.team_id == team.id, TeamMembership.kind == kind)
            .order_by(User.name, User.id)
        )
    )


def teams_of(session: Session, user: User, kind: str | None = None) -> list[Team]:
    """Teams the user belongs to (in ``kind`` capacity when given)."""
    stmt = select(Team).join(TeamMembership).where(TeamMembership.user_id == user.id)
    if kind:
        stmt = stmt.where(TeamMembership.kind == kind)
    return list(session.scalars(stmt.order_by(Team.name).distinct()))


def supervised_team_ids(session: Session, user: User) -> list[int]:
    """Teams whose agents the user may see: managed (manager) or assigned (trainer); all for admins."""
    if user.role == Role.admin.value:
        return list(session.scalars(select(Team.id)))
    kind = {Role.manager.value: MembershipKind.manager.value, Role.trainer.value: MembershipKind.trainer.value}.get(user.role)
    if kind is None:
        return []
    return list(
        session.scalars(select(TeamMembership.team_id).where(TeamMembership.user_id == user.id, TeamMembership.kind == kind))
    )


def supervised_teams(session: Session, user: User) -> list:
    """(id, name) rows of the teams of :func:`supervised_team_ids`, by name, in one query (the dashboard's filter
    and its teams' table need nothing else)."""
    if user.role == Role.admin.value:
        return session.execute(select(Team.id, Team.name).order_by(Team.name)).all()
    kind = {Role.manager.value: MembershipKind.manager.value, Role.trainer.value: MembershipKind.trainer.value}.get(user.role)
    if kind is None:
        return []
    return session.execute(select(Team.id, Team.name).join(TeamMembership, TeamMembership.team_id == Team.id)
                           .where(TeamMembership.user_id == user.id, TeamMembership.kind == kind).order_by(Team.name)).all()


def supervised_agents_query(session: Session, user: User, team_id: int | None = None, *, team_ids: list[int] | None = None):
    """A select() of the agents the user may see, optionally within one team (``team_ids``: already known)."""
    team_ids = supervised_team_ids(session, user) if team_ids is None else team_ids
    if team_id is not None:
        team_ids = [t for t in team_ids if t == team_id]
    return (
        select(User)
        .join(TeamMembership, TeamMembership.user_id == User.id)
        .where(TeamMembership.kind == MembershipKind.agent.value, TeamMembership.team_id.in_(team_ids))
        .distinct()
    )


def supervised_agent_ids(session: Session, user: User, team_id: int | None = None, *, team_ids: list[int] | None = None) -> list[int]:
    """The ids of the agents the user may see, by name (for exports that load them a batch at a time)."""
    agents = supervised_agents_query(session, user, team_id, team_ids=team_ids).subquery()
    return list(session.scalars(select(agents.c.id).order_by(agents.c.name, agents.c.id)))


def users_by_ids(session: Session, ids: list[int]) -> list[User]:
    """These users, in the order of ``ids`` (one query)."""
    if not ids:
        return []
    found = {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


def can_supervise(session: Session, supervisor: User, agent: User) -> bool:
    """May ``supervisor`` see ``agent``'s records? Admins always; managers/trainers via a shared team."""
    if supervisor.role == Role.admin.value:
        return True
    if agent.role != Role.agent.value:
        return False
    team_ids = supervised_team_ids(session, supervisor)
    if not team_ids:
        return False
    return (
        session.scalar(
            select(func.count())
            .select_from(TeamMembership)
            .where(
                TeamMembership.user_id == agent.id,
                TeamMembership.kind == MembershipKind.agent.value,
                TeamMembership.team_id.in_(team_ids),
            )
        )
        > 0
    )


# CSV import ---------------------------------------------------------------

USER_CSV_COLUMNS = ("email", "name", "role", "team", "password")


from lms.accounts.csv_import import (  # noqa: E402,F401 - the CSV import lives beside; its names stay here
    SNIFF_SAMPLE, CsvImportResult, import_users_csv, read_csv, sniff_dialect)


def managers_of(session: Session, agent: User) -> list[User]:
    """The managers of the teams the agent belongs to (one query)."""
    agent_teams = select(TeamMembership.team_id).where(TeamMembership.user_id == agent.id, TeamMembership.kind == MembershipKind.agent.value)
    return list(session.scalars(
        select(User).join(TeamMembership, TeamMembership.user_id == User.id)
        .where(TeamMembership.kind == MembershipKind.manager.value, TeamMembership.team_id.in_(agent_teams), User.is_active_user.is_(True))
        .distinct().order_by(User.id)
    ))


def members_by_team(session: Session, team_ids: list[int], kind: str) -> dict[int, list[User]]:
    """The members of several teams in one query: {team_id: [users by name]}."""
    out: dict[int, list[User]] = {team_id: [] for team_id in team_ids}
    if team_ids:
        for team_id, user in session.execute(
            select(TeamMembership.team_id, User).join(User, User.id == TeamMembership.user_id)
            .where(TeamMembership.team_id.in_(team_ids), TeamMembership.kind == kind).order_by(User.name, User.id)
        ):
            out[team_id].append(user)
    return out


# For integrations (the REST API) ---------------------------------------------------

def users_query(*, role: str | None = None, team_id: int | None = None, email: str | None = None, active: bool | None = None):
    """A select() of users matching every filter given (no ordering: the caller pages it)."""
    stmt = select(User)
    if role:
        stmt = stmt.where(User.role == role)
    if team_id is not None:
        stmt = stmt.where(User.id.in_(member_ids_query(team_id)))
    if email:
        stmt = stmt.where(User.email == email.strip().lower())
    if active is not None:
        stmt = stmt.where(User.is_active_user.is_(active))
    return stmt


def member_ids_query(team_id: int, kind: str | None = None):
    """A select() of the ids of a team's members (in ``kind`` capacity when given), for ``in_()``."""
    stmt = select(TeamMembership.user_id).where(TeamMembership.team_id == team_id)
    return stmt.where(TeamMembership.kind == kind) if kind else stmt


def teams_query(*, name: str | None = None):
    """A select() of teams, optionally by name (ignoring accents and capitals, :func:`fold_name`)."""
    stmt = select(Team)
    return stmt.where(Team.name_key == fold_name(name)) if name else stmt


def memberships_by_user(session: Session, user_ids: list[int]) -> dict[int, list[tuple[str, Team]]]:
    """(capacity, team) of every membership of these users, by team name (one query)."""
    out: dict[int, list[tuple[str, Team]]] = {user_id: [] for user_id in user_ids}
    if user_ids:
        for user_id, kind, team in session.execute(
            select(TeamMembership.user_id, TeamMembership.kind, Team).join(Team, Team.id == TeamMembership.team_id)
            .where(TeamMembership.user_id.in_(user_ids)).order_by(Team.name, TeamMembership.kind)
        ):
            out[user_id].append((kind, team))
    return out


def team_roster(session: Session, team: Team) -> list[tuple[str, User]]:
    """(capacity, user) for every member of the team, by capacity then name (one query)."""
    return [(kind, user) for kind, user in session.execute(
        select(TeamMembership.kind, User).join(User, User.id == TeamMembership.user_id)
        .where(TeamMembership.team_id == team.id).order_by(TeamMembership.kind, User.name, User.id)
    )]


def change_user(session: Session, user: User, *, name: str | None = None, role: str | None = None,
                is_active: bool | None = None) -> None:
    """Change what is given of a user (an HR system's update): same rules as the admin screen, no acting person.
    Deactivating ends the user's sessions."""
    if name is not None:
        name = name.strip()
        if not name:
            raise InvalidInput(_("El nombre es obligatorio."))
        if len(name) > 200:
            raise InvalidInput(_("El nombre es demasiado largo (máximo 200 caracteres)."))
        user.name = name
    if role is not None:
        if role not in ROLES:
            raise InvalidInput(_("Rol desconocido «%(role)s».", role=role))
        _audit_role_change(session, user, role, actor_id=None)
        user.role = role
    if is_active is not None:
        was_active = user.is_active_user
        user.is_active_user = is_active
        if was_active and not is_active:
            end_sessions(session, user)
    session.flush()


# Notification preferences (read by the domains that e-mail people) ------------------------------

def wants_email(session: Session, user_id: int, event: str) -> bool:
    """Whether this user gets ``event`` (one of models.NOTIFICATION_EVENTS) by e-mail: yes unless they turned it
    off; never for an inactive or unknown user (one query)."""
    from lms.accounts.models import NotificationPreference

    row = session.execute(
        select(User.is_active_user, NotificationPreference.email).select_from(User)
        .outerjoin(NotificationPreference, (NotificationPreference.user_id == User.id) & (NotificationPreference.event == event))
        .where(User.id == user_id)
    ).first()
    if row is None or not row[0]:
        return False
    return row[1] is None or bool(row[1])


def email_preferences(session: Session, user_id: int) -> dict[str, bool]:
    """{event: gets it by e-mail} for every event (defaults filled in)."""
    from lms.accounts.models import NOTIFICATION_EVENTS, NotificationPreference

    stored = dict(session.execute(select(NotificationPreference.event, NotificationPreference.email)
                                  .where(NotificationPreference.user_id == user_id)).all())
    return {event: bool(stored.get(event, True)) for event in NOTIFICATION_EVENTS}


def set_email_preferences(session: Session, user: User, wanted: set[str] | list[str], *, now: datetime) -> None:
    """Store which events the user gets by e-mail (every other known event: not by e-mail)."""
    from lms.accounts.models import NOTIFICATION_EVENTS, NotificationPreference

    unknown = set(wanted) - set(NOTIFICATION_EVENTS)
    if unknown:
        raise InvalidInput(_("Aviso desconocido: %(names)s.", names=", ".join(sorted(unknown))))
    stored = {p.event: p for p in session.scalars(select(NotificationPreference).where(NotificationPreference.user_id == user.id))}
    for event in NOTIFICATION_EVENTS:
        value = event in wanted
        row = stored.get(event)
        if row is None:
            session.add(NotificationPreference(user_id=user.id, event=event, email=value, updated_at=now))
        elif row.email != value:
            row.email, row.updated_at = value, now
    session.flush()


def _audit_role_change(session: Session, user: User, role: str, *, actor_id: int | None) -> None:
    """An audit row for a change of role (append-only ``audit_events``); nothing when the role stays."""
    if user.role == role:
        return
    audit.record(session, kind="role_changed", subject=f"user:{user.id}", actor_id=actor_id,
                 data={"user_id": user.id, "before": user.role, "after": role}, now=now_utc())


def email_locale(user: User) -> str:
    """The language e-mails to ``user`` are written in: their own choice when the site offers it, else the default."""
    languages = list(current_app.config.get("LANGUAGES", ["es"])) if has_app_context() else ["es"]
    return user.locale if user.locale in languages else languages[0]
