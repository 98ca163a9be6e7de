"""A real SMTP server for the mail tests (aiosmtpd on 127.0.0.1), and the people mail goes to."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from sqlalchemy import select, update
from sqlalchemy.orm import Session as DbSession

from models import OutboxMessage, User
from workflows.settings import MailSettings, SmtpSettings

if TYPE_CHECKING:  # tests/conftest.py runs this server for every test that asks for one
    from tests.conftest import Database


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (yet)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class Received:
    """One mail as the server took it: the envelope's recipients and the parsed message."""

    to: list[str]
    mail: EmailMessage
    connection: str

    @property
    def subject(self) -> str:
        return str(self.mail["Subject"])

    @property
    def body(self) -> str:
        content: str = self.mail.get_content()
        return content


@dataclass
class MailServer:
    """An SMTP server collecting what it is sent; it asks for a login when given one."""

    port: int = field(default_factory=free_port)
    username: str | None = None
    password: str | None = None
    received: list[Received] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    _controller: Controller | None = None

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        mail = message_from_bytes(raw, policy=policy.default)
        assert isinstance(mail, EmailMessage)
        self.received.append(Received(list(envelope.rcpt_tos), mail, str(id(session))))
        return "250 OK"

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        accepted = (
            isinstance(data, LoginPassword)
            and data.login.decode() == self.username
            and data.password.decode() == self.password
        )
        if accepted:
            self.logins.append(data.login.decode())
        return AuthResult(success=accepted, handled=False)

    def start(self) -> None:
        options: dict[str, Any] = {}
        if self.username is not None:
            options = {"authenticator": self._authenticate, "auth_require_tls": False}
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, **options)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def settings(self, **overrides: Any) -> MailSettings:
        """Mail settings that deliver here (plain SMTP: the test server offers no TLS)."""
        smtp = SmtpSettings(
            host="127.0.0.1",
            port=self.port,
            starttls=False,
            username=self.username,
            password=self.password,
            sender="IISG Procedures <no-reply@iisg.test>",
            timeout_seconds=5.0,
        )
        return MailSettings(smtp=smtp, **overrides)


def give_address(db: Database, username: str, address: str | None, mode: str = "immediate") -> None:
    """Give a person an e-mail address and a mail mode, as the Secretariat would."""

    def work(session: DbSession) -> None:
        session.execute(
            update(User).where(User.username == username).values(email=address, mail_mode=mode)
        )

    db.run(work)


def user_named(session: DbSession, username: str) -> User:
    """The person with this user name."""
    return session.scalars(select(User).where(User.username == username)).one()


def outbox(db: Database, **where: Any) -> list[OutboxMessage]:
    """The outbox rows, oldest first, optionally only those with the given column values."""
    with db.session() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        for column, value in where.items():
            query = query.where(getattr(OutboxMessage, column) == value)
        return list(session.scalars(query))
