"""Every diagram of the methodology is complete: each step a person does says what the
methodology asks, has a form, and belongs to a role somebody holds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from lxml import etree

from engine.diagrams.bpmn import NS, role_key, task_properties
from engine.diagrams.bundle import check_bundle, read_directory
from workflows.demo import demo_accounts
from workflows.methodology.diagrams import BPMN_DIR
from workflows.people.roles import ROLES, known_roles

DIAGRAMS = sorted(BPMN_DIR.glob("*.bpmn"))
HELD_ROLES = {grant.role for account in demo_accounts() for grant in account.grants}


def human_tasks(path: Path) -> list[tuple[str, etree._Element, dict[str, str]]]:
    root = etree.parse(str(path)).getroot()
    found = []
    for process in root.iterfind("bpmn:process", NS):
        lanes = {
            (ref.text or "").strip(): lane.get("name") or ""
            for lane in process.iterfind(".//bpmn:lane", NS)
            for ref in lane.iterfind("bpmn:flowNodeRef", NS)
        }
        for tag in ("userTask", "manualTask"):
            for task in process.iterfind(f".//bpmn:{tag}", NS):
                props = task_properties(task)
                lane = lanes.get(task.get("id") or "")
                props.setdefault("role", role_key(lane) if lane else "")
                found.append((str(task.get("id")), task, props))
    return found


def test_the_methodology_passes_every_rule() -> None:
    _, problems = check_bundle(read_directory(BPMN_DIR), known_roles())
    assert [str(p) for p in problems] == []


@pytest.mark.parametrize("diagram", DIAGRAMS, ids=lambda p: p.stem)
def test_every_step_has_documentation_a_form_and_a_role_somebody_holds(diagram: Path) -> None:
    missing: list[str] = []
    for task_id, task, props in human_tasks(diagram):
        documentation = task.findtext("bpmn:documentation", default="", namespaces=NS).strip()
        if not documentation:
            missing.append(f"{task_id}: no documentation")
        form = props.get("formJsonSchemaFilename")
        if not form:
            missing.append(f"{task_id}: no form")
        else:
            Draft202012Validator.check_schema(json.loads((BPMN_DIR / form).read_text()))
        role = props["role"]
        if role not in ROLES:
            missing.append(f"{task_id}: '{role}' is not a role")
        elif role not in HELD_ROLES:
            missing.append(f"{task_id}: nobody holds the role '{role}'")
    assert missing == []


@pytest.mark.parametrize("diagram", DIAGRAMS, ids=lambda p: p.stem)
def test_every_procedure_says_what_it_is(diagram: Path) -> None:
    root = etree.parse(str(diagram)).getroot()
    for process in root.iterfind("bpmn:process", NS):
        assert process.get("name"), f"{process.get('id')} has no name"
        assert process.findtext("bpmn:documentation", default="", namespaces=NS).strip()
