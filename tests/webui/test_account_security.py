"""Keeping people out: security headers, lock-out after wrong passwords, the login rate
limit, session cookies and idle sessions."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from argon2 import Type, extract_parameters
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select

from engine.assignment import Participant
from models import AuditEvent
from tests.conftest import Clock, Database
from tests.webui.conftest import Browser, csrf_token
from webui.app import CONTENT_SECURITY_POLICY
from webui.cli import main
from webui.settings import served_locally
from workflows.accounts import find_user, hash_password


def audit_events(db: Database, kind: str) -> list[AuditEvent]:
    with db.session() as session:
        return list(
            session.scalars(select(AuditEvent).where(AuditEvent.kind == kind).order_by("seq"))
        )


def error_summary(page: str) -> str:
    """The login page's error paragraph."""
    found = re.search(r'<p class="error-summary"[^>]*>(.*?)</p>', page, re.DOTALL)
    assert found, "the page has no error paragraph"
    return found.group(1)


def fail_logins(visitor: Browser, username: str, times: int) -> str:
    """Log in with a wrong password `times` times; the last page's text."""
    page = ""
    for _ in range(times):
        page = visitor.log_in(username, "wrong horse").get_data(as_text=True)
    return page


@pytest.mark.parametrize("path", ["/login", "/health", "/api/v1/me", "/static/app.css"])
def test_every_answer_carries_the_security_headers(
    browser: Callable[..., Browser], path: str
) -> None:
    response = browser().get(path)

    policy = response.headers["Content-Security-Policy"]
    assert policy == CONTENT_SECURITY_POLICY
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ):
        assert directive in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_a_logged_in_page_has_no_inline_style_or_script(
    make_person: Callable[..., Participant], browser: Callable[..., Browser]
) -> None:
    make_person("sec")
    visitor = browser()
    visitor.log_in("sec")

    page = visitor.text("/inbox")

    assert " style=" not in page
    assert " onclick=" not in page


def test_five_wrong_passwords_lock_the_account_and_say_until_when(
    db: Database, make_person: Callable[..., Participant], browser: Callable[..., Browser]
) -> None:
    make_person("sec")
    visitor = browser()

    fourth = fail_logins(visitor, "sec", 4)
    fifth = fail_logins(visitor, "sec", 1)

    assert "Wrong user name or password." in fourth
    assert "This account is locked" in fifth
    assert "until" in fifth
    [locked] = audit_events(db, "auth.locked")
    assert locked.actor == "sec"
    assert locked.payload["failures"] == 5
    assert "wrong horse" not in str(locked.payload)


def test_a_locked_account_refuses_even_the_right_password_with_the_same_words(
    db: Database, make_person: Callable[..., Participant], browser: Callable[..., Browser]
) -> None:
    make_person("sec")
    visitor = browser()
    fail_logins(visitor, "sec", 5)

    wrong = visitor.log_in("sec", "wrong horse").get_data(as_text=True)
    right = visitor.log_in("sec").get_data(as_text=True)

    assert "This account is locked" in right
    assert error_summary(right) == error_summary(wrong)
    assert visitor.get("/inbox").status_code == 302
    reasons = [event.payload["reason"] for event in audit_events(db, "login.failed")]
    assert reasons[-2:] == ["account locked", "account locked"]


def test_the_lock_lifts_after_fifteen_minutes_and_is_audited(
    db: Database,
    clock: Clock,
    make_person: Callable[..., Participant],
    browser: Callable[..., Browser],
) -> None:
    make_person("sec")
    visitor = browser()
    fail_logins(visitor, "sec", 5)

    clock.move(minutes=14)
    assert "This account is locked" in visitor.log_in("sec").get_data(as_text=True)
    clock.move(minutes=1, seconds=1)
    response = visitor.log_in("sec")

    assert response.status_code == 302
    [unlocked] = audit_events(db, "auth.unlocked")
    assert (unlocked.actor, unlocked.payload["reason"]) == ("system", "the lock expired")
    with db.session() as session:
        user = find_user(session, "sec")
        assert user is not None
        assert (user.failed_logins, user.locked_until) == (0, None)


def test_a_good_login_resets_the_count_of_wrong_passwords(
    db: Database, make_person: Callable[..., Participant], browser: Callable[..., Browser]
) -> None:
    make_person("sec")
    fail_logins(browser(), "sec", 4)
    assert browser().log_in("sec").status_code == 302

    page = fail_logins(browser(), "sec", 4)

    assert "Wrong user name or password." in page
    assert audit_events(db, "auth.locked") == []


def test_the_secretariat_unlocks_an_account_from_the_command_line(
    db: Database,
    make_person: Callable[..., Participant],
    browser: Callable[..., Browser],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_person("sec")
    fail_logins(browser(), "sec", 5)
    monkeypatch.setenv("IISG_DATABASE_URL", db.url)

    result = CliRunner().invoke(main, ["user", "unlock", "sec"], catch_exceptions=False)

    assert result.exit_code == 0, result.output
    assert "Unlocked sec" in result.output
    assert browser().log_in("sec").status_code == 302
    [unlocked] = audit_events(db, "auth.unlocked")
    assert (unlocked.actor, unlocked.payload["username"]) == ("cli", "sec")


def test_unlocking_an_unknown_user_says_so(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IISG_DATABASE_URL", db.url)

    result = CliRunner().invoke(main, ["user", "unlock", "nobody"])

    assert result.exit_code != 0
    assert "there is no user 'nobody'" in result.output


def test_too_many_login_attempts_get_a_429_in_plain_words_and_are_audited(
    db: Database, make_person: Callable[..., Participant], browser: Callable[..., Browser]
) -> None:
    make_person("sec")
    visitor = browser()
    for _ in range(10):
        assert visitor.log_in("nobody").status_code == 200

    response = visitor.log_in("nobody")

    assert response.status_code == 429
    assert "Too many login attempts" in response.get_data(as_text=True)
    assert response.headers["Retry-After"] == "60"
    [limited] = audit_events(db, "auth.rate_limited")
    assert limited.actor == "nobody"
    # Counted per address too: another user name from the same address is refused as well.
    assert visitor.log_in("sec").status_code == 429


def test_the_session_cookie_is_secure_httponly_and_lax(
    make_person: Callable[..., Participant], browser: Callable[..., Browser]
) -> None:
    make_person("sec")

    cookie = browser().log_in("sec").headers["Set-Cookie"]

    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_serving_on_a_loopback_address_over_http_drops_the_secure_flag() -> None:
    assert served_locally("127.0.0.1", {}) == {"SESSION_COOKIE_SECURE": False}
    assert served_locally("iisg.example.org", {}) == {}
    assert served_locally("127.0.0.1", {"IISG_SESSION_COOKIE_SECURE": "true"}) == {}


def test_an_idle_session_ends_at_the_login_page_with_a_plain_message(
    app: Flask,
    clock: Clock,
    make_person: Callable[..., Participant],
    browser: Callable[..., Browser],
) -> None:
    make_person("sec")
    visitor = browser()
    visitor.log_in("sec")
    visitor.text("/inbox")

    clock.move(minutes=61)
    response = visitor.get("/inbox")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/inbox")
    page = visitor.text("/login")
    assert "Your session ended after 60 minutes without use" in page
    assert visitor.get("/inbox").status_code == 302


def test_a_form_sent_after_the_session_went_idle_is_said_to_be_lost(
    clock: Clock, make_person: Callable[..., Participant], browser: Callable[..., Browser]
) -> None:
    make_person("sec")
    visitor = browser()
    visitor.log_in("sec")
    token = csrf_token(visitor.get("/inbox"))  # the logout form's, on every page

    clock.move(hours=2)
    response = visitor.client.post("/logout", data={"csrf_token": token})

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert "What you just sent was not saved" in visitor.text("/login")


def test_a_session_in_use_stays_open_for_eight_hours_and_no_longer(
    clock: Clock, make_person: Callable[..., Participant], browser: Callable[..., Browser]
) -> None:
    make_person("sec")
    visitor = browser()
    visitor.log_in("sec")

    for _ in range(10):  # 7 hours 30 minutes
        clock.move(minutes=45)
        visitor.text("/inbox")
    clock.move(minutes=45)
    response = visitor.get("/inbox")

    assert response.status_code == 302
    assert "Your session ended 8 hours after you logged in" in visitor.text("/login")


def test_passwords_are_hashed_with_argon2id_at_no_less_than_owasp_strength() -> None:
    hashed = hash_password("correct horse battery")
    parameters = extract_parameters(hashed)

    assert hashed.startswith("$argon2id$")
    assert parameters.type is Type.ID
    # OWASP's floor for Argon2id is 19 MiB with 2 passes; argon2-cffi's default (RFC 9106's
    # low-memory choice) is 64 MiB, 3 passes, 4 lanes.
    assert parameters.memory_cost >= 64 * 1024
    assert parameters.time_cost >= 3
    assert parameters.parallelism >= 1
    assert "correct horse battery" not in hashed
