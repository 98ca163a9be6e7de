"""Versions: the same files deploy once; a change is a new version; instances keep theirs."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping

from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from sqlalchemy import select

from engine.diagrams.bundle import read_directory, require_bundle
from engine.diagrams.deploy import Deployed, deploy_bundle
from engine.instances.assignment import Grant, Participant
from engine.instances.loading import load
from models import ProcessDefinition
from tests.conftest import TEST_BPMN, Clock, Database
from tests.engine.conftest import Procedures
from workflows.people.roles import known_roles


def deploy(db: Database, clock: Clock, files: Mapping[str, str | bytes]) -> list[Deployed]:
    """Deploy files as the active versions."""
    bundle = require_bundle(files, known_roles())
    deployed: list[Deployed] = db.run(
        lambda s: deploy_bundle(s, bundle, actor="tests", now=clock.now())
    )
    return deployed


def versions(db: Database, process_key: str) -> list[tuple[int, str]]:
    """Every stored version of a process and its status."""
    with db.session() as session:
        rows = session.execute(
            select(ProcessDefinition.version, ProcessDefinition.status)
            .where(ProcessDefinition.process_key == process_key)
            .order_by(ProcessDefinition.version)
        )
        return [(version, status) for version, status in rows]


def test_deploying_the_same_files_again_adds_no_version(
    procedures: Procedures, db: Database, clock: Clock
) -> None:
    events = procedures.audit_count()

    again = deploy(db, clock, read_directory(TEST_BPMN))

    assert {(d.process_key, d.version, d.created) for d in again} == {
        (key, 1, False)
        for key in (
            "caller_a",
            "caller_b",
            "lane_task",
            "mi_vote",
            "shared_step",
            "signal_wait",
            "timers",
        )
    }
    assert versions(db, "lane_task") == [(1, "active")]
    assert procedures.audit_count() == events


def test_a_changed_diagram_becomes_version_2_and_a_running_instance_keeps_version_1(
    procedures: Procedures, db: Database, clock: Clock, make_person: Callable[..., Participant]
) -> None:
    secretariat = make_person("sec", Grant("secretariat"))
    board_al = make_person("board-al", Grant("board_member", "AL"))
    on_version_1 = procedures.start("lane_task", {"seat": "AL"})
    files: dict[str, str | bytes] = {**read_directory(TEST_BPMN)}
    # Version 2 drops the Board's acknowledgement: the review ends the procedure.
    version_2 = (TEST_BPMN / "lane_task.bpmn").read_text(encoding="utf-8")
    version_2 = re.sub(
        r"\s*<bpmn:manualTask id=\"acknowledge\".*?</bpmn:manualTask>", "", version_2, flags=re.S
    )
    files["lane_task.bpmn"] = (
        version_2.replace('targetRef="acknowledge"', 'targetRef="end"')
        .replace('<bpmn:sequenceFlow id="f3" sourceRef="acknowledge" targetRef="end" />', "")
        .replace("<bpmn:flowNodeRef>acknowledge</bpmn:flowNodeRef>", "")
        .replace(
            "<bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>",
            "<bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>",
        )
    )

    deployed = {d.process_key: d for d in deploy(db, clock, files)}

    assert (deployed["lane_task"].version, deployed["lane_task"].created) == (2, True)
    assert not deployed["mi_vote"].created
    assert versions(db, "lane_task") == [(1, "retired"), (2, "active")]
    on_version_2 = procedures.start("lane_task", {"seat": "AL"})
    assert procedures.instance(on_version_1).definition.version == 1
    assert procedures.instance(on_version_2).definition.version == 2

    for instance_id in (on_version_1, on_version_2):
        review = procedures.task(instance_id, "review")
        procedures.complete(review.id, {"approved": True, "comment": "Fine."}, secretariat)
    assert procedures.instance(on_version_2).status == "completed"
    assert procedures.instance(on_version_1).status == "running"
    procedures.complete(procedures.task(on_version_1, "acknowledge").id, {}, board_al)
    assert procedures.instance(on_version_1).status == "completed"


def test_instance_state_is_stored_without_its_spec(procedures: Procedures) -> None:
    instance_id = procedures.start("caller_a", {"matter": "first"})

    with procedures.db.session() as session:
        loaded = load(session, instance_id)
        stored, spec_json = loaded.row.state_json, loaded.definition.spec_json
        stock = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
        with_spec = stock.serialize_json(loaded.workflow)

    state = json.loads(stored)
    assert "spec" not in state
    assert "subprocess_specs" not in state
    assert state["subprocesses"]  # the called process is running: its state is kept
    assert '"task_specs"' not in stored  # neither the caller's spec nor the called one's
    # SpiffWorkflow's own serialization is the state plus the spec; the stored one is the
    # state alone, so it is shorter by at least the whole spec stored once per version.
    assert len(stored) + len(spec_json) <= len(with_spec)
