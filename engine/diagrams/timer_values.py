"""Timer values as modelers write them: a bare ISO 8601 value is that value.

Camunda Modeler, bpmn.io and the BPMN specification's examples write a timer as `PT1H`,
`R6/P1D` or `2026-11-30T17:00:00+01:00`. SpiffWorkflow evaluates a timer as an expression,
where `PT1H` is a variable name and `R6/P1D` a division. A timer whose whole text is an ISO
8601 duration, repetition or date-time is therefore read as that text (as if quoted:
`"PT1H"`); anything else (the quoted form, a variable, `add_working_days(...)`) stays an
expression.
"""

from __future__ import annotations

import re

from lxml import etree

from engine.diagrams.bpmn import NS

_NUMBER = r"\d+(?:[.,]\d+)?"
_DURATION = (
    rf"P(?=\d|T\d)(?:{_NUMBER}Y)?(?:{_NUMBER}M)?(?:{_NUMBER}W)?(?:{_NUMBER}D)?"
    rf"(?:T(?=\d)(?:{_NUMBER}H)?(?:{_NUMBER}M)?(?:{_NUMBER}S)?)?"
)
_DATE_TIME = (
    r"\d{4}-\d{2}-\d{2}(?:T\d{2}(?::\d{2}(?::\d{2}(?:[.,]\d+)?)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?"
)
_WHOLE = re.compile(
    rf"(?:{_DURATION}|{_DATE_TIME}|R\d*/(?:{_DURATION}|{_DATE_TIME})(?:/(?:{_DURATION}|{_DATE_TIME}))?)",
    re.IGNORECASE,
)
TIMER_KINDS = ("timeDate", "timeDuration", "timeCycle")


def bare_iso_value(text: str) -> str | None:
    """The ISO 8601 value a timer's whole text is (`PT1H`, `R6/P1D`, a date-time), or None
    when the text is an expression."""
    stripped = text.strip()
    return stripped if _WHOLE.fullmatch(stripped) else None


def quote_iso_timers(tree: etree._ElementTree) -> None:
    """Write each bare ISO 8601 timer value of a parsed diagram as the string expression
    SpiffWorkflow evaluates (`PT1H` -> `"PT1H"`); the stored file keeps what the modeler
    wrote."""
    for kind in TIMER_KINDS:
        for node in tree.getroot().iterfind(f".//bpmn:timerEventDefinition/bpmn:{kind}", NS):
            value = bare_iso_value(node.text or "")
            if value is not None:
                node.text = f'"{value}"'
