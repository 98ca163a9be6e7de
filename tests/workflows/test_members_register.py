"""The members register: the founding members the IISG's documents name, put on it once, and
a member the Board confirmed written to it through the one function the membership uses."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import AuditEvent, Organisation
from tests.conftest import Clock, Database
from workflows.people.organisations import admit_member, board_seats, ensure_founding_members


def test_the_founding_members_are_put_on_the_register_once(db: Database, clock: Clock) -> None:
    first = db.run(lambda s: ensure_founding_members(s, actor="cli", now=clock.now()))
    again = db.run(lambda s: ensure_founding_members(s, actor="cli", now=clock.now()))

    assert again == []
    assert set(first) == {
        *("AL", "BA", "XK", "ME", "MK", "RS", "EC", "EEAS"),
        *("DCAF", "AT", "SI", "PCCSEE", "RCC"),
    }
    with db.session() as session:
        seats = [seat.code for seat in board_seats(session)]
        by_right = dict(
            session.execute(
                select(Organisation.code, Organisation.by_right).where(
                    Organisation.by_right.is_not(None)
                )
            ).all()
        )
        events = session.scalars(
            select(AuditEvent.kind).where(AuditEvent.kind == "register.founding_members")
        ).all()
    assert seats == ["AL", "BA", "XK", "ME", "MK", "RS", "EC"]
    assert by_right == {
        "DCAF": "former_lead_partner",
        "AT": "former_lead_partner",
        "SI": "former_lead_partner",
        "PCCSEE": "former_lead_partner",
        "RCC": "secretariat_host",
    }
    assert len(events) == 1


def test_a_member_admitted_is_written_to_the_register_and_audited(
    db: Database, clock: Clock
) -> None:
    def apply(session: Session) -> str:
        session.add(
            Organisation(
                code="OSCE",
                name="OSCE",
                member_group="international_partner",
                is_member=False,
                status="applicant",
            )
        )
        session.flush()
        return admit_member(
            session,
            "OSCE",
            member_group="international_partner",
            status="member",
            actor="secretariat",
            now=clock.now(),
        ).code

    db.run(apply)

    with db.session() as session:
        osce = session.get(Organisation, "OSCE")
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.kind == "register.member_admitted")
        ).one()
    assert osce is not None and (osce.is_member, osce.status) == (True, "member")
    assert event.payload["organisation"] == "OSCE"
