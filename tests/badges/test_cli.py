"""``flask --app lms badges rotate-key`` and ``badges verify FILE``."""
from __future__ import annotations

import json

from lms.badges import services as badges
from lms.badges.documents import Issuer
from lms.certification import services as certs
from lms.core.clock import now_utc


def write(tmp_path, name, document) -> str:
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document), encoding="utf-8")
    return str(path)


def signed_credential(app, session, record) -> dict:
    credential = badges.credential_for(session, record, issuer=Issuer.from_config(app.config), secret=app.config["SECRET_KEY"], now=now_utc())
    session.commit()
    return credential


def test_verify_valid_and_tampered(app, session, record, tmp_path):
    runner = app.test_cli_runner()
    credential = signed_credential(app, session, record)
    result = runner.invoke(args=["badges", "verify", write(tmp_path, "ok.json", credential)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("valid: ") and "Certificación de proceso" in result.output
    assert credential["proof"]["verificationMethod"] in result.output

    tampered = {**credential, "validFrom": "2020-01-01T00:00:00Z"}
    result = runner.invoke(args=["badges", "verify", write(tmp_path, "tampered.json", tampered)])
    assert result.exit_code == 1
    assert result.output.splitlines()[0].startswith("invalid: ")
    assert "- proof: the signature does not match: the credential was changed after it was signed" in result.output


def test_verify_after_rotation_and_revocation(app, session, record, admin, tmp_path):
    runner = app.test_cli_runner()
    path = write(tmp_path, "cred.json", signed_credential(app, session, record))
    assert runner.invoke(args=["badges", "rotate-key"]).exit_code == 0
    assert runner.invoke(args=["badges", "verify", path]).exit_code == 0
    certs.revoke(session, record, actor=admin, reason="Emitido por error", now=now_utc())
    session.commit()
    result = runner.invoke(args=["badges", "verify", path])
    assert result.exit_code == 1 and "- revoked by the issuer: Emitido por error" in result.output


def test_verify_explains_files_that_are_not_credentials(app, tmp_path):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["badges", "verify", write(tmp_path, "bad.json", '{"name": ')])
    assert result.exit_code == 1 and "- not JSON (Expecting value at line 1, column 10)" in result.output
    result = runner.invoke(args=["badges", "verify", write(tmp_path, "list.json", [1, 2])])
    assert result.exit_code == 1 and "- not a credential: the JSON is not an object" in result.output
    other = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential", "OpenBadgeCredential"],
             "issuer": "https://otra.example/issuer"}
    result = runner.invoke(args=["badges", "verify", write(tmp_path, "other.json", other)])
    assert result.exit_code == 1 and "issued by 'https://otra.example/issuer', not by this site" in result.output
    result = runner.invoke(args=["badges", "verify", str(tmp_path / "missing.json")])
    assert result.exit_code == 2 and "does not exist" in result.output
