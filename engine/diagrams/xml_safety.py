"""Reading untrusted diagram XML: no DTD, no entities, no network, a size cap."""

from __future__ import annotations

import re

from lxml import etree

from engine.errors import Problem

MAX_DIAGRAM_BYTES = 2 * 1024 * 1024
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
# The encoding an XML prolog declares: <?xml version="1.0" encoding="ISO-8859-1"?>
_PROLOG_ENCODING = re.compile(r"""^(\ufeff?\s*<\?xml[^>]*?\bencoding\s*=\s*)(["'])([^"']*)\2""")
_PROLOG_ENCODING_BYTES = re.compile(
    rb"""^(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?\bencoding\s*=\s*["']([^"']*)["']"""
)


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
    if isinstance(content, str):
        # Text is already decoded: whatever its prolog declares, its bytes are now UTF-8.
        raw = _PROLOG_ENCODING.sub(r"\1\2UTF-8\2", content, count=1).encode("utf-8")
    else:
        raw = content
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
    if not raw.strip():
        return None, [Problem(filename, None, "the file is empty", kind="xml")]
    try:
        root = etree.fromstring(raw, _parser())
    except etree.XMLSyntaxError as err:
        return None, [Problem(filename, None, _syntax_reason(err, raw), err.lineno, kind="xml")]
    except (ValueError, LookupError) as err:  # lxml's own refusals of an input
        return None, [Problem(filename, None, f"is not readable XML: {err}", kind="xml")]
    tree = root.getroottree()
    if getattr(tree.docinfo, "doctype", "") or tree.docinfo.internalDTD is not None:
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


def _syntax_reason(err: etree.XMLSyntaxError, raw: bytes) -> str:
    """Why the XML parser stopped, in words: encodings first, as modelers' files differ there."""
    message = str(err.msg or "")
    declared_match = _PROLOG_ENCODING_BYTES.match(raw)
    declared = declared_match.group(1).decode("ascii", "replace") if declared_match else None
    if message.startswith("Unsupported encoding"):
        return (
            f"declares the encoding '{declared}', which is not known here; "
            "save the diagram again as UTF-8"
        )
    if "Invalid bytes in character encoding" in message or "not proper UTF-8" in message:
        said = (
            f"the encoding it declares ({declared})" if declared else "UTF-8 (no encoding declared)"
        )
        return (
            f"its characters at line {err.lineno} are not in {said}; save the diagram again as "
            'UTF-8, or declare the encoding it is in (<?xml version="1.0" encoding="ISO-8859-1"?>)'
        )
    if message.startswith(("Document is empty", "Start tag expected")):
        return "is not XML: it does not begin with an element such as <bpmn:definitions>"
    return f"is not well-formed XML: {message}"


def diagram_text(raw: bytes | str, tree: etree._ElementTree) -> str:
    """A readable diagram as text, what is stored and shown: UTF-8 files as they are; a file
    in another encoding (ISO-8859-1, UTF-16 ...) as the same XML without its prolog."""
    if isinstance(raw, str):
        return raw
    encoding = (tree.docinfo.encoding or "UTF-8").upper().replace("_", "-")
    if encoding in {"UTF-8", "UTF8", "ASCII", "US-ASCII"}:
        return raw.decode("utf-8-sig")
    return etree.tostring(tree, encoding="unicode")
