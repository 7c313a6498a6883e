"""LTI 1.3 rules: registering platforms, the tool's keys, and what a validated launch does on our side
(who the person is, their role, and where they land). JWT/OIDC validation itself is pylti1p3's
(:mod:`lms.lti.tool`)."""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.accounts import services as accounts
from lms.accounts.models import User
from lms.core.errors import Conflict, DomainError, InvalidInput, NotFound
from lms.lti.models import LtiContext, LtiDeployment, LtiLaunchedLink, LtiPlatform, LtiResourceLink, LtiToolKey, LtiUserLink

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
ROLE_PREFIX = "http://purl.imsglobal.org/vocab/lis/v2/"
TARGET_KINDS = ("track", "lesson", "quiz", "roleplay")


class LaunchRefused(DomainError):
    """A launch we will not honour; the message is shown on the error page."""

    status = 403


class StaffLinkNeeded(LaunchRefused):
    """The launch's e-mail names a staff account: refused until an admin confirms the link (the view records the
    request with :func:`lms.lti.linking.request_link`)."""

    def __init__(self, message: str, *, platform: LtiPlatform, sub: str, user: User, name: str | None):
        super().__init__(message)
        self.platform, self.sub, self.user, self.name = platform, sub, user, name


# -- platforms -----------------------------------------------------------------------------------
def _url(value: str | None, label: str, *, required: bool = True) -> str | None:
    value = (value or "").strip()
    if not value:
        if required:
            raise InvalidInput(_("Falta «%(field)s».", field=label))
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput(_("«%(field)s» debe ser una URL http(s) completa; se recibió «%(value)s».", field=label, value=value))
    return value


def _pem(value: str | None) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    # jwcrypto (with cryptography, ~10 MiB) is imported where a key is read or made, never at start
    from jwcrypto.jwk import JWK

    try:
        key = JWK.from_pem(value.encode())
    except (ValueError, TypeError):
        raise InvalidInput(_("La clave pública pegada no es una clave PEM válida (-----BEGIN PUBLIC KEY----- …).")) from None
    if key.has_private:
        raise InvalidInput(_("Has pegado una clave privada: pega solo la clave pública de la plataforma."))
    return value + "\n"


def origin(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def _origins(value: str | None) -> str | None:
    items = (value or "").split()
    cleaned = []
    for item in items:
        o = origin(_url(item, _("Orígenes que pueden enmarcar el sitio")))
        if o not in cleaned:
            cleaned.append(o)
    return " ".join(cleaned) or None


def frame_origins(platform: LtiPlatform) -> list[str]:
    """Origins allowed to frame the site during this platform's launches."""
    if platform.frame_origins:
        return platform.frame_origins.split()
    found = []
    for url in (platform.issuer, platform.auth_login_url):
        o = origin(url)
        if o and o not in found:
            found.append(o)
    return found


def list_platforms(session: Session) -> list[LtiPlatform]:
    return list(session.scalars(select(LtiPlatform).order_by(LtiPlatform.name, LtiPlatform.id)))


def get_platform(session: Session, platform_id: int) -> LtiPlatform:
    platform = session.get(LtiPlatform, platform_id)
    if platform is None:
        raise NotFound(_("Esa plataforma LTI no existe."))
    return platform


def save_platform(session: Session, platform: LtiPlatform | None, *, name: str, issuer: str, client_id: str,
                  auth_login_url: str, auth_token_url: str, key_set_url: str | None = None,
                  public_key_pem: str | None = None, auth_audience: str | None = None,
                  deployment_ids: list[str] | str = (), frame_origins: str | None = None,
                  auto_enroll: bool | None = None, require_deployment: bool = True, now: datetime) -> LtiPlatform:
    """Create (``platform`` None) or update a platform registration; every value is checked."""
    name = (name or "").strip() or (issuer or "").strip()
    issuer = (issuer or "").strip()
    client_id = (client_id or "").strip()
    if not issuer:
        raise InvalidInput(_("Falta «%(field)s».", field=_("Emisor (issuer)")))
    if not client_id:
        raise InvalidInput(_("Falta «%(field)s».", field=_("ID de cliente (client_id)")))
    values = dict(
        name=name[:200], issuer=issuer, client_id=client_id,
        auth_login_url=_url(auth_login_url, _("URL de inicio de sesión OIDC de la plataforma")),
        auth_token_url=_url(auth_token_url, _("URL de tokens de acceso de la plataforma")),
        key_set_url=_url(key_set_url, _("URL del juego de claves (JWKS) de la plataforma"), required=False),
        public_key_pem=_pem(public_key_pem),
        auth_audience=(auth_audience or "").strip() or None,
        frame_origins=_origins(frame_origins),
    )
    if not values["key_set_url"] and not values["public_key_pem"]:
        raise InvalidInput(_("Indica la URL del juego de claves (JWKS) de la plataforma o pega su clave pública."))
    if isinstance(deployment_ids, str):
        deployment_ids = re.split(r"[\s,]+", deployment_ids)
    deployments = list(dict.fromkeys(d.strip() for d in deployment_ids if d and d.strip()))
    if not deployments and require_deployment:
        raise InvalidInput(_("Indica al menos un ID de despliegue (deployment_id)."))
    clash = session.scalar(select(LtiPlatform).where(LtiPlatform.issuer == issuer, LtiPlatform.client_id == client_id))
    if clash is not None and clash is not platform:
        raise Conflict(_("Ya hay una plataforma registrada con ese emisor y ese client_id («%(name)s»).", name=clash.name))
    if platform is None:
        platform = LtiPlatform(created_at=now)
        session.add(platform)
    for key, value in values.items():
        setattr(platform, key, value)
    if auto_enroll is not None:
        platform.auto_enroll = bool(auto_enroll)
    elif platform.auto_enroll is None:
        platform.auto_enroll = True
    platform.updated_at = now
    existing = {d.deployment_id: d for d in platform.deployments}
    platform.deployments = [existing.get(d) or LtiDeployment(deployment_id=d) for d in deployments]
    session.flush()
    return platform


# -- the tool's keys -----------------------------------------------------------------------------
def _new_key(now: datetime) -> LtiToolKey:
    from jwcrypto.jwk import JWK

    jwk = JWK.generate(kty="RSA", size=2048)
    return LtiToolKey(kid=jwk.thumbprint(), private_pem=jwk.export_to_pem(private_key=True, password=None).decode(),
                      public_pem=jwk.export_to_pem().decode(), created_at=now)


def active_key(session: Session, *, now: datetime) -> LtiToolKey:
    """The key that signs (created on first use)."""
    key = session.scalar(select(LtiToolKey).where(LtiToolKey.retired_at.is_(None)).order_by(LtiToolKey.id.desc()).limit(1))
    if key is None:
        key = _new_key(now)
        session.add(key)
        session.flush()
    return key


def rotate_key(session: Session, *, now: datetime) -> LtiToolKey:
    """A new signing key; the old one is retired but stays published for the retention period."""
    for old in session.scalars(select(LtiToolKey).where(LtiToolKey.retired_at.is_(None))):
        old.retired_at = now
    key = _new_key(now)
    session.add(key)
    session.flush()
    return key


def public_jwk(key: LtiToolKey) -> dict:
    from jwcrypto.jwk import JWK

    jwk = json.loads(JWK.from_pem(key.public_pem.encode()).export_public())
    jwk.update({"kid": key.kid, "alg": "RS256", "use": "sig"})
    return jwk


def jwks(session: Session, *, now: datetime, retention_days: int) -> dict:
    """The active key and the keys retired less than ``retention_days`` ago."""
    active_key(session, now=now)
    since = now - timedelta(days=retention_days)
    keys = session.scalars(select(LtiToolKey).where((LtiToolKey.retired_at.is_(None)) | (LtiToolKey.retired_at > since))
                           .order_by(LtiToolKey.id.desc()))
    return {"keys": [public_jwk(k) for k in keys]}


# -- launches ------------------------------------------------------------------------------------
def _role_names(claims: dict) -> list[tuple[str, str]]:
    """[(name, kind)] with kind system | institution | membership; only the context roles when there are any
    (Canvas sends institution roles that do not apply in the course)."""
    parsed = []
    for raw in claims.get(CLAIM + "roles") or []:
        if not isinstance(raw, str):
            continue
        if raw.startswith(ROLE_PREFIX):
            kind, _sep, name = raw[len(ROLE_PREFIX):].partition("#")
            kind = kind.split("/")[0]
            name = name.split("#")[0]
        else:  # the short context forms ("Instructor", "Learner")
            kind, name = "membership", raw.rsplit("/", 1)[-1].rsplit("#", 1)[-1]
        parsed.append((name, kind))
    context = [(n, k) for n, k in parsed if k == "membership"]
    return context or parsed


def launch_locale(claims: dict) -> str | None:
    """The interface language the platform asked for (``launch_presentation.locale``, e.g. ``en-US`` → ``en``)."""
    presentation = claims.get(CLAIM + "launch_presentation") or {}
    value = presentation.get("locale") if isinstance(presentation, dict) else None
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip().replace("_", "-").split("-")[0].lower()[:8] or None


def map_role(claims: dict, *, trust_platform_admins: bool = False) -> str:
    """LTI roles → our role; the highest wins. Learner → agent; Instructor, TeachingAssistant,
    ContentDeveloper → trainer; Mentor, Manager → manager; Administrator → admin when the platform's
    administrators are trusted (LTI_TRUST_PLATFORM_ADMINS), trainer otherwise; nothing known → agent."""
    roles = set()
    for name, kind in _role_names(claims):
        if name == "Administrator" or name == "SysAdmin":
            roles.add("admin" if trust_platform_admins and kind in ("system", "institution") else "trainer")
        elif name in ("Mentor", "Manager"):
            roles.add("manager")
        elif name in ("Instructor", "TeachingAssistant", "ContentDeveloper", "Faculty"):
            roles.add("trainer")
        elif name in ("Learner", "Student"):
            roles.add("agent")
    for role in ("admin", "manager", "trainer", "agent"):
        if role in roles:
            return role
    return "agent"


def linked_user(session: Session, issuer: str, sub: str) -> User | None:
    link = session.scalar(select(LtiUserLink).where(LtiUserLink.issuer == issuer, LtiUserLink.sub == sub))
    return session.get(User, link.user_id) if link else None


def _placeholder_email(issuer: str, sub: str) -> str:
    digest = hashlib.sha256(f"{issuer}\n{sub}".encode()).hexdigest()[:20]
    return f"lti-{digest}@usuarios-lti.example.com"


def user_for_launch(session: Session, platform: LtiPlatform, claims: dict, *, now: datetime,
                    trust_platform_admins: bool = False, launching: bool = True) -> User:
    """The person of the launch: linked by (issuer, sub) (a link made by an earlier launch or confirmed by an
    admin, :func:`lms.lti.linking.link_account`); else an agent account with the same e-mail; else a new account with the role
    the LTI roles map to. The e-mail claim is never verified, so it never opens a staff account (trainer,
    manager, admin): those are linked only by an admin. A launch never changes the role of an existing account."""
    sub = str(claims.get("sub") or "").strip()
    if not sub:
        raise LaunchRefused(_("La plataforma no ha enviado el identificador del usuario (sub): los inicios anónimos no se admiten."))
    link = session.scalar(select(LtiUserLink).where(LtiUserLink.issuer == platform.issuer, LtiUserLink.sub == sub))
    if link is not None:
        user = session.get(User, link.user_id)
    else:
        email = (claims.get("email") or "").strip()
        user = accounts.find_user_by_email(session, email) if email else None
        if user is not None and user.role != "agent":
            raise StaffLinkNeeded(_("Tu correo coincide con una cuenta de personal de la academia (formación, gestión o "
                                  "administración). Por seguridad, un inicio desde la plataforma no entra en esa cuenta: "
                                  "pide a un administrador de la academia que vincule tu usuario de la plataforma con ella."),
                                  platform=platform, sub=sub, user=user, name=str(claims.get("name") or "")[:200] or None)
        if user is None:
            name = (claims.get("name") or " ".join(filter(None, [claims.get("given_name"), claims.get("family_name")]))
                    or claims.get("preferred_username") or _("Usuario LTI")).strip()
            try:
                address = accounts.normalise_email(email) if email else _placeholder_email(platform.issuer, sub)
            except DomainError:
                address = _placeholder_email(platform.issuer, sub)
            user = accounts.create_user(session, email=address, name=name[:200],
                                        role=map_role(claims, trust_platform_admins=trust_platform_admins))
        link = LtiUserLink(issuer=platform.issuer, sub=sub, user_id=user.id, created_at=now)
        session.add(link)
    if launching and not user.is_active_user:
        raise LaunchRefused(_("Tu cuenta de la academia está desactivada. Habla con tu responsable."))
    if launching:
        link.last_launch_at = now
        user.last_login_at = now
    session.flush()
    return user


def parse_target(value: str | None) -> tuple[str, str] | None:
    value = (value or "").strip()
    if not value:
        return None
    kind, _sep, slug = value.partition(":")
    if kind not in TARGET_KINDS or not slug.strip():
        raise InvalidInput(_("Destino LTI no válido «%(target)s»: usa track:…, lesson:…, quiz:… o roleplay:….", target=value))
    return kind, slug.strip()


def check_target(session: Session, target: str) -> tuple[str, str]:
    """``kind:slug`` of an item that exists, or NotFound."""
    from lms.quizzes import services as quizzes
    from lms.roleplays import services as roleplays
    from lms.tracks import services as tracks

    kind, slug = parse_target(target)
    getter = {"track": tracks.get_track, "lesson": tracks.get_lesson, "quiz": quizzes.get_quiz,
              "roleplay": roleplays.get_scenario}[kind]
    try:
        getter(session, slug)
    except NotFound:
        raise NotFound(_("El enlace de la plataforma apunta a «%(target)s», que no existe en la academia.", target=target)) from None
    return kind, slug


_PATH_KINDS = {"tracks": "track", "lessons": "lesson", "quizzes": "quiz", "roleplays": "roleplay"}


def target_from_link_uri(uri: str | None) -> str | None:
    """``…/lessons/<slug>`` (and tracks, quizzes, role-plays) as a target, for platforms configured with the
    activity's own address as target link URI instead of a ``target`` custom parameter."""
    parts = [p for p in urlsplit(uri or "").path.split("/") if p]
    if len(parts) >= 2 and parts[-2] in _PATH_KINDS and re.fullmatch(r"[\w-]+", parts[-1]):
        return f"{_PATH_KINDS[parts[-2]]}:{parts[-1]}"
    return None


def _launch_target(claims: dict) -> str | None:
    custom = claims.get(CLAIM + "custom") or {}
    target = custom.get("target") if isinstance(custom, dict) else None
    return (target or "").strip() or target_from_link_uri(claims.get(CLAIM + "target_link_uri"))


def record_launch(session: Session, platform: LtiPlatform, claims: dict, *, now: datetime) -> LtiResourceLink | None:
    """Remember the course and the resource link; the link's target comes from the launch's custom
    ``target`` parameter (set by deep linking or by the platform admin), else what was stored before."""
    context = None
    ctx = claims.get(CLAIM + "context") or {}
    if ctx.get("id"):
        context = session.scalar(select(LtiContext).where(LtiContext.platform_id == platform.id,
                                                          LtiContext.context_id == str(ctx["id"])))
        if context is None:
            context = LtiContext(platform_id=platform.id, context_id=str(ctx["id"]))
            session.add(context)
        context.title = (ctx.get("title") or None) and str(ctx["title"])[:500]
        context.label = (ctx.get("label") or None) and str(ctx["label"])[:255]
        nrps = claims.get("https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice") or {}
        context.memberships_url = nrps.get("context_memberships_url") or context.memberships_url
        session.flush()
    rl = claims.get(CLAIM + "resource_link") or {}
    target = _launch_target(claims)
    if target:
        check_target(session, target)
    if not rl.get("id"):
        return None
    link = session.scalar(select(LtiResourceLink).where(LtiResourceLink.platform_id == platform.id,
                                                        LtiResourceLink.resource_link_id == str(rl["id"])))
    if link is None:
        link = LtiResourceLink(platform_id=platform.id, resource_link_id=str(rl["id"]), created_at=now)
        session.add(link)
    link.context_pk = context.id if context else None
    link.title = (rl.get("title") or None) and str(rl["title"])[:500]
    if target:
        link.target = target.strip()
    ags = claims.get("https://purl.imsglobal.org/spec/lti-ags/claim/endpoint")
    if isinstance(ags, dict):
        link.ags = ags
    link.last_launch_at = now
    session.flush()
    return link


def remember_launched_link(session: Session, user: User, link: LtiResourceLink, sub: str, *, now: datetime) -> None:
    """The person launched from ``link``: their scores for its activity go to its line item."""
    known = session.scalar(select(LtiLaunchedLink).where(LtiLaunchedLink.user_id == user.id,
                                                         LtiLaunchedLink.resource_link_pk == link.id))
    if known is None:
        session.add(LtiLaunchedLink(user_id=user.id, resource_link_pk=link.id, sub=sub, first_launch_at=now))
        session.flush()


@dataclass
class LaunchOutcome:
    user: User
    target: str | None  # kind:slug or None (home)


def process_launch(session: Session, platform: LtiPlatform, claims: dict, *, now: datetime,
                   trust_platform_admins: bool = False) -> LaunchOutcome:
    """A validated resource link launch: the user, the course and link records, and where to go."""
    if claims.get(CLAIM + "message_type") != "LtiResourceLinkRequest":
        raise InvalidInput(_("Este tipo de mensaje LTI no se admite aquí."))
    link = record_launch(session, platform, claims, now=now)
    user = user_for_launch(session, platform, claims, now=now, trust_platform_admins=trust_platform_admins)
    if link is not None:
        remember_launched_link(session, user, link, str(claims.get("sub")), now=now)
    target = (link.target if link else None) or _launch_target(claims)
    if target:
        check_target(session, target)
    return LaunchOutcome(user=user, target=target)


def agent_access_problem(session: Session, user: User, target: str | None) -> str | None:
    """Why an agent launched into ``target`` could not open it (not enrolled in its track), or None."""
    if user.role != "agent" or not target:
        return None
    from lms.quizzes import services as quizzes
    from lms.tracks import services as tracks

    kind, slug = parse_target(target)
    if kind == "lesson" and not tracks.lesson_visible_to(session, tracks.get_lesson(session, slug), user):
        return _("Todavía no estás inscrito en el itinerario de esta lección. Pide a tu responsable que te inscriba; "
                 "mientras tanto puedes ver tus itinerarios en la academia.")
    if kind == "quiz" and not quizzes.ACCESS_POLICY["may_take"](session, user, quizzes.get_quiz(session, slug)):
        return _("Esta evaluación aún no está abierta para ti (no estás inscrito en su itinerario). "
                 "Pide a tu responsable que te inscriba.")
    return None


def course_team(session: Session, context: LtiContext):
    """The course's team here, "<course> (LTI)" (created and remembered on first use; the roster import uses it too)."""
    team = accounts.get_team(session, context.team_id) if context.team_id else None
    if team is None:
        name = f"{(context.title or context.label or context.context_id)[:150]} (LTI)"
        team = accounts.find_team_by_name(session, name) or accounts.create_team(session, name)
        context.team_id = team.id
        session.flush()
    return team


def _target_track(session: Session, target: str):
    """The track a learner launched into ``target`` should be enrolled in: the track itself; the track
    containing the lesson's or quiz's module (where it comes earliest); None for role-plays."""
    from lms.quizzes import services as quizzes
    from lms.tracks import services as tracks

    kind, slug = parse_target(target)
    if kind == "track":
        return tracks.get_track(session, slug)
    if kind == "lesson":
        module_slug = tracks.get_lesson(session, slug).module.slug
    elif kind == "quiz":
        module_slug = quizzes.get_quiz(session, slug).module_slug
    else:
        return None
    candidates = tracks.tracks_with_module(session, module_slug) if module_slug else []
    return candidates[0] if candidates else None


@dataclass
class AutoEnrollment:
    track_title: str
    team_name: str | None


def auto_enroll(session: Session, platform: LtiPlatform, user: User, target: str | None, claims: dict, *,
                now: datetime, today: date) -> AutoEnrollment | None:
    """A learner launched from a course into an activity they cannot open yet is enrolled in its track
    (start date today, as the organisation: no acting person) and put in the course's team, when the
    platform's ``auto_enroll`` setting is on. None when nothing was done (setting off, staff, role-play,
    already enrolled, no track holds the item)."""
    from lms.tracks import services as tracks

    if not platform.auto_enroll or user.role != "agent" or not target:
        return None
    kind, _slug = parse_target(target)
    if kind in ("lesson", "quiz") and agent_access_problem(session, user, target) is None:
        return None
    track = _target_track(session, target)
    if track is None or any(e.track_id == track.id for e in tracks.enrollments_of(session, user)):
        return None
    tracks.enroll_for_organisation(session, agent=user, track=track, start_date=today, now=now)
    team = None
    ctx = claims.get(CLAIM + "context") or {}
    context = ctx.get("id") and session.scalar(select(LtiContext).where(
        LtiContext.platform_id == platform.id, LtiContext.context_id == str(ctx["id"])))
    if context:
        team = course_team(session, context)
        accounts.add_to_team(session, team, user)
    session.flush()
    return AutoEnrollment(track_title=track.title, team_name=team.name if team else None)


#: where each kind of target opens: (agents, staff)
TARGET_ENDPOINTS = {
    "track": ("tracks.track", "tracks.track"),
    "lesson": ("tracks.lesson", "tracks.lesson"),
    "quiz": ("quizzes.quiz", "quizzes_manage.quiz_results"),
    "roleplay": ("roleplays.scenario", "roleplays_manage.queue"),
}


def target_endpoint(target: str | None, role: str) -> tuple[str, dict]:
    """The endpoint and arguments a launch lands on (agents on the activity, staff on its management page)."""
    if not target:
        return "home", {}
    kind, slug = parse_target(target)
    endpoint = TARGET_ENDPOINTS[kind][0 if role == "agent" else 1]
    return endpoint, ({} if endpoint == "roleplays_manage.queue" else {"slug": slug})


def is_deep_linking_allowed(role: str, claims: dict | None = None, *, trust_platform_admins: bool = False) -> bool:
    """Trainers and admins here, who also launched as course staff (Instructor, ContentDeveloper, Administrator…):
    a trainer's account launched with a learner's roles may not place content."""
    if role not in ("trainer", "admin"):
        return False
    return claims is None or map_role(claims, trust_platform_admins=trust_platform_admins) in ("trainer", "admin")


#: the content item types we can place: an LTI resource link (launches here), or a plain link to the page
DEEP_LINK_TYPES = ("ltiResourceLink", "link")


def deep_link_type(settings: dict) -> str | None:
    """The item type to answer with: ltiResourceLink when accepted, else link, else None (nothing we offer)."""
    accepted = settings.get("accept_types")
    if not isinstance(accepted, list):
        return "ltiResourceLink"
    return next((t for t in DEEP_LINK_TYPES if t in accepted), None)


def deep_link_choices(session: Session) -> dict[str, list[tuple[str, str]]]:
    """Everything a trainer can place in a course: {kind: [(kind:slug, title)]}."""
    from lms.quizzes import services as quizzes
    from lms.roleplays import services as roleplays
    from lms.tracks import services as tracks

    return {
        "track": [(f"track:{t.slug}", t.title) for t in tracks.list_tracks(session)],
        "lesson": [(f"lesson:{lesson.slug}", f"{t.title} › {lesson.title}")
                   for t in tracks.list_tracks(session) for lesson in _track_lessons(t)],
        "quiz": [(f"quiz:{q.slug}", q.title) for q in quizzes.list_quizzes(session)],
        "roleplay": [(f"roleplay:{s.slug}", s.title) for s in roleplays.list_scenarios(session)],
    }


def _track_lessons(track) -> list:
    seen, out = set(), []
    for tm in track.track_modules:
        for lesson in tm.module.lessons:
            if not lesson.is_archived and lesson.slug not in seen:
                seen.add(lesson.slug)
                out.append(lesson)
    return out
