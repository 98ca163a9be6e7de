"""What a diagram loses in the browser's modeler (bpmn-js), put back from the version it came from.

bpmn-moddle reads `loopDataInputRef` and `loopDataOutputRef` as references to data elements
by id. SpiffWorkflow writes a variable name there (`board`, `seat_answers`). Where that name
is also declared as a `bpmn:property` of the process (as the diagrams in bpmn/ declare it),
bpmn-moddle resolves it and keeps it. Where it names no element (a version stored before the
declarations, a diagram from elsewhere), bpmn-moddle warns "unresolved reference" and leaves
both out when it saves: the multi-instance step would lose the collection it runs over.
Checked by round-tripping every diagram in bpmn/ through bpmn-moddle 10
(tests/engine/diagrams/test_modeler_round_trip.py); the only other things it drops are XML
comments and `cancelActivity="true"`, which is the default.
"""

from __future__ import annotations

from lxml import etree

from engine.diagrams.bpmn import NS, elements
from engine.diagrams.xml_safety import read_diagram

_BPMN = f"{{{NS['bpmn']}}}"
# The children of bpmn:multiInstanceLoopCharacteristics, in the order the schema wants them.
_LOOP_CHILDREN = (
    "loopCardinality",
    "loopDataInputRef",
    "loopDataOutputRef",
    "inputDataItem",
    "outputDataItem",
    "complexBehaviorDefinition",
    "completionCondition",
    "oneBehaviorEventRef",
    "noneBehaviorEventRef",
)
LOST_IN_MODELER = ("loopDataInputRef", "loopDataOutputRef")


def restore_spiff_details(new_xml: str, base_xml: str) -> str:
    """`new_xml` with what the modeler dropped put back, element by element id, from `base_xml`.

    Only what is missing is restored, and only on an element that still has its
    multi-instance marker; anything the new diagram says itself is kept. Unchanged text
    comes back as it was given.
    """
    new_tree, refused = read_diagram(new_xml, "new.bpmn")
    base_tree, base_refused = read_diagram(base_xml, "base.bpmn")
    if new_tree is None or base_tree is None or refused or base_refused:
        return new_xml
    restored = False
    for loop in new_tree.getroot().iter(f"{_BPMN}multiInstanceLoopCharacteristics"):
        activity = loop.getparent()
        if activity is None or not activity.get("id"):
            continue
        found = elements(
            base_tree.getroot(),
            "//*[@id=$id]/bpmn:multiInstanceLoopCharacteristics",
            id=str(activity.get("id")),
        )
        if not found:
            continue
        for name in LOST_IN_MODELER:
            source = found[0].find(f"bpmn:{name}", NS)
            if source is None or loop.find(f"bpmn:{name}", NS) is not None:
                continue
            _insert_in_order(loop, _copy(source))
            restored = True
    if not restored:
        return new_xml
    return etree.tostring(new_tree, xml_declaration=True, encoding="UTF-8").decode("utf-8")


def _copy(source: etree._Element) -> etree._Element:
    copied = etree.Element(source.tag)
    copied.text = source.text
    return copied


def _insert_in_order(loop: etree._Element, child: etree._Element) -> None:
    rank = _LOOP_CHILDREN.index(etree.QName(child).localname)
    indent = loop.text if loop.text and not loop.text.strip() else None
    for position, existing in enumerate(loop):
        tag = etree.QName(existing).localname if isinstance(existing.tag, str) else ""
        if tag in _LOOP_CHILDREN and _LOOP_CHILDREN.index(tag) > rank:
            loop.insert(position, child)
            child.tail = indent
            return
    if len(loop):
        last = loop[-1]
        child.tail, last.tail = last.tail, indent
    else:
        child.tail = loop.text
    loop.append(child)
