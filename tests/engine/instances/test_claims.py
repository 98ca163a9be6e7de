"""A task offered to several holders of a role can be claimed by one, and released again."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from engine.errors import NotAllowed
from engine.instances.assignment import Grant, Participant, offered_clause
from engine.instances.claims import claim_task, release_task
from engine.instances.steps import complete_task
from models import AuditEvent, HumanTask
from tests.conftest import Clock, Database
from tests.engine.conftest import Procedures


def _offered_to(db: Database, person: Participant) -> list[str]:
    with db.session() as s:
        return list(
            s.scalars(
                select(HumanTask.name).where(HumanTask.status == "open", offered_clause(person))
            )
        )


def test_a_claimed_task_leaves_the_others_inboxes_until_it_is_released(
    db: Database,
    clock: Clock,
    procedures: Procedures,
    make_person: Callable[..., Participant],
) -> None:
    amra, luka = (
        make_person("amra", Grant("secretariat")),
        make_person("luka", Grant("secretariat")),
    )
    instance_id = procedures.start("lane_task", {"seat": "AL"})
    with db.session() as s:
        review = s.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id)).one()
    assert _offered_to(db, amra) == _offered_to(db, luka) == ["Review the proposal"]

    db.run(lambda s: claim_task(s, review.id, participant=amra, now=clock.now()))
    assert _offered_to(db, amra) == ["Review the proposal"]
    assert _offered_to(db, luka) == []
    with pytest.raises(NotAllowed, match="claimed by amra"):
        db.run(
            lambda s: complete_task(
                s,
                review.id,
                {"approved": True, "comment": "mine"},
                participant=luka,
                now=clock.now(),
            )
        )
    with pytest.raises(NotAllowed, match="claimed by amra"):
        db.run(lambda s: release_task(s, review.id, participant=luka, now=clock.now()))

    db.run(lambda s: release_task(s, review.id, participant=amra, now=clock.now()))
    assert _offered_to(db, luka) == ["Review the proposal"]
    with db.session() as s:
        kinds = s.scalars(
            select(AuditEvent.kind).where(AuditEvent.kind.like("task.%")).order_by(AuditEvent.seq)
        ).all()
    assert kinds == ["task.claimed", "task.released"]
