"""Completing a task from its page: the procedure moves on, or nothing changes and it says why."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from lxml import html
from sqlalchemy import select

from engine.errors import EngineError
from engine.instances.steps import complete_task
from models import AuditEvent
from tests.conftest import Clock, Database
from tests.webui.conftest import (
    Browser,
    People,
    csrf_token,
    elements,
    main_region,
    main_text,
    snapshot,
    task_of,
    values,
    words,
)

GOOD_REVIEW = {"approved": "true", "comment": "Ready for the Board."}


def test_completing_the_review_moves_the_procedure_on(
    db: Database,
    people: People,
    start_lane_task: Callable[..., int],
    browser: Callable[..., Browser],
) -> None:
    instance_id = start_lane_task("AL")
    review = task_of(db, instance_id, "review")
    secretariat = browser("sec")
    url = f"/tasks/{review.id}"

    response = secretariat.submit(url, f"{url}/complete", GOOD_REVIEW)

    assert response.status_code == 302
    assert response.headers["Location"] == "/inbox"
    assert "Done: Review the proposal." in secretariat.main("/inbox")
    done = task_of(db, instance_id, "review")
    assert (done.status, done.completed_by) == ("completed", "sec")
    assert done.submitted == {"approved": True, "comment": "Ready for the Board."}
    assert "Acknowledge the review" in browser("board-al").main("/inbox")


def test_a_step_without_a_form_is_marked_as_done(
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
    acknowledge = task_of(db, instance_id, "acknowledge")
    board_al = browser("board-al")
    url = f"/tasks/{acknowledge.id}"
    assert "Mark as done" in board_al.main(url)

    response = board_al.submit(url, f"{url}/complete", {})

    assert response.status_code == 302
    assert task_of(db, instance_id, "acknowledge").status == "completed"


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(
    db: Database,
    people: People,
    start_lane_task: Callable[..., int],
    browser: Callable[..., Browser],
) -> None:
    instance_id = start_lane_task("AL")
    review = task_of(db, instance_id, "review")
    before = snapshot(db, instance_id)

    response = browser("sec").client.post(f"/tasks/{review.id}/complete", data=GOOD_REVIEW)

    assert response.status_code == 400
    assert (
        "This form has expired or was not sent from this site. "
        "Go back, reload the page and try again."
    ) in main_text(response.get_data(as_text=True))
    assert snapshot(db, instance_id) == before


def test_invalid_form_data_returns_400_naming_the_field_and_changes_nothing(
    db: Database,
    people: People,
    start_lane_task: Callable[..., int],
    browser: Callable[..., Browser],
) -> None:
    instance_id = start_lane_task("AL")
    review = task_of(db, instance_id, "review")
    before = snapshot(db, instance_id)
    url = f"/tasks/{review.id}"

    response = browser("sec").submit(url, f"{url}/complete", {"approved": "false", "comment": ""})

    assert response.status_code == 400
    form = main_region(response.get_data(as_text=True))
    assert "Comment: this field is required" in words(form)
    (error,) = elements(form, './/*[@id="field-comment-error"]')
    assert "this field is required" in words(error)
    assert values(form, './/*[@aria-invalid="true"]/@name') == ["comment"]
    # What the person chose is still chosen.
    assert values(form, ".//input[@name='approved'][@checked]/@value") == ["false"]
    assert snapshot(db, instance_id) == before


def test_entered_text_is_kept_when_the_form_comes_back(
    db: Database,
    people: People,
    start_lane_task: Callable[..., int],
    browser: Callable[..., Browser],
) -> None:
    instance_id = start_lane_task("AL")
    review = task_of(db, instance_id, "review")
    url = f"/tasks/{review.id}"

    response = browser("sec").submit(
        url, f"{url}/complete", {"comment": "Half-written <b>note</b>"}
    )

    assert response.status_code == 400
    form = main_region(response.get_data(as_text=True))
    assert "The proposal can go to the Board: this field is required" in words(form)
    assert values(form, ".//textarea[@name='comment']/text()") == ["Half-written <b>note</b>"]


def test_a_user_completing_a_task_that_is_not_theirs_gets_403_and_nothing_changes(
    db: Database,
    people: People,
    start_lane_task: Callable[..., int],
    browser: Callable[..., Browser],
) -> None:
    instance_id = start_lane_task("AL")
    review = task_of(db, instance_id, "review")
    before = snapshot(db, instance_id)
    board_al = browser("board-al")

    response = board_al.submit("/inbox", f"/tasks/{review.id}/complete", GOOD_REVIEW)

    assert response.status_code == 403
    page = main_text(response.get_data(as_text=True))
    assert "This task is not yours" in page
    assert "is not one of your tasks" in page
    assert snapshot(db, instance_id) == before


def test_completing_an_already_completed_task_says_it_was_already_done(
    db: Database,
    people: People,
    start_lane_task: Callable[..., int],
    browser: Callable[..., Browser],
) -> None:
    instance_id = start_lane_task("AL")
    review = task_of(db, instance_id, "review")
    url = f"/tasks/{review.id}"
    first, second = browser("sec"), browser("sec")
    stale_page = second.get(url)  # a second tab opened the form before the first submitted
    assert first.submit(url, f"{url}/complete", GOOD_REVIEW).status_code == 302
    before = snapshot(db, instance_id)

    response = second.client.post(
        f"{url}/complete", data={**GOOD_REVIEW, "csrf_token": csrf_token(stale_page)}
    )

    assert response.status_code == 409
    assert "was already completed by sec" in main_text(response.get_data(as_text=True))
    tasks, version, events = snapshot(db, instance_id)
    assert (tasks, version) == before[:2]
    # The refused answer changes nothing, but it is on the record.
    assert events == before[2] + 1
    with db.session() as s:
        refused = s.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
        assert refused is not None and refused.kind == "task.refused"
        assert refused.actor == "sec" and refused.payload["data"]["comment"]
    # Opened again, the page says so and offers no form (the Secretariat may still read it).
    reopened = second.text(url)
    assert "This step was completed by sec" in main_text(reopened)
    assert f"{url}/complete" not in values(html.fromstring(reopened), "//form/@action")


def test_done_by_me_shows_the_completed_task_with_what_was_submitted(
    db: Database,
    people: People,
    start_lane_task: Callable[..., int],
    browser: Callable[..., Browser],
) -> None:
    instance_id = start_lane_task("AL", title="Proposal on the 2027 work plan")
    review = task_of(db, instance_id, "review")
    secretariat = browser("sec")
    assert "You have not completed any tasks yet." in secretariat.main("/done")
    url = f"/tasks/{review.id}"
    secretariat.submit(url, f"{url}/complete", GOOD_REVIEW)

    done = secretariat.region("/done")
    page = words(done)

    assert "Review the proposal" in page
    assert "Proposal on the 2027 work plan" in page
    assert "The proposal can go to the Board" in page
    assert "Yes" in [words(dd) for dd in elements(done, ".//dd")]
    assert "Ready for the Board." in page
    assert "Review the proposal" not in browser("board-al").text("/done")


def test_html_in_a_submitted_comment_is_rendered_escaped_on_the_done_page(
    db: Database,
    people: People,
    start_lane_task: Callable[..., int],
    browser: Callable[..., Browser],
) -> None:
    instance_id = start_lane_task("AL")
    review = task_of(db, instance_id, "review")
    secretariat = browser("sec")
    url = f"/tasks/{review.id}"
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    secretariat.submit(url, f"{url}/complete", {"approved": "true", "comment": hostile})

    page = secretariat.text("/done")

    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert hostile in main_text(page)  # shown as the words that were typed
    assert not elements(main_region(page), ".//script | .//img")


def test_a_failure_inside_the_diagram_is_explained_and_saves_nothing(
    db: Database,
    people: People,
    start_lane_task: Callable[..., int],
    browser: Callable[..., Browser],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    instance_id = start_lane_task("AL")
    review = task_of(db, instance_id, "review")
    before = snapshot(db, instance_id)

    def failing(*_args: Any, **_kwargs: Any) -> None:
        raise EngineError("completing 'Review the proposal' failed inside the diagram: boom")

    monkeypatch.setattr("webui.inbox.routes.complete_task_or_log_refusal", failing)
    url = f"/tasks/{review.id}"

    response = browser("sec").submit(url, f"{url}/complete", GOOD_REVIEW)

    assert response.status_code == 500
    page = main_text(response.get_data(as_text=True))
    assert "The procedure could not go on" in page

    assert "failed inside the diagram: boom. Nothing was saved." in page
    assert snapshot(db, instance_id) == before
