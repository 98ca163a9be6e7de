"""Claiming a task offered to several people, and giving it back: who holds an open task,
changed only if nobody changed it since it was read."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from engine import audit
from engine.instances.assignment import Participant, check_may_act
from engine.instances.saving import update_task_if
from engine.instances.steps import require_open_task
from models import HumanTask


def claim_task(
    session: Session, task_id: int, *, participant: Participant, now: datetime
) -> HumanTask:
    """Take a task offered to several people, so that only you see it."""
    return _set_claim(session, task_id, participant, now, claimed_by=participant.username)


def release_task(
    session: Session, task_id: int, *, participant: Participant, now: datetime
) -> HumanTask:
    """Give a claimed task back to everyone who holds its role."""
    return _set_claim(session, task_id, participant, now, claimed_by=None)


def _set_claim(
    session: Session,
    task_id: int,
    participant: Participant,
    now: datetime,
    *,
    claimed_by: str | None,
) -> HumanTask:
    row = require_open_task(session, task_id)
    check_may_act(participant, row)
    if row.claimed_by != claimed_by:
        change_claim(session, row, claimed_by)
        audit.record(
            session,
            kind="task.claimed" if claimed_by else "task.released",
            actor=participant.username,
            now=now,
            instance_id=row.instance_id,
            payload={"task": row.bpmn_id},
        )
    session.flush()
    return row


def change_claim(session: Session, row: HumanTask, claimed_by: str | None) -> None:
    """Set who holds an open task, provided nobody changed its claim since it was read.

    Two people claiming at once both read the task unclaimed; a plain write would let the
    later one silently take it from the earlier. The UPDATE names the holder it read, so if
    a claim, a release or a completion got in first no row matches, and the unit of work
    starts again from what is stored now (where the later one is told who has the task).
    """
    held = row.claimed_by
    update_task_if(
        session,
        row,
        [
            HumanTask.status == "open",
            HumanTask.claimed_by.is_(None) if held is None else HumanTask.claimed_by == held,
        ],
        {"claimed_by": claimed_by},
        f"'{row.name}' was claimed, released or completed by someone else just now; "
        "please try again",
    )
