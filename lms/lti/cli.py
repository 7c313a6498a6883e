"""``flask --app lms lti …``: register platforms, show what to enter in them, rotate the tool's key."""
from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from lms.core.clock import now_utc
from lms.core.db import transaction
from lms.core.errors import DomainError
from lms.lti import linking, services
from lms.lti.models import LtiPlatform

lti_cli = click.Group("lti", help="LTI 1.3 tool: platforms and keys.")


@lti_cli.command("register-platform")
@click.option("--name", default="", help="A name for the admins (default: the issuer).")
@click.option("--issuer", required=True, help="The platform's iss (Moodle: the site URL).")
@click.option("--client-id", required=True, help="The client_id the platform gave the tool.")
@click.option("--deployment-id", "deployment_ids", multiple=True, required=True, help="A deployment id (repeatable).")
@click.option("--login-url", required=True, help="The platform's OIDC authentication request URL.")
@click.option("--token-url", required=True, help="The platform's OAuth 2 access token URL.")
@click.option("--jwks-url", default=None, help="The platform's public keyset URL.")
@click.option("--public-key-file", type=click.File("r"), default=None, help="Or: a PEM file with the platform's public key.")
@click.option("--audience", default=None, help="The token request audience, when the platform asks for one.")
@click.option("--frame-origin", "frame_origins", multiple=True, help="An origin allowed to frame the site (repeatable).")
@click.option("--auto-enroll/--no-auto-enroll", default=None,
              help="Enroll learners in the track of the activity they launch (default: on; an update keeps the setting).")
@with_appcontext
def register_platform(name, issuer, client_id, deployment_ids, login_url, token_url, jwks_url, public_key_file,
                      audience, frame_origins, auto_enroll):
    """Register a platform, or update the one with the same issuer and client id."""
    try:
        with transaction() as session:
            existing = session.scalar(select(LtiPlatform).where(LtiPlatform.issuer == issuer.strip(),
                                                                LtiPlatform.client_id == client_id.strip()))
            platform = services.save_platform(
                session, existing, name=name, issuer=issuer, client_id=client_id, auth_login_url=login_url,
                auth_token_url=token_url, key_set_url=jwks_url,
                public_key_pem=public_key_file.read() if public_key_file else None, auth_audience=audience,
                deployment_ids=list(deployment_ids), frame_origins=" ".join(frame_origins) or None,
                auto_enroll=auto_enroll, now=now_utc())
            click.echo(f"{'updated' if existing else 'registered'} platform {platform.id}: {platform.name} "
                       f"({platform.issuer}, client_id {platform.client_id}, deployments "
                       f"{', '.join(d.deployment_id for d in platform.deployments)})")
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None


def _urls() -> dict:
    base = str(current_app.config["PUBLIC_URL"]).rstrip("/")
    return {"login_initiation_url": f"{base}/lti/login", "redirect_url": f"{base}/lti/launch",
            "target_link_uri": f"{base}/lti/launch", "deep_linking_url": f"{base}/lti/launch",
            "jwks_url": f"{base}/lti/jwks.json", "dynamic_registration_url": f"{base}/lti/register"}


@lti_cli.command("show-config")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def show_config(as_json):
    """What a platform admin enters: the tool's URLs and public key (PEM and JWK)."""
    with transaction() as session:
        key = services.active_key(session, now=now_utc())
        data = dict(_urls(), kid=key.kid, public_key_pem=key.public_pem, public_jwk=services.public_jwk(key),
                    platforms=[{"id": p.id, "name": p.name, "issuer": p.issuer, "client_id": p.client_id,
                                "deployment_ids": [d.deployment_id for d in p.deployments]}
                               for p in services.list_platforms(session)])
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    for label in ("login_initiation_url", "redirect_url", "target_link_uri", "deep_linking_url", "jwks_url",
                  "dynamic_registration_url", "kid"):
        click.echo(f"{label}: {data[label]}")
    click.echo("public key (PEM):\n" + data["public_key_pem"])
    click.echo("public key (JWK):\n" + json.dumps(data["public_jwk"], indent=2))
    for p in data["platforms"]:
        click.echo(f"platform {p['id']}: {p['name']} {p['issuer']} client_id={p['client_id']} deployments={','.join(p['deployment_ids'])}")


@lti_cli.command("rotate-key")
@with_appcontext
def rotate_key():
    """A new signing key; the old one stays in the JWKS for LTI_KEY_RETENTION_DAYS days."""
    with transaction() as session:
        key = services.rotate_key(session, now=now_utc())
        click.echo(f"new active key {key.kid}; retired keys stay published for "
                   f"{current_app.config['LTI_KEY_RETENTION_DAYS']} days")


@lti_cli.command("import-roster")
@click.argument("context_id", type=int)
@with_appcontext
def import_roster(context_id):
    """Import a course's members (Names and Role Provisioning) as a team; CONTEXT_ID as listed in /manage/lti."""
    from lms.lti import roster

    trust = str(current_app.config.get("LTI_TRUST_PLATFORM_ADMINS")).lower() in {"1", "true", "yes"}
    try:
        with transaction() as session:
            result = roster.import_roster(session, context_id, now=now_utc(), trust_platform_admins=trust)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"team {result.team_name}: {len(result.created)} new, {len(result.added)} existing, {len(result.skipped)} skipped")


@lti_cli.command("invite")
@with_appcontext
def invite():
    """Print a one-time dynamic registration link (valid one hour) to paste into a platform's "register by URL"."""
    from lms.lti import registration

    with transaction() as session:
        token, invitation = registration.create_invitation(session, created_by_id=None, now=now_utc())
    click.echo(f"{_urls()['dynamic_registration_url']}/{token}")
    click.echo(f"valid until {invitation.expires_at:%Y-%m-%d %H:%M} UTC, for one registration", err=True)


@lti_cli.command("link-account")
@click.option("--platform-id", type=int, required=True, help="The registered platform (see /manage/lti).")
@click.option("--sub", required=True, help="The person's user id on the platform (the id_token's sub).")
@click.option("--email", required=True, help="The academy account they launch as (trainer, manager or admin included).")
@with_appcontext
def link_account(platform_id, sub, email):
    """An admin's explicit link: the only way a platform user launches into a staff account (an e-mail claim never does)."""
    from lms.accounts import services as accounts

    try:
        with transaction() as session:
            platform = services.get_platform(session, platform_id)
            user = accounts.find_user_by_email(session, email)
            if user is None:
                raise click.ClickException(f"no account with the e-mail {email}")
            linking.link_account(session, platform, sub, user, now=now_utc())
            click.echo(f"linked {platform.issuer} sub {sub} → {user.email} ({user.role})")
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
