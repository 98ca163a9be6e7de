"""Writing a mail: one outbox row for one person, in the unit of work of the event it tells of
(so a step that rolls back mails no one), with links to the site's pages and moments written
out in UTC."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from models import OutboxMessage, User
from workflows.settings import MailSettings

_SUBJECT_LENGTH = 255  # outbox_message.subject


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
    at_once: bool = False,
) -> OutboxMessage:
    """Put one plain-text mail for `user` in the outbox, in the caller's unit of work.

    It waits for the sender (immediate mail) or for the person's daily digest; a person with
    no e-mail address gets a `no_address` row, which the Secretariat sees in the outbox. A mail
    the person needs now (`at_once`: a link to set their password) never waits for a digest.
    """
    address = (user.email or "").strip() or None
    if address is None:
        status = "no_address"
    elif user.mail_mode == "digest" and not at_once:
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


def enqueue_to_address(
    session: Session,
    address: str,
    *,
    subject: str,
    body: str,
    kind: str,
    now: datetime,
    instance_id: int | None = None,
) -> OutboxMessage:
    """Put one plain-text mail for an address with no account behind it in the outbox.

    For someone the procedures know only by the address they gave (an applicant whose login
    no longer takes mail): nobody chose a digest for them, so it goes at once.
    """
    message = OutboxMessage(
        user_id=None,
        recipient=address.strip(),
        subject=subject[:_SUBJECT_LENGTH],
        body=body,
        kind=kind,
        instance_id=instance_id,
        status="pending",
        created_at=now,
        attempts=0,
    )
    session.add(message)
    return message
