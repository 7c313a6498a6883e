"""Which academy account a platform user launches as, beyond the automatic rules of
:func:`lms.lti.services.user_for_launch`: an admin's explicit link, and the launches refused because their e-mail
named a staff account, kept for an admin to confirm."""
from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.accounts.models import User
from lms.core.errors import Conflict, InvalidInput, NotFound
from lms.lti.models import LtiLinkRequest, LtiPlatform, LtiUserLink
from lms.lti.services import StaffLinkNeeded, get_platform


def link_account(session: Session, platform: LtiPlatform, sub: str, user: User, *, now: datetime) -> LtiUserLink:
    """An admin's explicit link: the platform user (issuer, ``sub``) launches as ``user`` from now on (the only
    way a launch reaches a staff account). Refused when that platform user is already linked elsewhere."""
    sub = (sub or "").strip()
    if not sub:
        raise InvalidInput(_("Falta el identificador del usuario en la plataforma (sub)."))
    link = session.scalar(select(LtiUserLink).where(LtiUserLink.issuer == platform.issuer, LtiUserLink.sub == sub))
    if link is not None:
        if link.user_id != user.id:
            raise Conflict(_("Ese usuario de la plataforma ya está vinculado con otra cuenta de la academia."))
        return link
    link = LtiUserLink(issuer=platform.issuer, sub=sub, user_id=user.id, created_at=now)
    session.add(link)
    session.flush()
    return link


def request_link(session: Session, refused: StaffLinkNeeded, *, now: datetime) -> LtiLinkRequest:
    """Keep a refused staff launch for the admins to confirm (one request per platform user)."""
    row = session.scalar(select(LtiLinkRequest).where(LtiLinkRequest.platform_id == refused.platform.id,
                                                      LtiLinkRequest.sub == refused.sub))
    if row is None:
        row = LtiLinkRequest(platform_id=refused.platform.id, sub=refused.sub, user_id=refused.user.id, requested_at=now)
        session.add(row)
    row.user_id, row.claimed_name, row.requested_at = refused.user.id, refused.name, now
    session.flush()
    return row


def pending_link_requests(session: Session) -> list[LtiLinkRequest]:
    return list(session.scalars(select(LtiLinkRequest).where(LtiLinkRequest.confirmed_at.is_(None))
                                .order_by(LtiLinkRequest.requested_at.desc())))


def confirm_link_request(session: Session, request_id: int, *, admin: User, now: datetime) -> LtiUserLink:
    """An admin confirms that the platform user of a refused launch is the staff account its e-mail named."""
    row = session.get(LtiLinkRequest, request_id)
    if row is None or row.confirmed_at is not None:
        raise NotFound(_("Esa solicitud de vinculación no existe o ya se confirmó."))
    link = link_account(session, get_platform(session, row.platform_id), row.sub, session.get(User, row.user_id), now=now)
    row.confirmed_at, row.confirmed_by_id = now, admin.id
    session.flush()
    return link
