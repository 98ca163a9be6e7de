"""Everyone concerned is told (PROCEDURES.md, section 2): when the Board decides, every Board
member (alternates too) and the Secretariat get the outcome with the record's link; the
applicant gets the outcome of their application in plain words; an EU JHA agency's membership
is notified to every Board member with its documents. Mail goes through the outbox to a real
SMTP server (aiosmtpd), at once or in the person's daily digest."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.instances.assignment import Grant, Participant
from models import AuditEvent
from tests.conftest import Clock, Database
from tests.workflows.board.test_membership import (
    ASSESSMENT,
    apply_and_express_interest,
    decide_at_meeting,
    expression_of_interest,
)
from tests.workflows.board.test_silent_procedure import launch
from tests.workflows.conftest import Iisg
from tests.workflows.mail_server import MailServer, Received, give_address, outbox
from workflows.demo import load_demo, start_demo_procedures
from workflows.inbox.documents import add_document, check_upload, document_to_download
from workflows.mail.compose import page_link
from workflows.mail.digest import send_digests
from workflows.mail.sender import deliver_pending
from workflows.methodology.diagrams import BPMN_DIR, deploy_directory
from workflows.people.accounts import set_active
from workflows.people.roles import BOARD_SEATS

MakePerson = Callable[..., Participant]
WORK_PROGRAMME = {
    "subject": "IISG work programme 2027",
    "proposal": "The Board adopts the IISG work programme for 2027 as circulated.",
}


@pytest.fixture
def addresses(iisg: Iisg, make_person: MakePerson) -> dict[str, str]:
    """Everyone who hears of the Board's decisions, each with an address: the Secretariat,
    the seven Board members and Serbia's designated alternate."""
    make_person("alternate-rs", Grant("board_member", "RS"))
    people = [iisg.secretariat.username, *(m.username for m in iisg.board.values())]
    given = {username: f"{username}@example.org" for username in [*people, "alternate-rs"]}
    for username, address in given.items():
        give_address(iisg.db, username, address)
    return given


def deliver(iisg: Iisg, server: MailServer) -> None:
    deliver_pending(iisg.db.factory, server.settings(), iisg.clock.now())


def received(server: MailServer, subject: str) -> list[Received]:
    return [mail for mail in server.received if mail.subject == subject]


def text(mail: Received) -> str:
    """The mail's body as it was written (SMTP carries its lines ending in CRLF)."""
    return mail.body.replace("\r\n", "\n")


def recipients(mails: list[Received]) -> list[str]:
    return sorted(address for mail in mails for address in mail.to)


def told_in_audit(iisg: Iisg, instance_id: int, kind: str) -> list[str]:
    with iisg.db.session() as s:
        event = s.scalars(
            select(AuditEvent).where(AuditEvent.instance_id == instance_id, AuditEvent.kind == kind)
        ).one()
        told: list[str] = event.payload["told"]
        return told


def test_a_silent_procedure_adopted_by_silence_is_told_to_the_board_and_the_secretariat(
    iisg: Iisg, addresses: dict[str, str], mail_server: MailServer
) -> None:
    instance_id = launch(iisg)  # Monday 23 November 2026, 09:00 UTC; ten working days
    iisg.answer("AL", instance_id, "no_objection")
    iisg.answer("EC", instance_id, "no_objection")
    iisg.clock.move(days=14, seconds=1)
    iisg.scheduler_pass()
    decision = iisg.decision(instance_id)
    deliver(iisg, mail_server)

    told = received(mail_server, "Board decision, adopted: Membership of the Applicant")
    assert recipients(told) == sorted(addresses.values())
    body = text(told[0])
    assert "Subject: Membership of the Applicant" in body
    assert "Outcome: adopted: silence at the deadline" in body
    assert (
        "How: by silent written procedure, launched on Monday 23 November 2026, 09:00 UTC, "
        "deadline Monday 07 December 2026, 09:00 UTC." in body
    )
    assert "Decided: Monday 07 December 2026, 09:00 UTC." in body
    assert "- Albania: no objection (board-al)" in body
    assert "- Serbia: silence (counts as agreement)" in body
    assert "- Kosovo*: silence (counts as agreement)" in body
    assert "in line with UNSCR 1244/1999" in body
    assert f"The record of the decision: {page_link(f'/decisions/{decision.id}')}" in body
    assert told_in_audit(iisg, instance_id, "board.outcome_told") == sorted(addresses)


def test_a_decision_taken_at_a_meeting_is_told_the_same_way(
    iisg: Iisg, addresses: dict[str, str], mail_server: MailServer
) -> None:
    instance_id = iisg.start("board_decision", WORK_PROGRAMME)
    iisg.complete(iisg.secretariat, "choose_method", instance_id, {"method": "meeting"})
    iisg.complete(
        iisg.secretariat,
        "record_meeting_outcome",
        instance_id,
        {
            "outcome": "not_adopted",
            "meeting_date": "2026-11-20",
            "minutes": "The Board asks for the budget annex before it decides.",
        },
    )
    decision = iisg.decision(instance_id)
    deliver(iisg, mail_server)

    told = received(mail_server, "Board decision, not adopted: IISG work programme 2027")
    assert recipients(told) == sorted(addresses.values())
    body = text(told[0])
    assert "Outcome: not adopted at a meeting of 2026-11-20" in body
    assert (
        "How: at a Board meeting; the Secretariat recorded the outcome on "
        "Monday 23 November 2026, 09:00 UTC." in body
    )
    assert (
        "Conclusions of the meeting:\nThe Board asks for the budget annex before it decides."
        in body
    )
    assert "Each seat's answer" not in body
    assert page_link(f"/decisions/{decision.id}") in body
    assert told_in_audit(iisg, instance_id, "board.outcome_told") == sorted(addresses)


def test_a_confirmed_applicant_is_told_in_plain_words(
    iisg: Iisg, make_person: MakePerson, mail_server: MailServer
) -> None:
    applicant = make_person("applicant-interpol", Grant("applicant"))
    give_address(iisg.db, "applicant-interpol", "maria.rossi@interpol.example")
    instance_id = apply_and_express_interest(iisg, applicant, "INTERPOL", "INTERPOL")
    iisg.complete(iisg.secretariat, "assess_application", instance_id, ASSESSMENT)
    iisg.complete(iisg.secretariat, "send_list_to_board", instance_id, {})
    decide_at_meeting(iisg, instance_id, "adopted", "Confirmed by consensus.")
    deliver(iisg, mail_server)

    [told] = received(mail_server, "IISG membership confirmed: INTERPOL")
    assert told.to == ["maria.rossi@interpol.example"]
    assert text(told).startswith(
        "The IISG Board has decided on the application of INTERPOL to become an IISG member, "
        "expressed in the form signed by Maria Rossi on 2026-11-23."
    )
    assert "The Board confirmed that INTERPOL is an IISG member." in text(told)
    assert "What happens next: the IISG Secretariat asks you to nominate a focal point" in (
        text(told)
    )
    assert f"IISG Procedures: {page_link('/inbox')}" in text(told)
    assert told_in_audit(iisg, instance_id, "membership.outcome_told") == ["applicant-interpol"]


def test_an_applicant_not_confirmed_is_told_the_reasons_and_what_happens_next(
    iisg: Iisg, make_person: MakePerson, mail_server: MailServer
) -> None:
    applicant = make_person("applicant-acme", Grant("applicant"))
    give_address(iisg.db, "applicant-acme", "office@acme.example")
    instance_id = apply_and_express_interest(iisg, applicant, "ACME", "ACME Security Forum")
    iisg.complete(iisg.secretariat, "assess_application", instance_id, ASSESSMENT)
    iisg.complete(iisg.secretariat, "send_list_to_board", instance_id, {})
    iisg.complete(iisg.secretariat, "choose_method", instance_id, {"method": "silent_procedure"})
    iisg.answer("RS", instance_id, "objection", "No commitment to regional cooperation in the WB.")
    # The objection decides nothing: the applicant hears nothing until the Board has decided.
    deliver(iisg, mail_server)
    assert received(mail_server, "IISG membership not confirmed: ACME Security Forum") == []
    iisg.complete(iisg.secretariat, "put_on_meeting_agenda", instance_id, {"next_step": "meeting"})
    iisg.complete(
        iisg.secretariat,
        "record_meeting_outcome",
        instance_id,
        {
            "outcome": "not_adopted",
            "meeting_date": "2026-12-10",
            "minutes": "No commitment to regional cooperation in the WB has been shown.",
        },
    )
    iisg.complete(iisg.secretariat, "decide_after_the_board", instance_id, {"next_step": "end"})
    deliver(iisg, mail_server)

    [told] = received(mail_server, "IISG membership not confirmed: ACME Security Forum")
    assert told.to == ["office@acme.example"]
    assert "did not confirm its membership." in text(told)
    assert (
        "The Board's reasons:\nConclusions of the Board meeting: No commitment to regional "
        "cooperation in the WB has been shown." in text(told)
    )
    assert (
        "What happens next: this application is closed. You may reach out to the IISG "
        "Secretariat directly, and express interest again later." in text(told)
    )
    assert "also wait in your IISG Procedures inbox" in text(told)
    assert told_in_audit(iisg, instance_id, "membership.outcome_told") == ["applicant-acme"]


def test_an_applicant_whose_login_takes_no_mail_is_told_at_the_addresses_they_gave(
    iisg: Iisg, make_person: MakePerson, mail_server: MailServer
) -> None:
    applicant = make_person("applicant-acme", Grant("applicant"))
    instance_id = apply_and_express_interest(iisg, applicant, "ACME", "ACME Security Forum")
    iisg.complete(iisg.secretariat, "assess_application", instance_id, ASSESSMENT)
    iisg.complete(iisg.secretariat, "send_list_to_board", instance_id, {})
    iisg.db.run(
        lambda s: set_active(s, "applicant-acme", False, actor="secretariat", now=iisg.clock.now())
    )
    decide_at_meeting(iisg, instance_id, "not_adopted", "More on its regional work first.")
    iisg.complete(iisg.secretariat, "decide_after_the_board", instance_id, {"next_step": "end"})
    deliver(iisg, mail_server)

    # The expression of interest gave the addresses of its focal points.
    told = received(mail_server, "IISG membership not confirmed: ACME Security Forum")
    assert recipients(told) == ["ana@example.org", "jonas@example.org"]
    assert "Conclusions of the Board meeting: More on its regional work first." in text(told[0])
    assert "inbox" not in text(told[0])
    rows = outbox(iisg.db, kind="membership_outcome")
    assert [(row.user_id, row.status) for row in rows] == [(None, "sent"), (None, "sent")]
    assert told_in_audit(iisg, instance_id, "membership.outcome_told") == [
        "ana@example.org",
        "jonas@example.org",
    ]


def test_an_eu_jha_agency_is_notified_to_every_board_member_with_its_documents(
    iisg: Iisg,
    addresses: dict[str, str],
    make_person: MakePerson,
    mail_server: MailServer,
    tmp_path: Path,
) -> None:
    applicant = make_person("applicant-cepol", Grant("applicant"))
    give_address(iisg.db, "applicant-cepol", "office@cepol.example")
    name = "European Union Agency for Law Enforcement Training"
    instance_id = iisg.start(
        "membership",
        {
            "how_it_began": "approach",
            "organisation_name": name,
            "organisation_code": "CEPOL",
            "member_group": "eu_jha_agency",
            "applicant_username": "applicant-cepol",
        },
    )
    signed = b"%PDF-1.4\n% the signed expression of interest\n"
    upload = check_upload("CEPOL expression of interest, signed.pdf", signed)
    document = iisg.db.run(
        lambda s: add_document(
            s, instance_id, upload, uploader=applicant, now=iisg.clock.now(), directory=tmp_path
        )
    )
    iisg.complete(
        applicant, "submit_expression_of_interest", instance_id, expression_of_interest(name)
    )
    deliver(iisg, mail_server)

    told = received(mail_server, f"Notification to the Board: {name} is an IISG member")
    board = {u: a for u, a in addresses.items() if u != iisg.secretariat.username}
    assert recipients(told) == sorted(board.values())
    body = text(told[0])
    assert f"{name} (CEPOL), an EU Justice and Home Affairs agency, is an IISG member" in body
    assert "The Board takes no decision on it" in body
    assert "- WBCTi focal point: Ana Petrović, Counter-terrorism adviser" in body
    assert "- Signed by Maria Rossi on 2026-11-23" in body
    link = page_link(f"/documents/{document.id}")
    assert f"- CEPOL expression of interest, signed.pdf (45 bytes): {link}" in body
    assert told_in_audit(iisg, instance_id, "board.notification_told") == sorted(board)
    # The agency itself is told it is a member, and what comes next.
    [welcome] = received(mail_server, f"IISG membership: {name}")
    assert welcome.to == ["office@cepol.example"]
    assert text(welcome).startswith(f"{name} is an IISG member from 23 November 2026.")
    assert "The IISG Secretariat has notified the IISG Board of its membership" in text(welcome)
    # The link opens for a Board member: the Board was sent the procedure's documents.
    found = iisg.db.run(
        lambda s: document_to_download(s, document.id, reader=iisg.board["ME"], directory=tmp_path)
    )
    assert found is not None and found[1].read_bytes() == signed


def test_a_board_member_on_the_digest_gets_the_outcome_in_the_digest_not_at_once(
    iisg: Iisg, addresses: dict[str, str], mail_server: MailServer
) -> None:
    give_address(iisg.db, "board-al", "board-al@example.org", mode="digest")
    instance_id = iisg.start("board_decision", WORK_PROGRAMME)
    iisg.complete(iisg.secretariat, "choose_method", instance_id, {"method": "meeting"})
    iisg.complete(
        iisg.secretariat,
        "record_meeting_outcome",
        instance_id,
        {"outcome": "adopted", "meeting_date": "2026-11-20", "minutes": "Adopted."},
    )
    decision = iisg.decision(instance_id)
    deliver(iisg, mail_server)
    told = received(mail_server, "Board decision, adopted: IISG work programme 2027")
    assert "board-al@example.org" not in recipients(told)
    assert len(told) == len(addresses) - 1

    iisg.clock.move(hours=22)  # Tuesday, 07:00 UTC: the digest hour
    settings = mail_server.settings(digest_hour_utc=7)
    assert send_digests(iisg.db.factory, settings, iisg.clock.now()).done == 1
    deliver_pending(iisg.db.factory, settings, iisg.clock.now())
    [digest] = [m for m in mail_server.received if m.to == ["board-al@example.org"]]
    assert digest.subject.startswith("Your IISG Procedures digest")
    assert "Board decision, adopted: IISG work programme 2027" in text(digest)
    assert page_link(f"/decisions/{decision.id}") in text(digest)


def test_the_demo_shows_an_outcome_and_a_notification_told_by_mail(
    db: Database, clock: Clock
) -> None:
    def demo(session: Session) -> list[str]:
        deploy_directory(session, BPMN_DIR, actor="demo", now=clock.now())
        load_demo(session, "demo-password-2026", now=clock.now())
        return [i.title or "" for i in start_demo_procedures(session, now=clock.now())]

    started = db.run(demo)
    assert "Board decision: calendar of the 2027 response mapping" in started
    assert "Membership: CEPOL (EU JHA agency, by notification)" in started

    # The seven Board members and Montenegro's designated alternate.
    board = {f"board-{seat.code.lower()}@iisg.example" for seat in BOARD_SEATS}
    board.add("alternate-me@iisg.example")
    outcome = [
        str(row.recipient)
        for row in outbox(db, kind="board_outcome")
        if row.subject == "Board decision, adopted: Calendar of the 2027 annual response mapping"
    ]
    assert sorted(outcome) == sorted([*board, "secretariat@iisg.example"])
    notified = [str(row.recipient) for row in outbox(db, kind="board_notification")]
    assert sorted(notified) == sorted(board)
    welcomed = {str(row.recipient) for row in outbox(db, kind="membership_outcome")}
    assert "applicant-cepol@iisg.example" in welcomed
    assert db.run(demo) == [], "started once"


def test_an_objection_is_told_only_once_the_board_has_decided_or_the_matter_is_withdrawn(
    iisg: Iisg, addresses: dict[str, str], mail_server: MailServer
) -> None:
    instance_id = iisg.start("board_decision", WORK_PROGRAMME)
    iisg.complete(iisg.secretariat, "choose_method", instance_id, {"method": "silent_procedure"})
    iisg.answer("ME", instance_id, "objection", "The budget line for 2027 is missing.")
    deliver(iisg, mail_server)
    # The silence is broken, nothing is decided: nobody is told an outcome yet.
    assert [m for m in mail_server.received if m.subject.startswith("Board decision")] == []

    iisg.complete(
        iisg.secretariat,
        "put_on_meeting_agenda",
        instance_id,
        {"next_step": "withdraw", "withdrawal_reason": "Re-drafted with the 2027 budget line."},
    )
    deliver(iisg, mail_server)

    told = received(mail_server, "Board decision, withdrawn: IISG work programme 2027")
    assert recipients(told) == sorted(addresses.values())
    body = text(told[0])
    assert "A matter before the IISG Board has been withdrawn." in body
    assert "Why it was withdrawn: Re-drafted with the 2027 budget line." in body
    assert "- Montenegro: objection: The budget line for 2027 is missing." in body
