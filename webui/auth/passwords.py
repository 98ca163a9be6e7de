"""A person's password: changing it (the current one asked), setting a new one through a link
mailed to them when they have forgotten it, and choosing their first through an invitation."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from sqlalchemy.orm import Session
from werkzeug.exceptions import NotFound

from engine.errors import Refused
from models import User
from webui.auth.login import current_person, log_out, login_required_response, require_person
from webui.database import request_session, unit_of_work
from webui.settings import password_reset_valid
from workflows.accounts.invitations import accept_invitation, invited_person
from workflows.accounts.links import (
    RESET,
    live_link,
    request_password_reset,
    reset_password,
)
from workflows.people.accounts import change_password, check_password

bp = Blueprint("passwords", __name__)

# The link's secret is in the address: no page it leads to may pass it on.
NO_REFERRER = {"Referrer-Policy": "no-referrer"}


def _mismatch(new: str, repeated: str) -> dict[str, str]:
    if new != repeated:
        return {"repeat_password": gettext("The two new passwords differ: type the same twice.")}
    return {}


@bp.route("/account/password", methods=["GET", "POST"])
def change() -> ResponseReturnValue:
    """Change one's password: the current one, then the new one twice."""
    refused = login_required_response()
    if refused is not None:
        return refused
    person = require_person()
    if request.method == "GET":
        return render_template("auth/password.html", errors={})
    current = request.form.get("current_password", "")
    new = request.form.get("new_password", "")
    errors = _mismatch(new, request.form.get("repeat_password", ""))
    now = datetime.now(UTC)

    def work(db: Session) -> None:
        user = db.get(User, person.user_id)
        if user is None or not check_password(user, current):
            raise Refused("current_password", gettext("That is not your current password."))
        if errors:
            raise Refused(*next(iter(errors.items())))
        change_password(
            db,
            user.username,
            new,
            actor=user.username,
            now=now,
            field="new_password",
            keep_secret=person.session_secret,
        )

    try:
        unit_of_work(work)
    except Refused as err:
        return render_template("auth/password.html", errors=err.errors), 422
    flash(gettext("Your password is changed. Every other session of yours has ended."), "success")
    return redirect(url_for("passwords.change"))


@bp.route("/login/forgot", methods=["GET", "POST"])
def forgot() -> ResponseReturnValue:
    """Ask for a link to set a new password; the answer is the same for any name typed."""
    if request.method == "GET":
        return render_template("auth/forgot.html", typed="", sent=False)
    typed = request.form.get("name_or_address", "").strip()
    if not typed:
        errors = {"name_or_address": gettext("Type your user name or your e-mail address.")}
        return render_template("auth/forgot.html", typed=typed, sent=False, errors=errors), 422
    now = datetime.now(UTC)
    valid = password_reset_valid()
    unit_of_work(lambda s: request_password_reset(s, typed[:255], now=now, valid=valid))
    return render_template("auth/forgot.html", typed="", sent=True)


@bp.route("/login/reset/<secret>", methods=["GET", "POST"])
def reset(secret: str) -> ResponseReturnValue:
    """Set a new password through the link of a reset mail (once, while it is valid)."""
    now = datetime.now(UTC)
    if live_link(request_session(), secret, RESET, now=now) is None:
        raise NotFound(
            gettext(
                "This link to set a password has expired or was used already. Ask for a new "
                "one on the login page."
            )
        )
    if request.method == "GET":
        return render_template("auth/reset.html", secret=secret, errors={}), 200, NO_REFERRER
    new = request.form.get("new_password", "")
    errors = _mismatch(new, request.form.get("repeat_password", ""))

    def work(db: Session) -> User | None:
        if errors:
            raise Refused(*next(iter(errors.items())))
        return reset_password(db, secret, new, now=now)

    try:
        user = unit_of_work(work)
    except Refused as err:
        page = render_template("auth/reset.html", secret=secret, errors=err.errors)
        return page, 422, NO_REFERRER
    if user is None:  # used a moment ago, in another tab
        raise NotFound(gettext("This link to set a password was used already."))
    if current_person() is not None:
        log_out(now=now)
    session.clear()
    flash(gettext("Your new password is set. Log in with it."), "success")
    return redirect(url_for("auth.login"))


@bp.route("/login/invitation/<secret>", methods=["GET", "POST"])
def invitation(secret: str) -> ResponseReturnValue:
    """Welcome an invited person: they choose their password through their invitation's link
    (once, while it is valid), then log in with it."""
    now = datetime.now(UTC)
    invited = invited_person(request_session(), secret, now=now)
    if invited is None:
        raise NotFound(
            gettext(
                "This invitation has expired or was used already. Ask the IISG Secretariat "
                "for a new one."
            )
        )
    if request.method == "GET":
        page = render_template("auth/invitation.html", secret=secret, person=invited, errors={})
        return page, 200, NO_REFERRER
    new = request.form.get("new_password", "")
    errors = _mismatch(new, request.form.get("repeat_password", ""))

    def work(db: Session) -> User | None:
        if errors:
            raise Refused(*next(iter(errors.items())))
        return accept_invitation(db, secret, new, now=now)

    try:
        user = unit_of_work(work)
    except Refused as err:
        page = render_template(
            "auth/invitation.html", secret=secret, person=invited, errors=err.errors
        )
        return page, 422, NO_REFERRER
    if user is None:  # used a moment ago, in another tab
        raise NotFound(gettext("This invitation was used already."))
    if current_person() is not None:
        log_out(now=now)
    session.clear()
    flash(
        gettext(
            "Welcome, %(name)s: your password is set. Log in with your user name, %(username)s.",
            name=user.display_name,
            username=user.username,
        ),
        "success",
    )
    return redirect(url_for("auth.login"))
