"""Withdrawing a procedure from its page: the reason, a confirmation, then the withdrawal."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from werkzeug.exceptions import Forbidden, NotFound

from engine.errors import NotAllowed, Refused
from engine.instances.steps import CANCEL_REASON_MAX_CHARS
from models import ProcessInstance
from webui.auth.login import require_person
from webui.database import request_session, unit_of_work
from webui.procedures.routes import bp
from workflows.procedures.pages import open_tasks_of
from workflows.withdrawal.withdraw import WITHDRAW_REFUSAL, may_withdraw, withdraw_procedure


def _withdrawable(instance_id: int) -> ProcessInstance:
    """The instance, if this person may withdraw it (403 in words, or 404, if not)."""
    session = request_session()
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound(gettext("There is no procedure %(id)s.", id=instance_id))
    if not may_withdraw(session, require_person().participant, instance):
        raise Forbidden(gettext(WITHDRAW_REFUSAL))
    return instance


def _render_confirmation(
    instance: ProcessInstance, reason: str, errors: Mapping[str, str] | None = None
) -> str:
    return render_template(
        "procedures/withdraw.html",
        instance=instance,
        reason=reason,
        errors=errors or {},
        open_tasks=open_tasks_of(request_session(), instance.id),
        max_chars=CANCEL_REASON_MAX_CHARS,
    )


@bp.post("/instances/<int:instance_id>/withdraw")
def withdraw(instance_id: int) -> ResponseReturnValue:
    """Ask to confirm the withdrawal and its reason; once confirmed, withdraw the procedure."""
    person = require_person()
    instance = _withdrawable(instance_id)
    reason = request.form.get("reason", "")
    if request.form.get("confirmed") != "yes":
        return _render_confirmation(instance, reason)
    title = instance.title
    try:
        unit_of_work(
            lambda s: withdraw_procedure(
                s, person.participant, instance_id, reason, datetime.now(UTC)
            )
        )
    except Refused as refused:
        # Nothing was written; the reason typed so far stays in the field.
        return _render_confirmation(instance, reason, refused.errors), 422
    except NotAllowed as refused:
        raise Forbidden(str(refused)) from refused
    flash(
        gettext(
            "Withdrawn: %(title)s. Its open tasks are withdrawn, and the people who held them "
            "are told.",
            title=title,
        ),
        "success",
    )
    return redirect(url_for("procedures.instance", instance_id=instance_id))
