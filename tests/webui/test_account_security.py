"""Keeping people out: security headers, throttled logins that lock nobody out and name no
account, session cookies and idle sessions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from argon2 import Type, extract_parameters
from flask import Flask
from sqlalchemy import select
from werkzeug.test import TestResponse

from engine.instances.assignment import Participant
from models import AuditEvent
from tests.conftest import Clock, Database
from tests.webui.conftest import Browser, csrf_token, elements, main_region, words
from webui import create_app
from webui.app import CONTENT_SECURITY_POLICY
from webui.settings import read_settings, served_locally
from workflows.people.accounts import hash_password
from workflows.people.login_throttle import ThrottleRule


def audit_events(db: Database, kind: str) -> list[AuditEvent]:
    with db.session() as session:
        return list(
            session.scalars(select(AuditEvent).where(AuditEvent.kind == kind).order_by("seq"))
        )


def error_summary(page: str) -> str:
    """The words of the login page's error paragraph."""
    found = elements(main_region(page), './/p[@class="error-summary"]')
    assert len(found) == 1, "the page has no error paragraph"
    return words(found[0])


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


def attempt(visitor: Browser, username: str, password: str = "wrong horse") -> TestResponse:
    """One login attempt from the visitor's address."""
    return visitor.log_in(username, password)


def from_address(visitor: Browser, address: str) -> Browser:
    """The visitor, now sending from `address`."""
    visitor.client.environ_base["REMOTE_ADDR"] = address
    return visitor


def seen(response: TestResponse) -> tuple[int, str, str | None]:
    """What a person sees of a refused login: the status, the words, and when to retry."""
    return (
        response.status_code,
        error_summary(response.get_data(as_text=True)),
        response.headers.get("Retry-After"),
    )


def test_a_known_name_and_an_unknown_one_are_refused_alike_however_often(
    clock: Clock, make_person: Callable[..., Participant], browser: Callable[..., Browser]
) -> None:
    make_person("sec")
    guesser = from_address(browser(), "198.51.100.1")
    prober = from_address(browser(), "198.51.100.2")

    answers = []
    for _ in range(6):
        for _ in range(2):
            known, unknown = attempt(guesser, "sec"), attempt(prober, "nobody")
            assert seen(known) == seen(unknown)
            answers.append(seen(known))
        clock.move(minutes=16)

    assert answers[0] == (200, "Wrong user name or password.", None)
    # Five tried; then each try waits, and the one after the wait is tried again.
    assert [status for status, _, _ in answers] == [200] * 5 + [429] + [200, 429] * 3
    assert not any("locked" in words for _, words, _ in answers)


def test_an_attackers_failures_are_answered_429_with_a_growing_wait_in_words(
    db: Database,
    clock: Clock,
    make_person: Callable[..., Participant],
    browser: Callable[..., Browser],
) -> None:
    make_person("sec")
    attacker = from_address(browser(), "203.0.113.66")
    for _ in range(5):
        assert attempt(attacker, "sec").status_code == 200

    waits = []
    for _ in range(12):
        refused = attempt(attacker, "sec")
        assert refused.status_code == 429
        wait = int(refused.headers["Retry-After"])
        waits.append(wait)
        clock.move(seconds=wait)
        assert attempt(attacker, "sec").status_code == 200  # tried, and wrong again

    assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]
    assert error_summary(attempt(attacker, "sec").get_data(as_text=True)).startswith(
        "Too many failed logins. Wait 15 minutes, then try again."
    )
    # While the wait lasts, even the right password is not tried.
    assert attempt(attacker, "sec", "correct horse").status_code == 429
    throttled = audit_events(db, "login.throttled")
    assert len(throttled) == 14
    assert (throttled[0].actor, throttled[0].payload["remote_addr"]) == ("sec", "203.0.113.66")
    assert "wrong horse" not in str([event.payload for event in throttled])
    clock.move(minutes=15)
    assert attempt(attacker, "sec", "correct horse").status_code == 302


def test_a_strangers_failures_from_elsewhere_never_keep_the_owner_out(
    app: Flask, make_person: Callable[..., Participant], browser: Callable[..., Browser]
) -> None:
    app.config["LOGIN_THROTTLE"] = ThrottleRule(free_per_name=10)  # 30 by default: as slow
    make_person("sec")
    hammer = from_address(browser(), "203.0.113.66")
    for _ in range(100):
        attempt(hammer, "sec")
    swarm = [from_address(browser(), f"198.51.100.{n}") for n in range(1, 11)]
    answers = [attempt(bot, "sec").status_code for bot in swarm for _ in range(2)]
    # The hammer's 5 and the first 5 of the swarm were tried; from then on the name is under
    # attack, and an address that has failed for it waits before its next try.
    assert answers == [200, 200] * 2 + [200, 429] * 8

    owner = from_address(browser(), "192.0.2.10")
    assert attempt(owner, "sec", "correct horse").status_code == 302
    assert owner.get("/inbox").status_code == 200


def test_behind_a_trusted_proxy_each_visitor_keeps_their_own_address(
    db: Database, make_person: Callable[..., Participant]
) -> None:
    app = create_app(
        {"DATABASE_URL": db.url, "SECRET_KEY": "test", "TESTING": True, "TRUSTED_PROXIES": 1}
    )
    make_person("sec")
    # Both come through the proxy at 10.0.0.1; only its header tells them apart.
    stranger, owner = Browser(app.test_client()), Browser(app.test_client())
    for visitor, address in ((stranger, "203.0.113.66"), (owner, "192.0.2.10")):
        from_address(visitor, "10.0.0.1").client.environ_base["HTTP_X_FORWARDED_FOR"] = address
    for _ in range(8):
        attempt(stranger, "sec")

    assert attempt(stranger, "sec", "correct horse").status_code == 429
    assert attempt(owner, "sec", "correct horse").status_code == 302
    app.extensions["iisg"].engine.dispose()


def test_a_good_login_forgets_the_failures_from_that_address(
    make_person: Callable[..., Participant], browser: Callable[..., Browser]
) -> None:
    make_person("sec")
    visitor = browser()
    for _ in range(4):
        attempt(visitor, "sec")
    assert attempt(visitor, "sec", "correct horse").status_code == 302

    again = browser()
    assert [attempt(again, "sec").status_code for _ in range(5)] == [200] * 5


def test_one_address_trying_many_names_is_slowed_too(
    app: Flask, browser: Callable[..., Browser]
) -> None:
    app.config["LOGIN_THROTTLE"] = ThrottleRule(free_per_address=10)  # 30 by default
    sprayer = from_address(browser(), "203.0.113.9")
    for n in range(10):
        assert attempt(sprayer, f"guess{n}").status_code == 200

    refused = attempt(sprayer, "guess-new")

    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"


def test_the_secretariat_clears_a_names_failures_from_the_command_line(
    db: Database,
    make_person: Callable[..., Participant],
    browser: Callable[..., Browser],
    command_line: Callable[..., str],
) -> None:
    make_person("sec")
    visitor = browser()
    for _ in range(5):
        attempt(visitor, "sec")
    assert attempt(visitor, "sec", "correct horse").status_code == 429

    output = command_line("user", "clear-failures", "sec")

    assert "Forgot 5 failed logins for sec" in output
    assert attempt(visitor, "sec", "correct horse").status_code == 302
    [cleared] = audit_events(db, "login.failures_cleared")
    assert (cleared.actor, cleared.payload["username"]) == ("cli", "sec")


def test_the_session_cookie_is_secure_httponly_and_lax(
    make_person: Callable[..., Participant], browser: Callable[..., Browser]
) -> None:
    make_person("sec")

    cookie = browser().log_in("sec").headers["Set-Cookie"]

    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_serving_on_a_loopback_address_over_http_drops_the_secure_flag(tmp_path: Path) -> None:
    def secure(host: str, **environ: str) -> bool:
        settings = read_settings({"IISG_INSTANCE_DIR": str(tmp_path), **environ})
        return bool(served_locally(host, settings).app_config()["SESSION_COOKIE_SECURE"])

    assert secure("127.0.0.1") is False
    assert secure("iisg.example.org") is True
    assert secure("127.0.0.1", IISG_SESSION_COOKIE_SECURE="true") is True


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
    page = visitor.main("/login")
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
    assert "What you just sent was not saved" in visitor.main("/login")


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
    assert "Your session ended 8 hours after you logged in" in visitor.main("/login")


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
