"""`/health` for monitoring: 200 while the database answers and a scheduler passes, 503 when
no scheduler has passed lately; open to anyone, and it tells nothing about people."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from flask import Flask

from engine.instances.steps import start_instance
from models import SchedulerPass, make_engine
from tests.conftest import Clock, Database
from tests.webui.conftest import Browser
from workflows.settings import ProcedureSettings


def record_pass(db: Database, clock: Clock, *, ago: timedelta, worker: str = "host-a:41") -> None:
    """A scheduler pass that finished `ago` before now."""
    finished = clock.now() - ago
    db.run(
        lambda s: s.add(
            SchedulerPass(
                worker=worker,
                started_at=finished - timedelta(milliseconds=40),
                finished_at=finished,
                fired=0,
                failed=0,
                other=0,
            )
        )
    )


def test_health_is_ok_after_a_recent_pass(
    db: Database, clock: Clock, browser: Callable[..., Browser]
) -> None:
    record_pass(db, clock, ago=timedelta(seconds=30))

    response = browser().get("/health")

    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "database": "ok",
        "scheduler": {
            "alive": True,
            "last_pass_at": "2026-11-23T08:59:30+00:00",
            "worker": "host-a:41",
        },
        "next_due_timer": None,
    }


def test_health_names_the_next_due_timer_and_nothing_else(
    db: Database, clock: Clock, test_diagrams: None, browser: Callable[..., Browser]
) -> None:
    db.run(
        lambda s: start_instance(
            s,
            "timers",
            {"reminders": 0, "deadline_in": "PT2H"},
            actor="tests",
            now=clock.now(),
            title="Secret draft for Mallory",
        )
    )
    record_pass(db, clock, ago=timedelta(seconds=5))

    response = browser().get("/health")

    assert response.status_code == 200
    assert response.get_json()["next_due_timer"] == "2026-11-23T11:00:00+00:00"
    assert "Mallory" not in response.get_data(as_text=True)


def test_health_is_degraded_when_no_pass_was_ever_recorded(
    db: Database, clock: Clock, browser: Callable[..., Browser]
) -> None:
    response = browser().get("/health")

    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "degraded" and body["database"] == "ok"
    assert body["scheduler"] == {"alive": False, "last_pass_at": None, "worker": None}


def test_health_is_degraded_when_the_last_pass_is_stale(
    db: Database, clock: Clock, browser: Callable[..., Browser]
) -> None:
    # Three missed safety intervals (60 s by default) and a little more.
    record_pass(db, clock, ago=timedelta(minutes=3, seconds=1))

    response = browser().get("/health")

    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "degraded"
    assert body["scheduler"]["alive"] is False
    assert body["scheduler"]["last_pass_at"] == "2026-11-23T08:56:59+00:00"


def test_health_follows_the_configured_safety_interval(
    db: Database, clock: Clock, browser: Callable[..., Browser], app: Flask
) -> None:
    app.config["PROCEDURE_SETTINGS"] = ProcedureSettings(safety_interval_seconds=300.0)
    record_pass(db, clock, ago=timedelta(minutes=10))

    assert browser().get("/health").status_code == 200


def test_health_is_degraded_when_the_database_does_not_answer(
    db: Database, clock: Clock, browser: Callable[..., Browser], app: Flask, tmp_path: Path
) -> None:
    client = browser()
    record_pass(db, clock, ago=timedelta(seconds=5))
    # A database file in a directory that does not exist: every connection fails.
    unreachable = make_engine(f"sqlite:///{tmp_path / 'gone' / 'iisg.sqlite3'}")
    app.extensions["iisg"].factory.configure(bind=unreachable)

    response = client.get("/health")

    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "degraded"
    assert body["database"] == "failed (OperationalError)"
    assert "gone" not in response.get_data(as_text=True)
