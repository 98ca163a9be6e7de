"""The browser's modeler (bpmn-js, through bpmn-moddle) reads and writes every methodology
diagram whole: each multi-instance step's collections are declared as the process's
properties, so bpmn-moddle resolves them. A diagram that does not declare them (a version
stored before they were) loses them in the modeler; they are put back from the stored
version, so SpiffWorkflow sees no change.

Runs bpmn-moddle itself with Node.js (installed by `make` with `npm ci`).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from lxml import etree
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.util.diff import SpecDiff
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from engine.diagrams.bundle import check_bundle, read_directory
from engine.diagrams.changes import diagram_changes
from engine.diagrams.modeler_round_trip import restore_spiff_details
from workflows.people.roles import known_roles

ROOT = Path(__file__).resolve().parents[3]
BPMN_DIR = ROOT / "bpmn"
NODE = shutil.which("node")
MODDLE = ROOT / "node_modules" / "bpmn-moddle" / "dist" / "index.cjs"
DIAGRAMS = sorted(BPMN_DIR.glob("*.bpmn"))

pytestmark = pytest.mark.skipif(
    NODE is None or not MODDLE.is_file(), reason="needs Node.js and bpmn-moddle (npm ci)"
)

# Read a diagram from stdin and write it back, as bpmn-js does on import and export.
ROUND_TRIP = """
const BpmnModdle = require(process.argv[1]);
let input = '';
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', async () => {
  const moddle = new BpmnModdle();
  const { rootElement, warnings } = await moddle.fromXML(input, 'bpmn:Definitions');
  const { xml } = await moddle.toXML(rootElement, { format: true });
  process.stdout.write(JSON.stringify({ xml, warnings: warnings.map((w) => w.message) }));
});
"""

# The loop references of each diagram: (the step, the element, its text).
LOOP_REFERENCES = {
    "needs_mapping.bpmn": [
        ("partner_needs", "loopDataInputRef", "partner_pillars"),
        ("partner_needs", "loopDataOutputRef", "partner_inputs"),
        ("support_group_contributions", "loopDataInputRef", "support_pillars"),
        ("support_group_contributions", "loopDataOutputRef", "support_group_inputs"),
    ],
    "response_mapping.bpmn": [
        ("partners_agree_calendar", "loopDataInputRef", "wb_partners"),
        ("partners_agree_calendar", "loopDataOutputRef", "calendar_answers"),
        ("partners_agree_structure", "loopDataInputRef", "wb_partners"),
        ("partners_agree_structure", "loopDataOutputRef", "structure_answers"),
        ("deliver_information_per_pillar", "loopDataInputRef", "information_requests"),
        ("deliver_information_per_pillar", "loopDataOutputRef", "partner_inputs"),
        ("add_project_support_per_pillar", "loopDataInputRef", "support_requests"),
        ("add_project_support_per_pillar", "loopDataOutputRef", "project_support"),
    ],
    "silent_procedure.bpmn": [
        ("answer_silent_procedure", "loopDataInputRef", "board"),
        ("answer_silent_procedure", "loopDataOutputRef", "seat_answers"),
    ],
}
_LOOP_REFS = ("loopDataInputRef", "loopDataOutputRef")
_BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
_DECLARATION = re.compile(r"^ *<bpmn:property [^>]*/>\n", re.MULTILINE)


def undeclared(xml: str) -> str:
    """The diagram as it was before its collections were declared (as older versions are)."""
    return _DECLARATION.sub("", xml)


def through_bpmn_moddle(xml: str) -> tuple[str, list[str]]:
    """The diagram as bpmn-moddle writes it after reading it, and its import warnings."""
    assert NODE is not None
    done = subprocess.run(
        [NODE, "-e", ROUND_TRIP, str(MODDLE)],
        input=xml,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    result = json.loads(done.stdout)
    return str(result["xml"]), [str(w) for w in result["warnings"]]


@pytest.fixture(scope="module")
def round_tripped() -> dict[str, tuple[str, list[str]]]:
    return {path.name: through_bpmn_moddle(path.read_text()) for path in DIAGRAMS}


def outline(xml: str, *, leave_out_loop_references: bool = False) -> list[str]:
    """Every element as tag, attributes and text, in document order; comments left out and
    cancelActivity="true" (BPMN's default) taken as unsaid."""
    root = etree.fromstring(xml.encode("utf-8"), etree.XMLParser(remove_comments=True))
    lines = []
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        if leave_out_loop_references and node.tag in {f"{_BPMN}{t}" for t in _LOOP_REFS}:
            continue
        attributes = {k: v for k, v in node.attrib.items() if (k, v) != ("cancelActivity", "true")}
        text = (node.text or "").strip()
        lines.append(f"{node.tag} {sorted(attributes.items())} {text!r}")
    return lines


def loop_references(xml: str) -> list[tuple[str, str, str]]:
    """(the step, the element, its text) of every loop reference of a diagram."""
    root = etree.fromstring(xml.encode("utf-8"))
    found = []
    for ref in root.iter(*(f"{_BPMN}{t}" for t in _LOOP_REFS)):
        loop = ref.getparent()
        step = loop.getparent() if loop is not None else None
        if step is not None:
            found.append((str(step.get("id")), etree.QName(ref).localname, ref.text or ""))
    return found


def declared_properties(xml: str) -> set[str]:
    root = etree.fromstring(xml.encode("utf-8"))
    return {str(p.get("id")) for p in root.iter(f"{_BPMN}property")}


@pytest.mark.parametrize("path", DIAGRAMS, ids=lambda p: p.name)
def test_bpmn_moddle_keeps_every_diagram_whole_loop_references_and_all(
    path: Path, round_tripped: dict[str, tuple[str, list[str]]]
) -> None:
    original = path.read_text()
    xml, warnings = round_tripped[path.name]
    references = LOOP_REFERENCES.get(path.name, [])

    assert loop_references(original) == references
    # Each collection names a declared property, which bpmn-moddle resolves.
    assert {text for _step, _tag, text in references} <= declared_properties(original)
    assert warnings == []
    assert loop_references(xml) == references
    # Nothing differs but comments and the default cancelActivity="true".
    assert outline(xml) == outline(original)


@pytest.mark.parametrize("path", DIAGRAMS, ids=lambda p: p.name)
def test_undeclared_bpmn_moddle_drops_only_spiffworkflow_loop_references(path: Path) -> None:
    original = undeclared(path.read_text())
    xml, warnings = through_bpmn_moddle(original)
    lost = LOOP_REFERENCES.get(path.name, [])

    assert loop_references(xml) == []
    # SpiffWorkflow writes a variable name where BPMN expects the id of a data element.
    assert warnings == [f"unresolved reference <{text}>" for _step, _tag, text in lost]
    assert outline(xml) == outline(original, leave_out_loop_references=True)


def test_without_the_loop_references_spiffworkflow_refuses_the_multi_instance_step() -> None:
    xml, _ = through_bpmn_moddle(undeclared((BPMN_DIR / "silent_procedure.bpmn").read_text()))

    _, problems = check_bundle(
        {"silent_procedure.bpmn": xml}, known_roles(), read_directory(BPMN_DIR)
    )

    assert [(p.element_id, p.message.strip()) for p in problems] == [
        (
            "answer_silent_procedure",
            "A multiinstance task must specify a cardinality or a loop input data reference.",
        )
    ]


@pytest.mark.parametrize("path", DIAGRAMS, ids=lambda p: p.name)
def test_restored_from_the_stored_version_spiffworkflow_sees_no_change(path: Path) -> None:
    original = undeclared(path.read_text())
    restored = restore_spiff_details(through_bpmn_moddle(original)[0], original)
    library = read_directory(BPMN_DIR)
    before, _ = check_bundle({path.name: original}, known_roles(), library)
    after, problems = check_bundle({path.name: restored}, known_roles(), library)
    assert before is not None and after is not None, problems
    registry = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)

    for process_id in before.process_ids():
        (old_spec, old_called), (new_spec, new_called) = (
            before.spec(process_id),
            after.spec(process_id),
        )
        assert sorted(old_called) == sorted(new_called)
        for old, new in [
            (old_spec, new_spec),
            *((old_called[k], new_called[k]) for k in old_called),
        ]:
            diff = SpecDiff(registry, old, new)
            assert (diff.added, diff.removed, diff.changed) == ([], [], {}), old.name
    assert not diagram_changes(original, {}, restored, {})


def test_restoring_leaves_a_diagram_the_modeler_kept_whole_as_it_came() -> None:
    membership = (BPMN_DIR / "membership.bpmn").read_text()
    xml, _ = through_bpmn_moddle(membership)

    assert restore_spiff_details(xml, membership) is xml
