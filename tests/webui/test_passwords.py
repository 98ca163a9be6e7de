"""A person's password: changed on the account page with the current one, or set anew through
a single-use link mailed to them (the same answer whether or not the name exists); a weak
password is refused beside its field, and every change ends the other sessions."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from commands.cli import main
from engine.instances.assignment import Grant, Participant
from models import AuditEvent, OutboxMessage
from tests.conftest import Clock, Database
from tests.webui.conftest import Browser, main_region, main_text
from tests.workflows.mail_server import MailServer, give_address, outbox
from workflows.mail.sender import deliver_pending

GOOD = "quiet river lantern"


def logs_in(browser: Callable[..., Browser], username: str, password: str) -> bool:
    return browser().log_in(username, password).status_code == 302


def audited(db: Database, kind: str) -> int:
    with db.session() as session:
        return (
            session.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.kind == kind)
            )
            or 0
        )


def change(visitor: Browser, current: str, new: str, repeat: str | None = None) -> tuple[int, str]:
    response = visitor.submit(
        "/account/password",
        "/account/password",
        {
            "current_password": current,
            "new_password": new,
            "repeat_password": new if repeat is None else repeat,
        },
    )
    return response.status_code, response.get_data(as_text=True)


def beside(page: str, field: str) -> str:
    """The error shown with one field of the form."""
    [error] = main_region(page).xpath(f'.//p[@id="{field}-error"]')
    return " ".join(error.text_content().split())


def test_a_person_changes_their_password_and_their_other_sessions_end(
    db: Database, make_person: Callable[..., Participant], browser: Callable[..., Browser]
) -> None:
    make_person("sec")
    laptop, phone = browser("sec"), browser("sec")

    status, _page = change(laptop, "correct horse", GOOD)

    assert status == 302
    assert "Your password is changed" in main_text(laptop.text("/account/password"))
    assert laptop.get("/inbox").status_code == 200  # this browser stays logged in
    assert phone.get("/inbox").status_code == 302  # the other one must log in again
    assert logs_in(browser, "sec", GOOD)
    assert not logs_in(browser, "sec", "correct horse")
    assert audited(db, "account.password_changed") == 1


def test_a_wrong_current_password_a_weak_or_a_mistyped_new_one_changes_nothing(
    db: Database, make_person: Callable[..., Participant], browser: Callable[..., Browser]
) -> None:
    make_person("anna.petrovic")
    visitor = browser("anna.petrovic")

    status, page = change(visitor, "not my password", GOOD)
    assert status == 422
    assert beside(page, "current_password") == "Error: That is not your current password."

    status, page = change(visitor, "correct horse", "password1234")
    assert status == 422
    assert "common" in beside(page, "new_password")

    status, page = change(visitor, "correct horse", "anna.petrovic1")
    assert status == 422 and "easy to guess" in beside(page, "new_password")

    status, page = change(visitor, "correct horse", "short")
    assert status == 422
    assert beside(page, "new_password") == "Error: Choose a password of at least 10 characters."

    status, page = change(visitor, "correct horse", GOOD, repeat=GOOD + "!")
    assert status == 422 and "differ" in beside(page, "repeat_password")

    assert logs_in(browser, "anna.petrovic", "correct horse")
    assert audited(db, "account.password_changed") == 0


def reset_link(server: MailServer, address: str) -> str:
    [mail] = [m for m in server.received if m.to == [address]]
    found = re.search(r"(/login/reset/[\w-]+)", mail.body)
    assert found, mail.body
    return found.group(1)


def ask_for_a_link(visitor: Browser, typed: str) -> str:
    response = visitor.submit("/login/forgot", "/login/forgot", {"name_or_address": typed})
    assert response.status_code == 200
    return main_text(response.get_data(as_text=True))


def set_password(visitor: Browser, link: str, new: str) -> tuple[int, str]:
    response = visitor.submit(link, link, {"new_password": new, "repeat_password": new})
    return response.status_code, response.get_data(as_text=True)


def test_a_forgotten_password_is_set_anew_through_a_link_that_works_once(
    db: Database,
    clock: Clock,
    make_person: Callable[..., Participant],
    browser: Callable[..., Browser],
    mail_server: MailServer,
) -> None:
    make_person("board-al")
    give_address(db, "board-al", "board-al@example.org", mode="digest")
    logged_in = browser("board-al")
    visitor = browser()

    answer = ask_for_a_link(visitor, "Board-AL@example.org")
    deliver_pending(db.factory, mail_server.settings(), clock.now())

    # A person on the daily digest gets the link at once: it would be no use tomorrow.
    link = reset_link(mail_server, "board-al@example.org")
    assert "a mail with a link to set a new password is on its way" in answer
    status, page = set_password(visitor, link, "password1234")
    assert status == 422 and "common" in beside(page, "new_password")

    status, _page = set_password(visitor, link, GOOD)

    assert status == 302
    assert logs_in(browser, "board-al", GOOD)
    assert logged_in.get("/inbox").status_code == 302  # every session ended
    assert visitor.get(link).status_code == 404  # used up
    assert "expired or was used" in main_text(visitor.get(link).get_data(as_text=True))
    assert audited(db, "account.password_reset_requested") == 1
    assert audited(db, "account.password_changed") == 1


def test_the_answer_is_the_same_whether_or_not_the_name_exists(
    db: Database,
    clock: Clock,
    make_person: Callable[..., Participant],
    browser: Callable[..., Browser],
    mail_server: MailServer,
) -> None:
    make_person("sec")
    give_address(db, "sec", "sec@example.org")
    visitor = browser()

    for_someone = ask_for_a_link(visitor, "sec")
    for_no_one = ask_for_a_link(visitor, "nobody@example.org")
    deliver_pending(db.factory, mail_server.settings(), clock.now())

    assert for_someone == for_no_one
    assert [m.to for m in mail_server.received] == [["sec@example.org"]]


def test_a_link_runs_out_and_asking_again_at_once_sends_no_second_mail(
    db: Database,
    clock: Clock,
    make_person: Callable[..., Participant],
    browser: Callable[..., Browser],
    mail_server: MailServer,
) -> None:
    make_person("sec")
    give_address(db, "sec", "sec@example.org")
    visitor = browser()

    ask_for_a_link(visitor, "sec")
    ask_for_a_link(visitor, "sec")
    deliver_pending(db.factory, mail_server.settings(), clock.now())
    assert len(mail_server.received) == 1
    link = reset_link(mail_server, "sec@example.org")

    clock.move(seconds=61 * 60)  # the link works for an hour

    assert visitor.get(link).status_code == 404
    late = visitor.submit("/login/forgot", link, {"new_password": GOOD, "repeat_password": GOOD})
    assert late.status_code == 404
    assert "Ask for a new one" in main_text(late.get_data(as_text=True))
    assert logs_in(browser, "sec", "correct horse")


def test_the_secretariat_sees_that_a_link_was_mailed_but_never_the_link(
    db: Database,
    make_person: Callable[..., Participant],
    browser: Callable[..., Browser],
) -> None:
    make_person("clerk")
    make_person("secretariat-lead", Grant("secretariat"))
    give_address(db, "clerk", "clerk@example.org")
    ask_for_a_link(browser(), "clerk")
    [message] = outbox(db, kind="account")

    page = browser("secretariat-lead").text(f"/outbox/{message.id}")

    assert "/login/reset/" not in page
    assert "only the person it is for may read it" in main_text(page)
    with db.session() as session:
        assert session.get(OutboxMessage, message.id) is not None


def test_an_operator_cannot_give_a_password_the_person_could_not_choose(
    db: Database,
    make_person: Callable[..., Participant],
    browser: Callable[..., Browser],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_person("sec")
    monkeypatch.setenv("IISG_DATABASE_URL", db.url)

    result = CliRunner().invoke(main, ["user", "password", "sec", "--password", "password1234"])

    assert result.exit_code == 1
    assert "common" in result.output
    assert logs_in(browser, "sec", "correct horse")
