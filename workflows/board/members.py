"""The member register: the organisations with their member group, status and focal points."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import FocalPoint, Organisation
from models.register import FOCAL_POINT_KINDS
from workflows.people.organisations import BY_RIGHT
from workflows.people.roles import BOARD_SEAT_CODES, PILLARS, partner_name

# The member groups of `002_*`, section 1, in its order and its words (without the list's
# letters, which mean nothing to a reader of the register).
MEMBER_GROUP_WORDS = {
    "wb_partner": "Western Balkans partner",
    "international_partner": "International partner operating in the region",
    "eu_institution": "European Commission or European External Action Service",
    "eu_jha_agency": "EU Justice and Home Affairs agency",
}
STATUS_WORDS = {
    "member": "member",
    "notified": "member, on notification to the Board",
    "applicant": "applicant",
    "not_confirmed": "not confirmed by the Board",
    "withdrawn": "application withdrawn",
}
# The register's columns, in the order of models.register.FOCAL_POINT_KINDS.
FOCAL_POINT_WORDS = {"official": "Official correspondence"} | {p: p for p in PILLARS}


@dataclass(frozen=True)
class MemberRow:
    """One organisation on the member register, with its focal points by kind."""

    organisation: Organisation
    name: str
    group: str
    status: str
    focal_points: dict[str, FocalPoint | None] = field(default_factory=dict)


def _group_words(organisation: Organisation) -> str:
    group = organisation.member_group
    words = MEMBER_GROUP_WORDS.get(group, group.replace("_", " ").capitalize())
    if organisation.by_right in BY_RIGHT:
        words += f"; member by right as {BY_RIGHT[organisation.by_right]}"
    if organisation.board_seat:
        words += "; Board seat"
    return words


def _group_order(group: str) -> int:
    order = list(MEMBER_GROUP_WORDS)
    return order.index(group) if group in order else len(order)


def member_register(session: Session, *, with_applicants: bool) -> list[MemberRow]:
    """The organisations on the register with their focal points, by member group and name.

    Applicants and organisations the Board did not confirm only with `with_applicants`.
    """
    query = select(Organisation)
    if not with_applicants:
        query = query.where(Organisation.is_member.is_(True))
    organisations = list(session.scalars(query))
    points: dict[str, dict[str, FocalPoint]] = {}
    for point in session.scalars(select(FocalPoint).order_by(FocalPoint.nominated_at)):
        points.setdefault(point.organisation, {})[point.kind] = point
    rows = [
        MemberRow(
            organisation=o,
            name=partner_name(o.code) if o.code in BOARD_SEAT_CODES else o.name,
            group=_group_words(o),
            status=STATUS_WORDS.get(o.status, o.status.replace("_", " ")),
            focal_points={kind: points.get(o.code, {}).get(kind) for kind in FOCAL_POINT_KINDS},
        )
        for o in organisations
    ]
    rows.sort(
        key=lambda r: (
            not r.organisation.is_member,
            _group_order(r.organisation.member_group),
            r.name,
        )
    )
    return rows
