"""Login, the user's own account, and the admin screens for users and teams."""
from __future__ import annotations

import math
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, session as http_session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from lms.accounts import imports, resets, services, signin, zones
from lms.accounts.forms import (
    CsvUploadForm,
    LanguageForm,
    LoginForm,
    PasswordChangeForm,
    PasswordResetForm,
    PasswordResetRequestForm,
    TeamCalendarForm,
    TeamForm,
    TeamMemberForm,
    TimeZoneForm,
    UserCreateForm,
    UserEditForm,
)
from lms.accounts.models import LoginResult, Role
from lms.core.clock import now_utc
from lms.core.db import get_session, reads_first
from lms.core.errors import DomainError
from lms.core.forms import EmptyForm, choices
from lms.core.security import login_manager, read_with_user, roles_required, verify_password

bp = Blueprint("accounts", __name__, template_folder="templates")


@login_manager.user_loader
def _load_user(token: str):
    # what other domains read with the user is for pages: after a form post they count again (the unread notifications)
    # (a view may read its first rows in the same statement: lms.accounts.services.read_with_session_user)
    return services.load_user_for_session(get_session(), token, with_extras=request.method in ("GET", "HEAD"),
                                          endpoint=request.endpoint, view_args=request.view_args, read=read_with_user())


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
@reads_first  # the password hash is checked between the reads and the writes, outside SQLite's write lock
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home"))
    form = LoginForm()
    if form.validate_on_submit():
        session = get_session()
        outcome = signin.sign_in(
            session, form.email.data, form.password.data, address=request.remote_addr,
            user_agent=request.user_agent.string, now=now_utc(), limits=signin.Limits.from_config(current_app.config),
        )
        if outcome.result == LoginResult.throttled.value:
            session.commit()  # keep the audit row: an error response rolls the request's session back
            minutes = math.ceil(outcome.retry_after / 60)
            flash(_("Demasiados intentos fallidos. Espera %(minutes)d min y vuelve a intentarlo.", minutes=minutes), "error")
            response = make_response(render_template("accounts/login.html", form=form), 429)
            response.headers["Retry-After"] = str(outcome.retry_after)
            return response
        if not outcome.ok:
            flash(_("Correo o contraseña incorrectos."), "error")
            return render_template("accounts/login.html", form=form), 200
        http_session.clear()  # a fresh session at login: no fixation
        login_user(outcome.user)
        return redirect(_safe_next(request.args.get("next")) or url_for("home"))
    return render_template("accounts/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    if EmptyForm().validate_on_submit():
        services.end_sessions(get_session(), current_user._get_current_object())
        logout_user()
        http_session.clear()
        flash(_("Has cerrado la sesión."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/password-reset", methods=["GET", "POST"])
def password_reset_request():
    """"Forgot your password?": the same answer whether or not the address has an account."""
    form = PasswordResetRequestForm()
    if form.validate_on_submit():
        resets.request_reset(
            get_session(), form.email.data, address=request.remote_addr, now=now_utc(),
            base_url=current_app.config["PUBLIC_URL"], limits=resets.ResetLimits.from_config(current_app.config),
        )
        flash(_("Si hay una cuenta activa con ese correo, te hemos enviado un enlace para elegir una contraseña nueva. "
                "Caduca en %(minutes)d minutos; revisa también la carpeta de correo no deseado.",
                minutes=current_app.config["PASSWORD_RESET_MINUTES"]), "success")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/password_reset_request.html", form=form)


@bp.route("/password-reset/<token>", methods=["GET", "POST"])
def password_reset(token: str):
    """The e-mailed link: opening it changes nothing; posting a new password uses it (once)."""
    session = get_session()
    form = PasswordResetForm()
    link = resets.valid_token(session, token, now=now_utc())
    if link is None:
        return _no_store(make_response(render_template("accounts/password_reset_invalid.html"), 410))
    if form.validate_on_submit():
        try:
            resets.complete_reset(session, token, form.new_password.data, now=now_utc())
        except resets.InvalidResetLink:
            session.rollback()
            return _no_store(make_response(render_template("accounts/password_reset_invalid.html"), 410))
        except DomainError as exc:
            session.rollback()
            form.new_password.errors.append(str(exc))
        else:
            logout_user()
            http_session.clear()
            flash(_("Contraseña cambiada. Se han cerrado todas las sesiones de tu cuenta: inicia sesión con la nueva."), "success")
            return redirect(url_for("accounts.login"))
    return _no_store(make_response(render_template("accounts/password_reset.html", form=form, user=link.user)))


def _no_store(response):
    """A page whose URL holds a secret: never cached, never sent as a referrer."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    session = get_session()
    user = current_user._get_current_object()
    password_form = PasswordChangeForm(prefix="pw")
    language_form = LanguageForm(prefix="lang", locale=user.locale or "")
    zone_form = TimeZoneForm(prefix="tz", time_zone=user.time_zone or "")
    zone_form.time_zone.choices = choices([("", _("La de mi equipo o la organización (%(zone)s)",
                                                    zone=zones.zone_of(session, _without_own_zone(user))))]
                                          + zones.zone_choices())
    if request.method == "POST" and "lang-locale" in request.form:
        if language_form.validate_on_submit():
            services.set_locale(session, user, language_form.locale.data or None, current_app.config["LANGUAGES"])
            flash(_("Idioma guardado."), "success")
            return redirect(url_for("accounts.account"))
    elif request.method == "POST" and "tz-time_zone" in request.form:
        if zone_form.validate_on_submit():
            try:
                zones.set_user_zone(session, user, zone_form.time_zone.data)
            except DomainError as exc:
                zone_form.time_zone.errors = [str(exc)]
            else:
                flash(_("Zona horaria guardada."), "success")
                return redirect(url_for("accounts.account"))
    elif request.method == "POST" and password_form.validate_on_submit():
        if not verify_password(user.password_hash, password_form.current_password.data):
            password_form.current_password.errors.append(_("La contraseña actual no es correcta."))
        else:
            try:
                services.set_password(session, user, password_form.new_password.data)
            except DomainError as exc:
                password_form.new_password.errors.append(str(exc))
            else:
                login_user(user)  # keep this browser signed in with the new session version
                flash(_("Contraseña cambiada. Las demás sesiones se han cerrado."), "success")
                return redirect(url_for("accounts.account"))
    return render_template("accounts/account.html", password_form=password_form, language_form=language_form,
                           zone_form=zone_form)


def _without_own_zone(user):
    """The user as the zone rules see them without a zone of their own (what "follow my team" would give)."""
    from types import SimpleNamespace

    return SimpleNamespace(id=user.id, time_zone=None)


# Admin: users -------------------------------------------------------------

def _team_choices():
    return choices((t.id, t.name) for t in services.list_teams(get_session()))


@bp.route("/admin/users")
@roles_required(Role.admin.value)
def admin_users():
    role = request.args.get("role") or None
    if role not in services.ROLES:
        role = None
    query = (request.args.get("q") or "").strip()[:100] or None
    users = services.list_users(get_session(), role=role, query=query)
    return render_template("accounts/manage/users.html", users=users, role=role, q=query or "")


@bp.route("/admin/login-attempts")
@roles_required(Role.admin.value)
def admin_login_attempts():
    """The sign-in audit trail: the latest attempts, by e-mail/name and result."""
    result = request.args.get("result") or None
    if result not in signin.RESULTS:
        result = None
    query = (request.args.get("q") or "").strip()[:100] or None
    user_id = request.args.get("user", type=int)
    attempts = signin.recent_attempts(get_session(), query=query, result=result, user_id=user_id)
    return render_template("accounts/manage/login_attempts.html", attempts=attempts, result=result, q=query or "",
                           user_id=user_id, results=signin.RESULTS)


@bp.route("/admin/users/new", methods=["GET", "POST"])
@roles_required(Role.admin.value)
def admin_user_new():
    session = get_session()
    form = UserCreateForm()
    form.teams.choices = _team_choices()
    if form.validate_on_submit():
        try:
            user = services.create_user(
                session, email=form.email.data, name=form.name.data, role=form.role.data, password=form.password.data
            )
            for team_id in form.teams.data or []:
                services.add_to_team(session, services.get_team(session, team_id), user)
        except DomainError as exc:
            session.rollback()
            flash(str(exc), "error")
        else:
            flash(_("Usuario %(email)s creado.", email=user.email), "success")
            return redirect(url_for("accounts.admin_user", user_id=user.id))
    return render_template("accounts/manage/user_new.html", form=form)


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@roles_required(Role.admin.value)
def admin_user(user_id: int):
    session = get_session()
    user = services.get_user(session, user_id)
    current_team_ids = [t.id for t in services.teams_of(session, user)]
    form = UserEditForm(obj=None if request.method == "POST" else user, teams=current_team_ids, is_active=user.is_active_user)
    form.teams.choices = _team_choices()
    if form.validate_on_submit():
        try:
            services.update_user(
                session, user, name=form.name.data, role=form.role.data, is_active=form.is_active.data,
                actor=current_user._get_current_object(),
            )
            wanted = set(form.teams.data or [])
            for team in services.list_teams(session):
                if team.id in wanted and user.role != Role.admin.value:
                    services.add_to_team(session, team, user)
                elif team.id not in wanted and team.id in current_team_ids:
                    services.remove_from_team(session, team, user)
        except DomainError as exc:
            session.rollback()
            flash(str(exc), "error")
        else:
            flash(_("Cambios guardados."), "success")
            return redirect(url_for("accounts.admin_user", user_id=user.id))
    return render_template("accounts/manage/user_edit.html", form=form, user=user, reset_form=EmptyForm())


@bp.route("/admin/users/<int:user_id>/reset-password", methods=["POST"])
@roles_required(Role.admin.value)
def admin_user_reset_password(user_id: int):
    session = get_session()
    user = services.get_user(session, user_id)
    if EmptyForm().validate_on_submit():
        password = services.generate_password()
        services.set_password(session, user, password)
        flash(_("Nueva contraseña para %(email)s: %(password)s — entrégala por un canal seguro; no se volverá a mostrar.",
                email=user.email, password=password), "success")
    return redirect(url_for("accounts.admin_user", user_id=user.id))


@bp.route("/admin/users/import", methods=["GET", "POST"])
@roles_required(Role.admin.value)
def admin_users_import():
    form = CsvUploadForm()
    result = None
    if form.validate_on_submit():
        text, error = read_uploaded_text(form.file.data)
        if error:
            form.file.errors.append(error)
        elif imports.data_rows(text) > int(current_app.config.get("CSV_IMPORT_INLINE_ROWS") or imports.INLINE_ROWS):
            job = imports.start_users_import(get_session(), text, skip_invalid=form.skip_invalid.data, actor=current_user,
                                             now=now_utc(), locale=str(get_locale()))
            flash(_("La importación de %(n)d filas se hace en segundo plano: sigue su progreso aquí.", n=job.total), "success")
            return redirect(url_for("accounts.admin_users_import_job", job_id=job.id))
        else:
            result = services.import_users_csv(get_session(), text, skip_invalid=form.skip_invalid.data)
    return render_template("accounts/manage/users_import.html", form=form, result=result,
                           jobs=imports.recent_jobs(get_session()))


@bp.route("/admin/users/import/jobs/<int:job_id>")
@roles_required(Role.admin.value)
def admin_users_import_job(job_id: int):
    """A background import: its progress while it runs, then its result."""
    job = imports.get_job(get_session(), job_id)
    result = None
    if job.status in ("done", "failed"):
        result = services.CsvImportResult(imported=job.imported, errors=[tuple(e) for e in job.errors or []],
                                          rolled_back=job.rolled_back)
    return render_template("accounts/manage/import_job.html", job=job, result=result)


def read_uploaded_text(storage) -> tuple[str, str | None]:
    """Decode an uploaded CSV as UTF-8 (or Latin-1 from old spreadsheets)."""
    raw = storage.read()
    if b"\x00" in raw:
        return "", _("El archivo no es un CSV de texto.")
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError:
        return raw.decode("latin-1"), None


# Admin: teams ---------------------------------------------------------------

@bp.route("/admin/teams", methods=["GET", "POST"])
@roles_required(Role.admin.value)
def admin_teams():
    session = get_session()
    form = TeamForm()
    if form.validate_on_submit():
        try:
            team = services.create_team(session, form.name.data)
        except DomainError as exc:
            session.rollback()
            flash(str(exc), "error")
        else:
            flash(_("Equipo «%(name)s» creado.", name=team.name), "success")
            return redirect(url_for("accounts.admin_team", team_id=team.id))
    teams = services.list_teams(session)
    return render_template("accounts/manage/teams.html", teams=teams, form=form)


@bp.route("/admin/teams/<int:team_id>")
@roles_required(Role.admin.value)
def admin_team(team_id: int):
    session = get_session()
    team = services.get_team(session, team_id)
    members = {kind: services.team_members(session, team, kind) for kind in services.MEMBERSHIP_KINDS}
    return render_template("accounts/manage/team.html", team=team, members=members, form=TeamMemberForm(),
                           calendar_form=_team_calendar_form(session, team))


def _team_calendar_form(session, team, formdata=None) -> TeamCalendarForm:
    form = TeamCalendarForm(formdata=formdata, prefix="cal", time_zone=team.time_zone or "", works_weekends=team.works_weekends)
    form.time_zone.choices = choices([("", _("La de la organización (%(zone)s)", zone=zones.organisation_zone(session)))]
                                     + zones.zone_choices())
    return form


@bp.route("/admin/teams/<int:team_id>/calendar", methods=["POST"])
@roles_required(Role.admin.value)
def admin_team_calendar(team_id: int):
    """The team's time zone and whether its agents work weekends (their due dates move: their summaries are rewritten)."""
    session = get_session()
    team = services.get_team(session, team_id)
    form = _team_calendar_form(session, team, formdata=request.form)
    if form.validate_on_submit():
        try:
            moved = zones.set_team_calendar(session, team, time_zone=form.time_zone.data, works_weekends=form.works_weekends.data)
        except DomainError as exc:
            session.rollback()
            flash(str(exc), "error")
        else:
            if moved:
                zones.calendar_changed(session, [u.id for u in services.team_members(session, team, "agent")])
            flash(_("Zona horaria y calendario del equipo guardados."), "success")
    return redirect(url_for("accounts.admin_team", team_id=team.id))


@bp.route("/admin/teams/<int:team_id>/members", methods=["POST"])
@roles_required(Role.admin.value)
def admin_team_add_member(team_id: int):
    session = get_session()
    team = services.get_team(session, team_id)
    form = TeamMemberForm()
    if form.validate_on_submit():
        user = services.find_user_by_email(session, form.email.data)
        if user is None:
            flash(_("No existe ningún usuario con el correo «%(email)s».", email=form.email.data), "error")
        else:
            try:
                services.add_to_team(session, team, user)
            except DomainError as exc:
                flash(str(exc), "error")
            else:
                flash(_("%(name)s añadido a %(team)s.", name=user.name, team=team.name), "success")
    return redirect(url_for("accounts.admin_team", team_id=team.id))


@bp.route("/admin/teams/<int:team_id>/members/<int:user_id>/remove", methods=["POST"])
@roles_required(Role.admin.value)
def admin_team_remove_member(team_id: int, user_id: int):
    session = get_session()
    team = services.get_team(session, team_id)
    user = services.get_user(session, user_id)
    if EmptyForm().validate_on_submit():
        services.remove_from_team(session, team, user)
        flash(_("%(name)s ya no está en %(team)s.", name=user.name, team=team.name), "success")
    return redirect(url_for("accounts.admin_team", team_id=team.id))
