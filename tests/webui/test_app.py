"""The app factory: settings in layers, a secret key kept once, and the database left alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from webui import create_app
from webui.settings import KEY_FILE, load_settings


def test_the_factory_never_migrates_the_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'untouched.sqlite3'}"

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "test", "TESTING": True})
    app.test_client().get("/login")
    app.extensions["iisg"].engine.dispose()

    engine = create_engine(url)
    assert inspect(engine).get_table_names() == []
    engine.dispose()


def test_without_a_secret_key_one_is_generated_once_and_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IISG_INSTANCE_DIR", str(tmp_path / "instance"))
    monkeypatch.delenv("IISG_SECRET_KEY", raising=False)
    config = {"DATABASE_URL": "sqlite://"}

    first = create_app(config)
    second = create_app(config)

    key_file = tmp_path / "instance" / KEY_FILE
    assert first.secret_key == second.secret_key == key_file.read_text().strip()
    assert len(str(first.secret_key)) >= 64
    assert key_file.stat().st_mode & 0o077 == 0  # readable by its owner only


def test_settings_come_from_defaults_then_environment_then_the_caller() -> None:
    environ = {
        "IISG_DATABASE_URL": "postgresql://iisg@db/iisg",
        "IISG_SECRET_KEY": "from-environment",
        "IISG_SESSION_COOKIE_SECURE": "true",
    }

    from_env = load_settings(None, environ)
    from_caller = load_settings({"SECRET_KEY": "from-caller"}, environ)

    assert from_env["DATABASE_URL"] == "postgresql+psycopg://iisg@db/iisg"
    assert from_env["SECRET_KEY"] == "from-environment"
    assert from_env["SESSION_COOKIE_SECURE"] is True
    assert from_env["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert from_caller["SECRET_KEY"] == "from-caller"
    assert (
        load_settings({"SECRET_KEY": "x", "DATABASE_URL": "sqlite://"}, {})["SESSION_COOKIE_SECURE"]
        is True
    )
