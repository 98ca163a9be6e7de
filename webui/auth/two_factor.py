"""Two-factor sign-in in the browser: the code asked after the password, the page where a
person sets up their authenticator app (a QR code) and gets recovery codes, and the rule that
the Secretariat and the Board set it up before anything else when the setting requires it."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import segno
from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from markupsafe import Markup
from sqlalchemy.orm import Session
from werkzeug.exceptions import NotFound

from engine.errors import Refused
from models import User
from webui.auth import expiry
from webui.auth.login import current_person, log_in, login_required_response, require_person
from webui.database import request_session, unit_of_work
from webui.settings import two_factor_required
from workflows.people.login_throttle import ThrottleRule
from workflows.people.two_factor import (
    attempt_code,
    binds_the_iisg,
    enrolment_uri,
    new_recovery_codes,
    new_secret,
    recovery_codes_left,
    turn_off,
    turn_on,
)

bp = Blueprint("two_factor", __name__)

# The Flask session's keys: a sign-in waiting for its code, the secret being set up, and the
# mark of a person who must set up a second factor before anything else.
PENDING = "sign_in_waiting_for_code"
ENROLLING = "two_factor_secret_being_set_up"
MUST_SET_UP = "must_set_up_two_factor"
# How long the code may take after the password.
CODE_TIME = timedelta(minutes=5)
# What a person who must set up a second factor may still open.
OPEN_BEFORE_SET_UP = frozenset(
    {"two_factor.page", "two_factor.switch_on", "auth.logout", "static", "health.health"}
)


def wait_for_code(user_id: int, target: str | None, now: datetime) -> ResponseReturnValue:
    """The password was right and a code must follow: nobody is signed in yet."""
    session.clear()
    session[PENDING] = {"user_id": user_id, "since": now.isoformat(), "next": target}
    return redirect(url_for("two_factor.code"))


def mark_if_set_up_needed(user_id: int) -> None:
    """After a sign-in with the password alone: a person of the Secretariat or the Board sets
    up a second factor before anything else, when the setting requires it."""
    if not two_factor_required():
        return
    user = request_session().get(User, user_id)
    if user is not None and user.totp_secret is None and binds_the_iisg(user):
        session[MUST_SET_UP] = True


def _set_up_first() -> ResponseReturnValue | None:
    if not session.get(MUST_SET_UP) or request.endpoint in OPEN_BEFORE_SET_UP:
        return None
    if current_person() is None:
        session.pop(MUST_SET_UP, None)
        return None
    if request.path.startswith("/api/"):
        return None  # a token's request: its own rules apply
    return redirect(url_for("two_factor.page"))


def init_app(app: Flask) -> None:
    """Send whoever must set up a second factor to its page first."""
    app.before_request(_set_up_first)


def _waiting(now: datetime) -> dict[str, object] | None:
    pending = session.get(PENDING)
    if not isinstance(pending, dict):
        return None
    since = datetime.fromisoformat(str(pending.get("since")))
    if now - since > CODE_TIME:
        session.pop(PENDING, None)
        return None
    return pending


@bp.route("/login/code", methods=["GET", "POST"])
def code() -> ResponseReturnValue:
    """The second step of signing in: the code from the authenticator app, or a recovery code."""
    now = datetime.now(UTC)
    pending = _waiting(now)
    if pending is None:
        flash(gettext("Sign in again: the code was not given within five minutes."), "info")
        return redirect(url_for("auth.login"))
    if request.method == "GET":
        return render_template("auth/code.html", error=None)
    typed = request.form.get("code", "")[:64]
    rule: ThrottleRule = current_app.config.get("LOGIN_THROTTLE") or ThrottleRule()
    user_id = int(str(pending["user_id"]))
    address = request.remote_addr
    attempt = unit_of_work(
        lambda s: attempt_code(s, user_id, typed, now=now, rule=rule, remote_addr=address)
    )
    if attempt.wait is not None:
        seconds = math.ceil(attempt.wait.total_seconds())
        error = gettext(
            "Too many wrong codes. Wait %(seconds)d seconds, then try again.", seconds=seconds
        )
        page = render_template("auth/code.html", error=error)
        return page, 429, {"Retry-After": str(seconds)}
    if attempt.user_id is None:
        error = gettext(
            "That code is not right, or was used already. Type the six digits your app shows "
            "now, or one of your recovery codes."
        )
        return render_template("auth/code.html", error=error), 422
    target = pending.get("next")
    session.clear()
    log_in(attempt.user_id, now=now, remote_addr=address)
    session.permanent = True
    expiry.start(now)
    return redirect(str(target) if target else url_for("inbox.inbox"))


def _me(db: Session) -> User:
    user = db.get(User, require_person().user_id)
    if user is None:  # removed a moment ago
        raise NotFound()
    return user


def _qr(uri: str) -> Markup:
    # An SVG the page carries itself: the secret never leaves for a QR service.
    svg: str = segno.make(uri, error="m").svg_inline(scale=5, border=2)
    return Markup(svg)  # noqa: S704 (segno's own SVG of the address we built)


def _page(errors: dict[str, str] | None = None, status: int = 200) -> ResponseReturnValue:
    db = request_session()
    user = _me(db)
    required = two_factor_required() and binds_the_iisg(user)
    if user.totp_secret is not None:
        return (
            render_template(
                "auth/two_factor.html",
                user=user,
                left=recovery_codes_left(db, user),
                required=required,
                errors=errors or {},
            ),
            status,
        )
    secret = session.get(ENROLLING)
    if not isinstance(secret, str):
        secret = session[ENROLLING] = new_secret()
    uri = enrolment_uri(secret, user.username)
    key = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    return (
        render_template(
            "auth/two_factor.html",
            user=user,
            qr=_qr(uri),
            key=key,
            required=required,
            errors=errors or {},
        ),
        status,
    )


@bp.get("/account/two-factor")
def page() -> ResponseReturnValue:
    """Whether the person signs in with a second factor; setting it up, or managing it."""
    refused = login_required_response()
    if refused is not None:
        return refused
    return _page()


def _codes_page(codes: list[str]) -> ResponseReturnValue:
    return (
        render_template("auth/recovery_codes.html", codes=codes),
        200,
        {"Cache-Control": "no-store"},
    )


@bp.post("/account/two-factor/on")
def switch_on() -> ResponseReturnValue:
    """Turn on the second factor with the secret the app now holds, once its code is right."""
    refused = login_required_response()
    if refused is not None:
        return refused
    secret = session.get(ENROLLING)
    if not isinstance(secret, str):
        return redirect(url_for("two_factor.page"))
    typed = request.form.get("code", "")[:64]
    now = datetime.now(UTC)
    try:
        codes = unit_of_work(lambda db: turn_on(db, _me(db), secret, typed, now=now))
    except Refused as err:
        return _page(err.errors, 422)
    session.pop(ENROLLING, None)
    session.pop(MUST_SET_UP, None)
    return _codes_page(codes)


@bp.post("/account/two-factor/recovery-codes")
def renew_codes() -> ResponseReturnValue:
    """New recovery codes (the old ones stop working), once the app's code is right."""
    refused = login_required_response()
    if refused is not None:
        return refused
    typed = request.form.get("code", "")[:64]
    now = datetime.now(UTC)
    try:
        codes = unit_of_work(lambda db: new_recovery_codes(db, _me(db), typed, now=now))
    except Refused as err:
        return _page(err.errors, 422)
    return _codes_page(codes)


@bp.post("/account/two-factor/off")
def switch_off() -> ResponseReturnValue:
    """Turn off the second factor (the password asked), where no role requires it."""
    refused = login_required_response()
    if refused is not None:
        return refused
    password = request.form.get("password", "")
    now = datetime.now(UTC)
    required = two_factor_required()
    try:
        unit_of_work(lambda db: turn_off(db, _me(db), password, required=required, now=now))
    except Refused as err:
        return _page(err.errors, 422)
    flash(gettext("Two-factor sign-in is off: your password alone signs you in."), "info")
    return redirect(url_for("two_factor.page"))
