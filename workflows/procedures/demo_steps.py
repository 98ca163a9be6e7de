"""What the demo does as people would: whether a demo procedure was started already (by its
business key), and completing a procedure's open step as a given person."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.instances.steps import complete_task
from models import HumanTask, ProcessInstance, User
from workflows.people.accounts import participant


def started_already(session: Session, business_key: str) -> bool:
    """Whether a procedure with this business key exists (the demo starts each once)."""
    found = session.scalars(
        select(ProcessInstance.id).where(ProcessInstance.business_key == business_key)
    ).first()
    return found is not None


def open_step(
    session: Session, instance: ProcessInstance, bpmn_id: str, organisation: str | None = None
) -> HumanTask | None:
    """The procedure's open step with this BPMN id (for one seat or partner, if given)."""
    query = select(HumanTask).where(
        HumanTask.instance_id == instance.id,
        HumanTask.bpmn_id == bpmn_id,
        HumanTask.status == "open",
    )
    if organisation is not None:
        query = query.where(HumanTask.organisation == organisation)
    return session.scalars(query.order_by(HumanTask.id)).first()


def complete_open_step(
    session: Session,
    instance: ProcessInstance,
    bpmn_id: str,
    data: dict[str, Any],
    user: User,
    now: datetime,
) -> None:
    """Complete the procedure's open step as `user` (it must be open)."""
    task = open_step(session, instance, bpmn_id)
    if task is None:
        raise LookupError(f"no open step '{bpmn_id}' in procedure {instance.id}")
    complete_task(session, task.id, data, participant=participant(user), now=now)
