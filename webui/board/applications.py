"""The applicant's own page: their membership applications, each with its state and next step."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import render_template
from flask.typing import ResponseReturnValue

from webui.auth.login import require_person
from webui.board.routes import bp
from webui.database import request_session
from workflows.board.applications import my_applications
from workflows.procedures.pages import MEMBERSHIP, may_start


@bp.get("/my-applications")
def applications() -> ResponseReturnValue:
    """The person's membership applications: where each stands, what comes next, the outcome."""
    person = require_person()
    return render_template(
        "board/applications.html",
        applications=my_applications(request_session(), person.participant.username),
        may_apply=may_start(request_session(), person.participant, MEMBERSHIP),
        now=datetime.now(UTC),
    )
