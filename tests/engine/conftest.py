"""Small helpers for the engine's tests: start a procedure, read its inbox, answer a step."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from argon2 import PasswordHasher
from SpiffWorkflow.task import TaskState
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.instances.assignment import Grant, Participant
from engine.instances.loading import load
from engine.instances.steps import complete_task, fire_due_timers, start_instance
from models import AuditEvent, HumanTask, ProcessInstance, Timer
from tests.conftest import Clock, Database
from workflows.people import accounts


@dataclass
class Procedures:
    """Drives instances through the engine, one committed unit of work per step."""

    db: Database
    clock: Clock

    def start(self, process_key: str, data: dict[str, Any] | None = None) -> int:
        """Start the active version of a process as the Secretariat; the new instance's id."""

        def work(session: Session) -> int:
            row = start_instance(
                session, process_key, data or {}, actor="secretariat", now=self.clock.now()
            )
            return row.id

        instance_id: int = self.db.run(work)
        return instance_id

    def open_tasks(self, instance_id: int) -> list[HumanTask]:
        """The instance's open inbox rows, by step name."""
        with self.db.session() as session:
            return list(
                session.scalars(
                    select(HumanTask)
                    .where(HumanTask.instance_id == instance_id, HumanTask.status == "open")
                    .order_by(HumanTask.name, HumanTask.organisation)
                )
            )

    def task(self, instance_id: int, bpmn_id: str, organisation: str | None = None) -> HumanTask:
        """The one open task of a step (for one organisation, in a multi-instance step)."""
        found = [
            t
            for t in self.open_tasks(instance_id)
            if t.bpmn_id == bpmn_id and (organisation is None or t.organisation == organisation)
        ]
        assert len(found) == 1, f"expected one open '{bpmn_id}', found {found}"
        return found[0]

    def complete(self, task_id: int, data: dict[str, Any], person: Participant) -> HumanTask:
        """Answer a task as `person`, now."""

        def work(session: Session) -> HumanTask:
            return complete_task(session, task_id, data, participant=person, now=self.clock.now())

        done: HumanTask = self.db.run(work)
        return done

    def fire_timers(self, instance_id: int) -> list[str]:
        """Fire whatever of the instance's timers is due now; the BPMN ids that fired."""
        now = self.clock.now()
        fired: list[str] = self.db.run(lambda s: fire_due_timers(s, instance_id, now))
        return fired

    def instance(self, instance_id: int) -> ProcessInstance:
        """The instance row as stored."""
        with self.db.session() as session:
            row = session.get(ProcessInstance, instance_id)
            assert row is not None
            return row

    def data(self, instance_id: int) -> dict[str, Any]:
        """The instance's data, read from its restored workflow."""
        with self.db.session() as session:
            return dict(load(session, instance_id).workflow.data)

    def step_data(self, instance_id: int, bpmn_id: str) -> dict[str, Any]:
        """The data a finished step of a still running instance left behind."""
        with self.db.session() as session:
            workflow = load(session, instance_id).workflow
            done = [
                t
                for t in workflow.get_tasks(state=TaskState.COMPLETED)
                if t.task_spec.bpmn_id == bpmn_id
            ]
            assert done, f"'{bpmn_id}' has not run"
            return dict(done[-1].data)

    def timers(self, instance_id: int) -> dict[str, datetime]:
        """The instance's waiting timers (the projection), BPMN id to due time."""
        with self.db.session() as session:
            rows = session.scalars(select(Timer).where(Timer.instance_id == instance_id))
            return {t.bpmn_id: t.due_at for t in rows}

    def audit_count(self) -> int:
        """How many audit events there are."""
        with self.db.session() as session:
            return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


@pytest.fixture(autouse=True)
def quick_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """People are made for their roles here, not to log in: hash their passwords cheaply."""
    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


@pytest.fixture
def procedures(db: Database, clock: Clock, test_diagrams: None) -> Procedures:
    """The test diagrams deployed, and a driver for their instances."""
    return Procedures(db, clock)


# The seats of the test vote (tests/bpmn/mi_vote.bpmn): one answer step per seat.
SEATS = {"AL": "AL", "BA": "BA", "XK": "XK"}


@pytest.fixture
def board(make_person: Callable[..., Participant]) -> dict[str, Participant]:
    """One Board member per seat of the vote."""
    return {
        seat: make_person(f"board-{seat.lower()}", Grant("board_member", seat)) for seat in SEATS
    }


@pytest.fixture
def secretariat(make_person: Callable[..., Participant]) -> Participant:
    """A member of the Secretariat."""
    return make_person("sec", Grant("secretariat"))
