"""Claiming and releasing a task, and the Secretariat's reassignment of one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from werkzeug.exceptions import Forbidden
from werkzeug.wrappers import Response

from engine.instances.claims import claim_task, release_task
from engine.instances.steps import ensure_open
from webui.auth.login import require_person
from webui.database import request_session, unit_of_work
from webui.inbox.queries import task_page
from webui.inbox.routes import bp
from workflows.inbox.filters import inbox_filter
from workflows.inbox.reassignment import reassign_task, who_may_take
from workflows.inbox.tasks import scope_words
from workflows.refusals import RequestRefused


def _back(task_id: int) -> Response:
    # Back where the button was: the task page, or the inbox with the same filters.
    if request.form.get("return_to") == "task":
        return redirect(url_for("inbox.task", task_id=task_id))
    query: dict[str, Any] = inbox_filter(request.args).query()
    return redirect(url_for("inbox.inbox", **query))


@bp.post("/tasks/<int:task_id>/claim")
def claim(task_id: int) -> ResponseReturnValue:
    """Take a task offered to several holders, so that only you see it."""
    person = require_person()
    now = datetime.now(UTC)
    task = unit_of_work(lambda s: claim_task(s, task_id, participant=person.participant, now=now))
    flash(
        gettext(
            "Claimed: %(task)s. The others who hold this role no longer see it.", task=task.name
        ),
        "success",
    )
    return _back(task_id)


@bp.post("/tasks/<int:task_id>/release")
def release(task_id: int) -> ResponseReturnValue:
    """Give a claimed task back to everyone who holds its role."""
    person = require_person()
    now = datetime.now(UTC)
    task = unit_of_work(lambda s: release_task(s, task_id, participant=person.participant, now=now))
    flash(
        gettext("Released: %(task)s is back with everyone who holds this role.", task=task.name),
        "success",
    )
    return _back(task_id)


def _render_reassign(task_id: int, error: str | None = None) -> str:
    session = request_session()
    page = task_page(session, task_id)
    ensure_open(page.task)
    return render_template(
        "inbox/reassign.html",
        task=page.task,
        instance=page.instance,
        scope=scope_words(page.task),
        holders=who_may_take(session, page.task),
        error=error,
    )


def _secretariat_only() -> None:
    if not require_person().participant.holds("secretariat"):
        raise Forbidden(gettext("Only the Secretariat may reassign tasks."))


@bp.get("/tasks/<int:task_id>/reassign")
def reassign_form(task_id: int) -> ResponseReturnValue:
    """The Secretariat chooses who should take an open task."""
    _secretariat_only()
    return _render_reassign(task_id)


@bp.post("/tasks/<int:task_id>/reassign")
def reassign(task_id: int) -> ResponseReturnValue:
    """Hand an open task to the chosen holder of its role."""
    _secretariat_only()
    person = require_person()
    username = request.form.get("username", "")
    now = datetime.now(UTC)
    try:
        task = unit_of_work(
            lambda s: reassign_task(s, task_id, username, actor=person.participant, now=now)
        )
    except RequestRefused as refused:
        return _render_reassign(task_id, str(refused)), 400
    flash(
        gettext(
            "Reassigned: %(task)s is now with %(holder)s.", task=task.name, holder=task.claimed_by
        ),
        "success",
    )
    return redirect(url_for("inbox.inbox", whose="everyone"))
