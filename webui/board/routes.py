"""The Board's pages: a silent procedure and its answers, the decision register (page, CSV,
print), and the member register."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext, lazy_gettext
from werkzeug.exceptions import Forbidden, NotFound

from engine.errors import FormInvalid
from webui.auth.login import current_person, login_required_response, require_person
from webui.database import app_database, request_session
from workflows.board.answering import answer_silent_procedure
from workflows.board.members import FOCAL_POINT_WORDS, member_register
from workflows.board.readers import may_read_registers, may_read_silent_procedures
from workflows.board.register import decision_page, decision_pages, decision_register_page
from workflows.board.register_csv import decision_register_csv
from workflows.board.seats import ANSWER_WORDS
from workflows.board.silent_procedure import silent_procedure_page
from workflows.people.roles import partner_name

bp = Blueprint("board", __name__)
bp.before_request(login_required_response)

NOT_ON_THE_BOARD = lazy_gettext(
    "Silent procedures are for Board members, their alternates and the Secretariat. "
    "Your roles do not include these."
)
NOT_A_MEMBER = lazy_gettext(
    "The decision and member registers are for IISG members, Board members and the "
    "Secretariat. Your roles do not include these."
)
CSV_NAME = "iisg-board-decisions.csv"


@bp.app_context_processor
def _board_navigation() -> dict[str, Any]:
    # The navigation links to the registers only for those who may read them.
    person = current_person()
    return {"reads_board_registers": person is not None and may_read_registers(person.participant)}


def _check_silent_procedure_reader() -> None:
    if not may_read_silent_procedures(require_person().participant):
        raise Forbidden(str(NOT_ON_THE_BOARD))


def _check_register_reader() -> None:
    if not may_read_registers(require_person().participant):
        raise Forbidden(str(NOT_A_MEMBER))


def _render_silent_procedure(
    instance_id: int,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
) -> str:
    person = require_person()
    page = silent_procedure_page(
        request_session(), instance_id, person.participant, datetime.now(UTC)
    )
    if page is None:
        raise NotFound(
            gettext("This procedure has launched no silent procedure. Start from your inbox.")
        )
    return render_template(
        "board/silent_procedure.html",
        page=page,
        decision=page.decision,
        values=values or {},
        errors=errors or {},
        answer_words=ANSWER_WORDS,
        seat_name=partner_name,
        may_read_registers=may_read_registers(person.participant),
    )


@bp.get("/silent-procedures/<int:instance_id>")
def silent_procedure(instance_id: int) -> ResponseReturnValue:
    """A silent procedure: the proposal, the deadline, the answer buttons, the answers so far."""
    _check_silent_procedure_reader()
    return _render_silent_procedure(instance_id)


@bp.post("/silent-procedures/<int:instance_id>/answer")
def answer(instance_id: int) -> ResponseReturnValue:
    """Answer for one's seat: no objection, or an objection with its reason."""
    _check_silent_procedure_reader()
    person = require_person()
    choice = request.form.get("answer", "")
    reason = request.form.get("reason")
    now = datetime.now(UTC)
    try:
        answer_silent_procedure(
            app_database().factory,
            instance_id,
            choice,
            reason,
            participant=person.participant,
            now=now,
            concerns=request.form.getlist("concerns"),
        )
    except FormInvalid as invalid:
        return _render_silent_procedure(instance_id, request.form, invalid.errors), 400
    flash(
        gettext("Your answer is recorded: %(answer)s.", answer=ANSWER_WORDS.get(choice, choice)),
        "success",
    )
    return redirect(url_for("board.silent_procedure", instance_id=instance_id))


@bp.get("/decisions")
def decisions() -> ResponseReturnValue:
    """The decision register: the Board's decisions, the newest first, a page at a time."""
    _check_register_reader()
    number = request.args.get("page", 1, type=int)
    return render_template(
        "board/decisions.html", register=decision_register_page(request_session(), number)
    )


@bp.get("/decisions/print")
def decisions_print() -> ResponseReturnValue:
    """The whole register with every seat's answer, laid out for printing."""
    _check_register_reader()
    return render_template(
        "board/decisions_print.html",
        pages=decision_pages(request_session()),
        printed_at=datetime.now(UTC),
    )


@bp.get("/decisions.csv")
def decisions_csv() -> ResponseReturnValue:
    """The decision register as CSV: one row per decision per seat's answer."""
    _check_register_reader()
    return Response(
        decision_register_csv(request_session()),
        mimetype="text/csv",  # Werkzeug adds "; charset=utf-8"
        headers={"Content-Disposition": f'attachment; filename="{CSV_NAME}"'},
    )


@bp.get("/decisions/<int:decision_id>")
def decision(decision_id: int) -> ResponseReturnValue:
    """One decision: its text, documents, each seat's answer or silence, minutes, outcome."""
    _check_register_reader()
    person = require_person()
    page = decision_page(request_session(), decision_id)
    if page is None:
        raise NotFound(gettext("There is no such decision. Start from the decision register."))
    return render_template(
        "board/decision.html",
        page=page,
        decision=page.decision,
        reads_silent_procedures=may_read_silent_procedures(person.participant),
    )


@bp.get("/members")
def members() -> ResponseReturnValue:
    """The member register: organisations, their group, since when, and focal points."""
    _check_register_reader()
    person = require_person()
    is_secretariat = person.participant.holds("secretariat")
    rows = member_register(request_session(), with_applicants=is_secretariat)
    return render_template(
        "board/members.html",
        members=[r for r in rows if r.organisation.is_member],
        others=[r for r in rows if not r.organisation.is_member],
        kinds=list(FOCAL_POINT_WORDS),
        kind_words=FOCAL_POINT_WORDS,
    )
