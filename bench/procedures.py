"""The IISG at work in a bench database: the methodology from bpmn/ deployed, Board members
with logins and API tokens, and Board decisions by silent procedure started through the
engine, each waiting for the seven seats' answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bench.databases import now
from engine.instances.assignment import Grant, Participant
from engine.instances.steps import start_instance
from engine.instances.unit_of_work import run_in_transaction
from models import HumanTask, Organisation
from workflows.board import decisions  # noqa: F401 - registers the silent procedure's services
from workflows.methodology.diagrams import BPMN_DIR, deploy_directory
from workflows.people.accounts import create_user, participant
from workflows.people.roles import BOARD_SEATS
from workflows.people.tokens import create_token

PROCESS = "silent_procedure"
ANSWER = "answer_silent_procedure"
# The seats that answer in each instance, in this order: a typical answer leaves the
# procedure open (the seventh "no objection" would close it, one objection too).
ANSWERING = ("AL", "BA", "XK", "ME", "MK")
NO_OBJECTION: dict[str, Any] = {"answer": "no_objection"}
PASSWORD = "bench-password-2026"  # noqa: S105 - a throwaway database's demo login


@dataclass(frozen=True)
class Person:
    """A login the bench acts as: who they are to the engine, and their API token."""

    participant: Participant
    token: str


def deploy(factory: sessionmaker[Session]) -> None:
    """Deploy bpmn/ as the methodology in force, with the Board's seats as organisations."""

    def work(session: Session) -> None:
        deploy_directory(session, BPMN_DIR, actor="bench", now=now())
        for seat in BOARD_SEATS:
            session.add(
                Organisation(
                    code=seat.code, name=seat.name, member_group=seat.member_group, is_member=True
                )
            )

    run_in_transaction(factory, work)


def add_person(factory: sessionmaker[Session], username: str, grants: list[Grant]) -> Person:
    """A user with these roles, a password for the login form and an API token."""

    def work(session: Session) -> Person:
        user = create_user(
            session, username, PASSWORD, display_name=username, now=now(), grants=grants
        )
        # Made a day ago, so the first call does not write its first use (as most calls).
        _, secret = create_token(session, user, "bench", now=now() - timedelta(days=1))
        return Person(participant(user), secret)

    result: Person = run_in_transaction(factory, work)
    return result


def board_member(factory: sessionmaker[Session], seat: str) -> Person:
    """The Board member for one seat (also a member of the IISG)."""
    return add_person(
        factory,
        f"board-{seat.lower()}",
        [Grant("board_member", seat), Grant("member", seat)],
    )


def whole_board(factory: sessionmaker[Session], username: str) -> Person:
    """A login holding every Board seat: one client that answers for all of them."""
    return add_person(factory, username, [Grant("board_member", s.code) for s in BOARD_SEATS])


def start_silent_procedures(factory: sessionmaker[Session], count: int) -> list[int]:
    """Start `count` silent procedures through the engine; their instance ids."""
    data = {"subject": "Admitting an observer", "proposal": "The Board admits an observer."}
    started: list[int] = []
    for _ in range(count):
        started.append(
            run_in_transaction(
                factory,
                lambda s: start_instance(s, PROCESS, data, actor="secretariat", now=now()).id,
            )
        )
    return started


def answer_tasks(
    factory: sessionmaker[Session], instance_ids: list[int]
) -> dict[int, dict[str, int]]:
    """The open answer task of each seat, by instance: {instance: {seat: task id}}."""
    found: dict[int, dict[str, int]] = {i: {} for i in instance_ids}
    with factory() as session:
        rows = session.execute(
            select(HumanTask.instance_id, HumanTask.organisation, HumanTask.id).where(
                HumanTask.instance_id.in_(instance_ids),
                HumanTask.bpmn_id == ANSWER,
                HumanTask.status == "open",
            )
        )
        for instance_id, seat, task_id in rows:
            found[instance_id][str(seat)] = task_id
    return found
