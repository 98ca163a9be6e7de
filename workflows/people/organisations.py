"""The members register, the system's source of truth on who is an IISG member: each
organisation with its member group, the members by right, and the Board's seats.

The founding members are those the IISG's documents name: the six WB partners and the
European Commission (the Board's seats, `002_*` section 1), the EEAS (group c), the former
lead partners of the pillars (DCAF Ljubljana, Austria and Slovenia for Pillar I, the PCC SEE
Secretariat for Pillar II, DCAF Ljubljana and Austria for Pillar III: `001_*`) and the host of
the Secretariat (the RCC since 1 April 2020: `003_*`), the last two members by right.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.errors import Refused
from models import Organisation
from workflows.people.roles import BOARD_SEATS

# The member groups of `002_*`, section 1.
MEMBER_GROUPS = ("wb_partner", "international_partner", "eu_institution", "eu_jha_agency")
# Members without the Board's approval (`002_*`, section 1, group b).
BY_RIGHT = {
    "former_lead_partner": "former lead partner",
    "secretariat_host": "host of the Secretariat",
}


@dataclass(frozen=True)
class FoundingMember:
    """An organisation the register starts with."""

    code: str
    name: str
    member_group: str
    by_right: str | None = None
    board_seat: bool = False


FOUNDING_MEMBERS: tuple[FoundingMember, ...] = (
    *(FoundingMember(s.code, s.name, s.member_group, board_seat=True) for s in BOARD_SEATS),
    FoundingMember("EEAS", "European External Action Service", "eu_institution"),
    FoundingMember(
        "DCAF", "DCAF Ljubljana", "international_partner", by_right="former_lead_partner"
    ),
    FoundingMember("AT", "Austria", "international_partner", by_right="former_lead_partner"),
    FoundingMember("SI", "Slovenia", "international_partner", by_right="former_lead_partner"),
    FoundingMember(
        "PCCSEE",
        "Police Cooperation Convention for Southeast Europe Secretariat",
        "international_partner",
        by_right="former_lead_partner",
    ),
    FoundingMember(
        "RCC", "Regional Cooperation Council", "international_partner", by_right="secretariat_host"
    ),
)


def ensure_founding_members(session: Session, *, actor: str, now: datetime) -> list[str]:
    """Put on the register each founding member not on it yet (audited); their codes.

    An organisation already there is left as it is: the register, not this list, is the
    truth once the system runs."""
    added: list[str] = []
    for founding in FOUNDING_MEMBERS:
        if session.get(Organisation, founding.code) is not None:
            continue
        session.add(
            Organisation(
                code=founding.code,
                name=founding.name,
                member_group=founding.member_group,
                is_member=True,
                status="member",
                member_since=now,
                by_right=founding.by_right,
                board_seat=founding.board_seat,
            )
        )
        added.append(founding.code)
    if added:
        session.flush()
        audit.record(
            session,
            kind="register.founding_members",
            actor=actor,
            now=now,
            payload={"organisations": added},
        )
    return added


def admit_member(
    session: Session,
    code: str,
    *,
    member_group: str,
    status: str,
    actor: str,
    now: datetime,
    instance_id: int | None = None,
) -> Organisation:
    """Put an organisation on the register as a member (`status`: member after the Board's
    confirmation, notified for an EU JHA agency); audited."""
    organisation = session.get(Organisation, code)
    if organisation is None:
        raise Refused("organisation", f"there is no organisation '{code}' on the register")
    organisation.is_member = True
    organisation.status = status
    organisation.member_since = now
    organisation.member_group = member_group
    audit.record(
        session,
        kind="register.member_admitted",
        actor=actor,
        now=now,
        instance_id=instance_id,
        payload={"organisation": code, "member_group": member_group, "status": status},
    )
    return organisation


def board_seats(session: Session) -> list[Organisation]:
    """The organisations holding a Board seat: the WB partners, then the European Commission."""
    order = [seat.code for seat in BOARD_SEATS]
    seats = session.scalars(select(Organisation).where(Organisation.board_seat.is_(True)))
    return sorted(seats, key=lambda o: (order.index(o.code) if o.code in order else 99, o.name))


def organisations(session: Session) -> list[Organisation]:
    """Every organisation on the register (members and applicants), by name."""
    return list(session.scalars(select(Organisation).order_by(Organisation.name)))
