"""Admins: API tokens (create — shown once —, list, revoke)."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lms.api import services
from lms.api.forms import TokenForm
from lms.core.clock import now_utc
from lms.core.db import get_session
from lms.core.errors import DomainError
from lms.core.forms import EmptyForm
from lms.core.security import roles_required

bp = Blueprint("api_manage", __name__, template_folder="templates", url_prefix="/manage/api-tokens")


def _page(form: TokenForm, new=None):
    session = get_session()
    return render_template("api/manage/tokens.html", form=form, tokens=services.list_tokens(session), new=new, now=now_utc(),
                           revoke_form=EmptyForm())


@bp.route("/", methods=["GET", "POST"])
@roles_required("admin")
def tokens():
    form = TokenForm()
    if form.validate_on_submit():
        session = get_session()
        now = now_utc()
        expires_at = None
        if form.expires_on.data:
            # valid through the whole of the chosen day (UTC)
            expires_at = datetime.combine(form.expires_on.data + timedelta(days=1), time(), tzinfo=timezone.utc)
        try:
            new = services.create_token(session, name=form.name.data, scopes=form.scopes.data, expires_at=expires_at,
                                        created_by=current_user, now=now)
        except DomainError as exc:
            session.rollback()
            flash(str(exc), "error")
        else:
            # rendered, not redirected: the token must not travel through the session cookie
            return _page(TokenForm(formdata=None), new=new)
    return _page(form)


@bp.route("/<int:token_id>/revoke", methods=["POST"])
@roles_required("admin")
def revoke(token_id: int):
    session = get_session()
    token = services.get_token(session, token_id)
    if EmptyForm().validate_on_submit():
        services.revoke_token(session, token, actor=current_user, now=now_utc())
        flash(_("Token «%(name)s» revocado: deja de funcionar ya.", name=token.name), "success")
    return redirect(url_for("api_manage.tokens"))
