"""Talking to the mail server: one connection per batch, each failure in plain words."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import NamedTuple

from workflows.settings import SmtpSettings


class Outgoing(NamedTuple):
    """A claimed outbox message, as the sender needs it."""

    id: int
    recipient: str | None
    subject: str
    body: str
    created_at: datetime


def _text(raw: bytes | str) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw


def explain(err: BaseException, smtp: SmtpSettings) -> str:
    """What went wrong talking to the mail server, for the outbox's "last error"."""
    server = f"{smtp.host}:{smtp.port}"
    if isinstance(err, smtplib.SMTPAuthenticationError):
        return (
            f"the mail server refused the login of {smtp.username}: "
            f"{err.smtp_code} {_text(err.smtp_error)}; check the SMTP user name and password"
        )
    if isinstance(err, smtplib.SMTPNotSupportedError):
        return f"the mail server {server} does not offer this ({err}); check the STARTTLS setting"
    if isinstance(err, smtplib.SMTPRecipientsRefused):
        refused = "; ".join(
            f"{address}: {code} {_text(reply)}" for address, (code, reply) in err.recipients.items()
        )
        return f"the mail server refused the address ({refused})"
    if isinstance(err, smtplib.SMTPSenderRefused):
        return (
            f"the mail server refused the sender address {err.sender}: "
            f"{err.smtp_code} {_text(err.smtp_error)}; check the sender setting"
        )
    if isinstance(err, smtplib.SMTPResponseException):
        return f"the mail server refused the message: {err.smtp_code} {_text(err.smtp_error)}"
    if isinstance(err, smtplib.SMTPServerDisconnected):
        return f"the mail server {server} closed the connection ({err})"
    if isinstance(err, smtplib.SMTPException):
        return f"the mail server {server} answered with an error: {err}"
    if isinstance(err, TimeoutError):
        return f"the mail server {server} did not answer within {smtp.timeout_seconds:g} seconds"
    if isinstance(err, ssl.SSLError):
        return f"the secure connection to the mail server {server} failed: {err}"
    if isinstance(err, OSError):
        return f"could not reach the mail server {server}: {err.strerror or err}"
    return f"the mail server {server} answered with an error: {err}"


def compose(message: Outgoing, smtp: SmtpSettings, now: datetime) -> EmailMessage:
    """The mail as it goes out; the same Message-ID on every attempt of one outbox row."""
    mail = EmailMessage()
    mail["From"] = smtp.sender
    mail["To"] = message.recipient or ""
    mail["Subject"] = message.subject
    mail["Date"] = format_datetime(now)
    domain = parseaddr(smtp.sender)[1].rpartition("@")[2] or "iisg.invalid"
    mail["Message-ID"] = f"<outbox-{message.id}-{message.created_at:%Y%m%d%H%M%S}@{domain}>"
    mail["Auto-Submitted"] = "auto-generated"  # no out-of-office replies to a robot
    mail.set_content(message.body)
    return mail


def _connect(smtp: SmtpSettings) -> smtplib.SMTP:
    connection = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_seconds)
    try:
        if smtp.starttls:
            connection.starttls(context=ssl.create_default_context())
        if smtp.username:
            connection.login(smtp.username, smtp.password or "")
    except BaseException:
        connection.close()
        raise
    return connection


def deliver(
    smtp: SmtpSettings, messages: Sequence[Outgoing], now: datetime
) -> dict[int, str | None]:
    """Send the messages over one connection; for each id, None or why it was not sent."""
    results: dict[int, str | None] = {}
    try:
        connection = _connect(smtp)
    except (OSError, smtplib.SMTPException) as err:
        reason = explain(err, smtp)
        return {m.id: reason for m in messages}
    envelope_from = parseaddr(smtp.sender)[1] or smtp.sender
    try:
        for message in messages:
            if not message.recipient:
                results[message.id] = "the person has no e-mail address"
                continue
            try:
                connection.send_message(
                    compose(message, smtp, now),
                    from_addr=envelope_from,
                    to_addrs=[message.recipient],
                )
                results[message.id] = None
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError) as err:
                results[message.id] = explain(err, smtp)  # this message only; go on
                connection.rset()
    except (OSError, smtplib.SMTPException) as err:
        reason = explain(err, smtp)
        for message in messages:
            results.setdefault(message.id, reason)
    finally:
        try:
            connection.quit()
        except (OSError, smtplib.SMTPException):
            connection.close()
    return results
