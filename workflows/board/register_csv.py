"""The decision register as CSV, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from sqlalchemy.orm import Session

from workflows.board.register import decision_pages

CSV_HEADER = (
    "decision_id",
    "subject",
    "method",
    "launched_at",
    "deadline",
    "closed_at",
    "outcome",
    "outcome_reason",
    "final_outcome",
    "followed_by",
    "on_next_meeting_agenda",
    "text_sha256",
    "seat",
    "answer",
    "reason",
    "answered_by",
    "answered_at",
)
# A cell a spreadsheet would read as a formula is written with a leading apostrophe.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def decision_register_csv(session: Session) -> str:
    """The decision register as CSV: a header, then one row per decision per seat's answer
    (one row with empty answer columns for a decision without seats' answers)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for page in decision_pages(session):
        d = page.decision
        common = [
            d.id,
            d.subject,
            page.method,
            d.launched_at,
            d.deadline,
            d.closed_at,
            d.outcome,
            d.outcome_reason,
            d.final_outcome,
            d.followed_by_id,
            d.on_next_meeting_agenda,
            d.text_sha256,
        ]
        answers: list[list[object]] = [
            [s.name, s.answer, s.reason, s.answered_by, s.answered_at] for s in page.seats
        ]
        for own in answers or [[None] * 5]:
            writer.writerow([_csv_cell(v) for v in common + own])
    return out.getvalue()
