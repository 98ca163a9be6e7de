"""Needs and responses: search and filters in the query string, and their CSV/XLSX exports."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from flask import Response, render_template, request
from flask.typing import ResponseReturnValue

from models.mapping import NEED_KINDS, NEED_STATUSES, PERSPECTIVES, SUB_PILLARS
from webui.auth.login import require_person
from webui.database import request_session
from webui.needs_database.blueprint import bp
from workflows.needs_database.exports import (
    NEED_COLUMNS,
    RESPONSE_COLUMNS,
    Column,
    export_csv,
    export_xlsx,
)
from workflows.needs_database.filters import NeedFilter
from workflows.needs_database.search import search_needs, search_responses
from workflows.people.roles import PILLARS, WB_PARTNERS

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _choices() -> dict[str, Any]:
    return {
        "partners": WB_PARTNERS,
        "pillars": PILLARS,
        "sub_pillars": SUB_PILLARS,
        "kinds": NEED_KINDS,
        "perspectives": PERSPECTIVES,
        "statuses": NEED_STATUSES,
    }


def _download(body: str | bytes, name: str, mimetype: str) -> Response:
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _export(
    search: Callable[..., Sequence[Any]], columns: Sequence[Column], name: str, xlsx: bool
) -> Response:
    rows = search(
        request_session(), NeedFilter.from_params(request.args), viewer=require_person().participant
    )
    if xlsx:
        return _download(export_xlsx(rows, columns), f"{name}.xlsx", XLSX_TYPE)
    return _download(export_csv(rows, columns), f"{name}.csv", "text/csv")


def _page(template: str, f: NeedFilter, rows: Sequence[Any]) -> str:
    return render_template(
        template, f=f, rows=rows, args=f.to_params(), values=request.args, **_choices()
    )


@bp.get("/needs")
def needs() -> ResponseReturnValue:
    """The needs the filters select, with links to export exactly these."""
    f = NeedFilter.from_params(request.args)
    rows = search_needs(request_session(), f, viewer=require_person().participant)
    return _page("database/needs.html", f, rows)


@bp.get("/needs.csv")
def needs_csv() -> ResponseReturnValue:
    """The filtered needs as CSV."""
    return _export(search_needs, NEED_COLUMNS, "iisg-needs", xlsx=False)


@bp.get("/needs.xlsx")
def needs_xlsx() -> ResponseReturnValue:
    """The filtered needs as an Excel workbook."""
    return _export(search_needs, NEED_COLUMNS, "iisg-needs", xlsx=True)


@bp.get("/responses")
def responses() -> ResponseReturnValue:
    """The responses to the needs the filters select."""
    f = NeedFilter.from_params(request.args)
    rows = search_responses(request_session(), f, viewer=require_person().participant)
    return _page("database/responses.html", f, rows)


@bp.get("/responses.csv")
def responses_csv() -> ResponseReturnValue:
    """The filtered responses as CSV."""
    return _export(search_responses, RESPONSE_COLUMNS, "iisg-responses", xlsx=False)


@bp.get("/responses.xlsx")
def responses_xlsx() -> ResponseReturnValue:
    """The filtered responses as an Excel workbook."""
    return _export(search_responses, RESPONSE_COLUMNS, "iisg-responses", xlsx=True)
