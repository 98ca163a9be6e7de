"""Two-factor sign-in: the Secretariat and the Board set up an authenticator app before
anything else when the setting requires it; afterwards the password alone signs nobody in, a
code is good once, a recovery code once, and wrong codes are slowed like wrong passwords."""

from __future__ import annotations

from collections.abc import Callable

import pyotp
import pytest
from flask import Flask
from sqlalchemy import func, select

from engine.instances.assignment import Grant, Participant
from models import AuditEvent
from tests.conftest import Clock, Database
from tests.webui.conftest import Browser, main_region, main_text


@pytest.fixture
def required(app: Flask) -> None:
    """The setting as production has it: the Secretariat and the Board need a second factor."""
    app.config["TWO_FACTOR_REQUIRED"] = True


def sign_in(browser: Callable[..., Browser], username: str) -> tuple[Browser, str]:
    """A browser that typed the right password; where it was sent."""
    visitor = browser()
    response = visitor.log_in(username)
    assert response.status_code == 302, response.get_data(as_text=True)
    return visitor, response.headers["Location"]


def key_on(page: str) -> str:
    """The key the set-up page shows for typing into the app (the QR code carries it too)."""
    [key] = main_region(page).xpath(".//figcaption/code")
    return "".join(key.text_content().split())


def type_code(visitor: Browser, page: str, action: str, code: str) -> tuple[int, str]:
    response = visitor.submit(page, action, {"code": code})
    return response.status_code, response.get_data(as_text=True)


def set_up(visitor: Browser, clock: Clock) -> tuple[str, list[str]]:
    """Set up the app from the two-factor page; the key and the recovery codes shown."""
    page = visitor.text("/account/two-factor")
    assert main_region(page).xpath(".//figure//svg"), "no QR code on the page"
    key = key_on(page)
    status, shown = type_code(
        visitor, "/account/two-factor", "/account/two-factor/on", pyotp.TOTP(key).at(clock.now())
    )
    assert status == 200, shown
    codes = [c.text_content() for c in main_region(shown).xpath(".//ol//code")]
    return key, codes


def audited(db: Database, kind: str) -> int:
    with db.session() as session:
        return (
            session.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.kind == kind)
            )
            or 0
        )


def test_the_secretariat_sets_up_a_second_factor_before_anything_else(
    db: Database,
    clock: Clock,
    required: None,
    make_person: Callable[..., Participant],
    browser: Callable[..., Browser],
) -> None:
    make_person("sec", Grant("secretariat"))
    visitor, _ = sign_in(browser, "sec")

    sent = visitor.get("/inbox")
    assert sent.status_code == 302 and sent.headers["Location"] == "/account/two-factor"
    page = visitor.text("/account/two-factor")
    assert "requires a second factor" in main_text(page)

    status, refused = type_code(visitor, "/account/two-factor", "/account/two-factor/on", "123456")
    assert status == 422
    assert "not the code the app shows now" in main_text(refused)
    assert visitor.get("/inbox").status_code == 302

    _key, codes = set_up(visitor, clock)

    assert len(codes) == 10 and len(set(codes)) == 10
    assert visitor.get("/inbox").status_code == 200
    assert audited(db, "account.two_factor_on") == 1


def test_once_on_the_password_alone_signs_nobody_in_and_each_code_is_good_once(
    db: Database,
    clock: Clock,
    required: None,
    make_person: Callable[..., Participant],
    browser: Callable[..., Browser],
) -> None:
    make_person("board-al", Grant("board_member", "AL"))
    first, _ = sign_in(browser, "board-al")
    key, codes = set_up(first, clock)
    clock.move(seconds=60)

    visitor, where = sign_in(browser, "board-al")
    assert where == "/login/code"
    assert visitor.get("/inbox").status_code == 302  # not signed in yet
    code = pyotp.TOTP(key).at(clock.now())
    status, _ = type_code(visitor, "/login/code", "/login/code", code)
    assert status == 302
    assert visitor.get("/inbox").status_code == 200

    # The same code again, seconds later, as someone who saw it typed would.
    thief, _ = sign_in(browser, "board-al")
    status, page = type_code(thief, "/login/code", "/login/code", code)
    assert status == 422
    assert "not right, or was used already" in main_text(page)

    # A recovery code signs in once.
    status, _ = type_code(thief, "/login/code", "/login/code", codes[0].upper())
    assert status == 302
    again, _ = sign_in(browser, "board-al")
    status, _ = type_code(again, "/login/code", "/login/code", codes[0])
    assert status == 422
    assert "9 recovery codes left" in main_text(thief.text("/account/two-factor"))


def test_wrong_codes_are_slowed_like_wrong_passwords_and_the_right_password_does_not_reset_them(
    clock: Clock,
    required: None,
    make_person: Callable[..., Participant],
    browser: Callable[..., Browser],
) -> None:
    make_person("sec", Grant("secretariat"))
    first, _ = sign_in(browser, "sec")
    key, _codes = set_up(first, clock)
    clock.move(seconds=60)

    for _ in range(5):
        visitor, _ = sign_in(browser, "sec")
        status, _ = type_code(visitor, "/login/code", "/login/code", "000000")
        assert status == 422

    # The right password does not start the count afresh: the next try waits, password first.
    waiting = browser().log_in("sec")
    assert waiting.status_code == 429
    assert "Too many failed logins" in main_text(waiting.get_data(as_text=True))

    clock.move(seconds=2)  # the first back-off is a second
    visitor, _ = sign_in(browser, "sec")
    status, _ = type_code(visitor, "/login/code", "/login/code", pyotp.TOTP(key).at(clock.now()))
    assert status == 302


def test_a_code_not_given_within_five_minutes_means_signing_in_again(
    clock: Clock,
    required: None,
    make_person: Callable[..., Participant],
    browser: Callable[..., Browser],
) -> None:
    make_person("sec", Grant("secretariat"))
    first, _ = sign_in(browser, "sec")
    key, _codes = set_up(first, clock)

    visitor, _ = sign_in(browser, "sec")
    clock.move(minutes=6)
    status, _ = type_code(visitor, "/login", "/login/code", pyotp.TOTP(key).at(clock.now()))

    assert status == 302
    assert visitor.get("/inbox").status_code == 302


def test_others_choose_a_second_factor_and_only_they_may_turn_it_off(
    db: Database,
    clock: Clock,
    required: None,
    make_person: Callable[..., Participant],
    browser: Callable[..., Browser],
) -> None:
    make_person("fp-rs", Grant("focal_point", "RS", "wbbsi"))
    make_person("sec", Grant("secretariat"))
    focal_point, _ = sign_in(browser, "fp-rs")
    assert focal_point.get("/inbox").status_code == 200  # not required of a focal point
    set_up(focal_point, clock)

    wrong = focal_point.submit(
        "/account/two-factor", "/account/two-factor/off", {"password": "not it"}
    )
    assert wrong.status_code == 422
    off = focal_point.submit(
        "/account/two-factor", "/account/two-factor/off", {"password": "correct horse"}
    )
    assert off.status_code == 302
    assert sign_in(browser, "fp-rs")[1] == "/inbox"

    secretariat, _ = sign_in(browser, "sec")
    set_up(secretariat, clock)
    kept = secretariat.submit(
        "/account/two-factor", "/account/two-factor/off", {"password": "correct horse"}
    )
    assert kept.status_code == 422
    assert "requires a second factor" in main_text(kept.get_data(as_text=True))
    assert audited(db, "account.two_factor_off") == 1


def test_an_operator_resets_a_lost_second_factor_and_the_person_sets_it_up_again(
    clock: Clock,
    required: None,
    make_person: Callable[..., Participant],
    browser: Callable[..., Browser],
    command_line: Callable[..., str],
) -> None:
    make_person("sec", Grant("secretariat"))
    laptop, _ = sign_in(browser, "sec")
    set_up(laptop, clock)

    output = command_line("user", "reset-two-factor", "sec")

    assert "logged out everywhere" in output
    assert laptop.get("/inbox").status_code == 302
    visitor, where = sign_in(browser, "sec")
    assert where == "/inbox"
    assert visitor.get("/inbox").headers["Location"] == "/account/two-factor"


def test_without_the_requirement_the_secretariat_signs_in_with_the_password(
    make_person: Callable[..., Participant], browser: Callable[..., Browser]
) -> None:
    make_person("sec", Grant("secretariat"))
    visitor, _ = sign_in(browser, "sec")
    assert visitor.get("/inbox").status_code == 200
