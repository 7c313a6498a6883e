"""LTI Dynamic Registration 1.0: a platform opens our registration URL with its OpenID configuration URL and a
registration token; we read its configuration, post our client registration (pylti1p3's
:class:`~pylti1p3.dynamic_registration.DynamicRegistration`) and register the platform and deployment it returns.

Who may start it: an admin signed in here, or whoever holds a one-time invitation an admin created
(valid :data:`INVITATION_LIFETIME`, single use, only its SHA-256 is stored)."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask_babel import gettext as _
from pylti1p3.dynamic_registration import DynamicRegistration
from pylti1p3.exception import LtiException
from requests import RequestException
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lms.core.errors import DomainError, InvalidInput
from lms.lti import services
from lms.lti.models import LtiPlatform, LtiRegistrationInvitation
from lms.lti.tool import http_session

INVITATION_LIFETIME = timedelta(hours=1)
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
]


class RegistrationFailed(DomainError):
    """The platform's configuration or answer cannot be used; the message says why."""

    status = 502


# -- invitations ---------------------------------------------------------------------------------
def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_invitation(session: Session, *, created_by_id: int | None, now: datetime) -> tuple[str, LtiRegistrationInvitation]:
    """A new invitation; the token (for the link) is returned once and never stored."""
    token = secrets.token_urlsafe(32)
    invitation = LtiRegistrationInvitation(token_hash=_hash(token), created_by_id=created_by_id, created_at=now,
                                           expires_at=now + INVITATION_LIFETIME)
    session.add(invitation)
    session.flush()
    return token, invitation


def claim_invitation(session: Session, token: str, *, now: datetime) -> LtiRegistrationInvitation:
    """Mark the invitation used (one conditional UPDATE, so two concurrent uses cannot both win).
    The caller's transaction is rolled back when the registration then fails, which frees it again."""
    invitation = session.scalar(select(LtiRegistrationInvitation).where(LtiRegistrationInvitation.token_hash == _hash(token or "")))
    if invitation is None:
        raise InvalidInput(_("Este enlace de registro no es válido. Pide a un administrador de la academia uno nuevo."))
    if invitation.used_at is not None:
        raise InvalidInput(_("Este enlace de registro ya se ha usado. Pide a un administrador de la academia uno nuevo."))
    if invitation.expires_at <= now:
        raise InvalidInput(_("Este enlace de registro ha caducado (vale una hora). Pide a un administrador de la academia uno nuevo."))
    claimed = session.execute(update(LtiRegistrationInvitation)
                              .where(LtiRegistrationInvitation.id == invitation.id, LtiRegistrationInvitation.used_at.is_(None))
                              .values(used_at=now)).rowcount
    if claimed != 1:
        raise InvalidInput(_("Este enlace de registro ya se ha usado. Pide a un administrador de la academia uno nuevo."))
    session.refresh(invitation)
    return invitation


def mark_registered(session: Session, token: str, platform: LtiPlatform) -> None:
    """Remember which platform an invitation registered."""
    invitation = session.scalar(select(LtiRegistrationInvitation).where(LtiRegistrationInvitation.token_hash == _hash(token)))
    if invitation is not None:
        invitation.platform_id = platform.id
        session.flush()


def recent_invitations(session: Session, *, now: datetime) -> list[LtiRegistrationInvitation]:
    """Invitations still open or used in the last day (for the admin page)."""
    return list(session.scalars(select(LtiRegistrationInvitation)
                                .where(LtiRegistrationInvitation.created_at > now - timedelta(days=1))
                                .order_by(LtiRegistrationInvitation.id.desc())))


# -- the registration ----------------------------------------------------------------------------
class ToolRegistration(DynamicRegistration):
    """Our client registration, built from the tool's URLs (PUBLIC_URL)."""

    client_name = "Academia de Atención"
    description = "Formación, evaluaciones y role-plays de la academia"

    def __init__(self, urls: dict[str, str], openid_configuration_url: str, registration_token: str | None, *,
                 client_name: str | None = None):
        self.urls = urls
        self.openid_configuration_url = openid_configuration_url
        self.registration_token = registration_token or None
        if client_name:
            self.client_name = client_name

    def get_request_session(self):
        return http_session()

    def get_initiate_login_uri(self) -> str:
        return self.urls["login"]

    def get_jwks_uri(self) -> str:
        return self.urls["jwks"]

    def get_redirect_uris(self) -> list[str]:
        return [self.urls["launch"]]

    def get_scopes(self) -> list[str]:
        return SCOPES

    def get_domain(self) -> str:
        return self.urls["domain"]

    def get_target_link_uri(self) -> str:
        return self.urls["launch"]

    def get_claims(self) -> list[str]:
        return ["iss", "sub", "name", "given_name", "family_name", "email"]

    def get_messages(self) -> list[dict]:
        return [{"type": "LtiDeepLinkingRequest", "target_link_uri": self.urls["deep_linking"],
                 "label": self.client_name, "placements": ["ContentArea"]}]

    def get_logo_uri(self) -> str | None:
        return None

    def lti_registration_data(self) -> dict:
        data = super().lti_registration_data()
        data.pop("logo_uri", None)
        data[TOOL_CONFIGURATION]["custom_parameters"] = {"context_title": "$Context.title"}
        return data

    def get_openid_configuration_endpoint(self) -> str:
        return self.openid_configuration_url

    def get_registration_token(self) -> str | None:
        return self.registration_token

    def get_openid_configuration(self) -> dict:
        try:
            with self.get_request_session() as http:
                response = http.get(self.openid_configuration_url, headers={"Accept": "application/json"})
            response.raise_for_status()
            config = response.json()
        except (RequestException, ValueError) as exc:
            raise RegistrationFailed(_("No se ha podido leer la configuración OpenID de la plataforma (%(url)s): %(reason)s",
                                       url=self.openid_configuration_url, reason=str(exc))) from None
        check_openid_configuration(config, self.openid_configuration_url)
        return config

    def complete_registration(self, openid_configuration: dict, openid_registration: dict) -> dict:
        return {"configuration": openid_configuration, "registration": openid_registration}


def check_openid_configuration(config, url: str) -> None:
    """What the specification requires of the platform's configuration: the issuer has the origin of the
    configuration URL (so a platform cannot speak for another), and the endpoints we need are there."""
    if not isinstance(config, dict):
        raise RegistrationFailed(_("La configuración OpenID de la plataforma no es un objeto JSON."))
    issuer = str(config.get("issuer") or "")
    if not issuer or services.origin(issuer) != services.origin(url):
        raise RegistrationFailed(_("El emisor de la configuración («%(issuer)s») no está en el mismo origen que la URL de "
                                   "la configuración («%(url)s»): registro rechazado.", issuer=issuer, url=url))
    missing = [k for k in ("registration_endpoint", "authorization_endpoint", "token_endpoint", "jwks_uri")
               if not config.get(k)]
    if not isinstance(config.get(PLATFORM_CONFIGURATION), dict):
        missing.append(PLATFORM_CONFIGURATION)
    if missing:
        raise RegistrationFailed(_("A la configuración OpenID de la plataforma le falta: %(fields)s.", fields=", ".join(missing)))


def missing_configuration_message() -> str:
    return _("Falta la URL de configuración OpenID de la plataforma (parámetro openid_configuration): "
             "este enlace se pega en la plataforma («Registrar herramienta por URL»), no se abre directamente.")


def _check_url(value: str | None) -> str:
    parts = urlsplit((value or "").strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput(missing_configuration_message())
    return value.strip()


def register(session: Session, *, urls: dict[str, str], openid_configuration_url: str | None,
             registration_token: str | None, now: datetime, client_name: str | None = None) -> LtiPlatform:
    """The whole exchange with the platform, then the platform and its deployment registered here
    (an existing registration with the same issuer and client_id is updated)."""
    flow = ToolRegistration(urls, _check_url(openid_configuration_url), registration_token, client_name=client_name)
    try:
        result = flow.register()
    except LtiException as exc:
        response = getattr(exc, "response", None)
        body = (response.text[:300] if response is not None else "") or str(exc)
        status = f"HTTP {response.status_code}: " if response is not None else ""
        raise RegistrationFailed(_("La plataforma ha rechazado el registro: %(reason)s", reason=status + body)) from None
    except AssertionError as exc:
        raise RegistrationFailed(_("La respuesta de la plataforma no es un registro LTI: %(reason)s", reason=str(exc))) from None
    except RequestException as exc:
        raise RegistrationFailed(_("No se ha podido contactar con la plataforma: %(reason)s", reason=str(exc))) from None
    config, answer = result["configuration"], result["registration"]
    tool_config = answer.get(TOOL_CONFIGURATION) or {}
    client_id = str(answer.get("client_id") or "").strip()
    deployment_id = str(tool_config.get("deployment_id") or "").strip()
    if not client_id:
        raise RegistrationFailed(_("La plataforma no ha devuelto el client_id del registro."))
    issuer = config["issuer"]
    existing = session.scalar(select(LtiPlatform).where(LtiPlatform.issuer == issuer, LtiPlatform.client_id == client_id))
    family = (config.get(PLATFORM_CONFIGURATION) or {}).get("product_family_code") or ""
    name = existing.name if existing else f"{family.capitalize() or 'LTI'} ({urlsplit(issuer).netloc})"
    # Canvas creates the deployment only when the app is installed: without one, launches are refused until an
    # admin adds its id on /manage/lti (the page after registration says so)
    deployments = [d.deployment_id for d in existing.deployments] if existing else []
    deployments += [deployment_id] if deployment_id and deployment_id not in deployments else []
    return services.save_platform(
        session, existing, name=name, issuer=issuer, client_id=client_id, auth_login_url=config["authorization_endpoint"],
        auth_token_url=config["token_endpoint"], key_set_url=config["jwks_uri"],
        auth_audience=config.get("authorization_server") or (existing.auth_audience if existing else None),
        deployment_ids=deployments, frame_origins=existing.frame_origins if existing else None, require_deployment=False,
        now=now)
