"""The Secretariat moves a running application to the adopted version of membership, where
SpiffWorkflow's diff says nothing it has done changes; otherwise the move is refused."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from engine.instances.assignment import Grant, Participant
from models import AuditEvent, HumanTask, ProcessInstance
from tests.workflows.board.test_membership import application, expression_of_interest
from tests.workflows.conftest import Iisg
from tests.workflows.membership_amendment import (
    NEW_TASK,
    NEW_TASK_NAME,
    amended_forms,
    with_new_step,
)
from tests.workflows.methodology.test_editor import adopt_the_new_step, save
from workflows.methodology.editor import MigrationRefused, migrate_instance, migration_check

MakePerson = Callable[..., Participant]


def snapshot(iisg: Iisg, instance_id: int) -> tuple[int, str, int, list[tuple[str, str]]]:
    with iisg.db.session() as s:
        row = s.get(ProcessInstance, instance_id)
        assert row is not None
        tasks = s.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id))
        return (
            row.definition.version,
            row.state_json,
            row.lock_version,
            sorted((t.bpmn_id, t.status) for t in tasks),
        )


def migrate(iisg: Iisg, instance_id: int, version: int) -> None:
    iisg.db.run(
        lambda s: migrate_instance(
            s, instance_id, version, actor="secretariat", now=iisg.clock.now()
        )
    )


def test_an_application_waiting_for_its_expression_of_interest_moves_and_gets_the_new_step(
    iisg: Iisg, make_person: MakePerson
) -> None:
    applicant = make_person("applicant-osce", Grant("applicant"))
    waiting = iisg.start("membership", application("OSCE", "OSCE", applicant.username))
    version = adopt_the_new_step(iisg)

    with iisg.db.session() as s:
        check = migration_check(s, waiting, version)
    assert check.safe and check.reasons == []
    assert NEW_TASK_NAME not in check.changed  # it is new: nothing of it ran
    assert "Record the expression of interest" in check.changed  # what follows it changes

    migrate(iisg, waiting, version)

    assert snapshot(iisg, waiting)[0] == 2
    [open_task] = [t for t in iisg.tasks_of(applicant, waiting)]
    assert open_task.bpmn_id == "submit_expression_of_interest"  # the same step, still open
    iisg.complete(
        applicant, "submit_expression_of_interest", waiting, expression_of_interest("OSCE")
    )
    assert [t.bpmn_id for t in iisg.tasks_of(iisg.secretariat, waiting)] == [NEW_TASK]
    with iisg.db.session() as s:
        moved = s.scalars(
            select(AuditEvent).where(
                AuditEvent.instance_id == waiting, AuditEvent.kind == "instance.migrated"
            )
        ).one()
    assert moved.actor == "secretariat"
    assert (moved.payload["from_version"], moved.payload["to_version"]) == (1, 2)


def test_an_application_past_the_changed_step_is_refused_and_nothing_changes(
    iisg: Iisg, make_person: MakePerson
) -> None:
    applicant = make_person("applicant-osce", Grant("applicant"))
    assessed = iisg.start("membership", application("OSCE", "OSCE", applicant.username))
    iisg.complete(
        applicant, "submit_expression_of_interest", assessed, expression_of_interest("OSCE")
    )
    version = adopt_the_new_step(iisg)
    before = snapshot(iisg, assessed)

    with iisg.db.session() as s:
        check = migration_check(s, assessed, version)
    assert not check.safe
    assert check.reasons == [
        "the step 'Record the expression of interest' is already done or under way, and "
        "version 2 changes what follows it",
        "the step 'Member group?' is already done or under way, and version 2 changes what "
        "leads to it",
    ]
    with pytest.raises(
        MigrationRefused, match="'Record the expression of interest' is already done"
    ):
        migrate(iisg, assessed, version)

    assert snapshot(iisg, assessed) == before
    assert [t.bpmn_id for t in iisg.tasks_of(iisg.secretariat, assessed)] == ["assess_application"]


def test_a_draft_the_board_has_not_adopted_is_no_version_to_move_to(
    iisg: Iisg, make_person: MakePerson
) -> None:
    applicant = make_person("applicant-osce", Grant("applicant"))
    waiting = iisg.start("membership", application("OSCE", "OSCE", applicant.username))
    draft = save(iisg, with_new_step(), amended_forms())

    with iisg.db.session() as s:
        check = migration_check(s, waiting, draft)

    assert not check.safe
    assert check.reasons == [
        "version 2 is draft; a procedure can only move to the version in force, adopted by "
        "the Board"
    ]
    with pytest.raises(MigrationRefused):
        migrate(iisg, waiting, draft)
    assert snapshot(iisg, waiting)[0] == 1
