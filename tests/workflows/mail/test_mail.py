"""Who is mailed and when: the holders of a new task at once, or in one digest the next morning
for those who chose it; exactly one digest a person a day, however many schedulers run."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from engine.instances.assignment import Grant, Participant
from engine.instances.steps import complete_task, start_instance
from engine.scheduler.passes import run_pass
from models import AuditEvent, HumanTask, Notice
from tests.conftest import START, Clock, Database
from tests.workflows.mail_server import MailServer, give_address, outbox, user_named
from workflows.jobs.schedule import pass_jobs, periodic_jobs
from workflows.mail.compose import enqueue, page_link
from workflows.mail.digest import digest_job, send_digests
from workflows.mail.preferences import choose_mail_mode
from workflows.mail.sender import deliver_pending
from workflows.settings import MailSettings, ProcedureSettings

SETTINGS = MailSettings(digest_hour_utc=7)


@pytest.fixture
def people(db: Database, make_person: Callable[..., Participant]) -> None:
    """The Secretariat and two Board seats, each with an e-mail address."""
    make_person("sec", Grant("secretariat"))
    make_person("board-al", Grant("board_member", "AL"))
    make_person("board-ba", Grant("board_member", "BA"))
    for username in ("sec", "board-al", "board-ba"):
        give_address(db, username, f"{username}@example.org")


def start(db: Database, clock: Clock, process: str, data: dict[str, Any]) -> int:
    def work(session: Session) -> int:
        return start_instance(session, process, data, actor="sec", now=clock.now()).id

    instance_id: int = db.run(work)
    return instance_id


def open_task(db: Database, instance_id: int, bpmn_id: str) -> HumanTask:
    with db.session() as session:
        return session.scalars(
            select(HumanTask).where(
                HumanTask.instance_id == instance_id,
                HumanTask.bpmn_id == bpmn_id,
                HumanTask.status == "open",
            )
        ).one()


def queue(db: Database, clock: Clock, username: str, subject: str) -> None:
    db.run(
        lambda s: enqueue(
            s,
            user_named(s, username),
            subject=subject,
            body=f"{subject}.\n",
            kind="reminder",
            now=clock.now(),
        )
    )


# --- New tasks -------------------------------------------------------------------------------


def test_starting_a_procedure_mails_the_holders_of_its_first_task_and_no_one_else(
    db: Database, clock: Clock, test_diagrams: None, people: None
) -> None:
    instance_id = start(db, clock, "lane_task", {"seat": "AL"})

    review = open_task(db, instance_id, "review")
    [mail] = outbox(db)
    assert (mail.recipient, mail.status, mail.kind) == ("sec@example.org", "pending", "new_task")
    assert mail.subject == "New task: Review the proposal"
    assert mail.instance_id == instance_id
    assert "Procedure: Review then acknowledge" in mail.body
    assert "Due: no due date" in mail.body
    assert mail.body.rstrip().endswith(page_link(f"/tasks/{review.id}"))


def test_the_next_step_mails_the_seat_it_is_for(
    db: Database, clock: Clock, test_diagrams: None, people: None
) -> None:
    instance_id = start(db, clock, "lane_task", {"seat": "AL"})
    review = open_task(db, instance_id, "review")
    clock.move(hours=1)
    secretariat = Participant("sec", frozenset({Grant("secretariat")}))

    db.run(
        lambda s: complete_task(
            s,
            review.id,
            {"approved": True, "comment": "Ready."},
            participant=secretariat,
            now=clock.now(),
        )
    )

    acknowledge = open_task(db, instance_id, "acknowledge")
    mail = outbox(db, kind="new_task", recipient="board-al@example.org")
    assert [m.subject for m in mail] == ["New task: Acknowledge the review"]
    assert "For: board member (AL); whoever claims it first takes it" in mail[0].body
    assert page_link(f"/tasks/{acknowledge.id}") in mail[0].body
    assert outbox(db, recipient="board-ba@example.org") == []


def test_a_holder_without_an_address_is_kept_for_the_secretariat_to_see(
    db: Database, clock: Clock, test_diagrams: None, people: None
) -> None:
    give_address(db, "sec", None)

    start(db, clock, "lane_task", {"seat": "AL"})

    [mail] = outbox(db)
    assert (mail.status, mail.recipient, mail.subject) == (
        "no_address",
        None,
        "New task: Review the proposal",
    )


def test_telling_every_seat_of_a_vote_costs_one_query_for_the_people(
    db: Database, clock: Clock, test_diagrams: None, people: None
) -> None:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "FROM user_account" in statement:
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        start(db, clock, "mi_vote", {"seats": {"AL": "AL", "BA": "BA"}})
    finally:
        event.remove(db.engine, "before_cursor_execute", count)

    assert sorted(m.recipient or "" for m in outbox(db)) == [
        "board-al@example.org",
        "board-ba@example.org",
    ]
    assert len(statements) == 1


# --- The daily digest ------------------------------------------------------------------------


def test_a_digest_reader_gets_no_mail_at_once_then_one_digest_the_next_morning(
    db: Database, clock: Clock, people: None, mail_server: MailServer
) -> None:
    give_address(db, "board-al", "board-al@example.org", mode="digest")
    queue(db, clock, "board-al", "Reminder: answer the silent procedure")
    clock.move(hours=6)
    queue(db, clock, "board-al", "New task: Acknowledge the review")
    settings = mail_server.settings(digest_hour_utc=7)

    assert deliver_pending(db.factory, settings, clock.now()) == 0
    outcome = send_digests(db.factory, settings, clock.now())
    assert outcome.done == 0, "Monday's messages came after Monday's digest hour"
    assert outcome.next_due == START.replace(hour=7) + timedelta(days=1)
    assert mail_server.received == []

    clock.move(hours=16)  # Tuesday 07:00
    assert send_digests(db.factory, settings, clock.now()).done == 1
    assert send_digests(db.factory, settings, clock.now()).done == 0
    assert deliver_pending(db.factory, settings, clock.now()) == 1

    [received] = mail_server.received
    assert received.to == ["board-al@example.org"]
    assert received.subject == "Your IISG Procedures digest: 2 messages"
    assert "1. Reminder: answer the silent procedure (Monday 23 November 2026" in received.body
    assert "2. New task: Acknowledge the review (Monday 23 November 2026, 15:00" in received.body
    digest = outbox(db, kind="digest")
    assert [m.status for m in digest] == ["sent"]
    bundled = outbox(db, kind="reminder")
    assert [(m.status, m.digest_id) for m in bundled] == [("bundled", digest[0].id)] * 2


def test_what_comes_after_the_digest_waits_for_the_next_day(
    db: Database, clock: Clock, people: None
) -> None:
    give_address(db, "board-al", "board-al@example.org", mode="digest")
    queue(db, clock, "board-al", "First")
    clock.move(hours=22)  # Tuesday 07:00
    assert send_digests(db.factory, SETTINGS, clock.now()).done == 1
    clock.move(hours=2)
    queue(db, clock, "board-al", "Second")

    assert send_digests(db.factory, SETTINGS, clock.now()).done == 0
    clock.move(days=1)
    assert send_digests(db.factory, SETTINGS, clock.now()).done == 1

    assert len(outbox(db, kind="digest")) == 2
    assert {m.status for m in outbox(db, kind="reminder")} == {"bundled"}


def test_two_schedulers_sending_digests_at_the_same_moment_send_each_person_one(
    db: Database, clock: Clock, people: None
) -> None:
    for username in ("sec", "board-al", "board-ba"):
        give_address(db, username, f"{username}@example.org", mode="digest")
        queue(db, clock, username, "Reminder")
    clock.move(days=1)
    moment = clock.now()
    together = threading.Barrier(2)
    done: list[int] = []
    failures: list[BaseException] = []

    def scheduler() -> None:
        try:
            together.wait()
            done.append(send_digests(db.factory, SETTINGS, moment).done)
        except BaseException as err:  # reported below, on the test's own thread
            failures.append(err)

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert sum(done) == 3
    digests = outbox(db, kind="digest")
    assert sorted(m.recipient or "" for m in digests) == [
        "board-al@example.org",
        "board-ba@example.org",
        "sec@example.org",
    ]
    with db.session() as session:
        keys = session.scalars(select(Notice.key).where(Notice.key.like("digest:%"))).all()
    assert len(keys) == 3


def test_the_scheduler_sends_digests_in_its_pass_and_mail_on_its_own_interval(
    db: Database, clock: Clock, people: None
) -> None:
    give_address(db, "sec", "sec@example.org", mode="digest")
    queue(db, clock, "sec", "Reminder")
    clock.move(days=1)

    result = run_pass(db.factory, clock.now(), jobs=[digest_job(SETTINGS)])

    assert result.other == 1
    assert len(outbox(db, kind="digest")) == 1
    settings = ProcedureSettings(mail=MailSettings(send_interval_seconds=30.0))
    assert any(job.__name__ == "send_digests_job" for job in pass_jobs(settings))
    assert [(p.name, p.seconds) for p in periodic_jobs(settings)] == [("mail_sender", 30.0)]


# --- Choosing how mail comes -----------------------------------------------------------------


def test_going_back_to_immediate_mail_sends_what_waited_for_the_digest(
    db: Database, clock: Clock, people: None
) -> None:
    give_address(db, "board-al", "board-al@example.org", mode="digest")
    queue(db, clock, "board-al", "Reminder")
    assert [m.status for m in outbox(db)] == ["digest"]

    def back_to_immediate(session: Session) -> bool:
        return choose_mail_mode(
            session, user_named(session, "board-al").id, "immediate", now=clock.now()
        )

    assert db.run(back_to_immediate) is True
    assert db.run(back_to_immediate) is False, "no change, nothing on the audit trail"

    assert [m.status for m in outbox(db)] == ["pending"]
    with db.session() as session:
        changes = session.scalars(
            select(AuditEvent).where(AuditEvent.kind == "account.mail_mode_changed")
        ).all()
        assert [(e.actor, e.payload["to"]) for e in changes] == [("board-al", "immediate")]
        assert session.scalar(select(func.count()).select_from(Notice)) == 0
