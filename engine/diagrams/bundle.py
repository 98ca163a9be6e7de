"""A set of diagram files and their forms, checked and parsed into SpiffWorkflow specs."""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from engine.diagrams.bpmn import NS, elements
from engine.diagrams.lint import lint_tree
from engine.diagrams.xml_safety import read_diagram
from engine.errors import DiagramRejected, Problem

_xsd_lock = threading.Lock()


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
    with _xsd_lock:
        schema = VALIDATOR.validator
        if schema.validate(tree):
            return []
        return [
            Problem(
                filename,
                None,
                f"does not follow the BPMN 2.0 schema: {entry.message}",
                entry.line,
                kind="xsd",
            )
            for entry in schema.error_log
        ]


def check_bundle(
    files: Mapping[str, str | bytes],
    known_roles: Collection[str],
    library: Mapping[str, str | bytes] | None = None,
) -> tuple[DiagramBundle | None, list[Problem]]:
    """Check diagrams and forms; `library` holds other diagrams that call activities may use.

    Problems are reported only for `files`; the library is there to resolve calls.
    """
    texts: dict[str, str] = {}
    for name, content in {**(library or {}), **files}.items():
        texts[name] = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
    problems: list[Problem] = []
    trees: dict[str, etree._ElementTree] = {}
    for name in sorted(texts):
        if not name.endswith(".bpmn"):
            continue
        tree, refused = read_diagram(texts[name], name)
        if name in files:
            problems.extend(refused)
        if tree is None:
            continue
        schema_problems = _xsd_problems(tree, name)
        if name in files:
            problems.extend(schema_problems)
        if not schema_problems:
            trees[name] = tree
    # Go on with the readable diagrams, so one refused file does not hide the others' problems.

    parser = SpiffBpmnParser()
    process_files: dict[str, str] = {}
    for name, tree in trees.items():
        try:
            parser.add_bpmn_xml(tree.getroot(), filename=name)
        except ValidationException as err:
            if name in files:
                problems.append(_from_spiff(err, name))
            continue
        if name in files:
            for process in tree.getroot().iterfind("bpmn:process", NS):
                if process.get("isExecutable", "false") == "true" and process.get("id"):
                    process_files[str(process.get("id"))] = name
    known_processes = set(parser.get_process_ids())
    for name in files:
        if name in trees:
            problems.extend(lint_tree(trees[name], name, known_roles, known_processes, texts))
    bundle = DiagramBundle(texts, trees, parser, process_files)
    if not problems:
        for process_id in process_files:
            try:
                bundle.spec(process_id)
            except ValidationException as err:
                problems.append(_from_spiff(err, process_files[process_id]))
    if not process_files and not problems:
        problems.append(
            Problem(
                ", ".join(sorted(n for n in files if n.endswith(".bpmn"))) or "(no diagram)",
                None,
                'defines no executable process (isExecutable="true")',
            )
        )
    return (None if problems else bundle), problems


def _from_spiff(err: ValidationException, filename: str) -> Problem:
    element = getattr(err, "id", None)
    line = getattr(err, "line_number", None)
    return Problem(
        getattr(err, "file_name", None) or filename,
        element,
        str(err).split("\n")[0],
        line if isinstance(line, int) and line else None,
    )


def read_directory(directory: Path) -> dict[str, str]:
    """Every .bpmn and .json file of a directory, by file name."""
    return {
        path.name: path.read_text(encoding="utf-8")
        for path in sorted(directory.iterdir())
        if path.suffix in {".bpmn", ".json"} and path.is_file()
    }


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
