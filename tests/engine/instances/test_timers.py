"""Deadlines, reminders and waits fire when the clock passes their due time, and not before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from engine.diagrams.bundle import require_bundle
from engine.diagrams.deploy import deploy_bundle
from engine.instances.assignment import Participant
from engine.instances.steps import due_instances, earliest_due_timer
from models import HumanTask
from tests.engine.conftest import Procedures
from workflows.people.roles import known_roles


def due_now(procedures: Procedures) -> list[int]:
    """The instances the scheduler would wake now."""
    with procedures.db.session() as session:
        return due_instances(session, procedures.clock.now())


def test_reminder_fires_after_a_day_without_interrupting_and_the_deadline_withdraws_the_step(
    procedures: Procedures, secretariat: Participant
) -> None:
    start = procedures.clock.now()
    instance_id = procedures.start("timers", {"reminders": 0, "deadline_in": "P3D"})
    prepare = procedures.task(instance_id, "prepare")
    assert procedures.timers(instance_id) == {
        "reminder": start + timedelta(days=1),
        "deadline": start + timedelta(days=3),
    }
    assert prepare.due_at == start + timedelta(days=3)  # the interrupting timer is the deadline
    with procedures.db.session() as session:
        assert earliest_due_timer(session) == start + timedelta(days=1)

    procedures.clock.move(hours=23, minutes=59)
    assert due_now(procedures) == []
    assert procedures.fire_timers(instance_id) == []
    assert procedures.step_data(instance_id, "start")["reminders"] == 0

    procedures.clock.move(minutes=1)
    assert due_now(procedures) == [instance_id]
    assert procedures.fire_timers(instance_id) == ["reminder"]
    assert procedures.step_data(instance_id, "count_reminder")["reminders"] == 1
    assert procedures.task(instance_id, "prepare").id == prepare.id  # still open, same step
    assert procedures.timers(instance_id) == {"deadline": start + timedelta(days=3)}

    procedures.clock.move(days=1, hours=23, minutes=59)
    assert procedures.fire_timers(instance_id) == []
    assert procedures.task(instance_id, "prepare").id == prepare.id

    procedures.clock.move(minutes=1)
    assert due_now(procedures) == [instance_id]
    assert procedures.fire_timers(instance_id) == ["deadline"]
    with procedures.db.session() as session:
        withdrawn = session.get(HumanTask, prepare.id)
        assert withdrawn is not None
        assert (withdrawn.status, withdrawn.completed_by) == ("withdrawn", None)
    assert [t.bpmn_id for t in procedures.open_tasks(instance_id)] == ["handle_lateness"]
    assert procedures.timers(instance_id) == {}
    assert due_now(procedures) == []

    procedures.complete(procedures.task(instance_id, "handle_lateness").id, {}, secretariat)
    assert procedures.instance(instance_id).status == "completed"


def test_deadline_interrupts_before_the_first_reminder(
    procedures: Procedures, secretariat: Participant
) -> None:
    instance_id = procedures.start("timers", {"reminders": 0, "deadline_in": "PT2H"})
    prepare = procedures.task(instance_id, "prepare")

    procedures.clock.move(hours=1, minutes=59)
    assert procedures.fire_timers(instance_id) == []
    procedures.clock.move(minutes=1)
    assert procedures.fire_timers(instance_id) == ["deadline"]

    assert [t.bpmn_id for t in procedures.open_tasks(instance_id)] == ["handle_lateness"]
    with procedures.db.session() as session:
        assert session.scalar(select(HumanTask.status).where(HumanTask.id == prepare.id)) == (
            "withdrawn"
        )
    procedures.clock.move(days=2)
    assert procedures.fire_timers(instance_id) == []  # the reminder went with the step
    assert [t.bpmn_id for t in procedures.open_tasks(instance_id)] == ["handle_lateness"]


def test_wait_after_an_early_draft_offers_the_follow_up_only_after_two_days(
    procedures: Procedures, secretariat: Participant
) -> None:
    instance_id = procedures.start("timers", {"reminders": 0, "deadline_in": "PT2H"})
    procedures.clock.move(hours=1)
    procedures.complete(procedures.task(instance_id, "prepare").id, {}, secretariat)
    completed_at = procedures.clock.now()

    assert procedures.open_tasks(instance_id) == []
    assert procedures.timers(instance_id) == {"cooling_off": completed_at + timedelta(days=2)}

    procedures.clock.move(hours=2)  # past the draft's old deadline: it left with the step
    assert procedures.fire_timers(instance_id) == []
    procedures.clock.move(days=1, hours=21, minutes=59)
    assert due_now(procedures) == []
    assert procedures.fire_timers(instance_id) == []
    assert procedures.open_tasks(instance_id) == []

    procedures.clock.move(minutes=1)
    assert due_now(procedures) == [instance_id]
    assert procedures.fire_timers(instance_id) == ["cooling_off"]
    assert [t.bpmn_id for t in procedures.open_tasks(instance_id)] == ["follow_up"]
    assert procedures.step_data(instance_id, "start")["reminders"] == 0
    assert procedures.timers(instance_id) == {}

    procedures.complete(procedures.task(instance_id, "follow_up").id, {}, secretariat)
    assert procedures.instance(instance_id).status == "completed"


def test_timers_as_modelers_write_them_run_as_that_value(procedures: Procedures) -> None:
    """`PT1H`, `R6/P1D` and a date-time, unquoted (Camunda Modeler, bpmn.io); and expressions."""
    corpus = Path(__file__).parents[1] / "diagrams" / "corpus"
    files = {
        name: (corpus / name).read_bytes()
        for name in ("iso_timers.bpmn", "expression_timers.bpmn", "corpus_confirm.json")
    }
    bundle = require_bundle(files, known_roles())
    procedures.db.run(lambda s: deploy_bundle(s, bundle, actor="tests", now=procedures.clock.now()))
    start = procedures.clock.now()

    written_bare = procedures.start("Process_iso_timers")
    written_as_expressions = procedures.start("Process_expr_timers")

    assert procedures.timers(written_bare) == {
        "Event_deadline": start + timedelta(hours=1),
        "Event_reminder": start + timedelta(days=1),
        "Event_date": datetime(2030, 1, 1, 9, tzinfo=UTC),
    }
    assert procedures.timers(written_as_expressions) == {
        "Event_quoted": start + timedelta(days=10),
        "Event_computed": start + timedelta(days=3),
    }
    procedures.clock.move(hours=1)
    assert procedures.fire_timers(written_bare) == ["Event_deadline"]
    assert procedures.instance(written_bare).status == "completed"
