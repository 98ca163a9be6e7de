"""The outbox, for the Secretariat only, and each person's choice of immediate mail or one
digest a day."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from lxml.html import HtmlElement
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import AuditEvent, OutboxMessage, User
from tests.conftest import Clock, Database
from tests.webui.conftest import (
    Browser,
    People,
    elements,
    links,
    main_region,
    main_text,
    words,
)
from webui import create_app
from workflows.mail.compose import enqueue, enqueue_to_address

SMTP_VARIABLES = (
    "IISG_SMTP_HOST",
    "IISG_SMTP_PORT",
    "IISG_SMTP_STARTTLS",
    "IISG_SMTP_USERNAME",
    "IISG_SMTP_PASSWORD",
    "IISG_MAIL_FROM",
)


@pytest.fixture
def no_mail_server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Settings with no SMTP server: an empty settings file, no SMTP variables."""
    empty = tmp_path / "settings.toml"
    empty.write_text("", encoding="utf-8")
    monkeypatch.setenv("IISG_SETTINGS", str(empty))
    for variable in SMTP_VARIABLES:
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture
def app(no_mail_server: None, app: Flask) -> Flask:
    """The app built after the mail settings are set: it reads them once, as it starts."""
    return app


def mail_for(
    db: Database, clock: Clock, username: str, subject: str, body: str = "", **columns: object
) -> int:
    """A mail in the outbox for the person (with an address); its id."""

    def work(session: Session) -> int:
        user = session.scalars(select(User).where(User.username == username)).one()
        user.email = f"{username}@example.org"
        message = enqueue(
            session, user, subject=subject, body=body or subject, kind="reminder", now=clock.now()
        )
        session.flush()
        if columns:
            session.execute(
                update(OutboxMessage).where(OutboxMessage.id == message.id).values(**columns)
            )
        return message.id

    message_id: int = db.run(work)
    return message_id


def test_the_secretariat_reads_the_outbox_and_is_told_that_no_mail_leaves(
    db: Database,
    clock: Clock,
    people: People,
    browser: Callable[..., Browser],
    no_mail_server: None,
) -> None:
    waiting = mail_for(
        db,
        clock,
        "board-al",
        "Reminder: answer the silent procedure",
        "Answer by Friday.\n\nOpen it here: http://iisg.test/tasks/3",
    )
    clock.move(minutes=5)
    mail_for(
        db,
        clock,
        "board-ba",
        "New task: Acknowledge the review",
        status="failed",
        attempts=8,
        last_error="could not reach the mail server smtp.example.org:587: Connection refused",
    )
    secretariat = browser("sec")

    html = secretariat.text("/outbox")
    page = main_text(html)

    assert [words(h1) for h1 in elements(main_region(html), ".//h1")] == ["Outbox"]
    assert "Mail is not sent: no SMTP server is set; messages wait here." in page
    assert page.index("New task: Acknowledge the review") < page.index("Reminder: answer the")
    assert "board-al@example.org" in page
    assert "waiting to be sent" in page
    assert "not sent: gave up" in page
    assert "could not reach the mail server smtp.example.org:587" in page
    assert "/outbox" in links(html), "the navigation links to it"

    opened = secretariat.region(f"/outbox/{waiting}")
    message = words(opened)
    assert [words(h1) for h1 in elements(opened, ".//h1")] == [
        "Reminder: answer the silent procedure"
    ]
    assert "Answer by Friday." in message
    assert "http://iisg.test/tasks/3" in message


def test_the_outbox_names_the_mail_server_when_one_is_set(
    db: Database, people: People, no_mail_server: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IISG_SMTP_HOST", "smtp.example.org")
    app = create_app({"DATABASE_URL": db.url, "SECRET_KEY": "test", "TESTING": True})

    secretariat = Browser(app.test_client())
    secretariat.log_in("sec")

    page = main_text(secretariat.text("/outbox"))
    app.extensions["iisg"].engine.dispose()

    assert "Mail is sent through the SMTP server smtp.example.org:587." in page
    assert "Mail is not sent" not in page
    assert "The outbox is empty" in page


def test_a_board_member_may_not_open_the_outbox(
    db: Database, clock: Clock, people: People, browser: Callable[..., Browser]
) -> None:
    message_id = mail_for(db, clock, "board-al", "Reminder")
    board_al = browser("board-al")

    assert board_al.get("/outbox").status_code == 403
    assert board_al.get(f"/outbox/{message_id}").status_code == 403
    assert "/outbox" not in links(board_al.text("/inbox"))


def test_the_outbox_filters_by_status_and_goes_a_page_at_a_time(
    db: Database,
    clock: Clock,
    people: People,
    browser: Callable[..., Browser],
    no_mail_server: None,
) -> None:
    for number in range(1, 56):
        mail_for(db, clock, "board-al", f"Reminder number {number}.")
        clock.move(seconds=1)
    mail_for(db, clock, "board-ba", "The one that failed", status="failed", attempts=8)
    secretariat = browser("sec")

    failed = secretariat.text("/outbox?status=failed")
    assert "The one that failed" in main_text(failed)
    assert "Reminder number" not in failed

    def messages(region: HtmlElement) -> list[str]:
        return [href for href in links(region) if href.startswith("/outbox/")]

    first = secretariat.region("/outbox")
    assert len(messages(first)) == 50
    assert "Page 1 of 2" in words(first)
    assert "The one that failed" in words(first), "the newest first"
    second = secretariat.region("/outbox?page=2")
    assert len(messages(second)) == 6
    assert "Reminder number 1." in words(second)
    assert "Reminder number 1." not in words(first)


def test_a_person_switches_to_a_daily_digest_and_it_is_on_the_audit_trail(
    db: Database, people: People, browser: Callable[..., Browser]
) -> None:
    board_al = browser("board-al")
    form = board_al.region("/account/mail")
    assert "How do you want to get mail?" in [
        words(legend) for legend in elements(form, ".//legend")
    ]
    (chosen,) = elements(form, './/input[@name="mail_mode"][@checked]')
    assert (chosen.get("value"), chosen.get("aria-describedby")) == (
        "immediate",
        "mail-mode-immediate-help",
    )

    response = board_al.submit("/account/mail", "/account/mail", {"mail_mode": "digest"})

    assert response.status_code == 302
    assert "Saved: you get one mail a day." in board_al.main("/account/mail")
    with db.session() as session:
        user = session.scalars(select(User).where(User.username == "board-al")).one()
        assert user.mail_mode == "digest"
        [change] = session.scalars(
            select(AuditEvent).where(AuditEvent.kind == "account.mail_mode_changed")
        ).all()
        assert change.actor == "board-al"
        assert (change.payload["from"], change.payload["to"]) == ("immediate", "digest")


def test_a_choice_posted_without_its_csrf_token_is_refused(
    db: Database, people: People, browser: Callable[..., Browser]
) -> None:
    board_al = browser("board-al")

    response = board_al.client.post("/account/mail", data={"mail_mode": "digest"})

    assert response.status_code == 400
    assert "The form was not accepted" in main_text(response.get_data(as_text=True))
    with db.session() as session:
        user = session.scalars(select(User).where(User.username == "board-al")).one()
        assert user.mail_mode == "immediate"
        assert (
            session.scalars(select(AuditEvent.seq).where(AuditEvent.kind.like("account.%"))).all()
            == []
        )


def test_a_choice_the_system_does_not_know_is_refused_in_plain_words(
    db: Database, people: People, browser: Callable[..., Browser]
) -> None:
    board_al = browser("board-al")

    response = board_al.submit("/account/mail", "/account/mail", {"mail_mode": "weekly"})

    assert response.status_code == 400
    assert "Choose how you want to get mail." in main_text(response.get_data(as_text=True))


def test_a_mail_to_an_address_with_no_account_shows_so_in_the_outbox(
    db: Database, clock: Clock, people: People, browser: Callable[..., Browser]
) -> None:
    def work(session: Session) -> int:
        message = enqueue_to_address(
            session,
            "office@acme.example",
            subject="IISG membership not confirmed: ACME Security Forum",
            body="The IISG Board has decided on the application of ACME Security Forum.",
            kind="membership_outcome",
            now=clock.now(),
        )
        session.flush()
        return message.id

    message_id: int = db.run(work)
    secretariat = browser("sec")

    listed = main_text(secretariat.text("/outbox"))
    assert "(no account)" in listed and "office@acme.example" in listed
    assert "IISG membership not confirmed: ACME Security Forum" in listed
    assert "outcome of an application" in listed
    assert "waiting to be sent" in listed
    opened = main_text(secretariat.text(f"/outbox/{message_id}"))
    assert "(no account) <office@acme.example>" in opened
