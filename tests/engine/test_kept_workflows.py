"""A step goes on from the workflow kept in memory after the last save, but only while that
workflow is exactly what the database holds: a state written elsewhere, a save that rolled
back, or data JSON cannot keep all send the next step back to restoring from the database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from uuid import UUID

import pytest
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import TaskState
from sqlalchemy import select, update

from engine.assignment import Participant
from engine.instances import complete_task
from engine.kept_workflows import KeptWorkflows, Projections, kept_workflows
from engine.runtime import load
from engine.specs import workflow_dict, workflow_state, workflow_to_json
from models import HumanTask, ProcessInstance
from tests.engine.conftest import SEATS, Procedures


@pytest.fixture(autouse=True)
def nothing_kept_before() -> Iterator[None]:
    """Each test starts with nothing kept from an earlier one."""
    kept_workflows.clear()
    yield
    kept_workflows.clear()


def answer_state(procedures: Procedures, instance_id: int, seat: str) -> int:
    """The state of a seat's answer step in the workflow as the next step would load it."""
    guid = procedures.task(instance_id, "answer_task", seat).task_guid
    with procedures.db.session() as session:
        task = load(session, instance_id).workflow.get_task_from_id(UUID(guid))
        state: int = task.state
        return state


def test_the_next_step_goes_on_from_the_kept_workflow_which_is_the_stored_state(
    procedures: Procedures, board: dict[str, Participant]
) -> None:
    instance_id = procedures.start("mi_vote", {"seats": SEATS})
    al = procedures.task(instance_id, "answer_task", "AL")
    procedures.complete(al.id, {"answer": "no_objection"}, board["AL"])
    stored = procedures.instance(instance_id).state_json
    hits = kept_workflows.hits

    with procedures.db.session() as session:
        loaded = load(session, instance_id)
        assert kept_workflows.hits == hits + 1
        # What goes on in memory is exactly what the database holds.
        assert workflow_to_json(loaded.workflow) == stored
    # Taken, not shared: the next load restores unless a save hands one back.
    with procedures.db.session() as session:
        load(session, instance_id)
    assert kept_workflows.hits == hits + 1


def test_a_state_written_another_way_is_restored_from_the_database(
    procedures: Procedures, board: dict[str, Participant]
) -> None:
    instance_id = procedures.start("mi_vote", {"seats": SEATS})
    before_answers = procedures.instance(instance_id).state_json
    al = procedures.task(instance_id, "answer_task", "AL")
    procedures.complete(al.id, {"answer": "no_objection"}, board["AL"])
    # As another web process, or a restore from backup, would: the row changes underneath.
    procedures.db.run(
        lambda s: s.execute(
            update(ProcessInstance)
            .where(ProcessInstance.id == instance_id)
            .values(state_json=before_answers)
        )
    )
    with procedures.db.session() as session:
        workflow = load(session, instance_id).workflow
        task = workflow.get_task_from_id(UUID(al.task_guid))
        assert task.state == TaskState.READY  # as stored, not as kept


def test_a_save_that_rolled_back_leaves_nothing_to_go_on_from(
    procedures: Procedures, board: dict[str, Participant]
) -> None:
    instance_id = procedures.start("mi_vote", {"seats": SEATS})
    al = procedures.task(instance_id, "answer_task", "AL")
    with procedures.db.session() as session:
        complete_task(
            session,
            al.id,
            {"answer": "no_objection"},
            participant=board["AL"],
            now=procedures.clock.now(),
        )
        session.rollback()  # saved, then never committed

    assert answer_state(procedures, instance_id, "AL") == TaskState.READY
    # And the answer can still be given, once.
    done = procedures.complete(al.id, {"answer": "objection"}, board["AL"])
    assert (done.status, done.submitted) == ("completed", {"answer": "objection"})
    assert answer_state(procedures, instance_id, "BA") == TaskState.READY


def a_started_vote(procedures: Procedures) -> tuple[int, BpmnWorkflow]:
    """A vote just started, and its workflow as restored from the database."""
    instance_id = procedures.start("mi_vote", {"seats": SEATS})
    with procedures.db.session() as session:
        return instance_id, load(session, instance_id).workflow


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        ({"seats": ["AL", "BA"]}, True),
        ({"pair": (1, 2)}, False),  # read back as a list
        ({"by_number": {1: "AL"}}, False),  # read back with the key "1"
        ({"nothing": float("nan")}, False),  # never equal to itself
        # What the check's reader (orjson) reads otherwise than json, or not at all, is not
        # kept, though json would restore it: the next step reads the text instead.
        ({"half": "\ud800"}, False),  # a lone surrogate
        ({"big": 2**70 + 1}, False),  # read as the nearest float
        ({"big": 2**70}, True),  # that float is the very number
    ],
)
def test_only_data_that_json_reads_back_equal_is_kept(
    procedures: Procedures, value: dict[str, object], kept: bool
) -> None:
    _instance_id, workflow = a_started_vote(procedures)
    workflow.data.update(value)
    assert workflow_state(workflow).restores_exactly() is kept


@pytest.mark.parametrize(
    "value",
    [
        {"seats": ["AL", "BA"], "ratio": 0.1, "not_yet": None},
        {"name": "Crna Gora \u2013 \u0426\u0440\u043d\u0430 \u0413\u043e\u0440\u0430"},
        {"nothing": float("nan"), "endless": float("inf")},  # orjson would write null
        {"big": 2**70 + 1},  # orjson refuses it
        {"half": "\ud800"},  # orjson refuses it
        {"by_number": {1: "AL"}},  # orjson refuses the key
        {"pair": (1, 2)},
    ],
)
def test_the_saved_text_restores_what_json_would_have_written(
    procedures: Procedures, value: dict[str, object]
) -> None:
    """Whichever writes the state (orjson where it reads back exactly, json otherwise), the
    text restores the data as the text SpiffWorkflow's json writes would."""
    _instance_id, workflow = a_started_vote(procedures)
    workflow.data.update(value)
    saved = json.loads(workflow_state(workflow).text)["data"]
    as_json_writes_it = json.loads(json.dumps(workflow_dict(workflow)))["data"]
    assert repr(saved) == repr(as_json_writes_it)  # (repr: NaN is never equal to itself)


def test_a_workflow_is_taken_only_on_the_specs_it_was_kept_on(
    procedures: Procedures,
) -> None:
    instance_id, workflow = a_started_vote(procedures)
    store = KeptWorkflows(size=2)
    text = workflow_to_json(workflow)
    specs = (workflow.spec, dict(workflow.subprocess_specs))

    store.keep(instance_id, text, workflow, Projections())
    assert store.take(instance_id, text, (object(), specs[1])) is None  # another version
    store.keep(instance_id, text, workflow, Projections())
    assert store.take(instance_id, text + " ", specs) is None  # another state
    store.keep(instance_id, text, workflow, Projections())
    assert store.take(instance_id, text, specs) == (workflow, Projections())
    assert store.take(instance_id, text, specs) is None  # taken once


def test_the_least_recently_kept_go_first_and_size_zero_keeps_none(
    procedures: Procedures,
) -> None:
    _instance_id, workflow = a_started_vote(procedures)
    text, specs = workflow_to_json(workflow), (workflow.spec, workflow.subprocess_specs)

    store = KeptWorkflows(size=2)
    for key in (1, 2, 3):
        store.keep(key, text, workflow, Projections())
    assert len(store) == 2
    assert store.take(1, text, specs) is None
    assert store.take(3, text, specs) is not None

    nothing = KeptWorkflows(size=0)
    nothing.keep(1, text, workflow, Projections())
    assert len(nothing) == 0


def run_the_vote(procedures: Procedures, board: dict[str, Participant]) -> tuple[object, ...]:
    """Every seat answers in turn; the inbox rows, the instance and its data afterwards."""
    instance_id = procedures.start("mi_vote", {"seats": SEATS})
    for seat, answer in (("AL", "no_objection"), ("BA", "objection"), ("XK", "no_objection")):
        procedures.complete(
            procedures.task(instance_id, "answer_task", seat).id, {"answer": answer}, board[seat]
        )
    with procedures.db.session() as session:
        rows = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id))
        inbox = sorted((t.bpmn_id, t.organisation, t.status, t.due_at, t.submitted) for t in rows)
    instance = procedures.instance(instance_id)
    return inbox, instance.status, procedures.data(instance_id)


def test_going_on_from_memory_ends_exactly_where_restoring_every_step_ends(
    procedures: Procedures, board: dict[str, Participant], monkeypatch: pytest.MonkeyPatch
) -> None:
    hits = kept_workflows.hits
    from_memory = run_the_vote(procedures, board)
    assert kept_workflows.hits > hits

    monkeypatch.setattr(kept_workflows, "size", 0)
    kept_workflows.clear()
    hits = kept_workflows.hits
    restored = run_the_vote(procedures, board)
    assert kept_workflows.hits == hits

    assert from_memory == restored
