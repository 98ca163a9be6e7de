"""Who does what, drawn: each of the methodology's diagrams opens in bpmn-js's modeler (the
editor, as in Camunda Modeler) with its pool and its lanes, and the diagram the modeler saves
keeps what the procedure runs on, the Board seats and partners a multi-instance step runs
over included. Deployed again, it runs as the original does; the instance page draws the
lanes too."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree
from playwright.sync_api import Page, expect
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.util.diff import SpecDiff
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from sqlalchemy import select

from engine.diagrams.bpmn import NS
from engine.diagrams.bundle import DiagramBundle, read_directory, require_bundle
from engine.diagrams.changes import diagram_changes
from engine.diagrams.deploy import deploy_bundle
from models import HumanTask
from tests.browser.conftest import Iisg, log_in
from workflows.methodology.diagrams import BPMN_DIR
from workflows.people.roles import known_roles

DIAGRAMS = sorted(BPMN_DIR.glob("*.bpmn"))
LOOP_REFERENCES = ("loopDataInputRef", "loopDataOutputRef")
BOARD_SEATS = 7
BPMNDI = "{http://www.omg.org/spec/BPMN/20100524/DI}"


def lanes_of(xml: str) -> dict[str, str]:
    """Each lane of the diagram's process: its id and its name (the role)."""
    root = etree.fromstring(xml.encode("utf-8"))
    return {
        str(lane.get("id")): str(lane.get("name")) for lane in root.iterfind(".//bpmn:lane", NS)
    }


def pool_of(xml: str) -> str:
    """The id of the participant that draws the process as a pool."""
    root = etree.fromstring(xml.encode("utf-8"))
    participants = root.findall("bpmn:collaboration/bpmn:participant", NS)
    assert len(participants) == 1
    return str(participants[0].get("id"))


def process_documentation(xml: str) -> str:
    root = etree.fromstring(xml.encode("utf-8"))
    return str(root.findtext("bpmn:process/bpmn:documentation", namespaces=NS))


def drawn_shapes(xml: str) -> set[str]:
    """The ids of the elements the diagram draws."""
    root = etree.fromstring(xml.encode("utf-8"))
    return {str(shape.get("bpmnElement")) for shape in root.iter(f"{BPMNDI}BPMNShape")}


def loop_references(xml: str) -> list[tuple[str, str, str]]:
    """(the step, the element, the collection) of every multi-instance reference."""
    root = etree.fromstring(xml.encode("utf-8"))
    found = []
    for name in LOOP_REFERENCES:
        for ref in root.iterfind(f".//bpmn:{name}", NS):
            loop = ref.getparent()
            step = loop.getparent() if loop is not None else None
            assert step is not None
            found.append((str(step.get("id")), name, (ref.text or "").strip()))
    return sorted(found)


def bundle_of(name: str, xml: str) -> DiagramBundle:
    """The diagram checked as `iisg deploy` checks it, its calls resolved by the others."""
    library = read_directory(BPMN_DIR)
    library.pop(name)
    return require_bundle({name: xml}, known_roles(), library)


def saved_by_the_modeler(page: Page, process: str) -> str:
    """Opens the process in the editor, checks its pool and lanes are drawn, and downloads
    what bpmn-js saves (its saveXML), as a person exporting it to another modeler does."""
    xml = (BPMN_DIR / f"{process}.bpmn").read_text(encoding="utf-8")
    page.goto(f"/methodology/{process}/edit")
    page.locator("#editor.is-drawn").wait_for()
    canvas = page.locator("#editor-canvas")
    expect(canvas.locator(f'[data-element-id="{pool_of(xml)}"]')).to_have_count(1)
    for lane_id, name in lanes_of(xml).items():
        lane = canvas.locator(f'[data-element-id="{lane_id}"]')
        expect(lane).to_have_count(1)
        expect(lane.locator(".djs-visual text")).to_have_text(name)
    # Nothing selected, the panel shows the whole procedure: the process in the pool.
    expect(page.locator("#element-heading")).to_have_text("The whole procedure")
    expect(page.get_by_label("Documentation")).to_have_value(process_documentation(xml))
    with page.expect_download() as download:
        page.get_by_role("button", name="Download .bpmn").click()
    return Path(download.value.path()).read_text(encoding="utf-8")


def test_each_diagram_round_trips_through_the_modeler_lanes_and_collections_kept(
    page: Page, iisg: Iisg
) -> None:
    log_in(page, "secretariat")
    registry = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)
    saved: dict[str, str] = {}
    for path in DIAGRAMS:
        process = path.stem
        original = path.read_text(encoding="utf-8")
        saved[process] = xml = saved_by_the_modeler(page, process)

        # The pool and every lane are still drawn, every step still in its lane.
        assert {pool_of(original), *lanes_of(original)} <= drawn_shapes(xml), process
        assert lanes_of(xml) == lanes_of(original)
        # The collections the multi-instance steps run over are kept.
        assert loop_references(xml) == loop_references(original), process
        # The steps, flows, lanes, forms and documentation are the same.
        assert not diagram_changes(original, {}, xml, {}), process
        # And so is what SpiffWorkflow runs.
        before, after = bundle_of(path.name, original), bundle_of(path.name, xml)
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

    # Deployed as the modeler saved it, a silent procedure asks every Board seat.
    now = datetime.now(UTC)
    bundle = bundle_of("silent_procedure.bpmn", saved["silent_procedure"])
    deployed = iisg.db.run(lambda s: deploy_bundle(s, bundle, actor="tests", now=now))
    assert [(d.process_key, d.version, d.created) for d in deployed] == [
        ("silent_procedure", 2, True)
    ]
    instance = iisg.start("silent_procedure", {"subject": "Work programme", "proposal": "Adopt"})
    with iisg.db.session() as session:
        seats = session.scalars(
            select(HumanTask.organisation).where(
                HumanTask.instance_id == instance,
                HumanTask.bpmn_id == "answer_silent_procedure",
                HumanTask.status == "open",
            )
        ).all()
    assert len(set(seats)) == BOARD_SEATS


def test_the_instance_page_draws_who_does_what(page: Page, iisg: Iisg) -> None:
    instance = iisg.start(
        "needs_mapping", {"mapping_year": None, "input_deadline": None, "calendar_notes": None}
    )
    log_in(page, "secretariat")
    page.goto(f"/instances/{instance}")
    diagram = page.locator("#diagram.is-drawn")
    diagram.wait_for()

    xml = (BPMN_DIR / "needs_mapping.bpmn").read_text(encoding="utf-8")
    expect(diagram.locator(f'svg [data-element-id="{pool_of(xml)}"]')).to_have_count(1)
    for lane_id, name in lanes_of(xml).items():
        lane = diagram.locator(f'svg [data-element-id="{lane_id}"]')
        expect(lane.locator(".djs-visual text")).to_have_text(name)

    # The partners' needs are asked for now: highlighted, in the focal points' lane, in view.
    current = diagram.locator('svg [data-element-id="partner_needs"].is-current')
    expect(current).to_be_visible()
    step = current.bounding_box()
    band = diagram.locator('svg [data-element-id="Lane_focal_point"]').bounding_box()
    view = diagram.bounding_box()
    assert step is not None and band is not None and view is not None
    assert band["y"] <= step["y"] and step["y"] + step["height"] <= band["y"] + band["height"]
    assert view["x"] <= step["x"] and step["x"] + step["width"] <= view["x"] + view["width"]
    assert view["y"] <= step["y"] and step["y"] + step["height"] <= view["y"] + view["height"]


def bounds_of(xml: str) -> dict[str, tuple[float, float, float, float]]:
    """Each drawn element's box on the main plane: x, y, right, bottom."""
    root = etree.fromstring(xml.encode("utf-8"))
    plane = next(root.iter(f"{BPMNDI}BPMNPlane"))
    found = {}
    for shape in plane.iter(f"{BPMNDI}BPMNShape"):
        box = shape.find("{http://www.omg.org/spec/DD/20100524/DC}Bounds")
        assert box is not None
        x, y = float(box.get("x", 0)), float(box.get("y", 0))
        found[str(shape.get("bpmnElement"))] = (
            x,
            y,
            x + float(box.get("width", 0)),
            y + float(box.get("height", 0)),
        )
    return found


@pytest.mark.parametrize("path", DIAGRAMS, ids=lambda p: p.name)
def test_every_step_is_drawn_inside_the_lane_of_its_role(path: Path) -> None:
    xml = path.read_text(encoding="utf-8")
    boxes = bounds_of(xml)
    root = etree.fromstring(xml.encode("utf-8"))
    outside = []
    for lane in root.iterfind(".//bpmn:lane", NS):
        left, top, right, bottom = boxes[str(lane.get("id"))]
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            x, y, x2, y2 = boxes[(ref.text or "").strip()]
            if not (left <= x and x2 <= right and top <= y and y2 <= bottom):
                outside.append(((ref.text or "").strip(), lane.get("name")))
    assert outside == []
