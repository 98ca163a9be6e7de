"""Logging in and out: who gets in, what a failed attempt leaves behind, where people land."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from lxml import html
from sqlalchemy import select, update

from engine.instances.assignment import Participant
from models import AuditEvent, User
from tests.conftest import Clock, Database
from tests.webui.conftest import Browser, csrf_token, elements, main_text, words
from webui.auth.routes import safe_next


def test_login_with_the_right_password_reaches_the_inbox(
    make_person: Callable[..., Participant], browser: Callable[..., Browser]
) -> None:
    make_person("sec")
    visitor = browser()

    response = visitor.log_in("sec")

    assert response.status_code == 302
    assert response.headers["Location"] == "/inbox"
    page = visitor.text("/inbox")
    assert "Your inbox" in main_text(page)
    (who,) = elements(html.fromstring(page), '//header//nav//*[@class="who"]')
    assert words(who) == "sec"  # the header says who is logged in


def test_a_wrong_password_is_refused_with_a_neutral_message_and_audited(
    db: Database, make_person: Callable[..., Participant], browser: Callable[..., Browser]
) -> None:
    make_person("sec")
    visitor = browser()

    response = visitor.log_in("sec", "wrong horse")

    page = main_text(response.get_data(as_text=True))
    assert "Wrong user name or password." in page
    assert visitor.get("/inbox").status_code == 302  # still not logged in
    with db.session() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.kind == "login.failed")).one()
    assert event.actor == "sec"
    assert event.payload["reason"] == "wrong password"
    assert "wrong horse" not in str(event.payload)


def test_an_unknown_user_gets_the_same_message_and_is_audited(
    db: Database, browser: Callable[..., Browser]
) -> None:
    response = browser().log_in("nobody")

    assert "Wrong user name or password." in main_text(response.get_data(as_text=True))
    with db.session() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.kind == "login.failed")).one()
    assert (event.actor, event.payload["reason"]) == ("nobody", "unknown user")


def test_a_deactivated_user_cannot_log_in(
    db: Database, make_person: Callable[..., Participant], browser: Callable[..., Browser]
) -> None:
    make_person("former")
    db.run(lambda s: s.execute(update(User).where(User.username == "former").values(active=False)))

    response = browser().log_in("former")

    assert "Wrong user name or password." in main_text(response.get_data(as_text=True))


def test_a_deactivated_user_loses_a_session_already_open(
    db: Database, make_person: Callable[..., Participant], browser: Callable[..., Browser]
) -> None:
    make_person("former")
    visitor = browser("former")
    db.run(lambda s: s.execute(update(User).where(User.username == "former").values(active=False)))

    assert visitor.get("/inbox").status_code == 302


def test_anonymous_visitors_are_sent_to_the_login_page(browser: Callable[..., Browser]) -> None:
    visitor = browser()

    for url in ("/", "/inbox", "/done", "/tasks/1"):
        response = visitor.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/login?next="), url


def test_login_returns_to_the_page_asked_for(
    make_person: Callable[..., Participant], browser: Callable[..., Browser]
) -> None:
    make_person("sec")
    visitor = browser()
    login_page = visitor.get("/done", follow_redirects=True)

    response = visitor.client.post(
        "/login",
        data={
            "username": "sec",
            "password": "correct horse",
            "next": "/done",
            "csrf_token": csrf_token(login_page),
        },
    )

    assert response.headers["Location"] == "/done"


def test_login_never_sends_people_to_another_site(
    make_person: Callable[..., Participant], browser: Callable[..., Browser]
) -> None:
    make_person("sec")
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"):
        visitor = browser()
        token = csrf_token(visitor.get("/login"))
        response = visitor.client.post(
            "/login?next=" + target,
            data={"username": "sec", "password": "correct horse", "csrf_token": token},
        )
        assert response.headers["Location"] == "/inbox", target


def test_only_paths_on_this_site_are_followed_after_login() -> None:
    assert safe_next("/tasks/3?x=1") == "/tasks/3?x=1"
    assert safe_next(None) is None
    for unsafe in ("https://evil.example", "//evil.example", "/\\evil", "evil", "/a\nb", ""):
        assert safe_next(unsafe) is None, unsafe


def test_logging_out_ends_the_session(
    make_person: Callable[..., Participant], browser: Callable[..., Browser]
) -> None:
    make_person("sec")
    visitor = browser("sec")

    response = visitor.submit("/inbox", "/logout", {})

    assert response.headers["Location"] == "/login"
    assert visitor.get("/inbox").status_code == 302


def test_logging_out_without_the_csrf_token_is_refused(
    make_person: Callable[..., Participant], browser: Callable[..., Browser]
) -> None:
    make_person("sec")
    visitor = browser("sec")

    response = visitor.client.post("/logout")

    assert response.status_code == 400
    assert visitor.get("/inbox").status_code == 200


def test_logging_in_without_the_csrf_token_is_refused(
    make_person: Callable[..., Participant], browser: Callable[..., Browser]
) -> None:
    make_person("sec")
    visitor = browser()

    response = visitor.client.post("/login", data={"username": "sec", "password": "correct horse"})

    assert response.status_code == 400
    assert "This form has expired or was not sent from this site." in main_text(
        response.get_data(as_text=True)
    )
    assert visitor.get("/inbox").status_code == 302


def test_a_session_ends_after_an_idle_hour(
    clock: Clock, make_person: Callable[..., Participant], browser: Callable[..., Browser]
) -> None:
    make_person("sec")
    visitor = browser("sec")

    clock.move(minutes=59)
    assert visitor.get("/inbox").status_code == 200
    clock.move(minutes=61)
    assert visitor.get("/inbox").status_code == 302


def test_the_session_cookie_is_secure_httponly_lax_and_lasts_eight_hours(
    app: Flask, make_person: Callable[..., Participant], browser: Callable[..., Browser]
) -> None:
    make_person("sec")

    response = browser().log_in("sec")

    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Expires=" in cookie  # a permanent session, ended by the lifetime below
    assert "Secure" in cookie
    assert app.permanent_session_lifetime.total_seconds() == 8 * 3600
