"""Reading untrusted diagram XML: no DTD, no entities, no network, a size cap."""

from __future__ import annotations

import re

from lxml import etree

from engine.errors import Problem

MAX_DIAGRAM_BYTES = 2 * 1024 * 1024
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
    )


def read_diagram(
    content: bytes | str, filename: str
) -> tuple[etree._ElementTree | None, list[Problem]]:
    """Parse one diagram file safely; on refusal return no tree and the reasons."""
    raw = content.encode("utf-8") if isinstance(content, str) else content
    if len(raw) > MAX_DIAGRAM_BYTES:
        size_mb = len(raw) / 1024 / 1024
        return None, [
            Problem(
                filename,
                None,
                f"the file is {size_mb:.1f} MB; a diagram may be at most "
                f"{MAX_DIAGRAM_BYTES // 1024 // 1024} MB",
                kind="xml",
            )
        ]
    if _DECLARATION.search(raw):
        return None, [
            Problem(
                filename,
                None,
                "the file declares a DOCTYPE or an ENTITY; diagrams may not "
                "contain document type declarations or entities, remove them and upload again",
                kind="xml",
            )
        ]
    try:
        root = etree.fromstring(raw, _parser())
    except etree.XMLSyntaxError as err:
        return None, [
            Problem(filename, None, f"is not well-formed XML: {err.msg}", err.lineno, kind="xml")
        ]
    tree = root.getroottree()
    if getattr(tree.docinfo, "doctype", ""):
        return None, [Problem(filename, None, "the file declares a DOCTYPE; remove it", kind="xml")]
    if root.tag != f"{{{BPMN_NS}}}definitions":
        return None, [
            Problem(
                filename,
                None,
                "is not a BPMN 2.0 diagram: the root element must be "
                "bpmn:definitions in the BPMN 2.0 model namespace",
                kind="xml",
            )
        ]
    return tree, []
