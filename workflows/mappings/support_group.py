"""The Support Group's contributions to the mappings, one per member organisation.

The response mapping asks "the other members of the IISG Support Group" for "the project/s
support given to WB Partners" (`004_*`, I.2), and the needs mapping is prepared "with
contributions from the IISG Support Group" (`003_*`). Every IISG member other than a WB
partner that has a focal point in a pillar's Support Group (a `support_group` role held for
the organisation in the pillar, in the people register) is asked on its own, in parallel with
the others; the Secretariat sees which of them have contributed
(`workflows.procedures.contributions`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.services import ServiceCall, register
from models import Organisation, RoleGrant
from workflows.people.roles import PILLARS, WB_PARTNERS

_WB_CODES = frozenset(p.code for p in WB_PARTNERS)


def support_group_organisations(session: Session, pillar: str) -> list[Organisation]:
    """The IISG members, WB partners aside, with a focal point in the pillar's Support Group."""
    codes = session.scalars(
        select(RoleGrant.organisation)
        .where(
            RoleGrant.role == "support_group",
            RoleGrant.pillar == pillar,
            RoleGrant.organisation.is_not(None),
        )
        .distinct()
    ).all()
    found = [session.get(Organisation, code) for code in codes if code and code not in _WB_CODES]
    return sorted((o for o in found if o is not None and o.is_member), key=lambda o: o.code)


def contribution_requests(
    session: Session, pillars: Iterable[str], **extra: Any
) -> dict[str, dict[str, Any]]:
    """One request per pillar and member organisation of its Support Group, keyed "EC-WBCTi"."""
    return {
        f"{organisation.code}-{pillar}": {
            "pillar": pillar,
            "organisation": organisation.code,
            "organisation_name": organisation.name,
            **extra,
        }
        for pillar in pillars
        for organisation in support_group_organisations(session, pillar)
    }


@register("support_group_contribution_requests")
def contribution_requests_service(call: ServiceCall) -> dict[str, dict[str, Any]]:
    """The needs mapping's requests: every pillar's Support Group member organisations."""
    return contribution_requests(call.context.session, PILLARS)
