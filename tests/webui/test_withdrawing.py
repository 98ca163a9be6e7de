"""Withdrawing a procedure on the web and through the API: the Secretariat's button and its
confirmation, the refusals in words, and what the Board member then reads."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from argon2 import PasswordHasher
from flask import Flask

from engine.instances.assignment import Grant, Participant
from tests.conftest import Clock, Database
from tests.webui.conftest import Browser, main_region, main_text
from tests.webui.test_api import Api, problem_of, token_for
from tests.workflows.conftest import Iisg, methodology_and_board
from workflows.people import accounts

REASON = "Launched by mistake: the work programme is not final yet."


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real Argon2, cheap settings: these tests create the whole Board."""
    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


@pytest.fixture
def iisg(db: Database, clock: Clock, make_person: Callable[..., Participant]) -> Iisg:
    """The methodology from bpmn/, the Secretariat and the seven Board members."""
    return methodology_and_board(db, clock, make_person)


def facts(page: str) -> dict[str, str]:
    """The page's facts (its description list), term to words."""
    return {
        " ".join(term.text_content().split()): " ".join(term.getnext().text_content().split())
        for term in main_region(page).iter("dt")
    }


def launch(iisg: Iisg) -> int:
    return iisg.start(
        "silent_procedure",
        {"subject": "Work programme 2027", "proposal": "The Board adopts the work programme."},
    )


def test_the_secretariat_withdraws_from_the_instance_page_after_confirming_with_a_reason(
    iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    instance_id = launch(iisg)
    page_url = f"/instances/{instance_id}"
    action = f"/instances/{instance_id}/withdraw"
    secretariat = browser("secretariat")
    page = main_region(secretariat.text(page_url))
    [form] = [f for f in page.iter("form") if f.get("action") == action]
    assert "Withdraw…" in form.text_content()

    # The first step asks to confirm, listing the tasks withdrawn and who holds them.
    asked = secretariat.submit(page_url, action, {"reason": REASON})
    assert asked.status_code == 200
    words = main_text(asked.get_data(as_text=True))
    assert "Withdraw Silent written procedure of the Board?" in words
    assert "Tasks withdrawn, and who is told" in words and "Board member (Albania)" in words
    assert main_region(asked.get_data(as_text=True)).get_element_by_id("withdraw-reason").text == (
        REASON
    )

    # Confirmed without a reason: refused beside the field, the words typed kept.
    refused = secretariat.submit(page_url, action, {"reason": "   ", "confirmed": "yes"})
    assert refused.status_code == 422
    region = main_region(refused.get_data(as_text=True))
    assert "Give the reason for withdrawing the procedure" in main_text(
        refused.get_data(as_text=True)
    )
    assert region.get_element_by_id("withdraw-reason").get("aria-invalid") == "true"
    long_reason = "The programme is being re-drafted. " * 60
    refused = secretariat.submit(page_url, action, {"reason": long_reason, "confirmed": "yes"})
    assert refused.status_code == 422
    assert "Keep the reason within 2000 characters" in main_text(refused.get_data(as_text=True))
    kept = main_region(refused.get_data(as_text=True)).get_element_by_id("withdraw-reason")
    assert kept.text == long_reason
    assert iisg.decision(instance_id).closed_at is None

    done = secretariat.submit(page_url, action, {"reason": REASON, "confirmed": "yes"})
    assert done.status_code == 302 and done.headers["Location"] == page_url
    shown = secretariat.text(page_url)
    assert facts(shown)["Status"] == "cancelled"
    assert facts(shown)["Withdrawn"] == f"by secretariat: {REASON}"
    after = main_text(shown)
    assert f"secretariat withdrew the procedure: {REASON}" in after
    assert "No task is open." in after
    assert "Withdraw this procedure" not in shown  # nothing left to withdraw

    register = main_text(secretariat.text("/decisions"))
    assert f"withdrawn by secretariat before the Board decided: {REASON}" in register


def test_a_board_member_sees_no_button_reads_why_and_cannot_answer(
    iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    instance_id = launch(iisg)
    task = iisg.task(iisg.board["AL"], "answer_silent_procedure", instance_id)
    member = browser("board-al")
    assert "Withdraw this procedure" not in member.text(f"/instances/{instance_id}")
    refused = member.submit(
        f"/tasks/{task.id}",
        f"/instances/{instance_id}/withdraw",
        {"reason": REASON, "confirmed": "yes"},
    )
    assert refused.status_code == 403
    assert "Only the Secretariat withdraws a procedure" in main_text(refused.get_data(as_text=True))

    browser("secretariat").submit(
        f"/instances/{instance_id}",
        f"/instances/{instance_id}/withdraw",
        {"reason": REASON, "confirmed": "yes"},
    )

    page = main_text(member.text(f"/tasks/{task.id}"))
    assert f"This procedure was withdrawn by secretariat: {REASON}" in page
    assert "takes no answers" in page
    answered = member.submit(
        f"/tasks/{task.id}", f"/tasks/{task.id}/complete", {"answer": "no_objection"}
    )
    assert answered.status_code == 409
    assert "secretariat withdrew the procedure on" in main_text(answered.get_data(as_text=True))


def test_the_api_cancels_once_for_the_secretariat_with_a_reason(
    db: Database, clock: Clock, iisg: Iisg, app: Flask
) -> None:
    instance_id = launch(iisg)
    path = f"/instances/{instance_id}/cancel"
    member = Api(app, token_for(db, clock, "board-rs"))
    secretariat = Api(app, token_for(db, clock, "secretariat"))

    problem = problem_of(member.post(path, {"reason": REASON}), 403)
    assert "Only the Secretariat withdraws a procedure" in problem["detail"]
    problem = problem_of(secretariat.post(path, {"reason": ""}), 422)
    assert [e["field"] for e in problem["errors"]] == ["reason"]
    problem_of(secretariat.post(path, {}), 422)

    cancelled = secretariat.post(path, {"reason": REASON})
    assert cancelled.status_code == 200, cancelled.get_data(as_text=True)
    body = cancelled.get_json()
    assert (body["status"], body["open_tasks"]) == ("cancelled", [])
    assert body["ended_at"]
    assert f"secretariat withdrew the procedure: {REASON}" in [e["event"] for e in body["history"]]

    again = problem_of(secretariat.post(path, {"reason": "Once more."}), 409)
    assert "has already ended: secretariat withdrew the procedure" in again["detail"]

    decision_id = iisg.decision(instance_id).id
    decision = secretariat.get(f"/decisions/{decision_id}").get_json()
    assert (decision["outcome"], decision["withdrawal_reason"]) == ("withdrawn", REASON)
    assert decision["closed_at"]


def test_an_applicant_withdraws_their_application_through_the_api(
    db: Database, clock: Clock, iisg: Iisg, app: Flask, make_person: Callable[..., Participant]
) -> None:
    make_person("applicant-osce", Grant("applicant"))
    applicant = Api(app, token_for(db, clock, "applicant-osce"))
    started = applicant.post(
        "/instances",
        {
            "process": "membership",
            "data": {
                "organisation_name": "OSCE",
                "organisation_code": "OSCE",
                "member_group": "international_partner",
                "partner_type": "international_organisation",
            },
        },
    )
    assert started.status_code == 201, started.get_data(as_text=True)
    instance_id = started.get_json()["id"]

    cancelled = applicant.post(f"/instances/{instance_id}/cancel", {"reason": "Not this year."})
    assert cancelled.status_code == 200, cancelled.get_data(as_text=True)
    assert cancelled.get_json()["status"] == "cancelled"
