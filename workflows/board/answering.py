"""Answering a silent procedure for one's seat: no objection, or objection with its reason."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine.errors import FormInvalid, NotAllowed
from engine.instances.assignment import Participant, offered_clause
from engine.instances.steps import complete_task_or_log_refusal
from models import Decision, HumanTask
from workflows.board.decisions import ANSWER_TASK
from workflows.board.silent_procedure import latest_silent_procedure


def answer_data(
    answer: str, reason: str | None, concerns: list[str] | None = None
) -> dict[str, Any]:
    """A seat's answer as the answer form of `silent_procedure` takes it; an objection to a
    list may name the items it concerns."""
    data: dict[str, Any] = {"answer": answer}
    if answer == "objection" and reason and reason.strip():
        data["reason"] = reason.strip()
    if answer == "objection" and concerns:
        data["concerns"] = list(concerns)
    return data


def _seat_task(
    session: Session, instance_id: int, participant: Participant
) -> tuple[Decision, HumanTask]:
    """The viewer's seat's answer task in the newest silent procedure, the open one first."""
    decision = latest_silent_procedure(session, instance_id)
    found = None
    if decision is not None and decision.instance_id is not None:
        found = session.scalars(
            select(HumanTask)
            .where(
                HumanTask.instance_id == decision.instance_id,
                HumanTask.bpmn_id == ANSWER_TASK,
                HumanTask.created_at >= decision.launched_at,
                offered_clause(participant),
            )
            .order_by((HumanTask.status == "open").desc(), HumanTask.id.desc())
        ).first()
    if decision is None or found is None:
        raise NotAllowed(
            "only the Board member of a seat still to answer, or the seat's alternate, may "
            "answer this silent procedure; nothing was changed"
        )
    return decision, found


def answer_silent_procedure(
    factory: sessionmaker[Session],
    instance_id: int,
    answer: str,
    reason: str | None,
    *,
    participant: Participant,
    now: datetime,
    concerns: list[str] | None = None,
) -> HumanTask:
    """Answer for the viewer's seat: "no objection", or "objection" with its reason (and, on
    a list, the items it concerns).

    NotAllowed when the viewer holds no seat still to answer; TaskAlreadyDone (logged) when
    the seat has answered, the procedure closed, or its deadline passed; FormInvalid when an
    objection has no reason.
    """
    with factory() as session:
        _, task = _seat_task(session, instance_id, participant)
    if answer not in ("no_objection", "objection"):
        raise FormInvalid({"answer": "choose one of: no objection, objection"})
    return complete_task_or_log_refusal(
        factory,
        task.id,
        answer_data(answer, reason, concerns),
        participant=participant,
        now=now,
    )
