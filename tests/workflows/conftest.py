"""The methodology as deployed from bpmn/, the Board and the Secretariat, and a small driver
that works the procedures through the same engine functions the web uses."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.instances.assignment import Grant, Participant, offered_clause
from engine.instances.loading import load
from engine.instances.steps import complete_task, start_instance
from engine.scheduler.passes import PassResult, run_pass
from models import Decision, HumanTask
from tests.conftest import Clock, Database
from workflows.methodology.diagrams import BPMN_DIR, deploy_directory
from workflows.people import accounts
from workflows.people.roles import BOARD_SEATS
from workflows.settings import DEFAULT_MIN_NOTICE


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real Argon2, cheap settings: these tests create many people."""
    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


@dataclass
class Iisg:
    """The IISG at work: its people, and the procedures they run."""

    db: Database
    clock: Clock
    secretariat: Participant
    board: dict[str, Participant]

    def start(
        self,
        process: str,
        data: dict[str, Any],
        by: str = "secretariat",
        notice: timedelta = DEFAULT_MIN_NOTICE,
    ) -> int:
        def work(session: Session) -> int:
            row = start_instance(
                session, process, data, actor=by, now=self.clock.now(), notice=notice
            )
            return int(row.id)

        result: int = self.db.run(work)
        return result

    def tasks_of(self, person: Participant, instance_id: int | None = None) -> list[HumanTask]:
        """The open tasks the person sees in their inbox."""
        with self.db.session() as s:
            query = select(HumanTask).where(HumanTask.status == "open", offered_clause(person))
            if instance_id is not None:
                query = query.where(HumanTask.instance_id == instance_id)
            return list(s.scalars(query.order_by(HumanTask.id)))

    def task(self, person: Participant, bpmn_id: str, instance_id: int) -> HumanTask:
        found = [t for t in self.tasks_of(person, instance_id) if t.bpmn_id == bpmn_id]
        assert len(found) == 1, f"{person.username} sees {[t.bpmn_id for t in found]}"
        return found[0]

    def complete(
        self,
        person: Participant,
        bpmn_id: str,
        instance_id: int,
        data: dict[str, Any],
        notice: timedelta = DEFAULT_MIN_NOTICE,
    ) -> None:
        task_id = self.task(person, bpmn_id, instance_id).id
        self.db.run(
            lambda s: complete_task(
                s, task_id, data, participant=person, now=self.clock.now(), notice=notice
            )
        )

    def answer(self, seat: str, instance_id: int, answer: str, reason: str | None = None) -> None:
        data: dict[str, Any] = {"answer": answer}
        if reason is not None:
            data["reason"] = reason
        self.complete(self.board[seat], "answer_silent_procedure", instance_id, data)

    def scheduler_pass(self) -> PassResult:
        return run_pass(self.db.factory)

    def data(self, instance_id: int) -> dict[str, Any]:
        with self.db.session() as s:
            return dict(load(s, instance_id).workflow.data)

    def task_statuses(self, instance_id: int, bpmn_id: str) -> list[str]:
        with self.db.session() as s:
            return sorted(
                s.scalars(
                    select(HumanTask.status).where(
                        HumanTask.instance_id == instance_id, HumanTask.bpmn_id == bpmn_id
                    )
                )
            )

    def decision(self, instance_id: int) -> Decision:
        with self.db.session() as s:
            found = s.scalars(
                select(Decision)
                .where(Decision.instance_id == instance_id)
                .order_by(Decision.id.desc())
            ).first()
            assert found is not None, "no decision recorded"
            return found


def methodology_and_board(
    db: Database, clock: Clock, make_person: Callable[..., Participant]
) -> Iisg:
    """The methodology from bpmn/ deployed, the Secretariat and the seven Board members."""
    db.run(lambda s: deploy_directory(s, BPMN_DIR, actor="tests", now=clock.now()))
    secretariat = make_person("secretariat", Grant("secretariat"))
    board = {
        seat.code: make_person(f"board-{seat.code.lower()}", Grant("board_member", seat.code))
        for seat in BOARD_SEATS
    }
    return Iisg(db, clock, secretariat, board)


@pytest.fixture
def iisg(db: Database, clock: Clock, make_person: Callable[..., Participant]) -> Iisg:
    """The methodology from bpmn/, the Secretariat and the seven Board members."""
    return methodology_and_board(db, clock, make_person)
