"""``flask --app lms badges …``"""
from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from lms.badges import services
from lms.badges.documents import Issuer
from lms.core.clock import now_utc
from lms.core.db import transaction

badges_cli = click.Group("badges", help="Open Badges: signing keys and credential verification.")


@badges_cli.command("rotate-key")
@with_appcontext
def rotate_key_command():
    """Sign new Open Badges 3.0 credentials with a new key; the old ones stay published, so what they
    signed still verifies."""
    with transaction() as session:
        row = services.rotate_key(session, secret=current_app.config["SECRET_KEY"], now=now_utc())
        count = len(services.published_keys(session))
    click.echo(f"new signing key {Issuer.from_config(current_app.config).verification_method(row.public_key)}")
    click.echo(f"{count} key(s) published at {Issuer.from_config(current_app.config).v3_issuer}")


@badges_cli.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def verify_command(file: Path):
    """Verify an Open Badges 3.0 credential (JSON) issued by this site: proof, dates and revocation.
    Prints "valid" or "invalid" and why; exits with 1 when invalid."""
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        document, problem = None, "the file is not UTF-8 text"
    except json.JSONDecodeError as exc:
        document, problem = None, f"not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
    else:
        problem = None
    if problem:
        click.echo(f"invalid: {file}\n- {problem}")
        raise SystemExit(1)
    with transaction() as session:
        verdict = services.verify_credential(session, document, issuer=Issuer.from_config(current_app.config), now=now_utc())
        record = verdict.record
        if not verdict.valid:
            click.echo(f"invalid: {file}")
            for problem in verdict.problems:
                click.echo(f"- {problem}")
            raise SystemExit(1)
        click.echo(f"valid: {file}")
        click.echo(f"- {document.get('name')}, valid from {document.get('validFrom')} until {document.get('validUntil', '—')}")
        click.echo(f"- signed {verdict.proof['created']} by {verdict.proof['verificationMethod']}")
        if record is not None and record.status == "superseded":
            click.echo("- note: this certificate was renewed; a newer one exists")


@badges_cli.command("revoke-key")
@click.argument("public_key")
@click.option("--since", "since", type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"]), required=True,
              help="UTC moment from which the key is not trusted (what it signed from then on fails verification).")
@with_appcontext
def revoke_key_command(public_key: str, since):
    """Withdraw a compromised signing key (its publicKeyMultibase, z6Mk…): credentials it signed from --since on
    fail verification, it is no longer an assertion method of the issuer, and a new key signs from now on."""
    from datetime import timezone

    from lms.core.errors import DomainError

    try:
        with transaction() as session:
            row = services.revoke_key(session, public_key, since=since.replace(tzinfo=timezone.utc),
                                      secret=current_app.config["SECRET_KEY"], now=now_utc())
            click.echo(f"withdrawn: {row.public_key} (not trusted for signatures from {row.compromised_since.isoformat()} on)")
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
