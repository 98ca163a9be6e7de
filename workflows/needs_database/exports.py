"""Any filtered view of needs or responses as CSV or XLSX, with exactly its rows."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

# Who reads the database: members, in whichever role; applicants and strangers do not.
from workflows.needs_database.terms import SUB_PILLAR_TITLES
from workflows.people.roles import partner_name

# --- exports ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A column of an export: its heading and how a row gives its value."""

    heading: str
    value: Callable[[Any], str | int | None]


NEED_COLUMNS: tuple[Column, ...] = (
    Column("ID", lambda n: n.id),
    Column("Partner", lambda n: partner_name(n.partner)),
    Column("Pillar", lambda n: n.pillar),
    Column("Sub-pillar", lambda n: SUB_PILLAR_TITLES.get(n.sub_pillar or "", "")),
    Column("Kind", lambda n: n.kind),
    Column("Perspective", lambda n: n.perspective),
    Column("Description", lambda n: n.description),
    Column("Source", lambda n: n.source_kind),
    Column("Year", lambda n: n.source_year),
    Column("Status", lambda n: n.status),
)
RESPONSE_COLUMNS: tuple[Column, ...] = (
    Column("ID", lambda r: r.id),
    Column("Need", lambda r: r.need_id),
    Column("Provider", lambda r: partner_name(r.provider)),
    Column("Provider kind", lambda r: r.provider_kind),
    Column("Description", lambda r: r.description),
    Column("Period", lambda r: r.period),
    Column("Year", lambda r: r.year),
    Column("Status", lambda r: r.status),
    Column("Funding", lambda r: r.funding),
    Column("State", lambda r: r.state),
)


def _looks_like_formula(value: object) -> bool:
    return isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r")


def _cell_text(value: str | int | None) -> str | int:
    if value is None:
        return ""
    # CSV has no types: a leading apostrophe is what keeps a spreadsheet from running it.
    if _looks_like_formula(value):
        return "'" + str(value)
    return value


def export_csv(rows: Iterable[Any], columns: Sequence[Column]) -> str:
    """The rows as CSV, one line per row under a line of headings."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.heading for c in columns])
    for row in rows:
        writer.writerow([_cell_text(c.value(row)) for c in columns])
    return out.getvalue()


# XML 1.0, which an XLSX file is written in, cannot hold these control characters (openpyxl
# refuses them); a pasted one is shown as the replacement character instead.
_NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _xlsx_value(value: str | int | None) -> str | int:
    if value is None:
        return ""
    return _NOT_IN_XML.sub("\ufffd", value) if isinstance(value, str) else value


def export_xlsx(rows: Iterable[Any], columns: Sequence[Column], *, title: str = "IISG") -> bytes:
    """The rows as an Excel workbook of one sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    sheet.append([c.heading for c in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        values = [c.value(row) for c in columns]
        sheet.append([_xlsx_value(value) for value in values])
        for cell in sheet[sheet.max_row]:
            if _looks_like_formula(cell.value):
                # Kept as the text typed: a string cell, with the quote prefix a spreadsheet
                # keeps when the cell is edited, so it never becomes a formula.
                cell.data_type = "s"
                cell.quotePrefix = True
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
