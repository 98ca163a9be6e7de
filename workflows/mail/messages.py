"""Mail to the people of the procedures: the outbox, the new-task mail, the daily digest, and
the sender that delivers the outbox over SMTP.

Every mail is an outbox row written in the unit of work of the event it tells of, so a step
that rolls back mails no one. Delivery is at least once: the sender claims messages in one
short transaction, talks to the mail server, then records each result in its own; a process
that dies after the server accepted a message but before that record commits leaves the
message pending, and it goes out again when its claim runs out. The Message-ID header is the
same on every attempt, so mail programs can tell a repeat from a new message.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from engine import audit
from engine.instances import task_events
from engine.instances.assignment import describe_holder
from engine.instances.unit_of_work import run_in_transaction
from engine.scheduler.passes import JobOutcome, PassJob, Periodic
from models import MAIL_MODES, HumanTask, OutboxMessage, ProcessInstance, User
from workflows.mail.notices import claim_notice
from workflows.mail.recipients import candidates_for, holds
from workflows.mail.smtp import Outgoing, deliver
from workflows.settings import MailSettings

log = logging.getLogger("iisg.mail")
# How long a claimed message is left to the process that claimed it before another may try:
# longer than a batch of slow sends, short enough that a crashed sender's mail is not stuck.
CLAIM_LEASE = timedelta(minutes=10)
SEND_BATCH = 20
_SUBJECT_LENGTH = 255  # outbox_message.subject


class MailModeError(ValueError):
    """A mail mode the system does not know; says which ones it does."""


# The mail settings the start gave this process (the defaults until it does); links in mails
# written anywhere in a step (a new task, a decision's extension) are built from them.
_in_use = [MailSettings()]


def use_mail_settings(settings: MailSettings) -> None:
    """Build the links in this process's mails from `settings` (called once, at start)."""
    _in_use[0] = settings


def mail_settings() -> MailSettings:
    """The mail settings this process started with."""
    return _in_use[0]


def page_link(path: str, settings: MailSettings | None = None) -> str:
    """The full address of one of the site's pages, for the end of a mail."""
    base = (settings or mail_settings()).base_url.rstrip("/")
    return f"{base}{path}"


def when(moment: datetime) -> str:
    """A moment as mails write it, UTC said out loud."""
    return moment.astimezone(UTC).strftime("%A %d %B %Y, %H:%M UTC")


def enqueue(
    session: Session,
    user: User,
    *,
    subject: str,
    body: str,
    kind: str,
    now: datetime,
    instance_id: int | None = None,
) -> OutboxMessage:
    """Put one plain-text mail for `user` in the outbox, in the caller's unit of work.

    It waits for the sender (immediate mail) or for the person's daily digest; a person with
    no e-mail address gets a `no_address` row, which the Secretariat sees in the outbox.
    """
    address = (user.email or "").strip() or None
    if address is None:
        status = "no_address"
    elif user.mail_mode == "digest":
        status = "digest"
    else:
        status = "pending"
    message = OutboxMessage(
        user_id=user.id,
        recipient=address,
        subject=subject[:_SUBJECT_LENGTH],
        body=body,
        kind=kind,
        instance_id=instance_id,
        status=status,
        created_at=now,
        attempts=0,
    )
    session.add(message)
    return message


# --- New tasks -------------------------------------------------------------------------------


def new_task_mail(task: HumanTask, title: str) -> tuple[str, str]:
    """The subject and body telling a holder of a newly opened task."""
    lines = [f"A new task waits for you in IISG Procedures: {task.name}.", ""]
    lines.append(f"Procedure: {title}")
    if task.about:
        lines.append(f"About: {task.about}")
    if not (task.assignee or task.claimed_by):
        lines.append(f"For: {describe_holder(task)}; whoever claims it first takes it")
    lines.append(f"Due: {when(task.due_at)}" if task.due_at else "Due: no due date")
    lines += ["", f"Open the task: {page_link(f'/tasks/{task.id}')}", ""]
    return f"New task: {task.name}", "\n".join(lines)


def tell_holders_of_new_tasks(session: Session, tasks: Sequence[HumanTask], now: datetime) -> None:
    """Mail each holder of each newly opened task (a task_events listener)."""
    people = candidates_for(session, tasks)
    for task in tasks:
        holders = [user for user in people if holds(user, task)]
        if not holders:
            continue
        instance = session.get(ProcessInstance, task.instance_id)
        title = instance.title if instance is not None and instance.title else task.process_key
        subject, body = new_task_mail(task, title)
        for user in holders:
            enqueue(
                session,
                user,
                subject=subject,
                body=body,
                kind="new_task",
                now=now,
                instance_id=task.instance_id,
            )


task_events.subscribe(tell_holders_of_new_tasks)


# --- Choosing immediate mail or a daily digest -----------------------------------------------


def choose_mail_mode(session: Session, user_id: int, mode: str, *, now: datetime) -> bool:
    """Set how the person gets mail; True when it changed (then it is on the audit trail).

    Going back to immediate mail sends what waits for the digest at once.
    """
    if mode not in MAIL_MODES:
        raise MailModeError(f"choose one of {', '.join(MAIL_MODES)}, not {mode!r}")
    user = session.get(User, user_id)
    if user is None:
        raise MailModeError("there is no such person")
    if user.mail_mode == mode:
        return False
    before, user.mail_mode = user.mail_mode, mode
    released = 0
    if mode == "immediate":
        released = len(
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.user_id == user.id, OutboxMessage.status == "digest")
                .values(status="pending")
                .returning(OutboxMessage.id)
                .execution_options(synchronize_session=False)
            ).all()
        )
    audit.record(
        session,
        kind="account.mail_mode_changed",
        actor=user.username,
        now=now,
        payload={"from": before, "to": mode, "released_from_digest": released},
    )
    return True


# --- The daily digest ------------------------------------------------------------------------


def digest_moment(now: datetime, hour_utc: int) -> datetime:
    """Today's digest time: the digest of this day bundles what came before it."""
    day = now.astimezone(UTC)
    return day.replace(hour=hour_utc, minute=0, second=0, microsecond=0)


def digest_key(user_id: int, moment: datetime) -> str:
    """The once-only key of one person's digest of one day."""
    return f"digest:{user_id}:{moment.date().isoformat()}"


def _digest_mail(user: User, messages: Sequence[OutboxMessage]) -> tuple[str, str]:
    count = f"{len(messages)} message{'s' if len(messages) != 1 else ''}"
    lines = [
        f"Hello {user.display_name},",
        "",
        f"Here is what IISG Procedures had for you since your last digest: {count}.",
    ]
    for number, message in enumerate(messages, start=1):
        lines += ["", f"{number}. {message.subject} ({when(message.created_at)})", ""]
        lines += [f"   {line}" if line else "" for line in message.body.rstrip().splitlines()]
    lines += [
        "",
        "You get one mail a day because you chose a daily digest. To get each mail as it "
        f"comes, change it here: {page_link('/account/mail')}",
        "",
    ]
    return f"Your IISG Procedures digest: {count}", "\n".join(lines)


def _send_digest(
    factory: sessionmaker[Session], user_id: int, moment: datetime, now: datetime
) -> bool:
    key = digest_key(user_id, moment)

    def work(session: Session) -> bool:
        user = session.get(User, user_id)
        messages = list(
            session.scalars(
                select(OutboxMessage)
                .where(
                    OutboxMessage.user_id == user_id,
                    OutboxMessage.status == "digest",
                    OutboxMessage.created_at < moment,
                )
                .order_by(OutboxMessage.created_at, OutboxMessage.id)
            )
        )
        if user is None or not messages:
            return False
        if not claim_notice(session, key, now):
            return False  # another scheduler sent this digest a moment ago
        subject, body = _digest_mail(user, messages)
        digest = enqueue(session, user, subject=subject, body=body, kind="digest", now=now)
        if digest.status == "digest":
            digest.status = "pending"  # the digest itself goes out at once
        session.flush()
        for message in messages:
            message.status = "bundled"
            message.digest_id = digest.id
        return True

    sent: bool = run_in_transaction(factory, work)
    return sent


def send_digests(
    factory: sessionmaker[Session], settings: MailSettings, now: datetime
) -> JobOutcome:
    """Once a day, at or after the digest hour, one digest per person bundling what waits."""
    moment = digest_moment(now, settings.digest_hour_utc)
    if now < moment:
        return JobOutcome(0, moment)
    with factory() as session:
        user_ids = list(
            session.scalars(
                select(OutboxMessage.user_id)
                .where(
                    OutboxMessage.status == "digest",
                    OutboxMessage.created_at < moment,
                    OutboxMessage.user_id.is_not(None),
                )
                .distinct()
            )
        )
    sent = sum(_send_digest(factory, user_id, moment, now) for user_id in user_ids if user_id)
    return JobOutcome(sent, moment + timedelta(days=1))


# --- The sender ------------------------------------------------------------------------------


def retry_delay(settings: MailSettings, attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failure: doubling, up to the maximum."""
    seconds = settings.first_retry_seconds * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.max_retry_seconds))


def _claim(factory: sessionmaker[Session], now: datetime, batch: int) -> list[Outgoing]:
    """Take due pending messages for this sender: one attempt more, hidden from the others."""

    def work(session: Session) -> list[Outgoing]:
        due = [
            OutboxMessage.status == "pending",
            or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
        ]
        ids = list(
            session.scalars(
                select(OutboxMessage.id)
                .where(*due)
                .order_by(OutboxMessage.id)
                .limit(batch)
                .with_for_update(skip_locked=True)
            )
        )
        if not ids:
            return []
        # The conditions again: on SQLite (no row locks) a second sender that read the same
        # rows claims none of those the first has claimed.
        rows = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), *due)
            .values(attempts=OutboxMessage.attempts + 1, next_attempt_at=now + CLAIM_LEASE)
            .returning(
                OutboxMessage.id,
                OutboxMessage.recipient,
                OutboxMessage.subject,
                OutboxMessage.body,
                OutboxMessage.created_at,
            )
            .execution_options(synchronize_session=False)
        ).all()
        return sorted((Outgoing(*row) for row in rows), key=lambda m: m.id)

    return run_in_transaction(factory, work)


def _record(
    factory: sessionmaker[Session],
    settings: MailSettings,
    message_id: int,
    error: str | None,
    now: datetime,
) -> None:
    def work(session: Session) -> None:
        row = session.get(OutboxMessage, message_id)
        if row is None or row.status != "pending":
            return
        if error is None:
            row.status, row.sent_at, row.next_attempt_at, row.last_error = "sent", now, None, None
        elif row.attempts >= settings.max_attempts:
            row.status, row.next_attempt_at, row.last_error = "failed", None, error
        else:
            row.next_attempt_at = now + retry_delay(settings, row.attempts)
            row.last_error = error

    run_in_transaction(factory, work)


def deliver_pending(
    factory: sessionmaker[Session], settings: MailSettings, now: datetime, batch: int = SEND_BATCH
) -> int:
    """Send the due messages over SMTP (nothing when no server is set); how many went out."""
    if settings.smtp is None:
        return 0
    sent = 0
    while True:
        claimed = _claim(factory, now, batch)
        if not claimed:
            return sent
        errors = deliver(settings.smtp, claimed, now)
        for message in claimed:
            error = errors.get(message.id)
            if error is not None:
                log.warning("mail %s to %s not sent: %s", message.id, message.recipient, error)
            _record(factory, settings, message.id, error, now)
        delivered = sum(1 for m in claimed if errors.get(m.id) is None)
        sent += delivered
        # A short batch was the last; a batch with nothing delivered means the server is
        # down, and the rest waits for the next run rather than each batch timing out.
        if len(claimed) < batch or not delivered:
            return sent


# --- The scheduler's jobs ---------------------------------------------------------------------


def digest_job(settings: MailSettings) -> PassJob:
    """`send_digests` as a scheduler pass job."""

    def send_digests_job(factory: sessionmaker[Session], now: datetime) -> JobOutcome:
        return send_digests(factory, settings, now)

    return send_digests_job


def sender_job(settings: MailSettings) -> Periodic:
    """`deliver_pending` as a periodic scheduler job."""

    def deliver_pending_job(factory: sessionmaker[Session], now: datetime) -> int:
        return deliver_pending(factory, settings, now)

    return Periodic("mail_sender", deliver_pending_job, settings.send_interval_seconds)
