"""The Board through the API: the decision register with each seat's answer or silence, and
seven Board members answering one silent procedure at the same moment."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from argon2 import PasswordHasher
from flask import Flask
from sqlalchemy import select

from engine.instances.assignment import Grant, Participant
from models import Decision
from tests.conftest import Clock, Database
from tests.webui.conftest import Reply, post
from tests.webui.test_api import Api, problem_of, token_for
from tests.workflows.board.test_membership import meeting_confirms_a_but_not_b, two_on_a_list
from tests.workflows.conftest import Iisg, methodology_and_board
from workflows.people import accounts
from workflows.people.roles import BOARD_SEATS

PROPOSAL = "The Board admits the OSCE as an IISG member."
ANSWER = "answer_silent_procedure"


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real Argon2, cheap settings: these tests create the whole Board."""
    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


@pytest.fixture
def iisg(db: Database, clock: Clock, make_person: Callable[..., Participant]) -> Iisg:
    """The methodology from bpmn/, the Secretariat, the seven Board members and a member."""
    deployed = methodology_and_board(db, clock, make_person)
    make_person("focal-point", Grant("focal_point", "AL", "WBCTi"))
    return deployed


def launch(iisg: Iisg) -> int:
    return iisg.start(
        "silent_procedure", {"subject": "Membership of the OSCE", "proposal": PROPOSAL}
    )


def test_a_closed_decision_shows_each_seats_answer_and_silence_as_such(
    db: Database, clock: Clock, iisg: Iisg, app: Flask
) -> None:
    instance_id = launch(iisg)
    albania = Api(app, token_for(db, clock, "board-al"))
    task_id = next(t["id"] for t in albania.get("/tasks").get_json()["tasks"])
    answered = albania.post(f"/tasks/{task_id}/complete", {"data": {"answer": "no_objection"}})
    assert answered.status_code == 200, answered.get_data(as_text=True)

    register = Api(app, token_for(db, clock, "secretariat"))
    (open_one,) = register.get("/decisions").get_json()["decisions"]
    assert open_one["instance_id"] == instance_id
    assert open_one["outcome"] is None and open_one["closed_at"] is None
    assert open_one["answers"] == []

    clock.move(days=14, minutes=1)
    iisg.scheduler_pass()
    closed = register.get(f"/decisions/{open_one['id']}").get_json()
    assert closed["outcome"] == "adopted"
    assert closed["closed_at"].endswith("+00:00")
    by_seat = {a["seat"]: a for a in closed["answers"]}
    assert len(by_seat) == len(BOARD_SEATS)
    assert by_seat["AL"]["answer"] == "no_objection" and by_seat["AL"]["who"] == "board-al"
    assert by_seat["AL"]["when"] is not None
    assert by_seat["BA"] == {
        "seat": "BA",
        "answer": "silence",
        "silence": True,
        "reason": None,
        "who": None,
        "when": None,
    }

    problem_of(register.get("/decisions/999999"), 404)
    outsider = Api(app, token_for(db, clock, "focal-point"))
    problem_of(outsider.get("/decisions"), 403)
    problem_of(outsider.get(f"/decisions/{open_one['id']}"), 403)


def test_a_broken_silent_procedure_links_to_the_meeting_that_decided_the_matter(
    db: Database, clock: Clock, iisg: Iisg, app: Flask
) -> None:
    instance_id = iisg.start(
        "board_decision", {"subject": "Membership of the OSCE", "proposal": PROPOSAL}
    )
    iisg.complete(iisg.secretariat, "choose_method", instance_id, {"method": "silent_procedure"})
    iisg.answer("AL", instance_id, "no_objection")
    iisg.answer("RS", instance_id, "objection", "We ask to hear the applicant first.")

    secretariat = Api(app, token_for(db, clock, "secretariat"))
    (silent,) = secretariat.get("/decisions").get_json()["decisions"]
    assert (silent["method"], silent["outcome"], silent["final_outcome"]) == (
        "silent_procedure",
        "silence_broken",
        None,
    )
    assert silent["followed_by"] is None
    by_seat = {a["seat"]: (a["answer"], a["silence"]) for a in silent["answers"]}
    assert by_seat["RS"] == ("objection", False)
    assert by_seat["BA"] == ("no_answer", False), "no deadline passed: no silence"

    # The Secretariat puts it on the meeting's agenda and records the meeting, by the API.
    def complete(step: str, data: dict[str, str]) -> None:
        tasks = secretariat.get("/tasks").get_json()["tasks"]
        task_id = next(t["id"] for t in tasks if t["name"] == step)
        done = secretariat.post(f"/tasks/{task_id}/complete", {"data": data})
        assert done.status_code == 200, done.get_data(as_text=True)

    complete("Put the matter on the next Board meeting's agenda", {"next_step": "meeting"})
    complete(
        "Record the Board's decision",
        {"outcome": "adopted", "meeting_date": "2026-12-10", "minutes": "Confirmed."},
    )

    silent = secretariat.get(f"/decisions/{silent['id']}").get_json()
    meeting = secretariat.get(f"/decisions/{silent['followed_by']}").get_json()
    assert (silent["outcome"], silent["final_outcome"]) == ("silence_broken", "adopted")
    assert (meeting["method"], meeting["outcome"], meeting["final_outcome"]) == (
        "meeting",
        "adopted",
        "adopted",
    )
    assert (meeting["follows"], meeting["followed_by"], meeting["answers"]) == (
        silent["id"],
        None,
        [],
    )


def test_seven_board_members_answer_at_the_same_moment_and_every_answer_is_recorded(
    db: Database, clock: Clock, iisg: Iisg, app: Flask, live_server: str
) -> None:
    instance_id = launch(iisg)
    tokens = {seat: token_for(db, clock, f"board-{seat.lower()}") for seat in iisg.board}
    task_ids = {
        seat: iisg.task(person, ANSWER, instance_id).id for seat, person in iisg.board.items()
    }
    barrier = threading.Barrier(len(tokens))
    results: dict[str, Reply] = {}

    def answer(seat: str) -> None:
        barrier.wait()
        url = f"{live_server}/tasks/{task_ids[seat]}/complete"
        results[seat] = post(url, tokens[seat], {"data": {"answer": "no_objection"}})

    threads = [threading.Thread(target=answer, args=(seat,)) for seat in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert {seat: reply.status for seat, reply in results.items()} == dict.fromkeys(tokens, 200)
    with db.session() as session:
        decision = session.scalars(
            select(Decision).where(Decision.instance_id == instance_id)
        ).one()
        assert (decision.outcome, decision.outcome_reason) == ("adopted", "all_no_objection")
        assert sorted((a.seat, a.answer, a.answered_by) for a in decision.answers) == sorted(
            (seat, "no_objection", f"board-{seat.lower()}") for seat in tokens
        )


def test_a_list_decision_gives_each_application_its_own_outcome(
    db: Database, clock: Clock, iisg: Iisg, app: Flask, make_person: Callable[..., Participant]
) -> None:
    a, _b, _ = two_on_a_list(iisg, make_person)
    meeting_confirms_a_but_not_b(iisg, a)

    secretariat = Api(app, token_for(db, clock, "secretariat"))
    (meeting,) = secretariat.get("/decisions").get_json()["decisions"]
    assert (meeting["method"], meeting["final_outcome"]) == ("meeting", "adopted")
    assert meeting["items"] == [
        {"key": "ORGA", "title": "Organisation A", "outcome": "confirmed"},
        {"key": "ORGB", "title": "Organisation B", "outcome": "not_confirmed"},
    ]
