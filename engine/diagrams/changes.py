"""What changed between two versions of a diagram, element by element, in words the Board reads.

Steps and lanes are compared by their BPMN id (a step's type, name, lane, form, properties,
script, timer, call, operation, multi-instance loop, ...), sequence flows by id (source,
target, condition), forms by file name (the fields of the JSON Schema), and each element's
documentation on its own. The layout of the drawing is not compared.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from lxml import etree

from engine.diagrams.bpmn import FLOW_NODE_TAGS, NS, elements, task_properties
from engine.diagrams.xml_safety import read_diagram

_BPMN = f"{{{NS['bpmn']}}}"
_SPIFF = f"{{{NS['spiffworkflow']}}}"
_SHOWN = 200  # longest value quoted in the Board's summary
FORM_PROPERTIES = ("formJsonSchemaFilename", "formUiSchemaFilename")

TYPE_WORDS = {
    "userTask": "user task",
    "manualTask": "manual task",
    "serviceTask": "service task",
    "scriptTask": "script task",
    "sendTask": "send task",
    "receiveTask": "receive task",
    "businessRuleTask": "business rule task",
    "task": "task",
    "callActivity": "call of another procedure",
    "subProcess": "subprocess",
    "transaction": "transaction",
    "adHocSubProcess": "ad hoc subprocess",
    "exclusiveGateway": "choice (exclusive gateway)",
    "inclusiveGateway": "inclusive gateway",
    "parallelGateway": "parallel gateway",
    "eventBasedGateway": "event-based gateway",
    "complexGateway": "complex gateway",
    "startEvent": "start event",
    "endEvent": "end event",
    "intermediateCatchEvent": "waiting event",
    "intermediateThrowEvent": "throw event",
    "boundaryEvent": "boundary event",
    "lane": "lane",
    "process": "procedure",
}

T = TypeVar("T")


@dataclass(frozen=True)
class ElementChange:
    """A step or lane added, removed, or one of its fields changed."""

    id: str
    type: str
    name: str
    field: str | None = None
    before: str | None = None
    after: str | None = None


@dataclass(frozen=True)
class FlowChange:
    """A sequence flow added, removed, or one of source, target, condition, name changed."""

    id: str
    source: str
    target: str
    condition: str | None
    field: str | None = None
    before: str | None = None
    after: str | None = None


@dataclass(frozen=True)
class FormChange:
    """A form added, removed or changed, with its fields (schema properties) that did."""

    file: str
    title: str
    added_fields: list[str] = field(default_factory=list)
    removed_fields: list[str] = field(default_factory=list)
    changed_fields: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DocumentationChange:
    """An element whose documentation (the methodology's words) changed."""

    id: str
    name: str
    before: str
    after: str


@dataclass
class Changes(Generic[T]):
    """Added, removed and changed items of one kind."""

    added: list[T] = field(default_factory=list)
    removed: list[T] = field(default_factory=list)
    changed: list[T] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)


@dataclass(frozen=True)
class HighlightedIds:
    """BPMN ids to highlight in each diagram."""

    added: set[str]
    removed: set[str]
    changed: set[str]


@dataclass
class ChangeList:
    """Everything that differs between two versions of a diagram."""

    elements: Changes[ElementChange] = field(default_factory=Changes)
    flows: Changes[FlowChange] = field(default_factory=Changes)
    forms: Changes[FormChange] = field(default_factory=Changes)
    documentation: list[DocumentationChange] = field(default_factory=list)
    # Names of steps by id, in both versions, and what each added step is, for the summary.
    names: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    added_details: dict[str, dict[str, str | None]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def __bool__(self) -> bool:
        return bool(self.elements or self.flows or self.forms or self.documentation)

    @property
    def element_ids(self) -> HighlightedIds:
        """Ids of added, removed and changed elements and flows (documentation counts as a
        change), to highlight in the diagrams shown side by side."""
        changed = {c.id for c in self.elements.changed} | {c.id for c in self.flows.changed}
        return HighlightedIds(
            added={c.id for c in self.elements.added} | {c.id for c in self.flows.added},
            removed={c.id for c in self.elements.removed} | {c.id for c in self.flows.removed},
            changed=changed | {c.id for c in self.documentation},
        )

    def summary(self) -> list[str]:
        """The changes as plain sentences for the Board, one per line."""
        return list(_summary_lines(self))


def diagram_changes(
    old_xml: str, old_forms: Mapping[str, str], new_xml: str, new_forms: Mapping[str, str]
) -> ChangeList:
    """The change list from one version (its diagram and own forms) to another."""
    old, new = _elements(old_xml), _elements(new_xml)
    old_flows, new_flows = _flows(old_xml), _flows(new_xml)
    changes = ChangeList()
    changes.names = {key: str(value.get("name") or key) for key, value in {**old, **new}.items()}
    for key, after in new.items():
        before = old.get(key)
        if before is None:
            if after["type"] != "process":
                changes.elements.added.append(_element_change(key, after))
                changes.added_details[key] = dict(after)
            continue
        for name in sorted(set(before) | set(after), key=_field_order):
            if name in ("documentation", "id") or before.get(name) == after.get(name):
                continue
            changes.elements.changed.append(
                _element_change(key, after, name, before.get(name), after.get(name))
            )
        if before.get("documentation") != after.get("documentation"):
            changes.documentation.append(
                DocumentationChange(
                    key,
                    str(after.get("name") or key),
                    str(before.get("documentation") or ""),
                    str(after.get("documentation") or ""),
                )
            )
    changes.elements.removed = [
        _element_change(key, value)
        for key, value in old.items()
        if key not in new and value["type"] != "process"
    ]
    _compare_flows(changes, old_flows, new_flows)
    _compare_forms(changes, old_forms, new_forms)
    return changes


def _field_order(name: str) -> tuple[int, str]:
    order = ("type", "name", "lane", "form")
    return (order.index(name), name) if name in order else (len(order), name)


def _element_change(
    key: str,
    values: Mapping[str, str | None],
    name: str | None = None,
    before: str | None = None,
    after: str | None = None,
) -> ElementChange:
    kind = str(values.get("type") or "")
    return ElementChange(
        key, TYPE_WORDS.get(kind, kind), str(values.get("name") or key), name, before, after
    )


def _read(xml: str) -> etree._Element | None:
    tree, _ = read_diagram(xml, "diagram.bpmn")
    return None if tree is None else tree.getroot()


def _local(node: etree._Element) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def _text(node: etree._Element | None) -> str | None:
    if node is None:
        return None
    return (node.text or "").strip() or None


def _elements(xml: str) -> dict[str, dict[str, str | None]]:
    """Each step, lane and process by id, as the fields the change list compares."""
    root = _read(xml)
    found: dict[str, dict[str, str | None]] = {}
    if root is None:
        return found
    for process in root.iterfind("bpmn:process", NS):
        lanes = {
            (ref.text or "").strip(): lane.get("name") or ""
            for lane in process.iter(f"{_BPMN}lane")
            for ref in lane.iterfind("bpmn:flowNodeRef", NS)
        }
        found[str(process.get("id"))] = {
            "type": "process",
            "name": process.get("name"),
            "documentation": _text(process.find("bpmn:documentation", NS)),
        }
        for lane in process.iter(f"{_BPMN}lane"):
            found[str(lane.get("id"))] = {"type": "lane", "name": lane.get("name")}
        for node in process.iter():
            if _local(node) in FLOW_NODE_TAGS and node.get("id"):
                found[str(node.get("id"))] = _step_fields(node, lanes)
    return found


def _step_fields(node: etree._Element, lanes: Mapping[str, str]) -> dict[str, str | None]:
    key = str(node.get("id"))
    props = task_properties(node)
    container = node.getparent()
    fields: dict[str, str | None] = {
        "type": _local(node),
        "name": node.get("name"),
        "documentation": _text(node.find("bpmn:documentation", NS)),
        "lane": lanes.get(key),
        "form": props.pop("formJsonSchemaFilename", None),
        "inside": container.get("id")
        if container is not None and _local(container) != "process"
        else None,
        "script": _text(node.find("bpmn:script", NS)),
        "called process": node.get("calledElement"),
        "default flow": node.get("default"),
        "attached to": node.get("attachedToRef"),
        "interrupting": _interrupting(node),
    }
    for name, value in props.items():
        fields[f"property {name}"] = value
    extensions = node.find("bpmn:extensionElements", NS)
    if extensions is not None:
        for tag, label in (
            ("preScript", "script before"),
            ("postScript", "script after"),
            ("instructionsForEndUser", "instructions"),
        ):
            fields[label] = _text(extensions.find(f"spiffworkflow:{tag}", NS))
        operator = extensions.find("spiffworkflow:serviceTaskOperator", NS)
        if operator is not None:
            fields["operation"] = operator.get("id")
            fields["result variable"] = operator.get("resultVariable")
            fields["parameters"] = "; ".join(
                f"{p.get('id')} = {p.get('value')}"
                for p in elements(operator, ".//spiffworkflow:parameter")
            )
    loop = node.find("bpmn:multiInstanceLoopCharacteristics", NS)
    if loop is not None:
        parts = [
            f"{_local(child)}: {_text(child) or child.get('name') or ''}"
            for child in loop
            if isinstance(child.tag, str)
        ]
        sequential = " (one after the other)" if loop.get("isSequential") == "true" else ""
        fields["multi-instance"] = ("for each" + sequential + ": " + ", ".join(parts)).strip()
    for definition in node:
        kind = _local(definition)
        if not kind.endswith("EventDefinition"):
            continue
        detail = [
            f"{_local(child)} {_text(child)}" for child in definition if isinstance(child.tag, str)
        ]
        for ref in ("signalRef", "messageRef", "errorRef", "escalationRef"):
            if definition.get(ref):
                detail.append(f"{ref[:-3]} {definition.get(ref)}")
        fields["event"] = " ".join([kind.removesuffix("EventDefinition"), *detail])
    return {name: value for name, value in fields.items() if value is not None}


def _interrupting(node: etree._Element) -> str | None:
    """A boundary event interrupts unless cancelActivity says false (the modeler leaves the
    default out)."""
    if _local(node) != "boundaryEvent":
        return None
    return "no" if node.get("cancelActivity") == "false" else "yes"


def _flows(xml: str) -> dict[str, dict[str, str | None]]:
    root = _read(xml)
    if root is None:
        return {}
    return {
        str(flow.get("id")): {
            "source": flow.get("sourceRef"),
            "target": flow.get("targetRef"),
            "condition": _text(flow.find("bpmn:conditionExpression", NS)),
            "name": flow.get("name"),
        }
        for flow in root.iter(f"{_BPMN}sequenceFlow")
    }


def _flow_change(key: str, values: Mapping[str, str | None], **changed: str | None) -> FlowChange:
    return FlowChange(
        key,
        str(values.get("source") or ""),
        str(values.get("target") or ""),
        values.get("condition"),
        **changed,
    )


def _compare_flows(
    changes: ChangeList,
    old: Mapping[str, Mapping[str, str | None]],
    new: Mapping[str, Mapping[str, str | None]],
) -> None:
    for key, after in new.items():
        before = old.get(key)
        if before is None:
            changes.flows.added.append(_flow_change(key, after))
            continue
        for name in ("source", "target", "condition", "name"):
            if before.get(name) != after.get(name):
                changes.flows.changed.append(
                    _flow_change(
                        key, after, field=name, before=before.get(name), after=after.get(name)
                    )
                )
    changes.flows.removed = [
        _flow_change(key, values) for key, values in old.items() if key not in new
    ]


def _schema(text: str | None) -> dict[str, Any]:
    try:
        found = json.loads(text or "{}")
    except json.JSONDecodeError:
        return {}
    return found if isinstance(found, dict) else {}


def _fields(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Each field of a form with what defines it, its being required included."""
    properties = schema.get("properties")
    required = set(schema.get("required") or [])
    if not isinstance(properties, dict):
        return {}
    return {name: (value, name in required) for name, value in properties.items()}


def _compare_forms(changes: ChangeList, old: Mapping[str, str], new: Mapping[str, str]) -> None:
    for name in sorted(set(old) | set(new)):
        before, after = _schema(old.get(name)), _schema(new.get(name))
        title = str(after.get("title") or before.get("title") or name)
        if name not in old:
            changes.forms.added.append(FormChange(name, title, list(_fields(after))))
        elif name not in new:
            changes.forms.removed.append(FormChange(name, title, [], list(_fields(before))))
        elif before != after:
            old_fields, new_fields = _fields(before), _fields(after)
            changes.forms.changed.append(
                FormChange(
                    name,
                    title,
                    [f for f in new_fields if f not in old_fields],
                    [f for f in old_fields if f not in new_fields],
                    [f for f in new_fields if f in old_fields and old_fields[f] != new_fields[f]],
                )
            )


def _quote(value: str | None) -> str:
    if value is None or value == "":
        return "nothing"
    text = " ".join(value.split())
    return f'"{text[:_SHOWN]}…"' if len(text) > _SHOWN else f'"{text}"'


def _summary_lines(changes: ChangeList) -> Iterator[str]:
    def step(key: str) -> str:
        return _quote(changes.names.get(key, key))

    for added in changes.elements.added:
        details = changes.added_details.get(added.id, {})
        parts = [f"New {added.type}: {_quote(added.name)}"]
        if details.get("lane"):
            parts.append(f"done by the {details['lane']}")
        if details.get("form"):
            parts.append(f"with the form {_quote(details['form'])}")
        line = ", ".join(parts) + "."
        if details.get("documentation"):
            line += f" It says: {_quote(details['documentation'])}"
        yield line
    for removed in changes.elements.removed:
        yield f"Removed {removed.type}: {_quote(removed.name)}."
    for changed in changes.elements.changed:
        yield (
            f"{_quote(changed.name)} ({changed.type}): its {changed.field} changes from "
            f"{_quote(changed.before)} to {_quote(changed.after)}."
        )
    for doc in changes.documentation:
        yield f"The documentation of {_quote(doc.name)} now reads: {_quote(doc.after)}."
    for flow in changes.flows.added:
        when = f", when {_quote(flow.condition)}" if flow.condition else ""
        yield f"New flow from {step(flow.source)} to {step(flow.target)}{when}."
    for flow in changes.flows.removed:
        yield f"Removed the flow from {step(flow.source)} to {step(flow.target)}."
    for flow in changes.flows.changed:
        if flow.field == "target":
            yield (
                f"The flow from {step(flow.source)} now leads to {step(flow.target)} "
                f"instead of {step(flow.before or '')}."
            )
        elif flow.field == "source":
            yield (
                f"The flow to {step(flow.target)} now comes from {step(flow.source)} "
                f"instead of {step(flow.before or '')}."
            )
        else:
            yield (
                f"The flow from {step(flow.source)} to {step(flow.target)}: its {flow.field} "
                f"changes from {_quote(flow.before)} to {_quote(flow.after)}."
            )
    for form in changes.forms.added:
        fields = ", ".join(form.added_fields) or "no fields"
        yield f"New form {_quote(form.file)} ({form.title}) with the fields: {fields}."
    for form in changes.forms.removed:
        yield f"Removed the form {_quote(form.file)} ({form.title})."
    for form in changes.forms.changed:
        parts = [
            f"{label}: {', '.join(names)}"
            for label, names in (
                ("new fields", form.added_fields),
                ("removed fields", form.removed_fields),
                ("changed fields", form.changed_fields),
            )
            if names
        ]
        yield (
            f"The form {_quote(form.file)} ({form.title}) changes: "
            + ("; ".join(parts) or "its title or rules")
            + "."
        )


def form_names(xml: str) -> list[str]:
    """The form files a diagram's own steps name (JSON Schema and UI schema), in order."""
    root = _read(xml)
    if root is None:
        return []
    names: dict[str, None] = {}
    for node in root.iter():
        if not isinstance(node.tag, str) or node.find("bpmn:extensionElements", NS) is None:
            continue
        for key, value in task_properties(node).items():
            if key in FORM_PROPERTIES and value:
                names[value] = None
    return list(names)
