"""Reachability, read from the diagram alone: every step can be reached, and can finish.

Within each process and each subprocess, every flow node must be reachable from a start
event along sequence flows (a boundary event from the step it is attached to; a link catch
event from the link throw event of the same name), and from every flow node an end event
must be reachable. Event subprocesses and compensation handlers start on their own.
Nothing is executed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator

from lxml import etree

from engine.diagrams.bpmn import FLOW_NODE_TAGS, NS
from engine.errors import Problem

_BPMN = f"{{{NS['bpmn']}}}"
# Containers whose steps are joined by sequence flows (an ad hoc subprocess's are not).
_SCOPES = ("process", "subProcess", "transaction")


def reachability_problems(tree: etree._ElementTree, filename: str) -> list[Problem]:
    """Every step no start event leads to, and every step from which no end event is reached."""
    problems: list[Problem] = []
    for scope in tree.getroot().iter(*(f"{_BPMN}{tag}" for tag in _SCOPES)):
        problems.extend(_scope_problems(scope, filename))
    return problems


def _local(node: etree._Element) -> str:
    tag = node.tag
    return tag[len(_BPMN) :] if isinstance(tag, str) and tag.startswith(_BPMN) else ""


def _starts_on_its_own(node: etree._Element) -> bool:
    """An event subprocess or a compensation handler: started by an event, not by a flow."""
    return node.get("triggeredByEvent") == "true" or node.get("isForCompensation") == "true"


def _scope_problems(scope: etree._Element, filename: str) -> Iterator[Problem]:
    nodes = {
        str(node.get("id")): node
        for node in scope
        if _local(node) in FLOW_NODE_TAGS and node.get("id")
    }
    forward: dict[str, set[str]] = {node_id: set() for node_id in nodes}
    for flow in scope.iterfind("bpmn:sequenceFlow", NS):
        source, target = flow.get("sourceRef") or "", flow.get("targetRef") or ""
        if source in nodes and target in nodes:  # a dangling flow is the linter's to report
            forward[source].add(target)
    for throw, catch in _link_pairs(nodes.values()):
        forward[throw].add(catch)
    backward: dict[str, set[str]] = {node_id: set() for node_id in nodes}
    for source, targets in forward.items():
        for target in targets:
            backward[target].add(source)
    # A boundary event starts from its host. The host finishes by its own flows, or by an
    # interrupting boundary event (a subprocess that always ends by its error or deadline).
    from_start = {node_id: set(targets) for node_id, targets in forward.items()}
    for node_id, node in nodes.items():
        host = node.get("attachedToRef") or ""
        if _local(node) != "boundaryEvent" or host not in nodes:
            continue
        from_start[host].add(node_id)
        if node.get("cancelActivity", "true") != "false":
            backward[node_id].add(host)

    starts = [
        node_id
        for node_id, node in nodes.items()
        if _local(node) == "startEvent" or _starts_on_its_own(node)
    ]
    ends = [node_id for node_id, node in nodes.items() if _local(node) == "endEvent"]
    reached = _walk(starts, from_start)
    finishing = _walk(ends, backward)
    if nodes and not any(_local(nodes[s]) == "startEvent" for s in starts):
        kind = "process" if _local(scope) == "process" else "subprocess"
        line = scope.sourceline if isinstance(scope.sourceline, int) else None
        yield Problem(
            str(filename),
            scope.get("id"),
            f"this {kind} has no start event, so it could never begin; add a start event "
            "and connect it to the first step",
            line,
            kind="reachability",
        )
        reached = set(nodes)  # said once for the whole process, not once per step

    for node_id, node in nodes.items():
        line = node.sourceline if isinstance(node.sourceline, int) else None
        if node_id not in reached:
            yield Problem(
                str(filename),
                node_id,
                "no path leads to this step from a start event, so it can never happen; "
                "connect it with a sequence flow, or delete it",
                line,
                kind="reachability",
            )
        elif node_id not in finishing and not _needs_no_end(node):
            yield Problem(
                str(filename),
                node_id,
                "no path leads from this step to an end event, so a procedure that gets "
                "here could never finish; connect it onwards to an end event",
                line,
                kind="reachability",
            )


def _needs_no_end(node: etree._Element) -> bool:
    """Steps that finish without an outgoing flow: event subprocesses, compensation."""
    if _starts_on_its_own(node):
        return True
    return (
        _local(node) == "boundaryEvent"
        and node.find("bpmn:compensateEventDefinition", NS) is not None
    )


def _link_pairs(nodes: Iterable[etree._Element]) -> Iterator[tuple[str, str]]:
    throws: dict[str, list[str]] = {}
    catches: dict[str, list[str]] = {}
    for node in nodes:
        link = node.find("bpmn:linkEventDefinition", NS)
        if link is None:
            continue
        name = link.get("name") or ""
        kind = _local(node)
        if kind == "intermediateThrowEvent":
            throws.setdefault(name, []).append(str(node.get("id")))
        elif kind == "intermediateCatchEvent":
            catches.setdefault(name, []).append(str(node.get("id")))
    for name, sources in throws.items():
        for source in sources:
            for target in catches.get(name, []):
                yield source, target


def _walk(origins: Iterable[str], edges: dict[str, set[str]]) -> set[str]:
    seen = set(origins)
    queue = deque(seen)
    while queue:
        for following in edges.get(queue.popleft(), ()):
            if following not in seen:
                seen.add(following)
                queue.append(following)
    return seen
