"""The BPMN names the engine reads diagrams by: the namespaces, the kinds of step, the task
properties it knows, and XPath over a diagram's elements. Shared by the rules for a diagram
and by what an inbox row says of a task."""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
# The steps of a process: what sequence flows may join.
FLOW_NODE_TAGS = frozenset(
    {
        "startEvent",
        "endEvent",
        "intermediateCatchEvent",
        "intermediateThrowEvent",
        "boundaryEvent",
        "task",
        "userTask",
        "manualTask",
        "serviceTask",
        "scriptTask",
        "sendTask",
        "receiveTask",
        "businessRuleTask",
        "callActivity",
        "subProcess",
        "transaction",
        "adHocSubProcess",
        "exclusiveGateway",
        "inclusiveGateway",
        "parallelGateway",
        "eventBasedGateway",
        "complexGateway",
    }
)
# A user task with `optional` true may be left undone: it gets no reminders or deadline notice.
OPTIONAL_PROPERTY = "optional"
# What a user task's page shows above its form, the matter the person decides or works on:
# the `shows` property names one of these (docs/secretariat.md).
SHOWS_PROPERTY = "shows"
SHOWS = {
    "proposal": "the proposal put to the Board, with its documents",
    "application": "the applicant's expression of interest",
    "list": "the applications on the Board list",
    "mapped_needs": "the partner's mapped needs in the pillar",
    "drafts": "the earlier drafts: what this role wrote on the procedure's earlier steps",
    "calendar": "the draft calendar the WB partners are asked to agree",
    "structure": "the proposed structure of the report the WB partners are asked to agree",
    "calendar_answers": "the draft calendar and each WB partner's answer to it",
    "structure_answers": "the proposed structure of the report and each WB partner's answer",
}


def role_key(lane_name: str) -> str:
    """The role a lane stands for: 'Board member' -> 'board_member'."""
    return re.sub(r"[^a-z0-9]+", "_", lane_name.lower()).strip("_")


def elements(node: etree._Element, path: str, **variables: str) -> list[etree._Element]:
    """The elements an XPath finds (lxml's xpath can also answer strings and numbers)."""
    xpath: Any = node.xpath  # lxml-stubs cannot type XPath variables
    found = xpath(path, namespaces=NS, **variables)
    return (
        [item for item in found if isinstance(item, etree._Element)]
        if isinstance(found, list)
        else []
    )


def task_properties(node: etree._Element) -> dict[str, str]:
    """The spiffworkflow:property name/value pairs of a task element."""
    found = elements(
        node, "./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property"
    )
    return {str(p.get("name")): p.get("value", "") or "" for p in found if p.get("name")}
