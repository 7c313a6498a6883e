"""The LTI 1.3 endpoints a platform talks to (/lti/…) and the admins' registration pages (/manage/lti)."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, session as http_session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from lms.core.clock import now_utc, today
from lms.core.db import get_session, write_intent
from lms.core.errors import DomainError
from lms.core.forms import EmptyForm
from lms.core.i18n import LAUNCH_LOCALE_KEY
from lms.core.security import EMBED_SESSION_KEY, allow_framing, csp, csrf, roles_required
from lms.accounts import services as accounts
from lms.lti import grades, linking, services

if TYPE_CHECKING:
    from lms.lti.tool import DatabaseToolConf

# pylti1p3 (with requests, PyJWT and cryptography, ~17 MiB) and the modules built on it (lms.lti.tool,
# registration, roster) are imported by the LTI endpoints that use them: a worker that serves no LTI
# request does not carry them.

bp = Blueprint("lti", __name__, url_prefix="/lti", template_folder="templates")
manage_bp = Blueprint("lti_manage", __name__, url_prefix="/manage/lti", template_folder="templates")

DEEP_LINK_KEY = "lti_deep_link"


# -- helpers -------------------------------------------------------------------------------------
def tool_urls() -> dict[str, str]:
    """What a platform admin enters, built from PUBLIC_URL (the address platforms reach us at)."""
    base = str(current_app.config["PUBLIC_URL"]).rstrip("/")
    return {"login": f"{base}/lti/login", "launch": f"{base}/lti/launch", "deep_linking": f"{base}/lti/launch",
            "jwks": f"{base}/lti/jwks.json", "register": f"{base}/lti/register", "domain": base.split("://", 1)[-1]}


def _setting(name: str) -> int:
    return int(current_app.config[name])


def _trust_admins() -> bool:
    value = current_app.config.get("LTI_TRUST_PLATFORM_ADMINS")
    return value.lower() in {"1", "true", "yes"} if isinstance(value, str) else bool(value)


def _tool_conf(session, now: datetime) -> DatabaseToolConf:
    from lms.lti.tool import DatabaseToolConf

    key = services.active_key(session, now=now)
    return DatabaseToolConf(session, key.private_pem, key.public_pem)


def _frame_for_platforms(session) -> None:
    """LTI pages are shown in the platform's iframe, before any session says which platform it is."""
    origins = []
    for platform in services.list_platforms(session):
        origins += [o for o in services.frame_origins(platform) if o not in origins]
    allow_framing(origins)


def _explain(exc: Exception) -> tuple[str, int]:
    """A platform error in words the person (or the platform admin) can act on."""
    reason = getattr(exc, "reason", None)  # lms.lti.tool.TokenRefused: one id_token claim check
    if reason == "missing-claim":
        return _("El token de la plataforma no trae el dato obligatorio «%(claim)s»: la plataforma debe enviarlo.",
                 claim=exc.claim), 403
    if reason == "azp":
        return _("El token de la plataforma no autoriza a esta herramienta: su parte autorizada (azp) falta o no es el "
                 "client_id de la academia."), 403
    if reason == "audience":
        return _("El token de la plataforma es para otra herramienta: su audiencia (aud) no incluye el client_id de la academia."), 403
    if reason == "clock":
        return _("El token de la plataforma tiene fecha futura: el reloj de la plataforma va adelantado más de %(seconds)d s "
                 "respecto al de la academia. Hay que corregir la hora del servidor de la plataforma.",
                 seconds=_setting("LTI_CLOCK_SKEW_SECONDS")), 403
    if reason == "expired":
        return _("El token de la plataforma ha caducado. Vuelve a abrir la actividad desde la plataforma "
                 "(si vuelve a pasar, el reloj de la plataforma o el de la academia no está en hora)."), 403
    text = str(exc)
    if "Invalid Nonce" in text:
        return _("Este inicio ya se había usado o ha caducado. Vuelve a abrir la actividad desde la plataforma."), 403
    if "Missing cookie" in text or "State not found" in text or "Missing state" in text:
        return _("El navegador no ha conservado la sesión del inicio (cookies bloqueadas o enlace caducado). "
                 "Vuelve a abrir la actividad desde la plataforma, o ábrela en una ventana nueva."), 400
    if "Registration not found" in text or "Client id not registered" in text or "registration details" in text:
        return _("Esta plataforma (emisor y client_id) no está registrada en la academia. "
                 "Un administrador debe darla de alta en /manage/lti."), 403
    if "deployment ID" in text:
        return _("El despliegue (deployment_id) de este inicio no está registrado para esta plataforma."), 403
    if "expired" in text.lower():
        return _("El token de la plataforma ha caducado. Vuelve a abrir la actividad desde la plataforma."), 403
    if "public key" in text.lower() or "Can't decode id_token" in text or "keyset" in text.lower():
        return _("La firma del inicio no se ha podido verificar con las claves de la plataforma."), 403
    if "issuer" in text or "login hint" in text or "id_token" in text:
        return _("La petición de inicio LTI está incompleta."), 400
    return _("El inicio LTI no es válido."), 400


def _refuse(message: str, status: int, detail: str | None = None):
    return render_template("lti/error.html", message=message, detail=detail), status


def _target_url(target: str | None, role: str) -> str:
    endpoint, args = services.target_endpoint(target, role)
    return url_for(endpoint, **args)


def _sign_in(user, platform, claims: dict) -> None:
    http_session.clear()  # a fresh session: no fixation
    login_user(user)
    http_session[EMBED_SESSION_KEY] = services.frame_origins(platform)
    locale = services.launch_locale(claims)
    if locale:  # the interface speaks the platform's language unless the person chose one here
        http_session[LAUNCH_LOCALE_KEY] = locale


# -- the platform's endpoints --------------------------------------------------------------------
@bp.route("/login", methods=["GET", "POST"])
@csrf.exempt
def login():
    """OIDC third-party initiated login: check the issuer, then send the browser to the platform."""
    from pylti1p3.exception import LtiException, OIDCException

    from lms.lti.tool import FlaskRequest, OIDCLogin, make_storage

    write_intent.set(True)  # a GET that writes (state, nonce): take SQLite's write lock up front
    session, now = get_session(), now_utc()
    _frame_for_platforms(session)
    req = FlaskRequest()
    storage = make_storage(session, req, now)
    storage._get_cache().purge_expired()
    oidc = OIDCLogin(req, _tool_conf(session, now), launch_data_storage=storage)
    oidc.enable_check_cookies(main_msg=_("Tu navegador no permite cookies dentro de la plataforma."),
                              click_msg=_("Abrir la actividad en una ventana nueva"),
                              loading_msg=_("Cargando…"))
    try:
        return oidc.redirect(tool_urls()["launch"])
    except (LtiException, OIDCException) as exc:
        message, status = _explain(exc)
        return _refuse(message, status, str(exc))


@bp.route("/launch", methods=["POST"])
@csrf.exempt
def launch():
    """The id_token from the platform: validated by pylti1p3, then the person is signed in and sent on."""
    from pylti1p3.exception import LtiException, OIDCException

    from lms.lti.tool import DatabaseCache, FlaskRequest, MessageLaunch, make_storage

    session, now = get_session(), now_utc()
    _frame_for_platforms(session)
    req = FlaskRequest()
    try:
        launch = MessageLaunch(req, _tool_conf(session, now), make_storage(session, req, now),
                               keyset_lifetime=_setting("LTI_KEYSET_CACHE_SECONDS"),
                               min_refetch=_setting("LTI_KEYSET_MIN_REFETCH_SECONDS"),
                               leeway=_setting("LTI_CLOCK_SKEW_SECONDS"))
        claims = launch.get_launch_data()
    except (LtiException, OIDCException) as exc:
        message, status = _explain(exc)
        return _refuse(message, status, str(exc))
    platform = launch.registration.platform
    try:
        if launch.is_deep_link_launch():
            user = services.user_for_launch(session, platform, claims, now=now, trust_platform_admins=_trust_admins())
            if not services.is_deep_linking_allowed(user.role, claims, trust_platform_admins=_trust_admins()):
                return _refuse(_("Solo formadores y administradores pueden elegir contenidos para la plataforma."), 403)
            settings = claims.get("https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings") or {}
            if services.deep_link_type(settings) is None:
                return _refuse(_("La plataforma solo acepta contenidos de tipos que la academia no ofrece (%(types)s). "
                                 "La academia ofrece actividades LTI (ltiResourceLink) y enlaces (link).",
                                 types=", ".join(map(str, settings.get("accept_types") or []))), 400)
            key = "deep-link-" + uuid.uuid4().hex
            DatabaseCache(session, now).set(key, {
                "platform_id": platform.id, "deployment_id": claims.get(services.CLAIM + "deployment_id"),
                "settings": settings, "user_id": user.id}, 3600)
            _sign_in(user, platform, claims)
            http_session[DEEP_LINK_KEY] = key
            return redirect(url_for("lti.deep_link"))
        if not launch.is_resource_launch():
            return _refuse(_("Este tipo de mensaje LTI no se admite."), 400)
        outcome = services.process_launch(session, platform, claims, now=now, trust_platform_admins=_trust_admins())
        enrolled = services.auto_enroll(session, platform, outcome.user, outcome.target, claims, now=now, today=today())
    except services.StaffLinkNeeded as exc:  # refused, but kept for an admin to confirm on /manage/lti
        session.rollback()
        linking.request_link(session, exc, now=now)
        session.commit()
        return _refuse(str(exc), exc.status)
    except DomainError as exc:
        return _refuse(str(exc), exc.status)
    _sign_in(outcome.user, platform, claims)
    if enrolled:
        flash(_("Te hemos inscrito en el itinerario «%(track)s» porque tu curso de la plataforma incluye esta actividad.",
                track=enrolled.track_title), "success")
    problem = services.agent_access_problem(session, outcome.user, outcome.target)
    if problem:  # signed in (200: the new account and link are kept), but the activity is not open to them yet
        return render_template("lti/error.html", message=problem, home=True), 200
    return redirect(_target_url(outcome.target, outcome.user.role))


@bp.route("/register", methods=["GET", "POST"])
@roles_required("admin")
def register():
    """LTI Dynamic Registration started by an admin signed in here: the platform opens this URL with
    ``openid_configuration`` and ``registration_token``. The admin confirms with a POST (CSRF-protected), so a
    link planted elsewhere cannot make an admin's browser register a platform."""
    from lms.lti import registration

    form = EmptyForm()
    if request.method == "POST" and form.validate_on_submit():
        return _register(None, request.form)
    config_url = request.values.get("openid_configuration", "")
    frame_origin = services.origin(config_url)
    allow_framing([frame_origin] if frame_origin else [])
    if not frame_origin:
        return render_template("lti/error.html", heading=_("No se ha podido registrar la academia"),
                               message=registration.missing_configuration_message()), 400
    return render_template("lti/register_confirm.html", form=form, config_url=config_url,
                           registration_token=request.values.get("registration_token", ""))


@bp.route("/register/<token>", methods=["GET"])
def register_invitation(token: str):
    """The same with a one-time invitation created on /manage/lti (for a platform admin's browser that has no
    admin session here, the usual case: the platform opens the URL in its own frame or window). The secret
    token is the proof, so no confirmation step is needed."""
    write_intent.set(True)  # a GET that writes (the invitation, the platform): take SQLite's write lock up front
    return _register(token, request.args)


def _register(token: str | None, values):
    from lms.lti import registration

    session, now = get_session(), now_utc()
    config_url = values.get("openid_configuration", "")
    frame_origin = services.origin(config_url)
    allow_framing([frame_origin] if frame_origin else [])
    try:
        if token is not None:
            registration.claim_invitation(session, token, now=now)
        platform = registration.register(session, urls=tool_urls(), openid_configuration_url=config_url,
                                         registration_token=values.get("registration_token"), now=now)
    except DomainError as exc:  # 4xx/5xx: the transaction is rolled back, an invitation stays usable
        return render_template("lti/error.html", heading=_("No se ha podido registrar la academia"), message=str(exc)), exc.status
    if token is not None:
        registration.mark_registered(session, token, platform)
    return render_template("lti/registered.html", platform=platform)


@bp.route("/jwks.json")
def jwks():
    """The tool's public keys (the active one and those retired within LTI_KEY_RETENTION_DAYS)."""
    body = services.jwks(get_session(), now=now_utc(), retention_days=_setting("LTI_KEY_RETENTION_DAYS"))
    response = jsonify(body)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.route("/deep-link", methods=["GET", "POST"])
@roles_required("trainer", "admin")
def deep_link():
    """A trainer picks what to place in the course; the signed LtiDeepLinkingResponse goes back."""
    from pylti1p3.deep_link import DeepLink
    from pylti1p3.deep_link_resource import DeepLinkResource

    class _DeepLink(DeepLink):
        """The ``data`` claim goes back only when the request carried one (LTI Deep Linking 2.0 §4.4.5)."""

        def get_message_jwt(self, resources):
            message = super().get_message_jwt(resources)
            if "data" not in self._deep_link_settings:
                message.pop("https://purl.imsglobal.org/spec/lti-dl/claim/data", None)
            return message

    from lms.lti.tool import DatabaseCache

    session, now = get_session(), now_utc()
    key = http_session.get(DEEP_LINK_KEY)
    cache = DatabaseCache(session, now)
    pending = cache.get(key) if key else None
    if not pending or pending.get("user_id") != current_user.id:
        return _refuse(_("No hay ninguna selección de contenidos en curso: vuelve a abrirla desde la plataforma."), 400)
    settings = pending["settings"]
    choices = services.deep_link_choices(session)
    form = EmptyForm()
    if request.method == "POST" and form.validate_on_submit():
        chosen = request.form.getlist("target")
        valid = {value: title for items in choices.values() for value, title in items}
        if not chosen or any(c not in valid for c in chosen):
            flash(_("Elige al menos un contenido de la lista."), "error")
        elif len(chosen) > 1 and str(settings.get("accept_multiple", "true")).lower() == "false":
            flash(_("La plataforma solo admite un contenido cada vez."), "error")
        else:
            platform = services.get_platform(session, pending["platform_id"])
            registration = _tool_conf(session, now).find_registration_by_params(platform.issuer, platform.client_id)
            kind = services.deep_link_type(settings)
            if kind == "ltiResourceLink":
                resources = [DeepLinkResource().set_url(tool_urls()["launch"]).set_title(valid[c])
                             .set_custom_params({"target": c}) for c in chosen]
            else:  # a plain link to the activity's page (the platform does not place LTI links)
                base = str(current_app.config["PUBLIC_URL"]).rstrip("/")
                resources = [DeepLinkResource().set_type("link").set_title(valid[c])
                             .set_url(base + _target_url(c, "agent")) for c in chosen]
            token = _DeepLink(registration, pending["deployment_id"], settings).get_response_jwt(resources)
            cache.consume(key)
            http_session.pop(DEEP_LINK_KEY, None)
            return_url = settings.get("deep_link_return_url")
            response = current_app.make_response(render_template("lti/deep_link_return.html", return_url=return_url, jwt=token))
            response.headers["Content-Security-Policy"] = csp(http_session.get(EMBED_SESSION_KEY) or (),
                                                              [services.origin(return_url)])
            return response
    return render_template("lti/deep_link.html", form=form, choices=choices, settings=settings)


# -- admin pages ---------------------------------------------------------------------------------
class PlatformForm(FlaskForm):
    name = StringField(_l("Nombre"), validators=[Optional(), Length(max=200)])
    issuer = StringField(_l("Emisor (issuer)"), validators=[DataRequired(), Length(max=255)])
    client_id = StringField(_l("ID de cliente (client_id)"), validators=[DataRequired(), Length(max=255)])
    deployment_ids = StringField(_l("IDs de despliegue (deployment_id), separados por comas"), validators=[DataRequired()])
    auth_login_url = StringField(_l("URL de inicio de sesión OIDC de la plataforma"), validators=[DataRequired(), Length(max=500)])
    auth_token_url = StringField(_l("URL de tokens de acceso de la plataforma"), validators=[DataRequired(), Length(max=500)])
    key_set_url = StringField(_l("URL del juego de claves (JWKS) de la plataforma"), validators=[Optional(), Length(max=500)])
    public_key_pem = TextAreaField(_l("O bien: clave pública de la plataforma (PEM)"), validators=[Optional(), Length(max=5000)])
    auth_audience = StringField(_l("Audiencia del token (opcional)"), validators=[Optional(), Length(max=500)])
    frame_origins = StringField(_l("Orígenes que pueden enmarcar el sitio (opcional, separados por espacios)"),
                                validators=[Optional()])
    auto_enroll = BooleanField(_l("Inscribir automáticamente a los alumnos en el itinerario de la actividad que abren"),
                               default=True)


def _save(form: PlatformForm, platform):
    data = {name: getattr(form, name).data for name in (
        "name", "issuer", "client_id", "auth_login_url", "auth_token_url", "key_set_url", "public_key_pem",
        "auth_audience", "deployment_ids", "frame_origins", "auto_enroll")}
    return services.save_platform(get_session(), platform, now=now_utc(), **data)


def _config_values():
    session, now = get_session(), now_utc()
    key = services.active_key(session, now=now)
    import json

    return {"urls": tool_urls(), "public_pem": key.public_pem, "kid": key.kid,
            "jwk": json.dumps(services.public_jwk(key), indent=2)}


@manage_bp.route("", methods=["GET", "POST"])
@roles_required("admin")
def platforms():
    """The tool's configuration values, the registered platforms, and the form to register (or, with
    ``?edit=<id>``, edit) one."""
    session = get_session()
    editing = None
    raw = request.args.get("edit", "")
    if raw:
        if not raw.isdigit():
            return _refuse(_("Identificador de plataforma no válido."), 404)
        editing = services.get_platform(session, int(raw))
    form = PlatformForm(obj=editing if request.method == "GET" else None)
    if editing is not None and request.method == "GET":
        form.deployment_ids.data = ", ".join(d.deployment_id for d in editing.deployments)
    if form.validate_on_submit():
        try:
            platform = _save(form, editing)
        except DomainError as exc:
            flash(str(exc), "error")
        else:
            flash(_("Plataforma «%(name)s» guardada.", name=platform.name), "success")
            return redirect(url_for("lti_manage.platforms"))
    return _platforms_page(form, editing)


def _platforms_page(form, editing, invitation_url: str | None = None):
    from lms.lti import registration, roster

    session = get_session()
    scores = grades.sync_status(session)
    people = {u.id: u for u in accounts.users_by_ids(session, list({m.payload.get("user_id") for m in scores}))}
    return render_template("lti/manage/platforms.html", form=form, platforms=services.list_platforms(session),
                           editing=editing, config=_config_values(), scores=scores, people=people,
                           contexts=roster.contexts(session), roster_form=EmptyForm(), invitation_url=invitation_url,
                           link_requests=linking.pending_link_requests(session), link_people={
                               u.id: u for u in accounts.users_by_ids(session, [r.user_id for r in linking.pending_link_requests(session)])},
                           invitations=registration.recent_invitations(session, now=now_utc()))


@manage_bp.route("/roster", methods=["POST"])
@roles_required("admin")
def import_roster():
    """Names and Role Provisioning: the course's members become a team here."""
    from lms.lti import roster

    form = EmptyForm()
    raw = request.form.get("context_id", "")
    if not form.validate_on_submit() or not raw.isdigit():
        return _refuse(_("Elige un curso de la lista."), 400)
    try:
        result = roster.import_roster(get_session(), int(raw), now=now_utc(), trust_platform_admins=_trust_admins())
    except DomainError as exc:
        flash(str(exc), "error")
        return redirect(url_for("lti_manage.platforms"))
    flash(_("Participantes importados en el equipo «%(team)s»: %(new)d cuentas nuevas, %(known)d ya existentes, %(skipped)d omitidos.",
            team=result.team_name, new=len(result.created), known=len(result.added), skipped=len(result.skipped)), "success")
    return redirect(url_for("lti_manage.platforms"))


@manage_bp.route("/link-requests/<int:request_id>", methods=["POST"])
@roles_required("admin")
def confirm_link(request_id: int):
    """An admin confirms that a refused launch's platform user is the staff account its e-mail named."""
    if not EmptyForm().validate_on_submit():
        return _refuse(_("El formulario ha caducado; vuelve a intentarlo."), 400)
    try:
        link = linking.confirm_link_request(get_session(), request_id, admin=current_user, now=now_utc())
    except DomainError as exc:
        flash(str(exc), "error")
    else:
        flash(_("Vinculado: el usuario %(sub)s de la plataforma entrará como %(email)s.", sub=link.sub,
                email=accounts.get_user(get_session(), link.user_id).email), "success")
    return redirect(url_for("lti_manage.platforms"))


@manage_bp.route("/invitations", methods=["POST"])
@roles_required("admin")
def create_invitation():
    """A one-time registration link (valid one hour) to paste into a platform's "register by URL"."""
    from lms.lti import registration

    form = EmptyForm()
    if not form.validate_on_submit():
        return _refuse(_("El formulario ha caducado; vuelve a intentarlo."), 400)
    token, _invitation = registration.create_invitation(get_session(), created_by_id=current_user.id, now=now_utc())
    # shown once in this response (never stored in clear, never put in a cookie or a redirect URL)
    return _platforms_page(PlatformForm(formdata=None), None, invitation_url=f"{tool_urls()['register']}/{token}")
