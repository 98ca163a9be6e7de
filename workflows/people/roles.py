"""The IISG's roles, partners and pillars (PROCEDURES.md, 'Who takes part')."""

from __future__ import annotations

from dataclasses import dataclass

KOSOVO_FOOTNOTE = (
    "This designation is without prejudice to positions on status, and is in line with "
    "UNSCR 1244/1999 and the ICJ Opinion on the Kosovo declaration of independence."
)

# The role that runs the procedures: starts them, amends the methodology, hears of failures.
SECRETARIAT = "secretariat"
# The role of a Board seat's member and of its designated alternate alike.
BOARD_MEMBER = "board_member"


@dataclass(frozen=True)
class Role:
    """A role as a lane names it, and what its holders do."""

    key: str
    lane: str
    description: str


ROLES: dict[str, Role] = {
    r.key: r
    for r in (
        Role(
            "secretariat",
            "Secretariat",
            "Staff of the IISG Secretariat (hosted by the RCC): starts procedures, prepares "
            "drafts, assesses applications, launches Board decisions, amends the methodology.",
        ),
        Role(
            "board_member",
            "Board member",
            "One representative of each Western Balkan partner and of the European Commission; "
            "decides by consensus, at a meeting or by silent written procedure.",
        ),
        Role(
            "focal_point",
            "Focal point",
            "A WB partner's focal point for one pillar: delivers the partner's information on "
            "its mapped needs and responses.",
        ),
        Role(
            "support_group",
            "Support Group",
            "Technical experts of IISG members, per pillar: contribute to the mappings and "
            "validate drafts.",
        ),
        Role("applicant", "Applicant", "A country or organisation applying for membership."),
        Role(
            "member",
            "Member",
            "Any IISG member: reads the members-only database and approved reports.",
        ),
        Role(
            "observer",
            "Observer",
            "Reads the members-only IISG database of needs, responses and reports; changes "
            "nothing.",
        ),
    )
}


@dataclass(frozen=True)
class Partner:
    """A Board seat holder: a Western Balkan partner or the European Commission."""

    code: str
    name: str
    member_group: str
    footnote: str | None = None

    @property
    def display_name(self) -> str:
        """The name as it must be shown, with the Kosovo* asterisk where it applies."""
        return f"{self.name}*" if self.footnote else self.name


WB_PARTNERS: tuple[Partner, ...] = (
    Partner("AL", "Albania", "wb_partner"),
    Partner("BA", "Bosnia and Herzegovina", "wb_partner"),
    Partner("XK", "Kosovo", "wb_partner", KOSOVO_FOOTNOTE),
    Partner("ME", "Montenegro", "wb_partner"),
    Partner("MK", "North Macedonia", "wb_partner"),
    Partner("RS", "Serbia", "wb_partner"),
)
EUROPEAN_COMMISSION = Partner("EC", "European Commission", "eu_institution")
BOARD_SEATS: tuple[Partner, ...] = (*WB_PARTNERS, EUROPEAN_COMMISSION)

BOARD_SEAT_CODES: frozenset[str] = frozenset(seat.code for seat in BOARD_SEATS)
_SEATS_BY_CODE = {seat.code: seat for seat in BOARD_SEATS}


def partner_name(code: str | None) -> str:
    """A seat's or partner's code as its name must be shown (Kosovo* with its asterisk);
    any other code as it is."""
    if not code:
        return ""
    seat = _SEATS_BY_CODE.get(code)
    return seat.display_name if seat else code


PILLARS: dict[str, str] = {
    "WBCTi": "Counter-terrorism and preventing/countering violent extremism",
    "WBCSCi": "Serious and organised crime",
    "WBBSi": "Border security",
}


def known_roles() -> frozenset[str]:
    """The role keys a lane or a role property may name."""
    return frozenset(ROLES)
