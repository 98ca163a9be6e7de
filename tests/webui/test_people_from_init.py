"""A production installation from nothing: `iisg init` on an empty database, the Secretariat
invites a Board member by mail, who sets their password through the link, sets up a second
factor, logs in with both and answers a silent procedure; the Secretariat then moves the seat
to someone else, whose inbox gets the seat's open task, while the record keeps who
answered."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select

from commands.cli import main
from engine.instances.steps import start_instance
from engine.instances.unit_of_work import run_in_transaction
from models import HumanTask, Organisation, make_engine, make_session_factory
from tests.conftest import Clock, Database, empty_database
from tests.webui.api_contract import ContractClient
from tests.webui.conftest import Browser, main_region, main_text
from tests.workflows.mail_server import MailServer
from webui import create_app
from workflows.mail.sender import deliver_pending
from workflows.people import accounts

PASSWORD = "quiet river lantern"
_LINK = re.compile(r"https?://\S+(/login/invitation/\S+)")


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


@pytest.fixture
def production(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mail_server: MailServer
) -> Iterator[str]:
    """An empty database (no tables), and the settings an operator gives: it, and SMTP."""
    with empty_database(db, tmp_path, "init") as url:
        for variable, value in {
            "IISG_DATABASE_URL": url,
            "IISG_INSTANCE_DIR": str(tmp_path / "instance"),
            "IISG_SMTP_HOST": "127.0.0.1",
            "IISG_SMTP_PORT": str(mail_server.port),
            "IISG_SMTP_STARTTLS": "false",
            "IISG_MAIL_FROM": "IISG Procedures <no-reply@iisg.test>",
        }.items():
            monkeypatch.setenv(variable, value)
        yield url


def iisg(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def invitation_link(mail_server: MailServer, address: str) -> str:
    [mail] = [m for m in mail_server.received if m.to == [address]]
    found = _LINK.search(mail.body)
    assert found, mail.body
    return found.group(1)


def accept(visitor: Browser, link: str) -> None:
    welcome = main_text(visitor.get(link).get_data(as_text=True))
    assert "Welcome to IISG Procedures" in welcome
    response = visitor.submit(link, link, {"new_password": PASSWORD, "repeat_password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")


def set_up_second_factor(visitor: Browser, clock: Clock) -> str:
    """Production asks the Secretariat and the Board for a second factor before anything
    else: set up the authenticator app from the page's key; the key."""
    assert visitor.get("/inbox").headers["Location"] == "/account/two-factor"
    [shown] = main_region(visitor.text("/account/two-factor")).xpath(".//figcaption/code")
    key = "".join(shown.text_content().split())
    code = pyotp.TOTP(key).at(clock.now())
    turned_on = visitor.submit("/account/two-factor", "/account/two-factor/on", {"code": code})
    assert turned_on.status_code == 200
    assert visitor.get("/inbox").status_code == 200
    return key


def sign_in_with_both_factors(visitor: Browser, username: str, key: str, clock: Clock) -> None:
    clock.move(seconds=30)  # a code is good once: the app shows the next one
    assert visitor.log_in(username, PASSWORD).headers["Location"] == "/login/code"
    code = pyotp.TOTP(key).at(clock.now())
    assert visitor.submit("/login/code", "/login/code", {"code": code}).status_code == 302
    assert visitor.get("/inbox").status_code == 200


def test_the_iisg_starts_from_an_empty_database_and_a_seat_changes_hands(
    production: str, clock: Clock, mail_server: MailServer, tmp_path: Path
) -> None:
    said = iisg(
        "init", "--username", "m.kovac", "--name", "Maja Kovač", "--email", "m.kovac@rcc.example"
    )
    again = iisg("init")

    assert "Secretariat account m.kovac created" in said
    assert "Nothing to do" in again
    factory = make_session_factory(make_engine(production))
    with factory() as session:
        members = session.scalars(select(Organisation.code).where(Organisation.is_member)).all()
        seats = session.scalars(select(Organisation.code).where(Organisation.board_seat)).all()
    assert {"AL", "BA", "XK", "ME", "MK", "RS", "EC", "EEAS", "RCC", "DCAF"} <= set(members)
    assert set(seats) == {"AL", "BA", "XK", "ME", "MK", "RS", "EC"}

    app: Flask = create_app(
        {
            "DATABASE_URL": production,
            "SECRET_KEY": "test",
            "TESTING": True,
            "DOCUMENTS_DIR": str(tmp_path / "documents"),
            "TWO_FACTOR_REQUIRED": True,
        }
    )
    app.test_client_class = ContractClient
    try:

        def browser() -> Browser:
            return Browser(app.test_client())

        # The first member of the Secretariat sets their password through the mailed link.
        secretariat = browser()
        accept(secretariat, invitation_link(mail_server, "m.kovac@rcc.example"))
        assert secretariat.log_in("m.kovac", PASSWORD).status_code == 302
        set_up_second_factor(secretariat, clock)

        # They invite Albania's Board member.
        invited = secretariat.submit(
            "/people/new",
            "/people/new",
            {
                "name": "Arben Hoxha",
                "email": "a.hoxha@asp.example",
                "username": "a.hoxha",
                "organisation": "AL",
                "kind": "board_member",
                "seat": "AL",
            },
        )
        assert invited.status_code == 302
        deliver_pending(factory, mail_server.settings(), clock.now())
        board_member = browser()
        accept(board_member, invitation_link(mail_server, "a.hoxha@asp.example"))
        assert board_member.log_in("a.hoxha", PASSWORD).status_code == 302
        key = set_up_second_factor(board_member, clock)
        board_member = browser()  # another day, another browser: both factors
        sign_in_with_both_factors(board_member, "a.hoxha", key, clock)

        # Two silent procedures are running; Albania answers the first, claims the second.
        def launch(subject: str) -> int:
            return run_in_transaction(
                factory,
                lambda s: (
                    start_instance(
                        s,
                        "silent_procedure",
                        {"subject": subject, "proposal": "Agreed."},
                        actor="m.kovac",
                        now=clock.now(),
                        title=subject,
                    ).id
                ),
            )

        first, second = launch("Work programme 2027"), launch("Summary of the 2026 mapping")
        answered = board_member.submit(
            f"/silent-procedures/{first}",
            f"/silent-procedures/{first}/answer",
            {"answer": "no_objection"},
        )
        assert answered.status_code == 302
        with factory() as session:
            open_task = session.scalars(
                select(HumanTask).where(
                    HumanTask.instance_id == second, HumanTask.organisation == "AL"
                )
            ).one()
        claimed = board_member.submit("/inbox", f"/tasks/{open_task.id}/claim", {})
        assert claimed.status_code == 302

        # The seat changes hands: Albania names a new Board member.
        secretariat.submit(
            "/people/new",
            "/people/new",
            {
                "name": "Elira Shehu",
                "email": "e.shehu@asp.example",
                "username": "e.shehu",
                "organisation": "AL",
            },
        )
        deliver_pending(factory, mail_server.settings(), clock.now())
        successor = browser()
        accept(successor, invitation_link(mail_server, "e.shehu@asp.example"))
        moved = secretariat.submit(
            "/people/e.shehu",
            "/people/e.shehu/roles",
            {"kind": "board_member", "seat": "AL"},
        )
        assert moved.status_code == 302
        assert successor.log_in("e.shehu", PASSWORD).status_code == 302
        set_up_second_factor(successor, clock)

        inbox = main_region(successor.text("/inbox"))
        assert "Summary of the 2026 mapping" in inbox.text_content()
        assert "Summary of the 2026 mapping" not in board_member.text("/inbox")
        people = main_text(secretariat.text("/people?role=board_member"))
        assert "Elira Shehu" in people and "Arben Hoxha" not in people
        with factory() as session:
            answered_first = session.scalars(
                select(HumanTask).where(
                    HumanTask.instance_id == first, HumanTask.organisation == "AL"
                )
            ).one()
            moved_task = session.get(HumanTask, open_task.id)
        assert (answered_first.status, answered_first.completed_by) == ("completed", "a.hoxha")
        assert moved_task is not None and moved_task.claimed_by == "e.shehu"
    finally:
        app.extensions["iisg"].engine.dispose()
