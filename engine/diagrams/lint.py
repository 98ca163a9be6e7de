"""The project's rules for a diagram, beyond the BPMN schema.

Every user task belongs to a known role (its lane, or a `role` property), has a form and
says in its documentation what the methodology asks; every call activity resolves; every
sequence flow joins two steps of its process; every script, condition, timer and
multi-instance expression compiles in the sandbox; every form a task names exists and is a
valid JSON Schema whose choices (`choicesFrom`) come from known sources; no event-based
gateway waits on two timers (SpiffWorkflow 3.2 fires those wrongly).
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable, Collection, Iterator, Mapping
from datetime import datetime

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine.diagrams.bpmn import (
    FLOW_NODE_TAGS,
    NS,
    OPTIONAL_PROPERTY,
    SHOWS,
    SHOWS_PROPERTY,
    elements,
    role_key,
    task_properties,
)
from engine.diagrams.choices import choice_fields, choice_sources
from engine.diagrams.forms import CHOICES_KEYWORD
from engine.diagrams.timer_values import bare_iso_value
from engine.errors import Problem, SandboxViolation
from engine.sandbox.restricted import compile_expression, compile_script
from engine.services import operations

HUMAN_TASK_TAGS = ("userTask", "manualTask")
# Task properties whose values are expressions over the task's data.
EXPRESSION_PROPERTIES = ("organisation", "pillar", "assignee", "dueAt", "about")
MakeProblem = Callable[[etree._Element, str], Problem]


def _owner_id(node: etree._Element) -> str | None:
    current: etree._Element | None = node
    while current is not None:
        if current.get("id"):
            return str(current.get("id"))
        current = current.getparent()
    return None


def _line(node: etree._Element) -> int | None:
    line = node.sourceline
    return line if isinstance(line, int) and line > 0 else None


def lint_tree(
    tree: etree._ElementTree,
    filename: str,
    known_roles: Collection[str],
    known_processes: Collection[str],
    files: Mapping[str, str],
) -> list[Problem]:
    """Every rule-breaking element of one diagram, in document order."""
    problems: list[Problem] = []
    problems.extend(_lint_ids(tree, filename))
    problems.extend(_lint_data_stores(tree, filename))
    problems.extend(_lint_event_references(tree, filename))
    for process in tree.getroot().iterfind("bpmn:process", NS):
        problems.extend(_lint_process(process, filename, known_roles, known_processes, files))
    return problems


def _lint_ids(tree: etree._ElementTree, filename: str) -> Iterator[Problem]:
    """A BPMN element whose id another element also uses (SpiffWorkflow would find either).

    A `bpmn:property` is the exception beside an extension's element: it declares a variable
    by its name (what a multi-instance step's collection refers to), SpiffWorkflow never looks
    it up by id, and a service parameter may well pass the same variable under the same name.
    """
    by_id: dict[str, list[etree._Element]] = {}
    for node in tree.getroot().iter():
        if isinstance(node.tag, str) and node.get("id"):
            by_id.setdefault(str(node.get("id")), []).append(node)
    for element_id, nodes in by_id.items():
        bpmn_nodes = [n for n in nodes if n.tag.startswith(f"{{{NS['bpmn']}}}")]
        looked_up = [n for n in bpmn_nodes if etree.QName(n).localname != "property"]
        if len(bpmn_nodes) > 1 or (len(nodes) > 1 and looked_up):
            lines = ", ".join(str(_line(n)) for n in nodes)
            yield Problem(
                filename,
                element_id,
                f"the id '{element_id}' is used more than once (lines {lines}); give "
                "the element an id nothing else in the file uses",
                _line(bpmn_nodes[0]),
            )


def _lint_data_stores(tree: etree._ElementTree, filename: str) -> Iterator[Problem]:
    """A data store: SpiffWorkflow runs only those the system implements, and it has none."""
    for store in tree.getroot().iterfind(".//bpmn:dataStore", NS):
        name = " ".join((store.get("name") or "").split())
        yield Problem(
            filename,
            _owner_id(store),
            f"the data store '{name or store.get('id')}' is not one the system keeps, so no "
            "step could read or write it; keep the data in the procedure's own data (a data "
            "object), or remove the data store",
            _line(store),
        )


# Event definitions and the root element each names by its attribute.
_EVENT_REFERENCES = {
    "messageEventDefinition": ("messageRef", "message"),
    "signalEventDefinition": ("signalRef", "signal"),
    "errorEventDefinition": ("errorRef", "error"),
    "escalationEventDefinition": ("escalationRef", "escalation"),
}


def _lint_event_references(tree: etree._ElementTree, filename: str) -> Iterator[Problem]:
    """An event that names a message, signal, error or escalation the diagram does not define."""
    root = tree.getroot()
    for tag, (attribute, kind) in _EVENT_REFERENCES.items():
        defined = {
            str(node.get("id")): " ".join((node.get("name") or "").split())
            for node in root.iterfind(f"bpmn:{kind}", NS)
        }
        for definition in root.iterfind(f".//bpmn:{tag}", NS):
            ref = definition.get(attribute)
            if not ref or ref in defined:
                continue
            event = definition.getparent()
            node = event if event is not None else definition
            choices = ", ".join(f"'{name or key}'" for key, name in defined.items())
            yield Problem(
                filename,
                _owner_id(node),
                f"the event names the {kind} '{ref}', which this diagram does not define; "
                + (f"choose one of its {kind}s ({choices})" if choices else f"define the {kind}")
                + f" in the event's {kind} setting",
                _line(node),
            )


# Steps that may have more than one outgoing sequence flow (SpiffWorkflow refuses the rest).
_SPLITS = frozenset(
    {"startEvent", "exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway"}
)


def _lint_outgoing(process: etree._Element, make: MakeProblem) -> Iterator[Problem]:
    """A step (not a gateway) with two outgoing flows: SpiffWorkflow takes one out of a step."""
    for container in [process, *elements(process, ".//bpmn:subProcess | .//bpmn:transaction")]:
        outgoing: dict[str, int] = {}
        for flow in container.iterfind("bpmn:sequenceFlow", NS):
            source = flow.get("sourceRef") or ""
            outgoing[source] = outgoing.get(source, 0) + 1
        for node in container:
            if not isinstance(node.tag, str):
                continue
            local = etree.QName(node).localname
            count = outgoing.get(node.get("id") or "", 0)
            if local in FLOW_NODE_TAGS and local not in _SPLITS and count > 1:
                kind = re.sub(r"(?<!^)([A-Z])", lambda m: " " + m[1].lower(), local)
                yield make(
                    node,
                    f"this {kind} has {count} outgoing sequence flows, but a {kind} may have "
                    "only one: lead its flow into a gateway after it (a parallel gateway to go "
                    "on along every path, an exclusive one to choose a path)",
                )


def _lint_process(
    process: etree._Element,
    filename: str,
    known_roles: Collection[str],
    known_processes: Collection[str],
    files: Mapping[str, str],
) -> Iterator[Problem]:
    lanes = {
        (ref.text or "").strip(): lane.get("name") or ""
        for lane in process.iterfind(".//bpmn:lane", NS)
        for ref in lane.iterfind("bpmn:flowNodeRef", NS)
    }

    def problem(node: etree._Element, message: str) -> Problem:
        return Problem(filename, _owner_id(node), message, _line(node))

    for tag in HUMAN_TASK_TAGS:
        for task in process.iterfind(f".//bpmn:{tag}", NS):
            yield from _lint_human_task(task, lanes, known_roles, files, problem)

    for task in process.iterfind(".//bpmn:userTask", NS):
        yield from _lint_user_task_says_what_to_do(task, problem)

    for task in process.iterfind(".//bpmn:task", NS):
        yield problem(
            task,
            "this is a plain task, which says neither who does it nor what runs: nobody would "
            "be offered it. Make it a user task in the lane of the role that does it (with a "
            "form and documentation), or a script task if the system does it",
        )

    for flow in process.iterfind(".//bpmn:sequenceFlow", NS):
        yield from _lint_sequence_flow(flow, problem)
    yield from _lint_outgoing(process, problem)

    for script in elements(
        process,
        ".//bpmn:scriptTask/bpmn:script | .//spiffworkflow:preScript | .//spiffworkflow:postScript",
    ):
        yield from _compiles(script, script.text or "", problem, is_script=True)

    for condition in process.iterfind(".//bpmn:conditionExpression", NS):
        yield from _compiles(condition, condition.text or "", problem)

    for node in elements(process, ".//bpmn:loopCardinality | .//bpmn:completionCondition"):
        yield from _compiles(node, node.text or "", problem)

    for timer in process.iterfind(".//bpmn:timerEventDefinition", NS):
        yield from _lint_timer(timer, problem)

    for start in process.iterfind(".//bpmn:startEvent", NS):
        yield from _lint_started_by(start, known_roles, problem)

    for service in process.iterfind(".//bpmn:serviceTask", NS):
        yield from _lint_service_task(service, problem)

    for call in process.iterfind(".//bpmn:callActivity", NS):
        called = call.get("calledElement")
        if not called:
            yield problem(call, "the call activity does not name the process it calls")
        elif called not in known_processes:
            yield problem(
                call, f"calls the process '{called}', which no deployed or given diagram defines"
            )

    for gateway in process.iterfind(".//bpmn:eventBasedGateway", NS):
        yield from _lint_event_gateway(process, gateway, problem)


def _lint_human_task(
    task: etree._Element,
    lanes: Mapping[str, str],
    known_roles: Collection[str],
    files: Mapping[str, str],
    make: MakeProblem,
) -> Iterator[Problem]:
    task_id = task.get("id") or ""
    props = task_properties(task)
    role = props.get("role") or (role_key(lanes[task_id]) if lanes.get(task_id) else "")
    if not role:
        yield make(
            task,
            "this user task is in no lane and has no 'role' property, so nobody "
            "would be offered it; put it in the lane of the role that does it",
        )
    elif role not in known_roles:
        where = (
            f"the property role '{props['role']}'"
            if props.get("role")
            else (f"the lane '{lanes.get(task_id)}'")
        )
        yield make(
            task, f"{where} is not a known role; known roles are: " + ", ".join(sorted(known_roles))
        )
    for key in EXPRESSION_PROPERTIES:
        if props.get(key):
            yield from _compiles(task, props[key], make, label=f"the property {key}")
    if props.get(OPTIONAL_PROPERTY, "false") not in ("true", "false"):
        yield make(
            task,
            f"the property {OPTIONAL_PROPERTY} is '{props[OPTIONAL_PROPERTY]}'; "
            "it can only be true (a step that may be left undone: no reminders) or false",
        )
    shows = props.get(SHOWS_PROPERTY)
    if shows is not None and shows not in SHOWS:
        step = task.get("name") or task_id
        yield make(
            task,
            f"the step '{step}' shows '{shows}', which no task page knows; the property "
            f"{SHOWS_PROPERTY} is one of: " + ", ".join(SHOWS),
        )
    form = props.get("formJsonSchemaFilename")
    if form:
        yield from _lint_form(task, form, files, make)


def _lint_user_task_says_what_to_do(task: etree._Element, make: MakeProblem) -> Iterator[Problem]:
    """A person doing a step needs its form, and the methodology's words on what to do."""
    if not task_properties(task).get("formJsonSchemaFilename"):
        yield make(
            task,
            "this user task has no form; add a form (a JSON Schema file beside the diagram) "
            "with the fields the person fills in, even if it is only a confirmation",
        )
    documentation = task.findtext("bpmn:documentation", default="", namespaces=NS)
    if not documentation.strip():
        yield make(
            task,
            "this user task has no documentation; say what the person must do, in the "
            "methodology's words",
        )


def _lint_sequence_flow(flow: etree._Element, make: MakeProblem) -> Iterator[Problem]:
    """Both ends of a sequence flow must be steps of the same process (or subprocess)."""
    container = flow.getparent()
    steps = {
        str(node.get("id"))
        for node in (container if container is not None else [])
        if isinstance(node.tag, str) and etree.QName(node).localname in FLOW_NODE_TAGS
    }
    for end, attribute in (("comes from", "sourceRef"), ("goes to", "targetRef")):
        ref = flow.get(attribute) or ""
        if ref not in steps:
            yield make(
                flow,
                f"the sequence flow {end} '{ref}', which is not a step of this process; "
                "connect it to a step or delete it"
                if ref
                else f"the sequence flow has no {attribute}; connect it to a step or delete it",
            )


def _lint_service_task(task: etree._Element, make: MakeProblem) -> Iterator[Problem]:
    operators = elements(task, "./bpmn:extensionElements/spiffworkflow:serviceTaskOperator")
    if not operators:
        yield make(task, "this service task names no operation (spiffworkflow:serviceTaskOperator)")
        return
    name = operators[0].get("id") or ""
    if name not in operations():
        yield make(
            task,
            f"calls the operation '{name}', which does not exist; operations are: "
            + ", ".join(sorted(operations())),
        )
    for parameter in elements(operators[0], ".//spiffworkflow:parameter"):
        label = f"the parameter {parameter.get('id')}"
        yield from _compiles(task, parameter.get("value") or "", make, label=label)


def _lint_form(
    task: etree._Element, form: str, files: Mapping[str, str], make: MakeProblem
) -> Iterator[Problem]:
    if form not in files:
        yield make(task, f"names the form '{form}', but there is no such file beside the diagram")
        return
    try:
        schema = json.loads(files[form])
        Draft202012Validator.check_schema(schema)
    except json.JSONDecodeError as err:
        yield make(task, f"the form '{form}' is not valid JSON (line {err.lineno}: {err.msg})")
    except SchemaError as err:
        yield make(task, f"the form '{form}' is not a valid JSON Schema: {err.message}")
    else:
        for path, field in choice_fields(schema):
            source = field[CHOICES_KEYWORD]
            if source not in choice_sources():
                yield make(
                    task,
                    f"the form '{form}' takes the choices of its field '{path}' from "
                    f"{json.dumps(source)}, which is not a source of choices; the sources are: "
                    + ", ".join(sorted(choice_sources())),
                )


def _compiles(
    node: etree._Element,
    source: str,
    make: MakeProblem,
    *,
    is_script: bool = False,
    label: str | None = None,
) -> Iterator[Problem]:
    if not source.strip():
        if not is_script:
            yield make(node, f"{label or 'the expression'} is empty")
        return
    what = label or ("the script" if is_script else "the expression")
    if not is_script:
        foreign = _foreign_expression(source)
        if foreign is not None:
            language, python = foreign
            yield make(
                node,
                f"{what} '{source.strip()}' is written in {language}; expressions here are "
                f"Python over the task's data: write {python}",
            )
            return
    try:
        if is_script:
            compile_script(source)
        else:
            compile_expression(source)
    except SandboxViolation as err:
        yield make(node, f"{what} is not allowed: {err}")
    except SyntaxError as err:
        yield make(node, f"{what} is not valid Python: {err.msg}")


_JUEL = re.compile(r"\s*[$#]\{(.*)\}\s*", re.DOTALL)
_FEEL = re.compile(r"\s*=(?!=)(.*)", re.DOTALL)
_WORDS = {
    "&&": " and ",
    "||": " or ",
    "true": "True",
    "false": "False",
    "null": "None",
    "eq": "==",
    "ne": "!=",
    "lt": "<",
    "gt": ">",
    "le": "<=",
    "ge": ">=",
}


def _foreign_expression(source: str) -> tuple[str, str] | None:
    """(language, Python form) for a condition written in Camunda's JUEL (`${approved}`) or
    FEEL (`= approved`), else None."""
    juel = _JUEL.fullmatch(source)
    if juel:
        body = re.sub(r"&&|\|\||\b(?:true|false|null|eq|ne|lt|gt|le|ge)\b", _word, juel[1])
        body = re.sub(r"!(?!=)", " not ", body)
        return "Camunda's JUEL (${...})", _tidy(body)
    feel = _FEEL.fullmatch(source)
    if feel:
        body = re.sub(r"\b(?:true|false|null)\b", _word, feel[1])
        body = re.sub(r"(?<![<>!=])=(?!=)", "==", body)
        return "FEEL (= ...)", _tidy(body)
    return None


def _word(found: re.Match[str]) -> str:
    return _WORDS[found[0]]


def _tidy(body: str) -> str:
    return re.sub(r"\s+", " ", body).strip().replace("( ", "(") or "True"


def _lint_timer(timer: etree._Element, make: MakeProblem) -> Iterator[Problem]:
    for kind in ("timeDate", "timeDuration", "timeCycle"):
        for node in timer.iterfind(f"bpmn:{kind}", NS):
            source = (node.text or "").strip()
            compiled = list(_compiles(node, source, make, label="the timer expression"))
            if compiled:
                yield from compiled
                continue
            literal = _string_literal(source)
            if literal is None and _NEARLY_ISO.fullmatch(source) and bare_iso_value(source) is None:
                yield make(
                    node,
                    f"the timer value '{source}' looks like an ISO 8601 "
                    f"{'date' if kind == 'timeDate' else 'duration or cycle'} but is not one; "
                    "write it as one (PT1H, P10D, R6/P1D, 2026-11-30T17:00:00+01:00) or as a "
                    "Python expression",
                )
                continue
            if literal is None:
                continue  # a variable or a computed value: checked when the timer starts
            try:
                if kind == "timeCycle":
                    TimerEventDefinition.parse_iso_recurring_interval(literal)
                elif kind == "timeDuration":
                    TimerEventDefinition.parse_iso_duration(literal)
                else:
                    TimerEventDefinition.get_datetime(literal)
            except Exception:  # SpiffWorkflow raises bare Exception for bad ISO 8601
                yield make(
                    node,
                    f"the timer value '{literal}' is not an ISO 8601 "
                    f"{'date' if kind == 'timeDate' else 'duration or cycle'}",
                )
                continue
            if kind == "timeDate" and datetime.fromisoformat(literal).tzinfo is None:
                yield make(
                    node,
                    f"the timer date '{literal}' has no time zone, so the server's own would be "
                    "used; add the offset, like 2026-11-30T17:00:00+01:00 (or Z for UTC)",
                )


# A bare word a modeler meant as an ISO 8601 value (a duration, a repetition) but mistyped,
# such as PT1X: valid Python (a name), so it would pass as a variable and fail at start.
# The well-formed ones never reach this check: they are read as their value.
_NEARLY_ISO = re.compile(r"(?:P|R\d*/P?)[0-9A-Z./:+-]*\d[0-9A-Z./:+-]*")


def _lint_started_by(
    start: etree._Element, known_roles: Collection[str], make: MakeProblem
) -> Iterator[Problem]:
    """A start event's `startedBy` names roles (besides its lane's) that may start it."""
    named = task_properties(start).get("startedBy", "")
    unknown = [role for role in re.split(r"[\s,]+", named.strip()) if role]
    unknown = [role for role in unknown if role not in known_roles]
    if unknown:
        yield make(
            start,
            f"startedBy names {', '.join(repr(r) for r in unknown)}, which "
            f"{'is not a known role' if len(unknown) == 1 else 'are not known roles'}; "
            "known roles are: " + ", ".join(sorted(known_roles)),
        )


def _string_literal(source: str) -> str | None:
    try:
        node = ast.parse(source, mode="eval").body
    except SyntaxError:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _lint_event_gateway(
    process: etree._Element, gateway: etree._Element, make: MakeProblem
) -> Iterator[Problem]:
    gateway_id = gateway.get("id")
    targets = [
        str(flow.get("targetRef"))
        for flow in process.iterfind("bpmn:sequenceFlow", NS)
        if flow.get("sourceRef") == gateway_id
    ]
    timers = sum(
        len(
            elements(
                process,
                "./bpmn:intermediateCatchEvent[@id=$id]/bpmn:timerEventDefinition",
                id=target,
            )
        )
        for target in targets
    )
    if timers >= 2:
        yield make(
            gateway,
            "an event-based gateway waits on two timers, which SpiffWorkflow "
            "3.2 fires wrongly; use boundary timers on a task instead",
        )
