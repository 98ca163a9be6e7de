"""A new member takes part: the Board confirms it, it nominates its focal points, each gets a
login by mail (a real SMTP server), sets a password through the link, and is offered the
Support Group's task of their pillar in the next needs mapping (the 2021 methodology, 2.1:
"requests a focal point be nominated for official correspondence as well as for attendance of
the technical meetings of the Support Group")."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from engine.errors import Refused
from engine.instances.assignment import Grant, Participant
from models import User
from tests.conftest import Clock, Database
from tests.webui.conftest import Browser, main_region, main_text, values
from tests.webui.test_people_from_init import PASSWORD, accept, invitation_link
from tests.workflows.board.test_membership import ASSESSMENT, apply_and_express_interest
from tests.workflows.conftest import Iisg, methodology_and_board
from tests.workflows.mail_server import MailServer
from workflows.mail.sender import deliver_pending
from workflows.people.accounts import find_user, participant

MakePerson = Callable[..., Participant]


def give_address(db: Database, username: str, email: str, organisation: str | None) -> None:
    def work(session: Session) -> None:
        user = find_user(session, username)
        assert user is not None
        user.email, user.organisation = email, organisation

    db.run(work)


def person(db: Database, username: str) -> tuple[User, set[tuple[str, str | None, str | None]]]:
    with db.session() as s:
        user = find_user(s, username)
        assert user is not None
        return user, {(g.role, g.organisation, g.pillar) for g in user.grants}


def confirmed_member(iisg: Iisg, applicant: Participant) -> int:
    """The OSCE applies and the Board confirms it in a silent procedure; its focal points are
    asked for."""
    instance_id = apply_and_express_interest(
        iisg, applicant, "OSCE", "Organization for Security and Co-operation in Europe"
    )
    iisg.complete(iisg.secretariat, "assess_application", instance_id, ASSESSMENT)
    iisg.complete(iisg.secretariat, "send_list_to_board", instance_id, {})
    iisg.complete(iisg.secretariat, "choose_method", instance_id, {"method": "silent_procedure"})
    for seat in iisg.board:
        iisg.answer(seat, instance_id, "no_objection")
    iisg.complete(
        iisg.secretariat,
        "request_focal_points",
        instance_id,
        {"focal_point_request_sent_on": "2026-11-24"},
    )
    return instance_id


def test_an_admitted_members_focal_point_logs_in_and_gets_the_next_needs_mapping_task(
    db: Database,
    clock: Clock,
    make_person: MakePerson,
    app: Flask,
    browser: Callable[..., Browser],
    mail_server: MailServer,
) -> None:
    iisg = methodology_and_board(db, clock, make_person)
    applicant = make_person("applicant-osce", Grant("applicant"))
    give_address(db, "applicant-osce", "desk@osce.example", None)
    make_person("fp-al", Grant("focal_point", "AL", "WBCSCi"))
    give_address(db, "fp-al", "fp@asp.example", "AL")
    instance_id = confirmed_member(iisg, applicant)

    nomination = {
        "official_name": "Maria Rossi",
        "official_position": "Head of External Relations",
        "official_email": "maria@osce.example",
        "nominee_wbbsi_name": "Eva Novak",
        "nominee_wbbsi_position": "Border management officer",
        "nominee_wbbsi_email": "eva.novak@osce.example",
    }
    # A person of another organisation does not become the OSCE's focal point.
    with pytest.raises(Refused, match="a person of another organisation") as refused:
        iisg.complete(
            applicant,
            "nominate_focal_points",
            instance_id,
            nomination
            | {
                "nominee_wbcsci_name": "Arta Berisha",
                "nominee_wbcsci_position": "Analyst",
                "nominee_wbcsci_email": "fp@asp.example",
            },
        )
    assert list(refused.value.errors) == ["nominee_wbcsci_email"]
    assert person(db, "fp-al")[1] == {("focal_point", "AL", "WBCSCi")}
    # The applicant's own desk takes WB CSCi: the person gets the roles, not a second login.
    iisg.complete(
        applicant,
        "nominate_focal_points",
        instance_id,
        nomination
        | {
            "nominee_wbcsci_name": "OSCE desk",
            "nominee_wbcsci_position": "Programme desk",
            "nominee_wbcsci_email": "desk@osce.example",
        },
    )
    desk, desk_roles = person(db, "applicant-osce")
    assert desk.organisation == "OSCE"
    assert {("focal_point", "OSCE", "WBCSCi"), ("support_group", "OSCE", "WBCSCi")} <= desk_roles

    # Eva Novak is new: invited by mail, with the roles of her pillar.
    eva, eva_roles = person(db, "eva.novak")
    assert (eva.display_name, eva.organisation) == ("Eva Novak", "OSCE")
    assert eva_roles == {
        ("focal_point", "OSCE", "WBBSi"),
        ("support_group", "OSCE", "WBBSi"),
        ("member", "OSCE", None),
    }
    # So is Ana Petrović, named for WB CTi in the expression of interest and kept.
    assert ("support_group", "OSCE", "WBCTi") in person(db, "ana")[1]
    deliver_pending(db.factory, mail_server.settings(), clock.now())
    visitor = Browser(app.test_client())
    accept(visitor, invitation_link(mail_server, "eva.novak@osce.example"))
    assert visitor.log_in("eva.novak", PASSWORD).status_code == 302
    # The desk was told by mail, not invited.
    to_the_desk = [m.subject for m in mail_server.received if m.to == ["desk@osce.example"]]
    assert (
        "You are a focal point of Organization for Security and Co-operation in Europe for "
        "WBCSCi" in to_the_desk
    )
    assert "Your account in IISG Procedures" not in to_the_desk

    # The next needs mapping offers her the Support Group's contribution in her pillar.
    mapping = iisg.start(
        "needs_mapping",
        {"mapping_year": 2027, "input_deadline": None, "calendar_notes": "Board in March."},
    )
    eva_now = participant(person(db, "eva.novak")[0])
    offered = iisg.tasks_of(eva_now, mapping)
    assert [(t.bpmn_id, t.role, t.pillar) for t in offered] == [
        ("contribute_support_group", "support_group", "WBBSi")
    ]
    inbox = main_text(visitor.text("/inbox"))
    assert "Contribute to the needs mapping of this pillar" in inbox
    # She reads the members-only database, as a person of a member.
    assert visitor.get("/database/needs").status_code == 200

    # The OSCE tells the Secretariat of a new focal point for WB BSi, who records it on
    # the members' focal points page.
    secretariat = browser("secretariat")
    page = main_text(secretariat.text("/focal-points"))
    assert "Eva Novak" in page and "eva.novak@osce.example" in page
    change = {
        "organisation": "OSCE",
        "pillar": "WBBSi",
        "name": "Jonas Weber",
        "email": "jonas.weber@osce.example",
        "position": "Border management officer",
    }
    not_recorded = secretariat.submit(
        "/focal-points", "/focal-points", change | {"email": "fp@asp.example"}
    )
    assert not_recorded.status_code == 422
    assert "a person of another organisation" in main_text(not_recorded.get_data(as_text=True))
    kept = main_region(not_recorded.get_data(as_text=True))
    assert values(kept, './/form//input[@name="name"]/@value') == ["Jonas Weber"]
    assert person(db, "fp-al")[1] == {("focal_point", "AL", "WBCSCi")}
    recorded = secretariat.submit("/focal-points", "/focal-points", change)
    assert recorded.status_code == 302
    page = main_text(secretariat.text("/focal-points"))
    assert "Jonas Weber" in page and "Eva Novak" not in page
    # Eva gives the pillar's roles back; Jonas, invited, is offered her open task.
    assert person(db, "eva.novak")[1] == {("member", "OSCE", None)}
    jonas = participant(person(db, "jonas.weber")[0])
    assert [t.bpmn_id for t in iisg.tasks_of(jonas, mapping)] == ["contribute_support_group"]
