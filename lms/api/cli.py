"""``flask --app lms api …``: API tokens from the command line."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import click
from flask.cli import with_appcontext

from lms.api import services
from lms.core.clock import now_utc
from lms.core.db import get_session, transaction
from lms.core.errors import DomainError

api_cli = click.Group("api", help="Tokens of the REST API (/api/v1).")


@api_cli.command("create-token")
@click.option("--name", required=True, help="What the integration is, e.g. 'Nóminas'.")
@click.option("--scopes", required=True, help="Comma-separated: " + ",".join(services.SCOPES))
@click.option("--expires-on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Last day of validity (the token stops working at the end of that day, UTC).")
@click.option("--expires-in-days", type=click.IntRange(min=1), default=None, help="Valid for this many days from now.")
@with_appcontext
def create_token(name, scopes, expires_on, expires_in_days):
    """Create a token and print it (once: only its hash is kept).

    The token alone goes to standard output (TOKEN=$(flask --app lms api create-token …)); the rest to standard error.
    """
    if expires_on and expires_in_days:
        raise click.UsageError("give --expires-on or --expires-in-days, not both")
    now = now_utc()
    expires_at = None
    if expires_on:
        expires_at = datetime.combine(expires_on.date() + timedelta(days=1), time(), tzinfo=timezone.utc)
    elif expires_in_days:
        expires_at = now + timedelta(days=expires_in_days)
    try:
        with transaction() as session:
            new = services.create_token(session, name=name, scopes=scopes, expires_at=expires_at, created_by=None, now=now)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    token = new.token
    click.echo(f"created token {token.id} ({token.name}) with scopes {','.join(token.scopes)}"
               + (f", expires {token.expires_at:%Y-%m-%d %H:%M} UTC" if token.expires_at else ", no expiry"), err=True)
    click.echo("the token (shown only now; send it as 'Authorization: Bearer <token>'):", err=True)
    click.echo(new.secret)


@api_cli.command("list-tokens")
@with_appcontext
def list_tokens():
    """List tokens: id, prefix, status, scopes, last use, expiry, name."""
    now = now_utc()
    for token in services.list_tokens(get_session()):
        used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
        expires = f"{token.expires_at:%Y-%m-%d %H:%M}" if token.expires_at else "-"
        click.echo(f"{token.id}\t{token.prefix}…\t{token.status(now)}\t{','.join(token.scopes)}\tused {used}\t"
                   f"expires {expires}\t{token.name}")


@api_cli.command("revoke-token")
@click.argument("token_id", type=int)
@with_appcontext
def revoke_token(token_id):
    """Revoke a token: it stops working at once."""
    try:
        with transaction() as session:
            token = services.get_token(session, token_id)
            changed = services.revoke_token(session, token, actor=None, now=now_utc())
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"revoked token {token.id} ({token.name})" if changed else f"token {token.id} was already revoked")
