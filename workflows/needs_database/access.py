"""Who reads the IISG database and who may change a need or a response in it.

Members only: every function takes the person asking (`viewer`); anyone who is not an IISG
member is refused with `NoAccess`. Reading follows membership: the Secretariat reads; anyone
else reads through a grant that names an organisation (their member grant, a focal point's
or Support Group member's organisation, a Board seat) and only while that organisation is a
member on the register. A role without an organisation (an observer named by the Secretariat
without one), an applicant, a person of an organisation that is not or no longer a member,
and nobody signed in are refused. The register is asked once per unit of work (the answer is
kept in the session's `info`).

Who may change what:

- a need: the Secretariat, or a focal point of the need's partner *for the need's pillar* (a
  focal point speaks for one partner in one pillar; a grant without a pillar covers them all);
- a response of the partner itself: the Secretariat or, as for the need, the partner's focal
  point of that pillar;
- project support (a response by another member): the Secretariat or a Support Group member
  of the need's pillar, for the organisation the member belongs to, which is never the
  partner itself;
- observers, Board members and plain members read and change nothing.

Responses a response mapping collected are its draft until the Board approves the reports
(`Response.state`): only the Secretariat, the focal points of the partner that gave them (for
the need's pillar) and the Support Group of that pillar read them (`readable_responses`);
every other member reads the approved ones only.

Refusals are `NotAllowed` (who may do it instead) and `RequestRefused` (what is wrong with
the data), both in plain words. Every change is kept in the need's history (`NeedChange`)
and audited.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, or_, select, true
from sqlalchemy.orm import Session

from engine.instances.assignment import Participant
from models import Need, Organisation, Response
from workflows.needs_database.terms import READER_ROLES
from workflows.refusals import NoAccess

# Where a session keeps, per person, whether they read the database (see `reads_database`).
_READERS_KEY = "iisg.database_readers"


def claimed_organisations(viewer: Participant) -> frozenset[str]:
    """The organisations the person's reading grants name."""
    return frozenset(
        g.organisation for g in viewer.grants if g.role in READER_ROLES and g.organisation
    )


def is_member(viewer: Participant | None) -> bool:
    """True when the person's grants let them read, if their organisation is a member: the
    Secretariat, or a reading role of an organisation. `reads_database` asks the register."""
    if viewer is None:
        return False
    return viewer.holds("secretariat") or bool(claimed_organisations(viewer))


def reads_database(session: Session, viewer: Participant | None) -> bool:
    """True when the person reads the members-only database: the Secretariat, or a reading
    role of an organisation that is an IISG member now (one query per session and person)."""
    if viewer is None or not is_member(viewer):
        return False
    if viewer.holds("secretariat"):
        return True
    known: dict[tuple[str, frozenset[str]], bool] = session.info.setdefault(_READERS_KEY, {})
    claimed = claimed_organisations(viewer)
    key = (viewer.username, claimed)
    if key not in known:
        known[key] = (
            session.scalars(
                select(Organisation.code).where(
                    Organisation.code.in_(claimed), Organisation.is_member.is_(True)
                )
            ).first()
            is not None
        )
    return known[key]


def check_member(session: Session, viewer: Participant | None) -> Participant:
    """The viewer, or NoAccess when they are not an IISG member."""
    if viewer is None or not reads_database(session, viewer):
        raise NoAccess(
            "The IISG database is for IISG members only; sign in with a member's account."
        )
    return viewer


def speaks_for(viewer: Participant, partner: str, pillar: str) -> bool:
    return any(
        g.role == "focal_point"
        and g.organisation == partner
        and (g.pillar is None or g.pillar == pillar)
        for g in viewer.grants
    )


def may_edit_need(viewer: Participant | None, need: Need) -> bool:
    """The Secretariat, or a focal point of the need's partner for the need's pillar."""
    if viewer is None or not is_member(viewer):
        return False
    return viewer.holds("secretariat") or speaks_for(viewer, need.partner, need.pillar)


def support_organisation(viewer: Participant, pillar: str) -> str | None:
    """The organisation a Support Group member of `pillar` gives project support for."""
    if not any(
        g.role == "support_group" and (g.pillar is None or g.pillar == pillar)
        for g in viewer.grants
    ):
        return None
    own = sorted(
        (g for g in viewer.grants if g.organisation),
        key=lambda g: (g.role != "member", g.role, g.organisation or ""),
    )
    return own[0].organisation if own else None


def may_respond(viewer: Participant | None, need: Need) -> bool:
    """True when the person may add a response to the need (their own or project support)."""
    if viewer is None or not is_member(viewer):
        return False
    if viewer.holds("secretariat") or speaks_for(viewer, need.partner, need.pillar):
        return True
    provider = support_organisation(viewer, need.pillar)
    return provider is not None and provider != need.partner


def may_edit_response(viewer: Participant | None, response: Response, need: Need) -> bool:
    """The Secretariat; the partner's focal point for its own; the provider's Support Group."""
    if viewer is None or not is_member(viewer):
        return False
    if viewer.holds("secretariat"):
        return True
    if response.provider_kind == "partner":
        return speaks_for(viewer, need.partner, need.pillar)
    return support_organisation(viewer, need.pillar) == response.provider


def _in_pillar(pillar: str | None) -> ColumnElement[bool]:
    """SQL: the response answers a need of `pillar` (any pillar when None)."""
    if pillar is None:
        return true()
    return Response.need_id.in_(select(Need.id).where(Need.pillar == pillar))


def approved_responses() -> ColumnElement[bool]:
    """SQL: the responses in the members-only database (the Board approved their mapping's
    reports, or a member added them there)."""
    return Response.state == "approved"


def readable_responses(viewer: Participant) -> ColumnElement[bool]:
    """SQL: the responses the person reads: the approved ones and, of a response mapping's
    drafts, those of the partner they speak for (in the pillar) or of the pillar whose Support
    Group they are in; the Secretariat reads every draft."""
    if viewer.holds("secretariat"):
        return true()
    drafts: list[ColumnElement[bool]] = []
    for grant in viewer.grants:
        if grant.role == "focal_point" and grant.organisation:
            drafts.append(
                and_(
                    Response.provider_kind == "partner",
                    Response.provider == grant.organisation,
                    _in_pillar(grant.pillar),
                )
            )
        elif grant.role == "support_group":
            drafts.append(_in_pillar(grant.pillar))
    return or_(approved_responses(), *drafts)
