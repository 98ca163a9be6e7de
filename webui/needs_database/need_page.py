"""One need: what it says, its responses, its history; editing it and adding a response."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from sqlalchemy.orm import Session
from werkzeug.exceptions import NotFound

from engine.errors import NotAllowed
from models import Need
from models.mapping import NEED_KINDS, NEED_STATUSES, PERSPECTIVES, SUB_PILLARS
from webui.auth.login import require_person
from webui.database import request_session, unit_of_work
from webui.needs_database.blueprint import bp
from workflows.needs_database.changes import add_response as record_response
from workflows.needs_database.changes import update_need as record_need_change
from workflows.needs_database.search import need_detail
from workflows.needs_database.terms import NEED_FIELDS, PERIODS, RESPONSE_FIELDS, RESPONSE_STATUSES
from workflows.people.roles import BOARD_SEATS
from workflows.refusals import RequestRefused


def _render(
    need_id: int,
    problems: list[str] | None = None,
    values: Mapping[str, str] | None = None,
) -> str:
    session = request_session()
    if session.get(Need, need_id) is None:
        raise NotFound(gettext("There is no such need in the IISG database."))
    detail = need_detail(session, need_id, require_person().participant)
    return render_template(
        "database/need.html",
        detail=detail,
        need=detail.need,
        problems=problems or [],
        values=values or {},
        sub_pillars=SUB_PILLARS,
        kinds=NEED_KINDS,
        perspectives=PERSPECTIVES,
        need_statuses=NEED_STATUSES,
        periods=PERIODS,
        response_statuses=RESPONSE_STATUSES,
        providers=BOARD_SEATS,
        secretariat=require_person().participant.holds("secretariat"),
        this_year=datetime.now(UTC).year,
    )


@bp.get("/needs/<int:need_id>")
def need(need_id: int) -> ResponseReturnValue:
    """The need, its responses and every change made to it."""
    return _render(need_id)


def _sentence(err: Exception) -> str:
    text = str(err)
    return text[:1].upper() + text[1:]


def _change(need_id: int, work: Callable[[Session], Any], done: str) -> ResponseReturnValue:
    # Refusals come back on the need's page in plain words; the unit of work rolled back.
    if request_session().get(Need, need_id) is None:
        raise NotFound(gettext("There is no such need in the IISG database."))
    try:
        unit_of_work(work)
    except NotAllowed as refused:
        return _render(need_id, [_sentence(refused)], request.form), 403
    except RequestRefused as refused:
        return _render(need_id, [_sentence(refused)], request.form), 400
    flash(done, "success")
    return redirect(url_for("database.need", need_id=need_id))


@bp.post("/needs/<int:need_id>")
def edit(need_id: int) -> ResponseReturnValue:
    """Change the need (its partner's focal points and the Secretariat); refused in words."""
    viewer = require_person().participant
    changes = {name: request.form.get(name, "") for name in NEED_FIELDS if name in request.form}
    return _change(
        need_id,
        lambda s: record_need_change(s, need_id, changes, viewer=viewer, now=datetime.now(UTC)),
        gettext("The need is updated; the change is in its history."),
    )


@bp.post("/needs/<int:need_id>/responses")
def respond(need_id: int) -> ResponseReturnValue:
    """Add a response to the need; refused in words, nothing changed."""
    viewer = require_person().participant
    data = {name: request.form.get(name, "") for name in (*RESPONSE_FIELDS, "provider")}
    return _change(
        need_id,
        lambda s: record_response(s, need_id, data, viewer=viewer, now=datetime.now(UTC)),
        gettext("The response is added to the need."),
    )
