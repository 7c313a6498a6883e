"""Names and Role Provisioning: a course's members, fetched from the platform, imported as a team."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from pylti1p3.exception import LtiException
from pylti1p3.names_roles import NamesRolesProvisioningService
from sqlalchemy import desc, select
from sqlalchemy.orm import Session

from lms.accounts import services as accounts
from lms.core.errors import DomainError, InvalidInput, NotFound
from lms.lti import services
from lms.lti.models import LtiContext, LtiPlatform, LtiToolKey
from lms.lti.tool import CachingServiceConnector, DatabaseToolConf, http_session


@dataclass
class RosterResult:
    team_name: str
    added: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def contexts(session: Session) -> list[LtiContext]:
    """Courses that launched the tool and offer their roster."""
    return list(session.scalars(select(LtiContext).where(LtiContext.memberships_url.is_not(None)).order_by(LtiContext.id)))


def fetch_members(session: Session, context: LtiContext) -> list[dict]:
    """The course's members from the platform (every page), via pylti1p3's NRPS client."""
    platform = session.get(LtiPlatform, context.platform_id)
    key = session.scalar(select(LtiToolKey).where(LtiToolKey.retired_at.is_(None)).order_by(desc(LtiToolKey.id)).limit(1))
    if key is None:
        raise InvalidInput(_("La herramienta aún no tiene clave de firma."))
    registration = DatabaseToolConf(session, key.private_pem, key.public_pem).find_registration_by_params(
        platform.issuer, platform.client_id)
    nrps = NamesRolesProvisioningService(CachingServiceConnector(registration, http_session()),
                                         {"context_memberships_url": context.memberships_url, "service_versions": ["2.0"]})
    try:
        return list(nrps.get_members())
    except LtiException as exc:
        raise DomainError(_("La plataforma no ha entregado la lista de participantes: %(reason)s", reason=str(exc))) from None


def import_roster(session: Session, context_pk: int, *, now: datetime, members: list[dict] | None = None,
                  trust_platform_admins: bool = False) -> RosterResult:
    """Every active member becomes (or is linked to) an account, with the role their course roles map to,
    and joins the course's team (created on the first import, named after the course)."""
    context = session.get(LtiContext, context_pk)
    if context is None:
        raise NotFound(_("Ese curso LTI no existe."))
    if not context.memberships_url:
        raise InvalidInput(_("La plataforma no ofrece la lista de participantes de este curso (Names and Role Provisioning)."))
    platform = session.get(LtiPlatform, context.platform_id)
    if members is None:
        members = fetch_members(session, context)
    team = services.course_team(session, context)
    result = RosterResult(team_name=team.name)
    for member in members:
        sub = str(member.get("user_id") or "")
        label = member.get("name") or member.get("email") or sub
        if not sub or (member.get("status") or "Active") != "Active":
            result.skipped.append(label)
            continue
        claims = {"sub": sub, "name": member.get("name"), "given_name": member.get("given_name"),
                  "family_name": member.get("family_name"), "email": member.get("email"),
                  services.CLAIM + "roles": member.get("roles") or []}
        known = services.linked_user(session, platform.issuer, sub)
        try:
            user = services.user_for_launch(session, platform, claims, now=now, trust_platform_admins=trust_platform_admins,
                                           launching=False)
        except DomainError:
            result.skipped.append(label)
            continue
        (result.added if known else result.created).append(user.name)
        if user.role != "admin":
            accounts.add_to_team(session, team, user)
    context.roster_imported_at = now
    session.flush()
    return result
