"""The app factory: settings read once and checked, a secret key kept once, and the database
left alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from webui import create_app
from webui.settings import KEY_FILE, app_config, read_settings
from workflows.mail.compose import page_link, use_mail_settings
from workflows.settings import MailSettings, SettingsError


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


def test_settings_come_from_defaults_then_environment_then_the_caller(tmp_path: Path) -> None:
    settings = read_settings(
        {
            "IISG_INSTANCE_DIR": str(tmp_path),
            "IISG_DATABASE_URL": "postgresql://iisg@db/iisg",
            "IISG_SECRET_KEY": "from-environment",
            "IISG_SESSION_COOKIE_SECURE": "true",
        }
    )

    from_env = app_config(settings, None)
    from_caller = app_config(settings, {"SECRET_KEY": "from-caller"})

    assert from_env["DATABASE_URL"] == "postgresql+psycopg://iisg@db/iisg"
    assert from_env["SECRET_KEY"] == "from-environment"
    assert from_env["SESSION_COOKIE_SECURE"] is True
    assert from_env["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert from_caller["SECRET_KEY"] == "from-caller"
    unset = read_settings({"IISG_INSTANCE_DIR": str(tmp_path)})
    assert app_config(unset, {"SECRET_KEY": "x"})["SESSION_COOKIE_SECURE"] is True
    # Production asks the Secretariat and the Board for a second factor unless told not to.
    assert unset.two_factor_required is True
    assert unset.database() == f"sqlite:///{tmp_path.resolve() / 'iisg.sqlite3'}"


# A value of each kind the system cannot use, and the start of what it says.
UNUSABLE = [
    ("IISG_DATABASE_URL", "db.internal/iisg", "should name a PostgreSQL or SQLite database"),
    ("IISG_DATABASE_URL", "mysql://iisg@db/iisg", "should name a PostgreSQL or SQLite database"),
    ("IISG_SESSION_COOKIE_SECURE", "maybe", "should be true or false, not 'maybe'"),
    ("IISG_SESSION_HOURS", "eight", "should be a number of hours above 0, not 'eight'"),
    ("IISG_SESSION_IDLE_MINUTES", "0", "should be a number of minutes above 0, not '0'"),
    ("IISG_TRUSTED_PROXIES", "-1", "should be a number of proxies (0 or more), not '-1'"),
    ("IISG_PASSWORD_RESET_MINUTES", "soon", "should be a number of minutes above 0, not 'soon'"),
    ("IISG_TWO_FACTOR_REQUIRED", "for some", "should be true or false, not 'for some'"),
    ("IISG_API_RATE_LIMIT", "lots", "should be requests per period, like 120/minute"),
    ("IISG_RATELIMIT_STORAGE_URI", "redis", "should be a storage address"),
    ("IISG_SILENT_PROCEDURE_MIN_NOTICE", "24 hours", "should be an ISO 8601 duration"),
    ("IISG_SMTP_PORT", "smtp", "should be a port number (1-65535), not 'smtp'"),
    ("IISG_SMTP_PORT", "70000", "should be a port number (1-65535), not '70000'"),
    ("IISG_SMTP_STARTTLS", "sometimes", "should be true or false, not 'sometimes'"),
]


@pytest.mark.parametrize(("variable", "value", "said"), UNUSABLE)
def test_a_value_the_system_cannot_use_stops_the_app_naming_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, said: str
) -> None:
    monkeypatch.setenv("IISG_INSTANCE_DIR", str(tmp_path))
    monkeypatch.delenv("IISG_SETTINGS", raising=False)
    monkeypatch.setenv("IISG_SMTP_HOST", "smtp.example.org")  # the SMTP variables need a host
    monkeypatch.setenv(variable, value)

    with pytest.raises(SettingsError) as refused:
        create_app({"SECRET_KEY": "test"})

    assert str(refused.value).startswith(f"{variable} {said}")


def test_a_settings_file_that_is_not_there_stops_the_app_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "settings.toml"
    monkeypatch.setenv("IISG_SETTINGS", str(missing))

    with pytest.raises(SettingsError, match=f"the settings file {missing} does not exist"):
        create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": "test"})


def test_the_app_carries_the_settings_file_it_started_with(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = tmp_path / "settings.toml"
    settings.write_text(
        "[scheduler]\nsafety_interval_seconds = 30\n"
        '[mail]\ndigest_hour_utc = 6\nbase_url = "https://iisg.example.org"\n'
    )
    monkeypatch.setenv("IISG_SETTINGS", str(settings))

    try:
        app = create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": "test"})
        settings.write_text("[scheduler]\nsafety_interval_seconds = 'often'\n")  # read once

        assert app.config["PROCEDURE_SETTINGS"].safety_interval_seconds == 30.0
        assert app.config["PROCEDURE_SETTINGS"].mail.digest_hour_utc == 6
        # Links in the mails a step writes point where the settings say.
        assert page_link("/tasks/7") == "https://iisg.example.org/tasks/7"
    finally:
        use_mail_settings(MailSettings())
