"""The outbox (the Secretariat's) and the page where a person chooses how mail comes."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext, lazy_gettext
from werkzeug.exceptions import Forbidden, NotFound

from models import MAIL_MODES, User
from webui.auth.login import login_required_response, require_person
from webui.database import request_session, unit_of_work
from webui.settings import procedure_settings
from workflows.mail.outbox import mail_server_state, outbox_message, outbox_page
from workflows.mail.preferences import choose_mail_mode
from workflows.people.roles import SECRETARIAT

bp = Blueprint("mail", __name__)
bp.before_request(login_required_response)

STATUS_WORDS = {
    "pending": lazy_gettext("waiting to be sent"),
    "digest": lazy_gettext("waiting for the daily digest"),
    "sent": lazy_gettext("sent"),
    "bundled": lazy_gettext("sent in a digest"),
    "failed": lazy_gettext("not sent: gave up"),
    "no_address": lazy_gettext("not sent: no e-mail address"),
}
KIND_WORDS = {
    "new_task": lazy_gettext("new task"),
    "reminder": lazy_gettext("reminder"),
    "escalation": lazy_gettext("late task"),
    "digest": lazy_gettext("daily digest"),
    "account": lazy_gettext("account"),
    "notice": lazy_gettext("notice"),
    "board_outcome": lazy_gettext("Board decision"),
    "membership_outcome": lazy_gettext("outcome of an application"),
    "board_notification": lazy_gettext("notification to the Board"),
    "procedure.withdrawn": lazy_gettext("procedure withdrawn"),
}
MODE_WORDS = {
    "immediate": (
        lazy_gettext("Each mail as it comes"),
        lazy_gettext("You hear of a new task or a reminder within a minute or so."),
    ),
    "digest": (
        lazy_gettext("One mail a day"),
        lazy_gettext(
            "Everything since the day before comes together in one mail a day. "
            "Deadlines do not wait for it: check your inbox when a deadline is near."
        ),
    ),
}


def _secretariat_only() -> None:
    if not require_person().participant.holds(SECRETARIAT):
        raise Forbidden(gettext("The outbox is for the Secretariat."))


@bp.get("/outbox")
def outbox() -> ResponseReturnValue:
    """Every mail the system has written, the newest first, by status, a page at a time."""
    _secretariat_only()
    page = outbox_page(
        request_session(),
        request.args.get("status") or None,
        request.args.get("page", default=1, type=int) or 1,
    )
    return render_template(
        "mail/outbox.html",
        page=page,
        server=mail_server_state(procedure_settings().mail.smtp),
        status_words=STATUS_WORDS,
        kind_words=KIND_WORDS,
    )


@bp.get("/outbox/<int:message_id>")
def message(message_id: int) -> ResponseReturnValue:
    """One mail: to whom, what happened to it, and its text."""
    _secretariat_only()
    row = outbox_message(request_session(), message_id)
    if row is None:
        raise NotFound(gettext("There is no such mail. Start from the outbox."))
    return render_template(
        "mail/message.html",
        row=row,
        message=row.message,
        status_words=STATUS_WORDS,
        kind_words=KIND_WORDS,
    )


def _render_account(error: str | None = None) -> str:
    person = require_person()
    user = request_session().get(User, person.user_id)
    if user is None:  # logged in a moment ago, removed since
        raise NotFound()
    return render_template(
        "mail/account.html",
        user=user,
        modes=[(mode, *MODE_WORDS[mode]) for mode in MAIL_MODES],
        digest_hour=f"{procedure_settings().mail.digest_hour_utc:02d}:00 UTC",
        error=error,
    )


@bp.get("/account/mail")
def account() -> ResponseReturnValue:
    """How the person gets mail: each mail as it comes, or one a day."""
    return _render_account()


@bp.post("/account/mail")
def choose() -> ResponseReturnValue:
    """Save the person's choice of immediate mail or a daily digest."""
    person = require_person()
    mode = request.form.get("mail_mode", "")
    if mode not in MAIL_MODES:
        return _render_account(gettext("Choose how you want to get mail.")), 400
    now = datetime.now(UTC)
    changed = unit_of_work(lambda s: choose_mail_mode(s, person.user_id, mode, now=now))
    if changed:
        flash(
            gettext("Saved: you get each mail as it comes.")
            if mode == "immediate"
            else gettext("Saved: you get one mail a day."),
            "success",
        )
    else:
        flash(gettext("Nothing to change: that is how you get mail already."), "info")
    return redirect(url_for("mail.account"))
