"""The inbox: the person's open tasks, one task's page and form, and what they have done."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from engine.errors import FormInvalid
from engine.instances.assignment import describe_holder
from engine.instances.steps import complete_task_or_log_refusal
from webui.auth.login import login_required_response, require_person
from webui.database import app_database, request_session
from webui.forms_html import (
    ADD_ROW,
    errors_outside_fields,
    form_fields,
    form_time_zone,
    parse_submission,
    read_moments,
)
from webui.inbox.queries import (
    TaskPage,
    done_tasks,
    inbox_choices,
    task_extras,
    task_page,
)
from webui.settings import default_time_zone, minimum_notice, procedure_settings
from workflows.board.applications import has_applications
from workflows.board.seats import is_seat_task
from workflows.inbox.deadlines import deadline_of, deadlines
from workflows.inbox.filters import inbox_filter
from workflows.inbox.tasks import open_tasks
from workflows.procedures.access import check_may_open, check_may_open_or_follow
from workflows.procedures.pages import first_steps

bp = Blueprint("inbox", __name__)
bp.before_request(login_required_response)
# `task is seat_task`: a Board seat's own task, answered by its holder and never claimed.
bp.add_app_template_test(is_seat_task, "seat_task")


@bp.get("/")
def home() -> ResponseReturnValue:
    """The site's front door is the inbox."""
    return redirect(url_for("inbox.inbox"))


@bp.get("/inbox")
def inbox() -> ResponseReturnValue:
    """The person's open tasks, filtered and sorted as the query string says."""
    person, chosen, now = require_person(), inbox_filter(request.args), datetime.now(UTC)
    session = request_session()
    rows = open_tasks(session, person.participant, chosen, now)
    nothing_to_do = not rows and not chosen.narrowed
    marks = deadlines(session, [row.task for row in rows], now, procedure_settings().reminders)
    return render_template(
        "inbox/inbox.html",
        rows=rows,
        chosen=chosen,
        now=now,
        # An empty inbox offers a first step: the person's applications, what they may start.
        has_applications=nothing_to_do and has_applications(session, person.participant.username),
        startable=first_steps(session, person.participant) if nothing_to_do else [],
        deadlines=marks,
        **inbox_choices(session),
    )


def render_task(
    page: TaskPage,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    add_row: str | None = None,
    *,
    following: bool = False,
    files: Mapping[str, str] | None = None,
) -> str:
    """The task page; `values` and `errors` by field of its form, `files` what the page says
    beside its documents and comments (see documents.py)."""
    now = datetime.now(UTC)
    return render_template(
        "inbox/task.html",
        task=page.task,
        instance=page.instance,
        following=following,
        secretariat=require_person().participant.holds("secretariat"),
        holder=describe_holder(page.task),
        fields=form_fields(page.schema, values, errors, add_row),
        form_errors=errors_outside_fields(page.schema, errors or {}),
        time_zone=form_time_zone(values, default_time_zone()),
        files=files or {},
        now=now,
        deadline=deadline_of(request_session(), page.task, now, procedure_settings().reminders),
        **task_extras(request_session(), page, require_person().participant),
    )


@bp.get("/tasks/<int:task_id>")
def task(task_id: int) -> ResponseReturnValue:
    """One task: what the methodology asks, and its form."""
    person = require_person()
    page = task_page(request_session(), task_id)
    following = check_may_open_or_follow(person.participant, page.task)
    return render_task(page, following=following)


@bp.post("/tasks/<int:task_id>/complete")
def complete(task_id: int) -> ResponseReturnValue:
    """Submit a task's form; the engine checks it and moves the procedure on."""
    person = require_person()
    page = task_page(request_session(), task_id)
    if ADD_ROW in request.form:
        # "Add another row" without script: the same form again, one row longer, unsent.
        check_may_open(person.participant, page.task)
        return render_task(page, request.form, add_row=request.form[ADD_ROW])
    data = parse_submission(page.schema, request.form, default_time_zone())
    _read, unread = read_moments(page.schema, request.form, default_time_zone())
    now = datetime.now(UTC)
    try:
        complete_task_or_log_refusal(
            app_database().factory,
            task_id,
            data,
            participant=person.participant,
            now=now,
            notice=minimum_notice(),
        )
    except FormInvalid as invalid:
        # A date and time that names no moment: the page says why in the picker's terms.
        return render_task(page, request.form, {**invalid.errors, **unread}), 400
    flash(gettext("Done: %(task)s.", task=page.task.name), "success")
    return redirect(url_for("inbox.inbox"))


@bp.get("/done")
def done() -> ResponseReturnValue:
    """Done by me: the tasks the person completed, with what they submitted."""
    person = require_person()
    rows = done_tasks(request_session(), person.username)
    return render_template("inbox/done.html", rows=rows)
