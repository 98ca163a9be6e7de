"""The mail sender: the outbox goes to a real SMTP server; while the server is down a mail waits
and is tried again after a growing pause; after the last attempt it is marked failed.

The test server (aiosmtpd) runs its own thread and event loop; it works under the frozen test
clock, which stops only what the wall clock says, not the server's own waits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from engine.instances.assignment import Grant, Participant
from tests.conftest import Clock, Database
from tests.workflows.mail_server import MailServer, give_address, outbox, user_named
from workflows.mail.compose import enqueue
from workflows.mail.sender import deliver_pending
from workflows.settings import MailSettings


@pytest.fixture
def server_down() -> Iterator[MailServer]:
    """An SMTP server that is not running yet (nothing listens on its port)."""
    server = MailServer()
    yield server
    server.stop()


@pytest.fixture
def focal_point(db: Database, make_person: Callable[..., Participant]) -> str:
    """A focal point with an e-mail address, who gets each mail as it comes."""
    make_person("fp-rs", Grant("focal_point", "RS", "wbbsi"))
    give_address(db, "fp-rs", "fp-rs@example.org")
    return "fp-rs"


def queue(db: Database, clock: Clock, username: str, subject: str, body: str = "") -> int:
    """Put a mail for the person in the outbox; its id."""

    def work(session: Session) -> int:
        message = enqueue(
            session,
            user_named(session, username),
            subject=subject,
            body=body or f"{subject}.\n",
            kind="reminder",
            now=clock.now(),
        )
        session.flush()
        return message.id

    message_id: int = db.run(work)
    return message_id


def test_a_mail_reaches_the_mail_server_with_its_recipient_subject_and_body(
    db: Database, clock: Clock, focal_point: str, mail_server: MailServer
) -> None:
    queue(
        db,
        clock,
        focal_point,
        "Reminder: the response mapping is due",
        "Your input on WBBSi is due on Friday.\n\nOpen it here: http://iisg.test/tasks/7\n",
    )

    assert deliver_pending(db.factory, mail_server.settings(), clock.now()) == 1

    [received] = mail_server.received
    assert received.to == ["fp-rs@example.org"]
    assert received.subject == "Reminder: the response mapping is due"
    assert "Your input on WBBSi is due on Friday." in received.body
    assert "http://iisg.test/tasks/7" in received.body
    assert received.mail["From"] == "IISG Procedures <no-reply@iisg.test>"
    [row] = outbox(db)
    assert (row.status, row.attempts, row.sent_at) == ("sent", 1, clock.now())
    assert row.last_error is None


def test_without_a_mail_server_set_messages_wait_in_the_outbox(
    db: Database, clock: Clock, focal_point: str
) -> None:
    queue(db, clock, focal_point, "Reminder")

    assert deliver_pending(db.factory, MailSettings(smtp=None), clock.now()) == 0

    [row] = outbox(db)
    assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 0, None)


def test_while_the_server_is_down_the_mail_waits_and_goes_out_after_the_pause(
    db: Database, clock: Clock, focal_point: str, server_down: MailServer
) -> None:
    settings = server_down.settings(first_retry_seconds=60.0)
    queue(db, clock, focal_point, "Reminder")

    assert deliver_pending(db.factory, settings, clock.now()) == 0

    [row] = outbox(db)
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.last_error is not None
    assert f"could not reach the mail server 127.0.0.1:{server_down.port}" in row.last_error
    assert row.next_attempt_at == clock.now() + timedelta(seconds=60)

    server_down.start()
    clock.move(seconds=30)
    assert deliver_pending(db.factory, settings, clock.now()) == 0, "not yet: it waits 60 s"
    assert server_down.received == []

    clock.move(seconds=30)
    assert deliver_pending(db.factory, settings, clock.now()) == 1

    [received] = server_down.received
    assert received.subject == "Reminder"
    [row] = outbox(db)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)


def test_the_pause_doubles_up_to_its_maximum_and_the_sender_gives_up_after_the_last_attempt(
    db: Database, clock: Clock, focal_point: str, server_down: MailServer
) -> None:
    settings = server_down.settings(
        first_retry_seconds=60.0, max_retry_seconds=150.0, max_attempts=4
    )
    queue(db, clock, focal_point, "Reminder")

    pauses = []
    for _ in range(3):
        deliver_pending(db.factory, settings, clock.now())
        [row] = outbox(db)
        assert row.status == "pending"
        assert row.next_attempt_at is not None
        pauses.append(row.next_attempt_at - clock.now())
        clock.move(seconds=pauses[-1].total_seconds())
    assert pauses == [timedelta(seconds=60), timedelta(seconds=120), timedelta(seconds=150)]

    deliver_pending(db.factory, settings, clock.now())

    [row] = outbox(db)
    assert (row.status, row.attempts, row.next_attempt_at) == ("failed", 4, None)
    assert row.last_error is not None
    clock.move(days=1)
    server_down.start()
    assert deliver_pending(db.factory, settings, clock.now()) == 0
    assert server_down.received == []


def test_one_connection_carries_the_whole_batch(
    db: Database, clock: Clock, focal_point: str, mail_server: MailServer
) -> None:
    for number in range(1, 4):
        queue(db, clock, focal_point, f"Reminder {number}")

    assert deliver_pending(db.factory, mail_server.settings(), clock.now()) == 3

    assert [r.subject for r in mail_server.received] == ["Reminder 1", "Reminder 2", "Reminder 3"]
    assert len({r.connection for r in mail_server.received}) == 1


def test_batches_follow_one_another_until_the_outbox_is_empty(
    db: Database, clock: Clock, focal_point: str, mail_server: MailServer
) -> None:
    for number in range(1, 6):
        queue(db, clock, focal_point, f"Reminder {number}")

    assert deliver_pending(db.factory, mail_server.settings(), clock.now(), batch=2) == 5

    assert len(mail_server.received) == 5
    assert {r.status for r in outbox(db)} == {"sent"}


def test_the_sender_logs_in_when_a_user_name_is_set(
    db: Database, clock: Clock, focal_point: str
) -> None:
    server = MailServer(username="iisg-mailer", password="s3cret-enough")
    server.start()
    try:
        queue(db, clock, focal_point, "Reminder")
        assert deliver_pending(db.factory, server.settings(), clock.now()) == 1
        assert server.logins == ["iisg-mailer"]
        assert [r.to for r in server.received] == [["fp-rs@example.org"]]
    finally:
        server.stop()


def test_a_refused_login_is_said_in_plain_words_and_the_mail_waits(
    db: Database, clock: Clock, focal_point: str
) -> None:
    server = MailServer(username="iisg-mailer", password="s3cret-enough")
    server.start()
    try:
        queue(db, clock, focal_point, "Reminder")
        settings = server.settings()
        assert settings.smtp is not None
        wrong = MailSettings(smtp=replace(settings.smtp, password="not it"))
        assert deliver_pending(db.factory, wrong, clock.now()) == 0
    finally:
        server.stop()

    [row] = outbox(db)
    assert row.status == "pending"
    assert row.last_error is not None
    assert "refused the login of iisg-mailer" in row.last_error
    assert "check the SMTP user name and password" in row.last_error


def test_a_server_without_starttls_is_named_when_starttls_is_asked_for(
    db: Database, clock: Clock, focal_point: str, mail_server: MailServer
) -> None:
    settings = mail_server.settings()
    assert settings.smtp is not None
    with_tls = MailSettings(smtp=replace(settings.smtp, starttls=True))
    queue(db, clock, focal_point, "Reminder")

    assert deliver_pending(db.factory, with_tls, clock.now()) == 0

    [row] = outbox(db)
    assert row.last_error is not None
    assert "check the STARTTLS setting" in row.last_error
    assert mail_server.received == []


def test_a_person_without_an_address_is_kept_in_the_outbox_and_never_sent(
    db: Database, clock: Clock, make_person: Callable[..., Participant], mail_server: MailServer
) -> None:
    make_person("board-al", Grant("board_member", "AL"))
    queue(db, clock, "board-al", "Reminder")

    assert deliver_pending(db.factory, mail_server.settings(), clock.now()) == 0

    [row] = outbox(db)
    assert (row.status, row.recipient, row.attempts) == ("no_address", None, 0)
    assert mail_server.received == []
