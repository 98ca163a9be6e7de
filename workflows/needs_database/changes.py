"""Changes to the IISG database: adding and editing needs and responses, each kept in the
need's history and audited."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from engine import audit
from engine.errors import NotAllowed
from engine.instances.assignment import Participant
from models import Need, NeedChange, Organisation, Response
from models.mapping import PROVIDER_KINDS
from workflows.needs_database.access import (
    check_member,
    may_edit_need,
    may_edit_response,
    may_respond,
    speaks_for,
    support_organisation,
)
from workflows.needs_database.checks import (
    checked_need_value,
    checked_response_value,
    refuse_unknown,
)
from workflows.needs_database.search import find_need
from workflows.needs_database.terms import NEED_FIELDS, RESPONSE_FIELDS
from workflows.people.roles import PILLARS, partner_name
from workflows.refusals import RequestRefused


def _record_change(
    session: Session,
    need: Need,
    changes: dict[str, dict[str, Any]],
    *,
    viewer: Participant,
    now: datetime,
    kind: str,
) -> None:
    session.add(
        NeedChange(need_id=need.id, changed_at=now, changed_by=viewer.username, changes=changes)
    )
    audit.record(
        session,
        kind=kind,
        actor=viewer.username,
        now=now,
        payload={"need": need.id, "partner": need.partner, "changes": changes},
    )


def update_need(
    session: Session,
    need_id: int,
    changes: Mapping[str, Any],
    *,
    viewer: Participant | None,
    now: datetime,
) -> Need:
    """Change a need's fields (`NEED_FIELDS`); the history and the audit trail keep it."""
    who = check_member(session, viewer)
    need = find_need(session, need_id)
    if not may_edit_need(who, need):
        raise NotAllowed(
            f"Only the Secretariat and {partner_name(need.partner)}'s focal points for "
            f"{need.pillar} can change this need."
        )
    refuse_unknown(changes, NEED_FIELDS, "need")
    done: dict[str, dict[str, Any]] = {}
    for name, raw in changes.items():
        value = checked_need_value(name, raw)
        before = getattr(need, name)
        if value != before:
            done[name] = {"before": before, "after": value}
            setattr(need, name, value)
    if not done:
        return need
    need.updated_at, need.updated_by = now, who.username
    session.flush()
    _record_change(session, need, done, viewer=who, now=now, kind="need.updated")
    return need


def add_need(
    session: Session, data: Mapping[str, Any], *, viewer: Participant | None, now: datetime
) -> Need:
    """A need a partner's focal point (or the Secretariat) adds between two mappings."""
    who = check_member(session, viewer)
    partner, pillar = str(data.get("partner") or ""), str(data.get("pillar") or "")
    if pillar not in PILLARS:
        raise RequestRefused(f"'{pillar}' is not a pillar; choose one of: {', '.join(PILLARS)}.")
    if session.get(Organisation, partner) is None:
        raise RequestRefused(f"'{partner}' is not an organisation in the register.")
    if not (who.holds("secretariat") or speaks_for(who, partner, pillar)):
        raise NotAllowed(
            f"Only the Secretariat and {partner_name(partner)}'s focal points for {pillar} "
            "can add its needs."
        )
    need = Need(
        partner=partner,
        pillar=pillar,
        sub_pillar=checked_need_value("sub_pillar", data.get("sub_pillar")),
        kind=checked_need_value("kind", data.get("kind")),
        perspective=checked_need_value("perspective", data.get("perspective")),
        description=checked_need_value("description", data.get("description")),
        source_kind="member_update",
        source_year=int(data.get("year") or now.year),
        status="open",
        created_at=now,
        updated_at=now,
        updated_by=who.username,
    )
    session.add(need)
    session.flush()
    _record_change(
        session,
        need,
        {"created": {"before": None, "after": need.description}},
        viewer=who,
        now=now,
        kind="need.added",
    )
    return need


def add_response(
    session: Session,
    need_id: int,
    data: Mapping[str, Any],
    *,
    viewer: Participant | None,
    now: datetime,
) -> Response:
    """A response to a need: the partner's own (its focal point) or project support (a Support
    Group member's organisation). The Secretariat may record either, naming the `provider`."""
    who = check_member(session, viewer)
    need = find_need(session, need_id)
    if not may_respond(who, need):
        raise NotAllowed(
            f"Responses to this need are recorded by {partner_name(need.partner)}'s focal "
            f"points for {need.pillar}, by the Support Group of {need.pillar} for project "
            "support, and by the Secretariat."
        )
    if who.holds("secretariat"):
        provider = str(data.get("provider") or need.partner).strip()
        if session.get(Organisation, provider) is None:
            raise RequestRefused(f"'{provider}' is not an organisation in the register.")
    elif speaks_for(who, need.partner, need.pillar):
        provider = need.partner
    else:
        provider = support_organisation(who, need.pillar) or ""
    values = {name: checked_response_value(name, data.get(name)) for name in RESPONSE_FIELDS}
    kind = "partner" if provider == need.partner else "project_support"
    assert kind in PROVIDER_KINDS
    response = Response(
        need_id=need.id,
        provider=provider,
        provider_kind=kind,
        **values,
        created_at=now,
        updated_at=now,
        updated_by=who.username,
    )
    session.add(response)
    session.flush()
    _record_change(
        session,
        need,
        {"response_added": {"before": None, "after": {"id": response.id, "provider": provider}}},
        viewer=who,
        now=now,
        kind="response.added",
    )
    return response


def update_response(
    session: Session,
    response_id: int,
    changes: Mapping[str, Any],
    *,
    viewer: Participant | None,
    now: datetime,
) -> Response:
    """Change a response's fields (`RESPONSE_FIELDS`), kept in its need's history."""
    who = check_member(session, viewer)
    response = session.get(Response, response_id)
    if response is None:
        raise RequestRefused(f"There is no response {response_id} in the IISG database.")
    need = find_need(session, response.need_id)
    if not may_edit_response(who, response, need):
        raise NotAllowed(
            f"Only the Secretariat and those who speak for {partner_name(response.provider)} "
            "can change this response."
        )
    refuse_unknown(changes, RESPONSE_FIELDS, "response")
    done: dict[str, Any] = {}
    for name, raw in changes.items():
        value = checked_response_value(name, raw)
        before = getattr(response, name)
        if value != before:
            done[name] = {"before": before, "after": value}
            setattr(response, name, value)
    if not done:
        return response
    response.updated_at, response.updated_by = now, who.username
    session.flush()
    _record_change(
        session,
        need,
        {f"response_{response.id}.{k}": v for k, v in done.items()},
        viewer=who,
        now=now,
        kind="response.updated",
    )
    return response
