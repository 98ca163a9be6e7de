"""Due soon and overdue: the inbox and the task page say how much time is left, from the
moment the first reminder goes out (the reminder settings), and by how long a task is late."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from flask import Flask

from tests.conftest import Clock, Database
from tests.webui.conftest import (
    Browser,
    People,
    acknowledgement_of_a_review,
    main_text,
    set_due,
)
from workflows.settings import ReminderSettings


def _acknowledgement(
    db: Database, clock: Clock, people: People, start_lane_task: Callable[..., int]
) -> int:
    """Albania's open acknowledgement of a reviewed proposal; its task id."""
    return acknowledgement_of_a_review(db, clock, people, start_lane_task, "AL").id


def test_a_task_two_hours_from_its_deadline_is_due_soon_in_the_inbox_and_on_its_page(
    db: Database,
    clock: Clock,
    people: People,
    start_lane_task: Callable[..., int],
    browser: Callable[..., Browser],
) -> None:
    task_id = _acknowledgement(db, clock, people, start_lane_task)
    set_due(db, task_id, clock.now() + timedelta(hours=2))
    board_al = browser("board-al")

    inbox = main_text(board_al.text("/inbox"))
    task = main_text(board_al.text(f"/tasks/{task_id}"))

    assert "23 Nov 2026, 11:00 UTC due in 2 hours" in inbox
    assert "23 Nov 2026, 11:00 UTC due in 2 hours" in task
    assert "overdue" not in inbox + task


def test_a_task_past_its_deadline_says_by_how_long(
    db: Database,
    clock: Clock,
    people: People,
    start_lane_task: Callable[..., int],
    browser: Callable[..., Browser],
) -> None:
    task_id = _acknowledgement(db, clock, people, start_lane_task)
    set_due(db, task_id, clock.now() + timedelta(minutes=30))

    clock.move(days=1, hours=2)
    board_al = browser("board-al")

    assert "overdue by 1 day" in main_text(board_al.text("/inbox"))
    assert "overdue by 1 day" in main_text(board_al.text(f"/tasks/{task_id}"))

    clock.move(minutes=45)
    assert "overdue by 1 day" in main_text(browser("board-al").text("/inbox"))


def test_a_task_is_due_soon_from_its_first_reminder_three_working_days_before(
    db: Database,
    clock: Clock,
    people: People,
    start_lane_task: Callable[..., int],
    browser: Callable[..., Browser],
) -> None:
    task_id = _acknowledgement(db, clock, people, start_lane_task)
    # Monday 09:00; due on Friday 10:00: the first reminder goes on Tuesday at 10:00.
    set_due(db, task_id, clock.now() + timedelta(days=4, hours=1))

    inbox = main_text(browser("board-al").text("/inbox"))
    assert "27 Nov 2026, 10:00 UTC" in inbox
    assert "due in" not in inbox

    clock.move(days=1, hours=1)
    assert "due in 3 days" in main_text(browser("board-al").text("/inbox"))


def test_due_soon_follows_the_reminder_settings(
    db: Database,
    clock: Clock,
    people: People,
    start_lane_task: Callable[..., int],
    browser: Callable[..., Browser],
    app: Flask,
) -> None:
    task_id = _acknowledgement(db, clock, people, start_lane_task)
    set_due(db, task_id, clock.now() + timedelta(days=2))
    settings = app.config["PROCEDURE_SETTINGS"]

    app.config["PROCEDURE_SETTINGS"] = replace(
        settings, reminders=ReminderSettings(working_days_before=(1,))
    )
    assert "due in" not in main_text(browser("board-al").text("/inbox"))

    app.config["PROCEDURE_SETTINGS"] = replace(
        settings, reminders=ReminderSettings(working_days_before=(3, 1))
    )
    assert "due in 2 days" in main_text(browser("board-al").text("/inbox"))

    app.config["PROCEDURE_SETTINGS"] = replace(
        settings, reminders=ReminderSettings(working_days_before=())
    )
    assert "due in" not in main_text(browser("board-al").text(f"/tasks/{task_id}"))
