"""The amendment the editor's tests make: membership gets a step in which the Secretariat
checks that the expression of interest is complete, before the application is assessed."""

from __future__ import annotations

import json

from workflows.methodology.diagrams import BPMN_DIR

NEW_TASK = "check_expression_of_interest"
NEW_TASK_NAME = "Check that the expression of interest is complete"
NEW_FORM = "membership_completeness_check.json"
DOCUMENTATION = (
    "Before the application is assessed, check that every statement of the expression of "
    "interest is confirmed, that at least one focal point is named and that the form is signed."
)
# The flow from recording the expression of interest, up to its target.
RECORDED_FLOW = (
    '<bpmn:sequenceFlow id="flow_to_member_group" sourceRef="record_the_expression_of_interest" '
)
CHECKED_FLOW = (
    f'<bpmn:sequenceFlow id="flow_checked" sourceRef="{NEW_TASK}" targetRef="by_member_group" />'
)
COMPLETENESS_FORM = json.dumps(
    {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "The expression of interest is complete",
        "type": "object",
        "required": ["complete"],
        "properties": {
            "complete": {
                "type": "boolean",
                "const": True,
                "title": "Every statement is confirmed, a focal point is named, it is signed",
            },
            "completeness_note": {"type": ["string", "null"], "title": "Note", "maxLength": 2000},
        },
    },
    indent=2,
)


def membership_in_force() -> str:
    return (BPMN_DIR / "membership.bpmn").read_text(encoding="utf-8")


def membership_forms() -> dict[str, str]:
    return {
        path.name: path.read_text(encoding="utf-8")
        for path in sorted(BPMN_DIR.glob("membership_*.json"))
    }


def replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def with_new_step(*, form: bool = True, documentation: bool = True, connected: bool = True) -> str:
    """The membership diagram as the Secretariat edits it in the browser: the new user task
    between recording the expression of interest and the choice by member group (or, not
    connected yet, just drawn in the Secretariat's lane)."""
    xml = membership_in_force()
    details = ""
    if documentation:
        details += f"\n      <bpmn:documentation>{DOCUMENTATION}</bpmn:documentation>"
    if form:
        details += (
            "\n      <bpmn:extensionElements><spiffworkflow:properties>"
            f'<spiffworkflow:property name="formJsonSchemaFilename" value="{NEW_FORM}" />'
            "</spiffworkflow:properties></bpmn:extensionElements>"
        )
    if connected:
        details += (
            "\n      <bpmn:incoming>flow_to_member_group</bpmn:incoming>"
            "\n      <bpmn:outgoing>flow_checked</bpmn:outgoing>"
        )
    task = (
        f'    <bpmn:userTask id="{NEW_TASK}" name="{NEW_TASK_NAME}">{details}\n'
        "    </bpmn:userTask>\n"
    )
    gateway = '    <bpmn:exclusiveGateway id="by_member_group"'
    xml = replace_once(xml, gateway, task + gateway)
    xml = replace_once(
        xml,
        "<bpmn:flowNodeRef>record_the_expression_of_interest</bpmn:flowNodeRef>",
        "<bpmn:flowNodeRef>record_the_expression_of_interest</bpmn:flowNodeRef>\n"
        f"        <bpmn:flowNodeRef>{NEW_TASK}</bpmn:flowNodeRef>",
    )
    shape = '      <bpmndi:BPMNShape id="by_member_group_di"'
    drawn = (
        f'      <bpmndi:BPMNShape id="{NEW_TASK}_di" bpmnElement="{NEW_TASK}">\n'
        '        <dc:Bounds x="975" y="150" width="100" height="80"/>\n'
        "      </bpmndi:BPMNShape>\n"
    )
    if not connected:
        return replace_once(xml, shape, drawn + shape)
    gateway_side = "</bpmn:incoming>\n      <bpmn:outgoing>flow_to_notification"
    xml = replace_once(
        xml,
        "<bpmn:incoming>flow_to_member_group" + gateway_side,
        "<bpmn:incoming>flow_checked" + gateway_side,
    )
    xml = replace_once(
        xml,
        RECORDED_FLOW + 'targetRef="by_member_group" />',
        RECORDED_FLOW + f'targetRef="{NEW_TASK}" />\n    ' + CHECKED_FLOW,
    )
    return replace_once(
        xml,
        shape,
        drawn + '      <bpmndi:BPMNEdge id="flow_checked_di" bpmnElement="flow_checked">\n'
        '        <di:waypoint x="1075" y="190"/>\n'
        '        <di:waypoint x="1125" y="95"/>\n'
        "      </bpmndi:BPMNEdge>\n" + shape,
    )


def amended_forms() -> dict[str, str]:
    return {**membership_forms(), NEW_FORM: COMPLETENESS_FORM}
