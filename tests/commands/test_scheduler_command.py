"""`iisg scheduler` as an operator uses it: the settings it reads, `--once` with the
procedures' jobs, and `iisg scheduler status`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.orm import Session, sessionmaker

from commands import cli
from commands.cli import main
from engine.instances.steps import start_instance
from engine.scheduler.passes import Periodic, worker_name
from tests.conftest import Clock, Database


@pytest.fixture
def iisg(db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.setenv("IISG_DATABASE_URL", db.url)
    monkeypatch.setenv("IISG_INSTANCE_DIR", str(tmp_path))  # no settings file: the defaults
    monkeypatch.delenv("IISG_SETTINGS", raising=False)
    return CliRunner()


def run(runner: CliRunner, *args: str) -> Result:
    return runner.invoke(main, list(args), catch_exceptions=False)


def start_timers(db: Database, clock: Clock) -> int:
    """A procedure waiting on a two-hour deadline (and a one-day reminder)."""
    instance_id: int = db.run(
        lambda s: (
            start_instance(
                s, "timers", {"reminders": 0, "deadline_in": "PT2H"}, actor="tests", now=clock.now()
            ).id
        )
    )
    return instance_id


def test_status_shows_the_waiting_timers_and_the_recorded_pass(
    iisg: CliRunner, db: Database, clock: Clock, test_diagrams: None
) -> None:
    instance_id = start_timers(db, clock)
    run(iisg, "scheduler", "--once")
    clock.move(seconds=20)

    result = run(iisg, "scheduler", "status")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"Scheduler: running (last pass finished 20 s ago, by {worker_name()})."
    assert "Timers waiting: 2." in lines
    deadline = next(line for line in lines if "deadline" in line)
    assert "2026-11-23 11:00:00 UTC" in deadline and "in 1 h 59 min" in deadline
    assert f"instance {instance_id} " in deadline and "timers" in deadline
    reminder = next(line for line in lines if line.rstrip().endswith("reminder"))
    assert "2026-11-24 09:00:00 UTC" in reminder and "in 23 h 59 min" in reminder
    assert lines[-3] == "The last pass:"
    assert worker_name() in lines[-1] and "2026-11-23 09:00:00 UTC" in lines[-1]
    assert lines[-1].split()[-4:] == ["ms", "0", "0", "0"]  # took, fired, failed, other


def test_status_says_when_an_overdue_timer_waits_and_no_scheduler_runs(
    iisg: CliRunner, db: Database, clock: Clock, test_diagrams: None
) -> None:
    start_timers(db, clock)
    clock.move(hours=3)

    result = iisg.invoke(main, ["scheduler", "status"])

    assert result.exit_code == 1
    assert result.output.startswith("Scheduler: NOT RUNNING, no pass has been recorded.")
    assert "overdue by 1 h" in result.output
    assert "No pass recorded in the last 7 days." in result.output


def test_status_says_when_the_last_pass_is_too_old(
    iisg: CliRunner, db: Database, clock: Clock, test_diagrams: None
) -> None:
    run(iisg, "scheduler", "--once")
    clock.move(minutes=10)

    result = iisg.invoke(main, ["scheduler", "status"])

    assert result.exit_code == 1
    assert "NOT RUNNING, the last pass finished 10 min ago" in result.output
    assert "passes at least every 1 min" in result.output


def test_once_runs_each_periodic_job_once(
    iisg: CliRunner, db: Database, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[datetime] = []

    def send_mail(factory: sessionmaker[Session], now: datetime) -> int:
        calls.append(now)
        return 2

    monkeypatch.setattr(
        cli, "periodic_jobs", lambda settings: [Periodic("mail_sender", send_mail, 15.0)]
    )

    result = run(iisg, "scheduler", "--once")

    assert result.exit_code == 0
    assert calls == [clock.now()]
    assert "mail_sender: 2 done." in result.output


@pytest.mark.parametrize("command", [["scheduler", "--once"], ["scheduler", "status"]])
def test_unusable_settings_stop_the_scheduler_in_plain_words(
    iisg: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    settings = tmp_path / "settings.toml"
    settings.write_text("[scheduler]\nsafety_interval_seconds = 'often'\n")
    monkeypatch.setenv("IISG_SETTINGS", str(settings))

    result = iisg.invoke(main, command)

    assert result.exit_code != 0
    assert "the settings cannot be used: scheduler.safety_interval_seconds should be" in (
        result.output
    )


@pytest.mark.parametrize(
    "command", [["scheduler", "--once"], ["scheduler", "status"], ["serve"], ["db", "upgrade"]]
)
@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("IISG_SESSION_HOURS", "eight", "should be a number of hours above 0, not 'eight'"),
        ("IISG_SMTP_PORT", "smtp", "should be a port number (1-65535), not 'smtp'"),
        ("IISG_DATABASE_URL", "db.internal/iisg", "should name a PostgreSQL or SQLite database"),
    ],
)
def test_a_variable_the_system_cannot_use_stops_the_command_naming_it(
    iisg: CliRunner,
    monkeypatch: pytest.MonkeyPatch,
    command: list[str],
    variable: str,
    value: str,
    said: str,
) -> None:
    monkeypatch.setenv("IISG_SMTP_HOST", "smtp.example.org")
    monkeypatch.setenv(variable, value)

    result = iisg.invoke(main, command)

    assert result.exit_code == 1
    assert f"Error: the settings cannot be used: {variable} {said}" in result.output
    assert "Correct it and start again." in result.output
