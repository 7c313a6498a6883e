"""Shared fixtures.

The suite runs on a throw-away SQLite file by default.  Set
``TEST_DATABASE_URL`` (e.g. ``postgresql://postgres@127.0.0.1:5432/postgres``)
to run it on PostgreSQL: a fresh database is created from that server, migrated,
and dropped at the end.  Every test runs inside a transaction that is rolled
back, so tests never see each other's rows.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from flask import g, has_app_context
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from lms import create_app
from lms.accounts import services as accounts
from lms.config import normalise_database_url
from lms.content import sync as content_sync
from lms.core.db import get_db
from lms.core.security import hash_password
from lms.migrations import upgrade

TESTS = Path(__file__).resolve().parent
PROJECT = TESTS.parent
TEST_CONTENT = TESTS / "content"
PASSWORD = "correct horse battery"


def _server_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    return normalise_database_url(url) if url else None


class DatabaseFactory:
    """Creates migrated, empty databases (SQLite files or PostgreSQL databases)."""

    def __init__(self, tmp_dir: Path):
        self.tmp_dir = tmp_dir
        self.server = _server_url()
        self.created: list[str] = []

    @property
    def is_postgresql(self) -> bool:
        return self.server is not None

    def create(self, label: str, migrate: bool = True) -> str:
        if self.server is None:
            url = f"sqlite:///{self.tmp_dir / f'{label}-{uuid.uuid4().hex[:8]}.sqlite3'}"
        else:
            name = f"lms_test_{label}_{uuid.uuid4().hex[:8]}"
            admin = create_engine(self.server, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            admin.dispose()
            url = make_url(self.server).set(database=name).render_as_string(hide_password=False)
            self.created.append(name)
        if migrate:
            upgrade(url)
        return url

    def drop_all(self) -> None:
        if self.server is None or not self.created:
            return
        admin = create_engine(self.server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def databases(tmp_path_factory):
    factory = DatabaseFactory(tmp_path_factory.mktemp("db"))
    yield factory
    factory.drop_all()


@pytest.fixture(scope="session")
def database_url(databases) -> str:
    return databases.create("main")


def make_test_app(database_url: str, instance: Path, **overrides):
    config = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "CONTENT_ROOT": str(TEST_CONTENT),
        "WTF_CSRF_ENABLED": False,
    }
    config.update(overrides)
    app = create_app(config)
    app.instance_path = str(instance)
    return app


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    return make_test_app(database_url, tmp_path_factory.mktemp("instance"))


@pytest.fixture(autouse=True)
def _transaction(app):
    """Bind every session of this test to one connection whose transaction is rolled back."""
    db = get_db(app)
    connection = db.engine.connect()
    outer = connection.begin()
    db.sessionmaker.configure(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield connection
    finally:
        if has_app_context():  # a session a command left on the shared app context
            leftover = g.pop("_db_session", None)
            if leftover is not None:
                leftover.close()
        db.sessionmaker.configure(bind=db.engine, join_transaction_mode="conservative_savepoint")
        outer.rollback()
        connection.close()


@pytest.fixture
def session(app, _transaction):
    """A session for calling services directly; shares the test's connection."""
    s = get_db(app).sessionmaker()
    yield s
    s.close()


@pytest.fixture
def content(session):
    """The tiny course tree of tests/content, synced into the database."""
    problems, _report = content_sync(session, TEST_CONTENT)
    assert not problems, [str(p) for p in problems]
    session.commit()
    return TEST_CONTENT


_HASH: dict[str, str] = {}


def _password_hash() -> str:
    if PASSWORD not in _HASH:
        _HASH[PASSWORD] = hash_password(PASSWORD)
    return _HASH[PASSWORD]


@pytest.fixture
def make_user(session):
    counter = {"n": 0}

    def _make(role: str = "agent", *, name: str | None = None, email: str | None = None, teams=()):
        counter["n"] += 1
        n = counter["n"]
        user = accounts.create_user(
            session, email=email or f"{role}{n}-{uuid.uuid4().hex[:6]}@example.com", name=name or f"{role.title()} {n}", role=role
        )
        user.password_hash = _password_hash()
        for team in teams:
            accounts.add_to_team(session, team, user)
        session.commit()
        return user

    return _make


@pytest.fixture
def make_team(session):
    def _make(name: str | None = None):
        team = accounts.create_team(session, name or f"Equipo {uuid.uuid4().hex[:6]}")
        session.commit()
        return team

    return _make


@pytest.fixture
def team(make_team):
    return make_team("Equipo Norte")


@pytest.fixture
def agent(make_user, team):
    return make_user("agent", name="Lucía Agente", teams=[team])


@pytest.fixture
def manager(make_user, team):
    return make_user("manager", name="Marta Gerente", teams=[team])


@pytest.fixture
def trainer(make_user, team):
    return make_user("trainer", name="Tomás Formador", teams=[team])


@pytest.fixture
def admin(make_user):
    return make_user("admin", name="Ana Admin")


class AuthActions:
    def __init__(self, client):
        self.client = client

    def login(self, email: str, password: str = PASSWORD, follow_redirects: bool = False):
        return self.client.post("/login", data={"email": email, "password": password}, follow_redirects=follow_redirects)

    def login_as(self, user):
        response = self.login(user.email)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return response

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def playwright_browser():
    """Debian's Chromium under Playwright, one per test session (a second Playwright would clash with it)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run 'make browser' (apt-get install chromium chromium-driver)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        yield browser
        browser.close()
