"""People acting at the same moment: two holders of the Secretariat role answer the same
review, two seats answer their own steps of one vote, two people claim the same task.

Each race is run by threads released together by a barrier, each with its own session, as
two web requests are; it is repeated so that the two really meet inside the database. A
witness on the database connection tells the rounds in which both got as far as writing
(both read the task as open) from those in which one came after the other had finished.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from engine.audit import verify
from engine.errors import NotAllowed, TaskAlreadyDone
from engine.instances import loading, steps
from engine.instances.assignment import Grant, Participant
from engine.instances.claims import claim_task
from engine.instances.steps import complete_task, complete_task_or_log_refusal
from models import AuditEvent, HumanTask
from tests.conftest import Database, record_figures
from tests.engine.conftest import SEATS, Procedures

ROUNDS = 20


def at_once(*actions: Callable[[], Any]) -> list[Any]:
    """Run the actions in threads released together; each one's result, or what it raised."""
    barrier = threading.Barrier(len(actions))
    outcomes: list[Any] = [None] * len(actions)

    def run(index: int) -> None:
        barrier.wait()
        try:
            outcomes[index] = actions[index]()
        except Exception as err:
            outcomes[index] = err

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
        assert not thread.is_alive(), "a racer never came back"
    return outcomes


@dataclass
class Witness:
    """Which threads wrote a completion or a claim to a task's inbox row (the row is written
    only after the task was read as open and the person's right to it checked)."""

    completing: set[int] = field(default_factory=set)
    claiming: set[int] = field(default_factory=set)

    def saw(self, _conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if "UPDATE human_task SET" not in statement:
            return
        if "completed_by" in statement:
            self.completing.add(threading.get_ident())
        elif "claimed_by" in statement:
            self.claiming.add(threading.get_ident())

    def clear(self) -> None:
        self.completing.clear()
        self.claiming.clear()


@pytest.fixture
def witness(db: Database) -> Iterator[Witness]:
    """A witness listening on the test database's connections."""
    seen = Witness()
    event.listen(db.engine, "before_cursor_execute", seen.saw)
    yield seen
    event.remove(db.engine, "before_cursor_execute", seen.saw)


@pytest.fixture
def secretariat_pair(make_person: Callable[..., Participant]) -> tuple[Participant, Participant]:
    """Two members of the Secretariat: every Secretariat step is offered to both."""
    return make_person("amra", Grant("secretariat")), make_person("luka", Grant("secretariat"))


def audit_of(db: Database, task_guid: str) -> list[tuple[str, str, dict[str, Any]]]:
    """The task's events on the audit trail: kind, actor, payload, in order."""
    with db.session() as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
        return [
            (e.kind, e.actor, dict(e.payload))
            for e in events
            if e.payload.get("task_guid") == task_guid
        ]


ANSWERS = {
    "amra": {"approved": True, "comment": "Ready for the Board (amra)."},
    "luka": {"approved": False, "comment": "Needs another reading (luka)."},
}


def both_answer(db: Database, review: HumanTask, people: list[Participant], now: datetime) -> Any:
    """Each person submits their own answer to the review at the same moment."""

    def answer(person: Participant) -> Callable[[], HumanTask]:
        return lambda: complete_task_or_log_refusal(
            db.factory, review.id, ANSWERS[person.username], participant=person, now=now
        )

    return at_once(*(answer(person) for person in people))


def test_an_answer_that_read_the_task_open_just_before_another_was_saved_is_told_by_whom(
    db: Database,
    procedures: Procedures,
    secretariat_pair: tuple[Participant, Participant],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    amra, luka = secretariat_pair
    instance_id = procedures.start("lane_task", {"seat": "AL"})
    review = procedures.task(instance_id, "review")
    now = procedures.clock.now()
    load_instance = loading.load

    def amra_saves_first(session: Session, loaded_id: int) -> Any:
        # Luka has read the task as open; Amra's answer is saved before his instance is read.
        monkeypatch.setattr(steps, "load", load_instance)
        complete_task_or_log_refusal(
            db.factory, review.id, ANSWERS["amra"], participant=amra, now=now
        )
        return load_instance(session, loaded_id)

    monkeypatch.setattr(steps, "load", amra_saves_first)
    with pytest.raises(TaskAlreadyDone) as told:
        complete_task_or_log_refusal(
            db.factory, review.id, ANSWERS["luka"], participant=luka, now=now
        )

    assert "'Review the proposal' was already completed by amra" in str(told.value)


def test_two_secretaries_answer_the_same_review_at_once_one_wins_the_other_is_told(
    db: Database,
    procedures: Procedures,
    secretariat_pair: tuple[Participant, Participant],
    make_person: Callable[..., Participant],
    witness: Witness,
) -> None:
    board_al = make_person("board-al", Grant("board_member", "AL"))
    interleaved = 0

    for _round in range(ROUNDS):
        instance_id = procedures.start("lane_task", {"seat": "AL"})
        review = procedures.task(instance_id, "review")
        witness.clear()

        outcomes = both_answer(db, review, list(secretariat_pair), procedures.clock.now())

        interleaved += len(witness.completing) == 2
        by_name = {
            person.username: got for person, got in zip(secretariat_pair, outcomes, strict=True)
        }
        winners = [name for name, got in by_name.items() if isinstance(got, HumanTask)]
        losers = [name for name, got in by_name.items() if isinstance(got, TaskAlreadyDone)]
        assert len(winners) == 1 and len(losers) == 1, by_name
        (winner,), (loser,) = winners, losers
        told = str(by_name[loser])
        assert f"'Review the proposal' was already completed by {winner}" in told
        assert "nothing was changed" in told
        with db.session() as session:
            stored = session.get_one(HumanTask, review.id)
            assert (stored.status, stored.completed_by) == ("completed", winner)
            assert stored.submitted == ANSWERS[winner]
        assert procedures.step_data(instance_id, "review")["comment"] == ANSWERS[winner]["comment"]
        trail = audit_of(db, review.task_guid)
        assert [(kind, actor) for kind, actor, _ in trail] == [
            ("task.completed", winner),
            ("task.refused", loser),
        ]
        assert trail[0][2]["data"] == ANSWERS[winner]
        assert trail[1][2]["data"] == ANSWERS[loser]
        assert f"already completed by {winner}" in trail[1][2]["reason"]
        # The procedure went on once: the seat is asked to acknowledge, once.
        assert [t.bpmn_id for t in procedures.open_tasks(instance_id)] == ["acknowledge"]
        procedures.complete(procedures.task(instance_id, "acknowledge").id, {}, board_al)
        assert procedures.instance(instance_id).status == "completed"

    with db.session() as session:
        assert verify(session).intact
    record_figures(
        "two people answer one step at once",
        {"database": db.engine.dialect.name, "rounds": ROUNDS, "met_in_the_database": interleaved},
    )


def two_seats_answer(
    db: Database, tasks: dict[str, HumanTask], board: dict[str, Participant], now: datetime
) -> Any:
    """Albania says no objection and Bosnia and Herzegovina objects, at the same moment."""

    def answer(seat: str, choice: str) -> Callable[[], HumanTask]:
        def work(session: Session) -> HumanTask:
            return complete_task(
                session, tasks[seat].id, {"answer": choice}, participant=board[seat], now=now
            )

        return lambda: db.run(work)

    return at_once(answer("AL", "no_objection"), answer("BA", "objection"))


def test_two_seats_answer_their_own_steps_of_one_vote_at_once_and_both_land(
    db: Database,
    procedures: Procedures,
    board: dict[str, Participant],
    witness: Witness,
) -> None:
    interleaved = 0

    for _round in range(ROUNDS // 2):
        instance_id = procedures.start("mi_vote", {"seats": SEATS})
        tasks = {seat: procedures.task(instance_id, "answer_task", seat) for seat in SEATS}
        witness.clear()

        outcomes = two_seats_answer(db, tasks, board, procedures.clock.now())

        interleaved += len(witness.completing) == 2
        assert [type(got) for got in outcomes] == [HumanTask, HumanTask], outcomes
        assert [t.organisation for t in procedures.open_tasks(instance_id)] == ["XK"]
        procedures.complete(tasks["XK"].id, {"answer": "no_objection"}, board["XK"])
        assert procedures.instance(instance_id).status == "completed"
        assert procedures.data(instance_id)["answers"] == {
            "AL": "no_objection",
            "BA": "objection",
            "XK": "no_objection",
        }

    with db.session() as session:
        assert verify(session).intact
    record_figures(
        "two steps of one instance answered at once",
        {
            "database": db.engine.dialect.name,
            "rounds": ROUNDS // 2,
            "met_in_the_database": interleaved,
        },
    )


def both_claim(db: Database, review: HumanTask, people: list[Participant], now: datetime) -> Any:
    """Each person claims the review at the same moment."""

    def claim(person: Participant) -> Callable[[], HumanTask]:
        return lambda: db.run(lambda s: claim_task(s, review.id, participant=person, now=now))

    return at_once(*(claim(person) for person in people))


def test_two_secretaries_claim_the_same_review_at_once_one_gets_it_the_other_is_told(
    db: Database,
    procedures: Procedures,
    secretariat_pair: tuple[Participant, Participant],
    witness: Witness,
) -> None:
    people = {person.username: person for person in secretariat_pair}
    interleaved = 0

    for _round in range(ROUNDS):
        instance_id = procedures.start("lane_task", {"seat": "AL"})
        review = procedures.task(instance_id, "review")
        witness.clear()

        outcomes = both_claim(db, review, list(secretariat_pair), procedures.clock.now())

        interleaved += len(witness.claiming) == 2
        by_name = dict(zip(people, outcomes, strict=True))
        holders = [name for name, got in by_name.items() if isinstance(got, HumanTask)]
        refused = [name for name, got in by_name.items() if isinstance(got, NotAllowed)]
        assert len(holders) == 1 and len(refused) == 1, by_name
        (holder,), (other,) = holders, refused
        assert f"'Review the proposal' has been claimed by {holder}" in str(by_name[other])
        with db.session() as session:
            assert session.get_one(HumanTask, review.id).claimed_by == holder
            claims = session.scalars(
                select(AuditEvent.actor).where(
                    AuditEvent.kind == "task.claimed", AuditEvent.instance_id == instance_id
                )
            ).all()
        assert claims == [holder]

        # While it is claimed, the other cannot answer it; its holder still can.
        with pytest.raises(NotAllowed, match=f"has been claimed by {holder}"):
            procedures.complete(review.id, ANSWERS[other], people[other])
        assert procedures.task(instance_id, "review").claimed_by == holder
        procedures.complete(review.id, ANSWERS[holder], people[holder])
        assert [t.bpmn_id for t in procedures.open_tasks(instance_id)] == ["acknowledge"]

    with db.session() as session:
        assert verify(session).intact
    record_figures(
        "two people claim one step at once",
        {"database": db.engine.dialect.name, "rounds": ROUNDS, "met_in_the_database": interleaved},
    )
