"""Login sessions end on the server: after logout, a new password, a deactivation, or when the
person logs out everywhere; a copy of the cookie opens nothing after that."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from engine.instances.assignment import Participant
from models import AuditEvent, LoginSession
from tests.conftest import Clock, Database
from tests.webui.conftest import Browser, main_text


def copy_of(visitor: Browser, make_browser: Callable[..., Browser]) -> Browser:
    """Another browser holding a copy of the visitor's session cookie, as a thief would."""
    cookie = visitor.client.get_cookie("session")
    assert cookie is not None
    thief = make_browser()
    thief.client.set_cookie("session", cookie.value)
    return thief


def opens_inbox(visitor: Browser) -> bool:
    response = visitor.get("/inbox")
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        assert response.headers["Location"].startswith("/login")
    return response.status_code == 200


def test_a_cookie_copied_before_logout_opens_nothing_after_it(
    make_person: Callable[..., Participant], browser: Callable[..., Browser]
) -> None:
    make_person("sec")
    visitor = browser("sec")
    thief = copy_of(visitor, browser)
    assert opens_inbox(thief)  # a copy works like the original while the session lives

    visitor.submit("/inbox", "/logout", {})

    assert not opens_inbox(thief)
    assert not opens_inbox(visitor)


def test_a_new_password_ends_every_session_of_the_person(
    make_person: Callable[..., Participant],
    browser: Callable[..., Browser],
    command_line: Callable[..., str],
) -> None:
    make_person("sec")
    make_person("board-al")
    laptop, phone, colleague = browser("sec"), browser("sec"), browser("board-al")

    output = command_line("user", "password", "sec", "--password", "new horse stable")

    assert "logged out everywhere" in output
    assert not opens_inbox(laptop) and not opens_inbox(phone)
    assert opens_inbox(colleague)
    assert browser().log_in("sec", "correct horse").status_code == 200  # refused
    assert browser().log_in("sec", "new horse stable").status_code == 302


def test_deactivating_an_account_ends_its_sessions_for_good(
    db: Database,
    make_person: Callable[..., Participant],
    browser: Callable[..., Browser],
    command_line: Callable[..., str],
) -> None:
    make_person("former")
    visitor = browser("former")

    command_line("user", "deactivate", "former")
    assert not opens_inbox(visitor)
    command_line("user", "activate", "former")

    assert not opens_inbox(visitor)  # reactivated, but the old session stays ended
    assert opens_inbox(browser("former"))
    with db.session() as session:
        ended = session.scalars(select(AuditEvent).where(AuditEvent.kind == "sessions.ended")).one()
    assert ended.payload == {
        "username": "former",
        "reason": "account deactivated",
        "sessions": 1,
    }


def test_a_person_logs_out_everywhere_else_from_their_sessions_page(
    make_person: Callable[..., Participant], browser: Callable[..., Browser]
) -> None:
    make_person("sec")
    make_person("board-al")
    laptop, phone, tablet, colleague = (
        browser("sec"),
        browser("sec"),
        browser("sec"),
        browser("board-al"),
    )
    page = main_text(laptop.text("/account/sessions"))
    assert page.count("(this browser)") == 1
    assert "Log out everywhere else" in page

    response = laptop.submit("/account/sessions", "/account/sessions/end", {"which": "others"})

    assert response.headers["Location"] == "/account/sessions"
    assert "Logged out everywhere else: 2 other sessions ended." in main_text(
        laptop.text("/account/sessions")
    )
    assert opens_inbox(laptop)
    assert not opens_inbox(phone) and not opens_inbox(tablet)
    assert opens_inbox(colleague)


def test_logging_out_everywhere_ends_this_session_too(
    make_person: Callable[..., Participant], browser: Callable[..., Browser]
) -> None:
    make_person("sec")
    laptop, phone = browser("sec"), browser("sec")
    thief = copy_of(laptop, browser)

    response = laptop.submit("/account/sessions", "/account/sessions/end", {"which": "everywhere"})

    assert response.headers["Location"] == "/login"
    assert "You are logged out everywhere, here too." in main_text(laptop.text("/login"))
    assert not any(opens_inbox(b) for b in (laptop, phone, thief))


def test_ending_sessions_needs_the_forms_csrf_token(
    make_person: Callable[..., Participant], browser: Callable[..., Browser]
) -> None:
    make_person("sec")
    laptop, phone = browser("sec"), browser("sec")

    response = phone.client.post("/account/sessions/end", data={"which": "everywhere"})

    assert response.status_code == 400
    assert opens_inbox(laptop) and opens_inbox(phone)


def test_a_session_notes_its_use_at_most_once_a_minute(
    db: Database,
    clock: Clock,
    make_person: Callable[..., Participant],
    browser: Callable[..., Browser],
) -> None:
    make_person("sec")
    visitor = browser("sec")
    began = clock.now()

    def last_seen() -> object:
        with db.session() as session:
            return session.scalars(select(LoginSession.last_seen_at)).one()

    clock.move(seconds=59)
    visitor.text("/inbox")
    assert last_seen() == began
    clock.move(seconds=1)
    visitor.text("/inbox")
    assert last_seen() == clock.now()


def test_a_session_that_went_idle_is_ended_on_the_server(
    db: Database,
    clock: Clock,
    make_person: Callable[..., Participant],
    browser: Callable[..., Browser],
) -> None:
    make_person("sec")
    visitor = browser("sec")

    clock.move(minutes=61)
    assert not opens_inbox(visitor)

    with db.session() as session:
        record = session.scalars(select(LoginSession)).one()
    assert record.ended_at == clock.now()
