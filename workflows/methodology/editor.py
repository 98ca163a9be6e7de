"""The Secretariat's diagram editor: open a version, check a draft, save it, propose it.

A diagram and its forms from the browser are untrusted: the XML goes through the same intake
as any diagram (size cap, no DOCTYPE or entities, the BPMN schema, the project's rules, the
sandbox's compile check, SpiffWorkflow's parser), with call activities resolved against the
versions in force; then every step must be reachable and able to finish, and a dry run
takes it from start to end with made-up answers. What the browser's modeler drops is put
back from the stored versions first (engine/diagrams/modeler_round_trip.py). A draft is stored only
when nothing is an error; proposing it starts `methodology_amendment`, and only the Board's
adoption puts it in force.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from engine.diagrams.bpmn import NS
from engine.diagrams.bundle import DiagramBundle, check_bundle
from engine.diagrams.changes import ChangeList, diagram_changes, form_names
from engine.diagrams.deploy import deploy_bundle, find_version
from engine.diagrams.modeler_round_trip import restore_spiff_details
from engine.diagrams.xml_safety import diagram_text, read_diagram
from engine.errors import EngineError, Problem, UnknownProcess
from engine.instances.assignment import Participant
from engine.instances.dry_run import dry_run
from engine.instances.migration import (
    MigrationCheck,
    MigrationRefused,
    migrate_instance,
    migration_check,
)
from engine.instances.steps import complete_task, start_instance
from models import HumanTask, ProcessDefinition, ProcessInstance
from workflows.methodology.versions import VersionEntry, version_history
from workflows.people.accounts import name_with_roles
from workflows.people.roles import known_roles

__all__ = [
    "ChangeList",
    "DraftCheck",
    "DraftRejected",
    "EditorProblem",
    "MigrationCheck",
    "MigrationRefused",
    "VersionEntry",
    "changes_between",
    "check_draft",
    "editable_bundle",
    "import_draft",
    "migrate_instance",
    "migration_check",
    "problem_text",
    "propose_draft",
    "save_draft",
    "version_history",
]

AMENDMENT_PROCESS = "methodology_amendment"
DRAFTING_TASK = "draft_amended_diagram"
MAX_FORM_BYTES = 256 * 1024
MAX_FORMS = 100
MAX_CHANGES_TEXT = 20000  # the drafting form's limit for the change list
_FORM_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,120}\.json$")
_RESTORE_FROM = 5  # stored versions searched for what the modeler dropped, newest first


@dataclass(frozen=True)
class EditorProblem:
    """One thing to show in the editor: what, where (element, file, line), how bad, found by."""

    message: str
    element_id: str | None
    file: str | None
    line: int | None
    severity: str  # "error" (blocks saving) or "warning"
    kind: str  # "xml", "xsd", "lint", "form", "reachability", "dry_run"
    element_name: str | None = None


@dataclass(frozen=True)
class DraftCheck:
    """Everything the checks found, and the steps the dry run went through."""

    problems: list[EditorProblem]
    dry_run: list[str]
    ok: bool


class DraftRejected(ValueError):
    """The draft was not stored: `problems` says why."""

    def __init__(self, problems: list[EditorProblem]) -> None:
        self.problems = problems
        errors = [p for p in problems if p.severity == "error"]
        listed = "; ".join(_where(p) + p.message for p in errors[:5])
        more = f"; and {len(errors) - 5} more" if len(errors) > 5 else ""
        super().__init__(f"the draft was not saved, nothing was stored: {listed}{more}")


def _where(problem: EditorProblem) -> str:
    parts = [problem.file or "", f"line {problem.line}" if problem.line else ""]
    if problem.element_id:
        name = f" '{problem.element_name}'" if problem.element_name else ""
        parts.append(f"[{problem.element_id}{name}]")
    where = " ".join(part for part in parts if part)
    return f"{where}: " if where else ""


def problem_text(problem: EditorProblem) -> str:
    """A problem in the words `iisg validate` prints: file:line [id 'name']: reason."""
    return str(
        Problem(
            problem.file or "",
            problem.element_id,
            problem.message,
            problem.line,
            element_name=problem.element_name,
        )
    )


@dataclass
class _Checked:
    problems: list[EditorProblem] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    bundle: DiagramBundle | None = None
    xml: str = ""

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)


def _versions(session: Session, process_key: str) -> list[ProcessDefinition]:
    return list(
        session.scalars(
            select(ProcessDefinition)
            .where(ProcessDefinition.process_key == process_key)
            .order_by(ProcessDefinition.version.desc())
        )
    )


def own_forms(definition: ProcessDefinition) -> dict[str, str]:
    """The form files a version's own steps name, by file name."""
    files = definition.files or {}
    return {name: files[name] for name in form_names(definition.bpmn_xml) if name in files}


def editable_bundle(
    session: Session, process_key: str, version: int | None = None
) -> tuple[ProcessDefinition, str, dict[str, str]]:
    """A version to open in the editor (by default the newest draft, else the one in force),
    its diagram and its forms."""
    if version is not None:
        definition = find_version(session, process_key, version)
    else:
        versions = _versions(session, process_key)
        if not versions:
            raise UnknownProcess(f"there is no procedure '{process_key}'")
        definition = next(
            (v for v in versions if v.status == "draft"),
            next((v for v in versions if v.status == "active"), versions[0]),
        )
    return definition, definition.bpmn_xml, own_forms(definition)


def check_draft(
    session: Session, process_key: str, xml: str, forms: Mapping[str, str], *, now: datetime
) -> DraftCheck:
    """Every check of a draft, nothing stored: problems to show, the dry run's steps."""
    checked = _check(session, process_key, xml, forms, now)
    return DraftCheck(checked.problems, checked.steps, checked.ok)


def save_draft(
    session: Session,
    process_key: str,
    xml: str,
    forms: Mapping[str, str],
    *,
    actor: str,
    now: datetime,
) -> ProcessDefinition:
    """Store a draft version; DraftRejected (nothing stored) on any error. A diagram and forms
    the same as a stored version's give that version back."""
    checked = _check(session, process_key, xml, forms, now)
    if not checked.ok or checked.bundle is None:
        raise DraftRejected(checked.problems)
    used = {name: forms[name] for name in form_names(checked.xml) if name in forms}
    for existing in _versions(session, process_key):
        if _same_content(existing, checked.xml, used):
            return existing
    deployed = deploy_bundle(session, checked.bundle, actor=actor, now=now, status="draft")
    version = next(d.version for d in deployed if d.process_key == process_key)
    return find_version(session, process_key, version)


def import_draft(
    session: Session,
    process_key: str,
    filename: str,
    content: bytes,
    *,
    actor: str,
    now: datetime,
) -> ProcessDefinition:
    """A diagram file saved by another modeler (Camunda Modeler, bpmn.io; any encoding its XML
    prolog declares, any extension) as a new draft of an existing procedure, with the forms
    of the version the editor opens. It gets the checks `iisg validate` runs (check_bundle),
    then the editor's own (the procedure's id, the dry run); DraftRejected, nothing stored,
    on any error."""
    _current, _xml, forms = editable_bundle(session, process_key)
    tree, refused = read_diagram(content, filename)
    if tree is None:
        raise DraftRejected([_editor_problem(p) for p in refused])
    xml = diagram_text(content, tree)
    checked = _check(session, process_key, xml, forms, now, filename)
    if not checked.ok:
        raise DraftRejected(checked.problems)
    # Stored under the procedure's own file name, so that deploying bpmn/ later is a new
    # version of the same diagram, not another file's.
    return save_draft(session, process_key, xml, forms, actor=actor, now=now)


def changes_between(old: ProcessDefinition, new: ProcessDefinition) -> ChangeList:
    """What changes from one version to another: steps, flows, forms and documentation."""
    return diagram_changes(old.bpmn_xml, own_forms(old), new.bpmn_xml, own_forms(new))


def _active(session: Session, process_key: str) -> ProcessDefinition | None:
    return session.scalars(
        select(ProcessDefinition).where(
            ProcessDefinition.process_key == process_key, ProcessDefinition.status == "active"
        )
    ).first()


def change_text(session: Session, definition: ProcessDefinition) -> str:
    """The change list from the version in force to `definition`, as the Board reads it."""
    active = _active(session, definition.process_key)
    if active is None:
        return f"A new procedure: {definition.name}."
    lines = changes_between(active, definition).summary()
    text = "\n".join(f"- {line}" for line in lines) or (
        "No step, flow, form or documentation changes; only the drawing of the diagram does."
    )
    if len(text) > MAX_CHANGES_TEXT:
        text = text[: MAX_CHANGES_TEXT - 60].rsplit("\n", 1)[0] + "\n- (and more: see the editor)"
    return text


def propose_draft(
    session: Session,
    definition: ProcessDefinition,
    participant: Participant,
    summary: str,
    *,
    now: datetime,
) -> ProcessInstance:
    """Put a draft version to the Board: start `methodology_amendment` and complete its
    drafting step with the version and its change list, in the caller's unit of work."""
    if definition.status != "draft":
        raise EngineError(
            f"version {definition.version} of '{definition.process_key}' is "
            f"{definition.status}; only a draft can be proposed to the Board"
        )
    instance = start_instance(
        session,
        AMENDMENT_PROCESS,
        {
            "process_key": definition.process_key,
            "proposed_by": name_with_roles(session, participant),
            "proposal_summary": summary,
        },
        actor=participant.username,
        now=now,
        title=f"Amending '{definition.name}': version {definition.version}",
    )
    drafting = session.scalars(
        select(HumanTask).where(
            HumanTask.instance_id == instance.id,
            HumanTask.bpmn_id == DRAFTING_TASK,
            HumanTask.status == "open",
        )
    ).one()
    complete_task(
        session,
        drafting.id,
        {"draft_version": definition.version, "changes": change_text(session, definition)},
        participant=participant,
        now=now,
    )
    return instance


def _check(
    session: Session,
    process_key: str,
    xml: str,
    forms: Mapping[str, str],
    now: datetime,
    filename: str | None = None,
) -> _Checked:
    versions = _versions(session, process_key)
    if filename is None:
        filename = versions[0].source_name if versions else f"{process_key}.bpmn"
    checked = _Checked(xml=xml)
    tree, refused = read_diagram(xml, filename)
    checked.problems.extend(_editor_problem(p) for p in refused)
    checked.problems.extend(_form_problems(session, process_key, forms))
    if tree is None:
        return checked
    for version in versions[:_RESTORE_FROM]:
        checked.xml = restore_spiff_details(checked.xml, version.bpmn_xml)
    tree, _ = read_diagram(checked.xml, filename)
    if tree is None:  # pragma: no cover - restoring only adds elements to a readable diagram
        return checked
    files = {filename: checked.xml, **forms}
    bundle, problems = check_bundle(files, known_roles(), _library(session, process_key))
    checked.problems.extend(_editor_problem(p) for p in problems)
    checked.problems.extend(_process_problems(tree, filename, process_key))
    checked.problems.extend(_unused_forms(checked.xml, forms))
    if checked.ok and bundle is not None:
        checked.bundle = bundle
        report = dry_run(session, process_key, bundle.spec(process_key), bundle.files, now=now)
        checked.steps = report.steps
        checked.problems.extend(
            EditorProblem(f.message, f.element_id, filename, None, f.severity, "dry_run")
            for f in report.findings
        )
    return checked


def _editor_problem(problem: Problem) -> EditorProblem:
    return EditorProblem(
        problem.message,
        problem.element_id,
        problem.file,
        problem.line,
        "error",
        problem.kind,
        problem.element_name,
    )


def _library(session: Session, process_key: str) -> dict[str, str]:
    """The diagrams in force (other than the one edited) and their files, to resolve calls."""
    library: dict[str, str] = {}
    others = [
        d
        for d in session.scalars(
            select(ProcessDefinition)
            .options(undefer(ProcessDefinition.bpmn_xml))
            .where(ProcessDefinition.status == "active")
        )
        if d.process_key != process_key
    ]
    for definition in others:
        library[definition.source_name] = definition.bpmn_xml
    for definition in others:
        for name, text in (definition.files or {}).items():
            library.setdefault(name, text)
    return library


def _process_problems(
    tree: etree._ElementTree, filename: str, process_key: str
) -> list[EditorProblem]:
    executable = [
        str(p.get("id"))
        for p in tree.getroot().iterfind("bpmn:process", NS)
        if p.get("isExecutable") == "true"
    ]
    if process_key not in executable:
        return [
            EditorProblem(
                f"the diagram must define the procedure '{process_key}' (an executable "
                f"bpmn:process with that id); it defines {', '.join(executable) or 'none'}",
                None,
                filename,
                None,
                "error",
                "lint",
            )
        ]
    return [
        EditorProblem(
            f"the diagram also defines the procedure '{other}'; the editor saves one procedure "
            "at a time, so move it to a diagram of its own",
            other,
            filename,
            None,
            "error",
            "lint",
        )
        for other in executable
        if other != process_key
    ]


def _form_problems(
    session: Session, process_key: str, forms: Mapping[str, str]
) -> list[EditorProblem]:
    problems: list[EditorProblem] = []

    def refuse(name: str, message: str, line: int | None = None) -> None:
        problems.append(EditorProblem(message, None, name, line, "error", "form"))

    if len(forms) > MAX_FORMS:
        refuse("(forms)", f"there are {len(forms)} forms; a diagram may have at most {MAX_FORMS}")
        return problems
    taken = _forms_of_other_procedures(session, process_key)
    for name, text in forms.items():
        if not _FORM_NAME.match(name):
            refuse(
                name,
                "a form's file name may hold only letters, digits, '_', '-' and '.', "
                "and must end in .json",
            )
            continue
        if name in taken:
            refuse(
                name,
                f"the form name '{name}' belongs to the procedure '{taken[name]}'; give this "
                f"form a name of its own (start it with '{process_key}_')",
            )
            continue
        if len(text.encode("utf-8")) > MAX_FORM_BYTES:
            refuse(name, f"the form is larger than {MAX_FORM_BYTES // 1024} KB")
            continue
        try:
            schema = json.loads(text)
        except json.JSONDecodeError as err:
            refuse(
                name,
                f"is not valid JSON: {err.msg} (line {err.lineno}, column {err.colno})",
                err.lineno,
            )
            continue
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as err:
            where = "/".join(str(p) for p in err.absolute_path)
            refuse(
                name,
                f"is not a valid JSON Schema: {err.message}" + (f" (at {where})" if where else ""),
            )
            continue
        if not isinstance(schema, dict) or schema.get("type") != "object":
            refuse(
                name,
                'a form must be a JSON Schema of an object (with "type": "object") whose '
                "properties are the fields people fill in",
            )
    return problems


def _forms_of_other_procedures(session: Session, process_key: str) -> dict[str, str]:
    taken: dict[str, str] = {}
    for definition in session.scalars(
        select(ProcessDefinition).where(
            ProcessDefinition.status == "active", ProcessDefinition.process_key != process_key
        )
    ):
        for name in own_forms(definition):
            taken.setdefault(name, definition.process_key)
    return taken


def _unused_forms(xml: str, forms: Mapping[str, str]) -> list[EditorProblem]:
    used = set(form_names(xml))
    return [
        EditorProblem(
            "no step of the diagram uses this form, so it will not be saved with the draft",
            None,
            name,
            None,
            "warning",
            "form",
        )
        for name in forms
        if name not in used
    ]


def _canonical(xml: str) -> str:
    try:
        return str(etree.canonicalize(xml_data=xml, with_comments=False, strip_text=True))
    except (etree.Error, ValueError):
        return xml


def _same_content(definition: ProcessDefinition, xml: str, forms: Mapping[str, str]) -> bool:
    """The same diagram (layout included, formatting aside) and the same forms."""
    if _canonical(definition.bpmn_xml) != _canonical(xml):
        return False
    stored = own_forms(definition)
    if set(stored) != set(forms):
        return False
    try:
        return all(json.loads(stored[name]) == json.loads(forms[name]) for name in forms)
    except json.JSONDecodeError:
        return False
