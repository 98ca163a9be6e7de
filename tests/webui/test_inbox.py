"""The inbox and the task page: each person sees the steps offered to them, and only those."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from lxml import html

from engine.instances.steps import complete_task
from tests.conftest import Clock, Database
from tests.webui.conftest import (
    Browser,
    People,
    elements,
    main_text,
    set_due,
    task_of,
    values,
    words,
)


def test_the_inbox_lists_only_tasks_offered_to_the_user(
    db: Database,
    clock: Clock,
    people: People,
    start_lane_task: Callable[..., int],
    browser: Callable[..., Browser],
) -> None:
    instance_id = start_lane_task("AL", title="Proposal on the 2027 work plan")
    secretariat, board_al, board_ba = browser("sec"), browser("board-al"), browser("board-ba")

    inbox = secretariat.main("/inbox")
    assert "Review the proposal" in inbox
    assert "Proposal on the 2027 work plan" in inbox
    assert "Review the proposal" not in board_al.text("/inbox")
    assert "Nothing to do" in board_al.main("/inbox")

    review = task_of(db, instance_id, "review")
    db.run(
        lambda s: complete_task(
            s,
            review.id,
            {"approved": True, "comment": "Ready."},
            participant=people.secretariat,
            now=clock.now(),
        )
    )

    assert "Acknowledge the review" in board_al.main("/inbox")
    assert "Review the proposal" not in secretariat.text("/inbox")
    for page in ("/inbox", "/done"):
        text = board_ba.text(page)
        assert "Acknowledge the review" not in text
        assert "Review the proposal" not in text


def test_the_inbox_shows_the_scope_and_marks_overdue_tasks_plainly(
    db: Database,
    clock: Clock,
    people: People,
    start_lane_task: Callable[..., int],
    browser: Callable[..., Browser],
) -> None:
    instance_id = start_lane_task("AL")
    review = task_of(db, instance_id, "review")
    db.run(
        lambda s: complete_task(
            s,
            review.id,
            {"approved": True, "comment": "Ready."},
            participant=people.secretariat,
            now=clock.now(),
        )
    )
    set_due(db, task_of(db, instance_id, "acknowledge").id, clock.now() + timedelta(hours=2))
    board_al = browser("board-al")

    page = board_al.text("/inbox")
    assert "23 Nov 2026, 11:00 UTC" in main_text(page)
    assert "For Board member · Albania" in main_text(page)  # the scope, in words
    assert "overdue" not in page

    clock.move(hours=3)
    # Three idle hours end a session (an hour is the limit): a fresh login sees the inbox.
    assert "overdue" in browser("board-al").main("/inbox")


def test_tasks_due_soonest_come_first_and_undated_ones_last(
    db: Database,
    clock: Clock,
    people: People,
    start_lane_task: Callable[..., int],
    browser: Callable[..., Browser],
) -> None:
    start_lane_task(title="Undated matter")
    clock.move(hours=1)
    later = start_lane_task(title="Later matter")
    clock.move(hours=1)
    sooner = start_lane_task(title="Sooner matter")
    for instance_id, days in ((later, 9), (sooner, 2)):
        set_due(db, task_of(db, instance_id, "review").id, clock.now() + timedelta(days=days))

    page = browser("sec").main("/inbox")

    positions = [page.index(t) for t in ("Sooner matter", "Later matter", "Undated matter")]
    assert positions == sorted(positions)


def test_the_task_page_renders_the_form_fields(
    db: Database,
    people: People,
    start_lane_task: Callable[..., int],
    browser: Callable[..., Browser],
) -> None:
    instance_id = start_lane_task("AL", title="Proposal on the 2027 work plan")
    review = task_of(db, instance_id, "review")

    task = browser("sec").region(f"/tasks/{review.id}")
    page = words(task)

    assert [words(h1) for h1 in elements(task, ".//h1")] == ["Review the proposal"]
    assert "Proposal on the 2027 work plan" in page
    assert "The Secretariat reviews the proposal before the Board sees it." in page
    assert "The proposal can go to the Board" in page
    assert values(task, './/form//input[@type="radio"][@name="approved"]/@value') == [
        "true",
        "false",
    ]
    (comment,) = elements(task, './/form//textarea[@id="field-comment"][@name="comment"]')
    assert comment.get("maxlength") == "2000"
    assert "(required)" in page
    assert values(task, './/form//input[@name="csrf_token"]/@value') != []


def test_a_task_offered_to_someone_else_cannot_be_opened(
    db: Database,
    people: People,
    start_lane_task: Callable[..., int],
    browser: Callable[..., Browser],
) -> None:
    review = task_of(db, start_lane_task("AL"), "review")

    response = browser("board-al").get(f"/tasks/{review.id}")

    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "This task is not yours" in main_text(page)
    assert "secretariat" in main_text(page)
    assert '<form method="post" action="/tasks/' not in page


def test_a_task_that_does_not_exist_is_not_found(
    people: People, browser: Callable[..., Browser]
) -> None:
    response = browser("sec").get("/tasks/999999")

    assert response.status_code == 404
    assert "There is no task 999999" in main_text(response.get_data(as_text=True))


def test_an_unknown_page_says_so_in_plain_words(
    people: People, browser: Callable[..., Browser]
) -> None:
    response = browser("sec").get("/no-such-page")

    assert response.status_code == 404
    assert "There is no such page." in main_text(response.get_data(as_text=True))


def test_every_page_carries_the_kosovo_footnote(
    db: Database, people: People, browser: Callable[..., Browser]
) -> None:
    page = html.fromstring(browser("sec").text("/inbox"))
    (footer,) = elements(page, "//body/footer")  # under the main region, on every page
    assert "* Kosovo: This designation is without prejudice to positions on status" in words(footer)
