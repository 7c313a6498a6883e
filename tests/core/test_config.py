import pytest

from lms import config


def test_production_refuses_a_missing_or_weak_secret(tmp_path):
    cfg = config.load(str(tmp_path), {"LMS_ENV": "production", "SECRET_KEY": None})
    with pytest.raises(config.ConfigError, match="SECRET_KEY"):
        config.validate(cfg)
    cfg = config.load(str(tmp_path), {"LMS_ENV": "production", "SECRET_KEY": "changeme"})
    with pytest.raises(config.ConfigError):
        config.validate(cfg)


def test_production_accepts_a_strong_secret_and_secures_cookies(tmp_path):
    cfg = config.load(str(tmp_path), {"LMS_ENV": "production", "SECRET_KEY": "k" * 40})
    config.validate(cfg)
    assert cfg["SESSION_COOKIE_SECURE"] is True


def test_development_generates_and_keeps_a_secret_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = config.load(str(tmp_path), {})["SECRET_KEY"]
    second = config.load(str(tmp_path), {})["SECRET_KEY"]
    assert first == second and len(first) == 64
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_plain_postgresql_urls_use_psycopg3():
    assert config.normalise_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert config.normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_default_database_is_sqlite_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    cfg = config.load(str(tmp_path), {})
    assert cfg["DATABASE_URL"] == f"sqlite:///{tmp_path}/lms.sqlite3"
