"""A set of diagram files and their forms, checked and parsed into SpiffWorkflow specs."""

from __future__ import annotations

import json
import threading
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from engine.diagrams.bpmn import NS, elements
from engine.diagrams.lint import lint_tree
from engine.diagrams.plain_words import locate, plain, spiff_reason
from engine.diagrams.reachability import reachability_problems
from engine.diagrams.timer_values import quote_iso_timers
from engine.diagrams.xml_safety import diagram_text, read_diagram
from engine.errors import DiagramRejected, Problem

_xsd_lock = threading.Lock()
DIAGRAM_SUFFIXES = (".bpmn", ".xml")  # .bpmn20.xml ends in .xml


@dataclass
class DiagramBundle:
    """Diagrams (and their forms) that parsed and passed every rule."""

    files: dict[str, str]
    trees: dict[str, etree._ElementTree]
    parser: SpiffBpmnParser
    process_files: dict[str, str] = field(default_factory=dict)

    def process_ids(self) -> list[str]:
        """Executable processes defined in the bundle's own diagrams."""
        return sorted(self.process_files)

    def spec(self, process_id: str) -> tuple[Any, dict[str, Any]]:
        """The process spec and the specs of everything it calls."""
        return self.parser.get_spec(process_id), self.parser.get_subprocess_specs(process_id)

    def process_element(self, process_id: str) -> etree._Element:
        """The bpmn:process element of a process."""
        tree = self.trees[self.process_files[process_id]]
        return elements(tree.getroot(), "./bpmn:process[@id=$id]", id=process_id)[0]

    def files_for(self, process_id: str) -> dict[str, str]:
        """The files a process needs besides its own diagram: called diagrams and forms."""
        own = self.process_files[process_id]
        return {name: text for name, text in self.files.items() if name != own}


def _xsd_problems(tree: etree._ElementTree, filename: str) -> list[Problem]:
    """The BPMN 2.0 schema's objections, after SpiffWorkflow's own preprocessing (which
    accepts the correlation expressions bpmn-js writes), in plain words."""
    with _xsd_lock:
        VALIDATOR.preprocess(tree)
        schema = VALIDATOR.validator
        if schema.validate(tree):
            return []
        return [
            Problem(
                filename,
                None,
                f"does not follow the BPMN 2.0 schema: {plain(entry.message)}",
                entry.line,
                kind="xsd",
            )
            for entry in schema.error_log
        ]


def is_form_name(name: str) -> bool:
    """A form (a JSON Schema file) rather than a diagram."""
    return name.lower().endswith(".json")


def is_diagram_name(name: str) -> bool:
    """A diagram file as modelers save them: .bpmn (any case), .bpmn20.xml or .xml."""
    return name.lower().endswith(DIAGRAM_SUFFIXES)


@dataclass
class _Read:
    """One diagram file as read: its text and tree, or why it cannot be used."""

    text: str
    tree: etree._ElementTree | None
    problems: list[Problem]

    def process_ids(self) -> list[str]:
        if self.tree is None:
            return []
        return [str(p.get("id")) for p in self.tree.getroot().iterfind("bpmn:process", NS)]

    def calls(self) -> list[etree._Element]:
        """Its call activities that name a process."""
        if self.tree is None:
            return []
        return [
            call
            for call in self.tree.getroot().iterfind(".//bpmn:callActivity", NS)
            if call.get("calledElement")
        ]


def _read(name: str, content: str | bytes) -> _Read:
    tree, problems = read_diagram(content, name)
    if tree is None:
        text = content if isinstance(content, str) else content.decode("utf-8", "replace")
        return _Read(text, None, problems)
    text = diagram_text(content, tree)
    quote_iso_timers(tree)
    return _Read(text, tree, _xsd_problems(tree, name))


def _form_text(content: str | bytes) -> str:
    return content if isinstance(content, str) else content.decode("utf-8-sig", "replace")


def check_bundle(
    files: Mapping[str, str | bytes],
    known_roles: Collection[str],
    library: Mapping[str, str | bytes] | None = None,
) -> tuple[DiagramBundle | None, list[Problem]]:
    """Check diagrams and forms; `library` holds other diagrams that call activities may use.

    Every file of `files` not named .json is read as a diagram, whatever its extension.
    Problems are reported only for `files`: a library diagram is read only when one of
    `files` calls a process it defines (a problem in it is the caller's problem then), so
    a file's result does not depend on what else lies beside it.
    """
    library = {name: c for name, c in (library or {}).items() if name not in files}
    texts: dict[str, str] = {}
    for name, content in {**library, **files}.items():
        if is_form_name(name):
            texts[name] = _form_text(content)
    problems: list[Problem] = []
    named: dict[str, _Read] = {}
    for name in sorted(files):
        if is_form_name(name):
            continue
        named[name] = _read(name, files[name])
        texts[name] = named[name].text
        problems.extend(named[name].problems)

    problems.extend(_duplicate_processes(named))
    parser = SpiffBpmnParser()
    process_files: dict[str, str] = {}
    trees: dict[str, etree._ElementTree] = {}
    spiff: list[Problem] = []  # SpiffWorkflow's refusals: said only where no check said more
    for name, read in named.items():
        if read.tree is None:
            continue
        trees[name] = read.tree
        try:
            parser.add_bpmn_xml(read.tree.getroot(), filename=name)
        except ValidationException as err:
            if not str(err).startswith("Duplicate process ID"):  # named above, with both files
                spiff.extend(_from_spiff(err, name, read.tree))
            continue
        except Exception:  # SpiffWorkflow's parser on a shape it does not expect
            spiff.append(_unreadable(name))
            continue
        executable = [
            str(process.get("id"))
            for process in read.tree.getroot().iterfind("bpmn:process", NS)
            if process.get("isExecutable", "false") == "true" and process.get("id")
        ]
        if not executable:
            problems.append(
                Problem(
                    name,
                    None,
                    'defines no executable process: set isExecutable="true" on the process '
                    "to be run (in Camunda Modeler, tick 'Executable' on the process)",
                    kind="lint",
                )
            )
        for process_id in executable:
            process_files.setdefault(process_id, name)

    answered: set[str] = set()
    problems.extend(_resolve_calls(named, library, parser, trees, texts, answered))
    known_processes = set(parser.get_process_ids()) | answered
    for name, read in named.items():
        if read.tree is not None:
            problems.extend(lint_tree(read.tree, name, known_roles, known_processes, texts))
            problems.extend(reachability_problems(read.tree, name))
    bundle = DiagramBundle(texts, trees, parser, process_files)
    for process_id, name in process_files.items():
        if named[name].problems:
            continue  # not XML SpiffWorkflow reads as BPMN: the schema's words say why
        try:
            bundle.spec(process_id)
        except ValidationException as err:
            spiff.extend(_from_spiff(err, name, trees.get(name)))
        except Exception:  # SpiffWorkflow's parser on a shape it does not expect
            spiff.append(_unreadable(name, process_id))
    if not named:
        problems.append(
            Problem(
                ", ".join(sorted(files)) or "(no diagram)",
                None,
                "holds no diagram (a .bpmn, .bpmn20.xml or .xml file)",
            )
        )
    problems = _together(problems, spiff, trees)
    return (None if problems else bundle), problems


def _together(
    problems: list[Problem], spiff: list[Problem], trees: Mapping[str, etree._ElementTree]
) -> list[Problem]:
    """Every check's problems, each once, with its element's line and name; SpiffWorkflow's
    only for an element (or a file) no other check spoke of."""
    said = {(p.file, p.element_id) for p in problems}
    said_files = {p.file for p in problems}
    for problem in spiff:
        if (problem.file, problem.element_id) in said:
            continue
        if problem.element_id is None and problem.file in said_files:
            continue
        problems.append(problem)
    return list(dict.fromkeys(locate(problems, trees)))


def _duplicate_processes(named: Mapping[str, _Read]) -> list[Problem]:
    """A process id defined by two of the given files: each file is told the other's name."""
    owners: dict[str, list[str]] = {}
    for name, read in named.items():
        for process_id in dict.fromkeys(read.process_ids()):  # twice in one file: lint says so
            owners.setdefault(process_id, []).append(name)
    return [
        Problem(
            name,
            process_id,
            f"defines the process '{process_id}', which {', '.join(o for o in names if o != name)} "
            "also defines; a process id belongs to one diagram: give one of them another id",
        )
        for process_id, names in owners.items()
        if len(names) > 1
        for name in names
    ]


def _resolve_calls(
    named: Mapping[str, _Read],
    library: Mapping[str, str | bytes],
    parser: SpiffBpmnParser,
    trees: dict[str, etree._ElementTree],
    texts: dict[str, str],
    answered: set[str],
) -> list[Problem]:
    """Add the library diagrams that the given files call (and what those call in turn).

    A call that no diagram answers is left to the rules (lint names it); one that two
    library diagrams answer, or one whose diagram cannot be read, is the caller's problem
    (its id goes into `answered`, so that the rules do not say it again).
    """
    candidates = {name: c for name, c in library.items() if not is_form_name(name)}
    if not candidates:
        return []
    defined = set(parser.get_process_ids())
    pending = [(name, call) for name, read in named.items() for call in read.calls()]
    if not any(call.get("calledElement") not in defined for _, call in pending):
        return []
    read_library = {name: _read(name, content) for name, content in sorted(candidates.items())}
    owners: dict[str, list[str]] = {}
    for name, read in read_library.items():
        for process_id in read.process_ids():
            owners.setdefault(process_id, []).append(name)
    problems: list[Problem] = []
    while pending:
        caller, call = pending.pop(0)
        called = str(call.get("calledElement"))
        if called in defined:
            continue
        line = call.sourceline if isinstance(call.sourceline, int) else None
        found = owners.get(called, [])
        if len(found) > 1:
            problems.append(
                Problem(
                    caller,
                    call.get("id"),
                    f"calls the process '{called}', which {' and '.join(found)} both define; "
                    "keep one of them, or give one of them another id",
                    line,
                )
            )
            defined.add(called)
            answered.add(called)
            continue
        if not found:
            continue
        source = found[0]
        read = read_library[source]
        try:
            if read.tree is None or read.problems:
                raise DiagramRejected(read.problems)
            parser.add_bpmn_xml(read.tree.getroot(), filename=source)
        except (DiagramRejected, ValidationException) as err:
            problems.append(
                Problem(
                    caller,
                    call.get("id"),
                    f"calls the process '{called}', defined in {source}, which cannot be used: "
                    + _first_reason(err),
                    line,
                )
            )
            defined.add(called)
            answered.add(called)
            continue
        trees[source] = read.tree
        texts[source] = read.text
        defined.update(parser.get_process_ids())
        pending.extend((source, more) for more in read.calls())
    return problems


def _first_reason(err: DiagramRejected | ValidationException) -> str:
    if isinstance(err, DiagramRejected) and err.problems:
        return err.problems[0].message
    return plain(str(err))


def _unreadable(filename: str, element_id: str | None = None) -> Problem:
    """A diagram SpiffWorkflow's parser stopped on without a reason of its own."""
    return Problem(
        filename,
        element_id,
        "SpiffWorkflow cannot read this diagram as drawn (a shape or setting it does not "
        "expect); simplify the element it stopped on, or ask the developers",
    )


def _from_spiff(
    err: ValidationException, filename: str, tree: etree._ElementTree | None
) -> list[Problem]:
    reason = spiff_reason(err, tree)
    if reason is None:
        return []
    return [
        Problem(
            getattr(err, "file_name", None) or filename,
            getattr(err, "id", None) or None,
            reason,
        )
    ]


def read_directory(directory: Path) -> dict[str, bytes]:
    """Every diagram (.bpmn, .bpmn20.xml, .xml, any case) and form (.json) of a directory, by
    file name, as bytes: a diagram's XML prolog says how to read it."""
    found: dict[str, bytes] = {}
    for path in sorted(directory.iterdir()):
        if (is_diagram_name(path.name) or is_form_name(path.name)) and path.is_file():
            found[path.name] = path.read_bytes()
    return found


def require_bundle(
    files: Mapping[str, str | bytes],
    known_roles: Collection[str],
    library: Mapping[str, str | bytes] | None = None,
) -> DiagramBundle:
    """Like check_bundle, but raises DiagramRejected with every problem."""
    bundle, problems = check_bundle(files, known_roles, library)
    if bundle is None:
        raise DiagramRejected(problems)
    return bundle


def form_problems(name: str, content: str | bytes) -> list[Problem]:
    """A form file named on its own: it must be JSON and a JSON Schema."""
    try:
        schema = json.loads(content)
    except ValueError as err:  # JSONDecodeError, or bytes in no Unicode encoding
        where = f" (line {err.lineno}: {err.msg})" if isinstance(err, json.JSONDecodeError) else ""
        return [Problem(name, None, f"is a form but not valid JSON{where}")]
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as err:
        return [Problem(name, None, f"is a form but not a valid JSON Schema: {err.message}")]
    return []
