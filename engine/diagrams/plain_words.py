"""What SpiffWorkflow and the BPMN schema say of a diagram, in a person's words.

SpiffWorkflow's parser and lxml's schema validator speak of `{namespace}tag` names, of
Python objects (`<Element ... at 0x7f...>`, `TypeError(...)`) and sometimes drop a word.
Here each of their messages becomes a reason that names the step it is about, and every
problem gets the line, id and name of its element from the diagram itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException

from engine.diagrams.bpmn import NS
from engine.errors import Problem

_PREFIXES = {
    NS["bpmn"]: "bpmn",
    NS["spiffworkflow"]: "spiffworkflow",
    "http://www.omg.org/spec/BPMN/20100524/DI": "bpmndi",
    "http://www.omg.org/spec/DD/20100524/DC": "dc",
    "http://www.omg.org/spec/DD/20100524/DI": "di",
    "http://www.w3.org/2001/XMLSchema-instance": "xsi",
    "http://camunda.org/schema/1.0/bpmn": "camunda",
}
_CLARK = re.compile(r"\{([^{}\s]*)\}([A-Za-z_][\w.-]*)")
_ELEMENT_REPR = re.compile(r"<Element (\S+) at 0x[0-9a-fA-F]+>")
_PYTHON_REPR = re.compile(r"^\s*[A-Z]\w*(?:Error|Exception)\(")


def _prefixed(found: re.Match[str]) -> str:
    prefix = _PREFIXES.get(found[1])
    return f"{prefix}:{found[2]}" if prefix else found[2]


def plain(text: str) -> str:
    """A message without `{namespace}` names, object reprs or line breaks."""
    text = _ELEMENT_REPR.sub(lambda m: f"a {_CLARK.sub(_prefixed, m[1])} element", text)
    text = _CLARK.sub(_prefixed, text)
    return " ".join(text.split())


def one_line(name: str | None) -> str:
    """An element's name as one line (modelers keep the line breaks typed into a shape)."""
    return " ".join((name or "").split())


def _by_id(tree: etree._ElementTree, element_id: str) -> etree._Element | None:
    for node in tree.getroot().iter():
        if isinstance(node.tag, str) and node.get("id") == element_id:
            return node
    return None


def _line(node: etree._Element) -> int | None:
    line = node.sourceline
    return line if isinstance(line, int) and line > 0 else None


def _owner(node: etree._Element | None) -> etree._Element | None:
    while node is not None and not node.get("id"):
        node = node.getparent()
    return node


def _at_line(tree: etree._ElementTree, line: int) -> etree._Element | None:
    """The element that begins at `line` (the one a schema error points to)."""
    for node in tree.getroot().iter():
        if isinstance(node.tag, str) and _line(node) == line:
            return node
    return None


def locate(problems: Iterable[Problem], trees: Mapping[str, etree._ElementTree]) -> list[Problem]:
    """Each problem with the line, id and name of its element, as the diagram has them."""
    located: list[Problem] = []
    for problem in problems:
        tree = trees.get(problem.file)
        node: etree._Element | None = None
        if tree is not None and problem.element_id:
            node = _by_id(tree, problem.element_id)
        elif tree is not None and problem.line:
            node = _owner(_at_line(tree, problem.line))
        if node is None:
            located.append(problem)
            continue
        located.append(
            Problem(
                problem.file,
                problem.element_id or node.get("id"),
                problem.message,
                problem.line or _line(node),
                kind=problem.kind,
                element_name=problem.element_name or one_line(node.get("name")) or None,
            )
        )
    return located


def _kind(node: etree._Element) -> str:
    """'user task' for a bpmn:userTask."""
    local = etree.QName(node).localname
    return re.sub(r"(?<!^)([A-Z])", lambda m: " " + m[1].lower(), local)


def spiff_reason(err: ValidationException, tree: etree._ElementTree | None) -> str | None:
    """SpiffWorkflow's refusal in plain words; None when another check says it already
    (data stores, no start event: the rules and the reachability check name them)."""
    message = str(err)
    element_id = str(getattr(err, "id", "") or "")
    node = _by_id(tree, element_id) if tree is not None and element_id else None
    if message.startswith("Data Store with name") or message.startswith("No start event"):
        return None
    if message.startswith("Multiple outgoing flows") and node is not None:
        kind = _kind(node)
        parent = node.getparent()
        flows = [] if parent is None else parent.iterfind("bpmn:sequenceFlow", NS)
        count = sum(1 for flow in flows if flow.get("sourceRef") == element_id)
        return (
            f"this {kind} has {count} outgoing sequence flows, but a {kind} may have only one: "
            "lead its flow into a gateway after it (a parallel gateway to go on along every "
            "path, an exclusive one to choose a path)"
        )
    association = re.match(r"Cannot resolve data(Input|Output)Association", message)
    if association and node is not None:
        reading = association[1] == "Input"
        refs = node.findall(
            "bpmn:dataInputAssociation/bpmn:sourceRef"
            if reading
            else "bpmn:dataOutputAssociation/bpmn:targetRef",
            NS,
        )
        names = []
        for ref in refs:
            target = _by_id(tree, (ref.text or "").strip()) if tree is not None else None
            label = one_line(target.get("name")) if target is not None else ""
            names.append(f"'{label or (ref.text or '').strip()}'")
        return (
            f"this step {'reads from' if reading else 'writes to'} {' and '.join(names)}, which "
            "is neither a data object of its process nor a data store the system keeps; keep "
            "the data in the procedure's own data (a data object), or remove the association"
        )
    if _PYTHON_REPR.match(message):
        return (
            "SpiffWorkflow cannot read this step as drawn (a setting it does not expect, or a "
            "reference to something the diagram does not define); compare it with a step of "
            "the same kind that works, simplify it, or ask the developers"
        )
    return plain(message)
