"""A web worker starts without the libraries of the rare paths (issue #8, goal 5: a worker's memory).

PDF certificates (fpdf: ~35 MiB with fontTools, PIL, lxml), LTI (pylti1p3, jwcrypto, cryptography, requests),
signed badges (PyLD), migrations (Alembic, Mako), the calendar feed (icalendar), search stemming
(snowballstemmer) and xAPI delivery (requests) import their libraries when first used, so ``create_app()``
— what each gunicorn worker runs — must not load them.  Their own tests check that those paths still work.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from tests.conftest import PROJECT

RARE_PATH_LIBRARIES = {
    "fpdf", "fontTools", "PIL", "lxml", "segno",  # the certificate PDF
    "pylti1p3", "jwt", "jwcrypto", "cryptography", "requests", "urllib3",  # LTI, badge keys, xAPI delivery
    "pyld",  # badge credentials (JSON-LD canonicalisation)
    "alembic", "mako",  # migrations
    "icalendar",  # the calendar feed
    "snowballstemmer",  # search terms
    "email_validator",  # e-mail addresses (accounts)
    "argon2", "_argon2_cffi_bindings", "_cffi_backend",  # password hashing: sign-in and password changes only
    "smtplib",  # sending e-mail: the outbox worker only
    "pdb", "bdb",  # flask-login's test client (flask.testing, click.testing): lms.core.deferred_imports
}


def _last_json_line(code: str, tmp_path):
    """Run ``code`` in a fresh Python process (the app's development configuration, a SQLite file in ``tmp_path``)
    and return the JSON its last line prints."""
    env = dict(os.environ, LMS_ENV="development", SECRET_KEY="s" * 40, DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
               PYTHONPATH=str(PROJECT))
    env.pop("FLASK_DEBUG", None)
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def _modules_after_create_app(tmp_path, route: str) -> set[str]:
    """The modules a fresh process holds after create_app() (as a gunicorn worker starts), checking that ``route`` is
    registered all the same."""
    code = ("import json, sys\nfrom lms import create_app\napp = create_app()\n"
            f"assert app.url_map.bind('localhost').match({route!r})\n"
            "print(json.dumps(sorted(sys.modules)))")
    return set(_last_json_line(code, tmp_path))


def test_create_app_leaves_rare_path_libraries_unloaded(tmp_path):
    loaded = {m.split(".")[0] for m in _modules_after_create_app(tmp_path, "/lti/jwks.json")}  # LTI routes registered
    assert "flask" in loaded and "lms" in loaded
    assert not loaded & RARE_PATH_LIBRARIES, f"imported at app creation: {sorted(loaded & RARE_PATH_LIBRARIES)}"


#: the project's own modules of rare paths, kept out of a web worker's start the same way (issue #22: worker RSS)
RARE_PATH_MODULES = {
    "lms.roleplays.engine",  # the simulated customer: a practice's replies, the authoring try-out, a content sync
    "lms.roleplays.precheck", "lms.roleplays.grading", "lms.roleplays.calibration",  # grading a hand-in
    "lms.demo.story", "lms.quizzes.simulate",  # `flask demo load`
}


def test_create_app_leaves_the_rare_paths_own_modules_unloaded(tmp_path):
    loaded = _modules_after_create_app(tmp_path, "/roleplays")  # the role-play pages are registered all the same
    assert "lms.roleplays.services" in loaded  # the pages' own services are there
    early = sorted(m for m in loaded if any(m == rare or m.startswith(rare + ".") for rare in RARE_PATH_MODULES))
    assert not early, f"imported at app creation: {early}"


def test_flask_logins_test_client_is_imported_when_first_used(tmp_path):
    """The stand-in of lms.core.deferred_imports: a fresh process imports neither flask.testing nor pdb with the app,
    and flask_login.FlaskLoginClient still makes a real client that signs its user in."""
    code = textwrap.dedent("""
        import json, sys
        from lms import create_app
        app = create_app()
        before = [m for m in ("flask.testing", "click.testing", "pdb") if m in sys.modules]
        import flask_login
        from flask_login import FlaskLoginClient

        class User(flask_login.UserMixin):
            id = "7:1"

        app.login_manager.user_loader(lambda user_id: None)
        app.test_client_class = FlaskLoginClient
        client = app.test_client(user=User())
        with client.session_transaction() as session:
            signed_in = session.get("_user_id")
        print(json.dumps([before, type(client).__module__, flask_login.FlaskLoginClient is type(client), signed_in]))
    """)
    before, module, same, signed_in = _last_json_line(code, tmp_path)
    assert before == []
    assert module == "flask_login.test_client" and same and signed_in == "7:1"


def test_flask_wtfs_recaptcha_is_imported_when_first_used(tmp_path):
    """The stand-in of lms.core.deferred_imports: a fresh process imports neither flask-wtf's reCAPTCHA modules nor
    urllib.request with the app; flask_wtf.RecaptchaField still makes a real field, with its real validator."""
    code = textwrap.dedent("""
        import json, sys
        from lms import create_app
        app = create_app()
        before = sorted(m for m in sys.modules if m.startswith("flask_wtf.recaptcha.") or m == "urllib.request")
        import flask_wtf
        from flask_wtf import RecaptchaField
        from wtforms import Form

        class Signup(Form):
            captcha = RecaptchaField()

        with app.test_request_context():
            field = Signup().captcha
            validator = type(field.validators[0])
            print(json.dumps([before, type(field).__module__, flask_wtf.RecaptchaField is type(field),
                              validator.__module__, flask_wtf.Recaptcha is validator, "urllib.request" in sys.modules]))
    """)
    before, module, same, validator_module, same_validator, loaded = _last_json_line(code, tmp_path)
    assert before == []
    assert module == "flask_wtf.recaptcha.fields" and same
    assert validator_module == "flask_wtf.recaptcha.validators" and same_validator and loaded
