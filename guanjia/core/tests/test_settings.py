"""Settings come from the environment and fail loudly on bad values."""

import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from guanjia.envvars import env_bool, env_int, parse_database_url


def _import_settings(**env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, **env}
    return subprocess.run(
        [sys.executable, "-c", "import guanjia.settings"],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_refuses_the_default_secret_key(tmp_path):
    result = _import_settings(GUANJIA_PRODUCTION="1", GUANJIA_DATA_DIR=str(tmp_path))
    assert result.returncode != 0 and "GUANJIA_SECRET_KEY" in result.stderr
    ok = _import_settings(GUANJIA_PRODUCTION="1", GUANJIA_SECRET_KEY="x" * 50, GUANJIA_DATA_DIR=str(tmp_path))
    assert ok.returncode == 0, ok.stderr


def test_a_typo_in_a_boolean_stops_the_start(tmp_path):
    result = _import_settings(GUANJIA_DEBUG="ture", GUANJIA_DATA_DIR=str(tmp_path))
    assert result.returncode != 0 and "GUANJIA_DEBUG must be a boolean" in result.stderr


def test_typed_helpers(monkeypatch):
    monkeypatch.setenv("X_BOOL", "yes")
    assert env_bool("X_BOOL") is True
    monkeypatch.setenv("X_INT", "12a")
    with pytest.raises(ImproperlyConfigured, match="X_INT must be an integer"):
        env_int("X_INT", 1)
    monkeypatch.setenv("X_INT", "3")
    with pytest.raises(ImproperlyConfigured, match="at least 180"):
        env_int("X_INT", 365, minimum=180)


def test_database_url_is_parsed_for_postgresql():
    config = parse_database_url("postgres://gj:p%40ss@db.internal:5433/guanjia?sslmode=require")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["USER"], config["PASSWORD"], config["HOST"], config["PORT"], config["NAME"]) == (
        "gj",
        "p@ss",
        "db.internal",
        "5433",
        "guanjia",
    )
    assert config["OPTIONS"] == {"sslmode": "require"}
    with pytest.raises(ImproperlyConfigured, match="postgres://"):
        parse_database_url("mysql://root@localhost/guanjia")


def test_sqlite_is_opened_in_wal_and_immediate_mode(db):
    from django.conf import settings
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    assert settings.DATABASES["default"]["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
