"""The IISG database (issue 7): the WB partners' needs, the responses to them and the mapping
reports; search, gaps, duplications, coverage and trends; CSV, XLSX and the draft reports.

Members only. Every function takes the person asking (`viewer`) and refuses anyone who is not
an IISG member (an applicant, nobody signed in) with `NoAccess`; only `public_summaries`, the
approved and published report summaries, is for everyone.

Who may change what:

- a need: the Secretariat, or a focal point of the need's partner *for the need's pillar* (a
  focal point speaks for one partner in one pillar; a grant without a pillar covers them all);
- a response of the partner itself: the Secretariat or, as for the need, the partner's focal
  point of that pillar;
- project support (a response by another member): the Secretariat or a Support Group member
  of the need's pillar, for the organisation the member belongs to, which is never the
  partner itself;
- observers, Board members and plain members read and change nothing.

Refusals are `NotAllowed` (who may do it instead) and `RequestRefused` (what is wrong with
the data), both in plain words. Every change is kept in the need's history (`NeedChange`)
and audited.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session

from engine import audit
from engine.assignment import Participant
from engine.errors import NotAllowed
from models import Need, NeedChange, Organisation, Response
from models.mapping import NEED_KINDS, NEED_STATUSES, PERSPECTIVES, PROVIDER_KINDS, SUB_PILLARS
from workflows.people.roles import PILLARS, partner_name
from workflows.refusals import NoAccess, RequestRefused

# Who reads the database: members, in whichever role; applicants and strangers do not.
READER_ROLES = frozenset(
    {"member", "secretariat", "board_member", "focal_point", "support_group", "observer"}
)
PERIODS = ("past_year", "planned")
RESPONSE_STATUSES = ("completed", "ongoing", "planned")
# The need fields a focal point or the Secretariat may change between mappings.
NEED_FIELDS = ("description", "status", "kind", "perspective", "sub_pillar")
RESPONSE_FIELDS = ("description", "period", "year", "status", "funding")
# In a filter, the sub-pillar of needs that name none.
NO_SUB_PILLAR = "none"
SUB_PILLAR_TITLES = {
    "legal_framework": "Legal framework",
    "institutional_setup": "Institutional set-up",
    "capacity_building": "Capacity building",
    "coordination_cooperation": "Coordination and cooperation",
}
REPORT_KINDS = ("needs_mapping", "response_mapping")


# --- who may ------------------------------------------------------------------------------


def is_member(viewer: Participant | None) -> bool:
    """True when the person reads the members-only database."""
    return viewer is not None and any(g.role in READER_ROLES for g in viewer.grants)


def check_member(viewer: Participant | None) -> Participant:
    """The viewer, or NoAccess when they are not an IISG member."""
    if viewer is None or not is_member(viewer):
        raise NoAccess(
            "The IISG database is for IISG members only; sign in with a member's account."
        )
    return viewer


def _speaks_for(viewer: Participant, partner: str, pillar: str) -> bool:
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
    return viewer.holds("secretariat") or _speaks_for(viewer, need.partner, need.pillar)


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
    if viewer.holds("secretariat") or _speaks_for(viewer, need.partner, need.pillar):
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
        return _speaks_for(viewer, need.partner, need.pillar)
    return support_organisation(viewer, need.pillar) == response.provider


# --- search -------------------------------------------------------------------------------


@dataclass(frozen=True)
class NeedFilter:
    """What to list. Every field left None lists everything.

    `year` is the needs' source year in `search_needs` and the responses' year in
    `search_responses`; `sub_pillar` "none" lists the needs that name no sub-pillar; `text`
    searches the descriptions; `has_response` keeps the needs with (True) or without (False)
    any response; `provider` and `provider_kind` filter responses only.
    """

    partner: str | None = None
    pillar: str | None = None
    sub_pillar: str | None = None
    kind: str | None = None
    perspective: str | None = None
    status: str | None = None
    year: int | None = None
    text: str | None = None
    has_response: bool | None = None
    provider: str | None = None
    provider_kind: str | None = None

    def to_params(self) -> dict[str, str]:
        """The filter as query-string parameters (the set ones only)."""
        params: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None or value == "":
                continue
            params[f.name] = ("yes" if value else "no") if isinstance(value, bool) else str(value)
        return params

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> NeedFilter:
        """A filter from query-string parameters; unknown or empty ones are ignored."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            # A NUL can be sent in a URL but not searched for in PostgreSQL.
            raw = str(params.get(f.name) or "").replace("\x00", "").strip()
            if not raw:
                continue
            if f.name == "year":
                if raw.isdigit():
                    values["year"] = int(raw)
            elif f.name == "has_response":
                if raw in ("yes", "no", "true", "false", "1", "0"):
                    values["has_response"] = raw in ("yes", "true", "1")
            else:
                values[f.name] = raw
        return cls(**values)


_Q = TypeVar("_Q", bound=Select[*tuple[Any, ...]])


def has_response() -> Any:
    """SQL condition: the need has at least one response."""
    return exists().where(Response.need_id == Need.id)


def need_where(query: _Q, f: NeedFilter, *, with_year: bool = True) -> _Q:
    """The query narrowed to the needs the filter selects."""
    for name in ("partner", "pillar", "kind", "perspective", "status"):
        value = getattr(f, name)
        if value:
            query = query.where(getattr(Need, name) == value)
    if f.sub_pillar == NO_SUB_PILLAR:
        query = query.where(Need.sub_pillar.is_(None))
    elif f.sub_pillar:
        query = query.where(Need.sub_pillar == f.sub_pillar)
    if with_year and f.year is not None:
        query = query.where(Need.source_year == f.year)
    if f.text and f.text.strip():
        # autoescape: a `%` or `_` typed in the search box is a character, not a wildcard.
        words = f.text.strip().lower()
        query = query.where(func.lower(Need.description).contains(words, autoescape=True))
    if f.has_response is True:
        query = query.where(has_response())
    elif f.has_response is False:
        query = query.where(~has_response())
    return query


_NEED_ORDER = (Need.partner, Need.pillar, Need.sub_pillar, Need.source_year, Need.id)


def search_needs(session: Session, f: NeedFilter, *, viewer: Participant | None) -> list[Need]:
    """The needs the filter selects, by partner, pillar and sub-pillar."""
    check_member(viewer)
    return list(session.scalars(need_where(select(Need), f).order_by(*_NEED_ORDER)))


def search_responses(
    session: Session, f: NeedFilter, *, viewer: Participant | None
) -> list[Response]:
    """The responses to the needs the filter selects (`year`: the responses' year)."""
    check_member(viewer)
    query = need_where(select(Response).join(Need, Response.need_id == Need.id), f, with_year=False)
    if f.year is not None:
        query = query.where(Response.year == f.year)
    if f.provider:
        query = query.where(Response.provider == f.provider)
    if f.provider_kind:
        query = query.where(Response.provider_kind == f.provider_kind)
    return list(session.scalars(query.order_by(*_NEED_ORDER, Response.id)))


def response_counts(session: Session, need_ids: Iterable[int]) -> dict[int, int]:
    """How many responses each of the needs has (a need with none is left out)."""
    ids = list(need_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(Response.need_id, func.count())
        .where(Response.need_id.in_(ids))
        .group_by(Response.need_id)
    )
    return {need_id: count for need_id, count in rows}


@dataclass(frozen=True)
class NeedDetail:
    """A need, its responses and its history of changes (newest first)."""

    need: Need
    responses: list[Response]
    history: list[NeedChange]
    may_edit: bool
    may_respond: bool


def _need(session: Session, need_id: int) -> Need:
    need = session.get(Need, need_id)
    if need is None:
        raise RequestRefused(f"There is no need {need_id} in the IISG database.")
    return need


def need_detail(session: Session, need_id: int, viewer: Participant | None) -> NeedDetail:
    """One need with everything about it."""
    check_member(viewer)
    need = _need(session, need_id)
    responses = session.scalars(
        select(Response).where(Response.need_id == need_id).order_by(Response.id)
    )
    history = session.scalars(
        select(NeedChange)
        .where(NeedChange.need_id == need_id)
        .order_by(NeedChange.changed_at.desc(), NeedChange.id.desc())
    )
    return NeedDetail(
        need, list(responses), list(history), may_edit_need(viewer, need), may_respond(viewer, need)
    )


# --- changes ------------------------------------------------------------------------------


def checked_choice(name: str, value: Any, allowed: Sequence[str]) -> str:
    """`value` when it is one of `allowed`; RequestRefused in plain words otherwise."""
    text = str(value or "").strip()
    if text not in allowed:
        raise RequestRefused(f"'{text}' is not a {name}; choose one of: {', '.join(allowed)}.")
    return text


def _text(name: str, value: Any) -> str:
    text = str(value or "").strip()
    if not text:
        raise RequestRefused(f"The {name} is empty; describe it.")
    return text


def _checked_need_value(name: str, value: Any) -> Any:
    if name == "description":
        return _text("description", value)
    if name == "status":
        return checked_choice("status", value, NEED_STATUSES)
    if name == "kind":
        return checked_choice("kind of need", value, NEED_KINDS)
    if name == "perspective":
        return checked_choice("perspective", value, PERSPECTIVES)
    if value in (None, "", NO_SUB_PILLAR):
        return None
    return checked_choice("sub-pillar", value, SUB_PILLARS)


def _refuse_unknown(changes: Mapping[str, Any], allowed: Sequence[str], what: str) -> None:
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise RequestRefused(
            f"{', '.join(unknown)} cannot be changed on a {what}; "
            f"what can be changed: {', '.join(allowed)}."
        )


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
    who = check_member(viewer)
    need = _need(session, need_id)
    if not may_edit_need(who, need):
        raise NotAllowed(
            f"Only the Secretariat and {partner_name(need.partner)}'s focal points for "
            f"{need.pillar} can change this need."
        )
    _refuse_unknown(changes, NEED_FIELDS, "need")
    done: dict[str, dict[str, Any]] = {}
    for name, raw in changes.items():
        value = _checked_need_value(name, raw)
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
    who = check_member(viewer)
    partner, pillar = str(data.get("partner") or ""), str(data.get("pillar") or "")
    if pillar not in PILLARS:
        raise RequestRefused(f"'{pillar}' is not a pillar; choose one of: {', '.join(PILLARS)}.")
    if session.get(Organisation, partner) is None:
        raise RequestRefused(f"'{partner}' is not an organisation in the register.")
    if not (who.holds("secretariat") or _speaks_for(who, partner, pillar)):
        raise NotAllowed(
            f"Only the Secretariat and {partner_name(partner)}'s focal points for {pillar} "
            "can add its needs."
        )
    need = Need(
        partner=partner,
        pillar=pillar,
        sub_pillar=_checked_need_value("sub_pillar", data.get("sub_pillar")),
        kind=_checked_need_value("kind", data.get("kind")),
        perspective=_checked_need_value("perspective", data.get("perspective")),
        description=_checked_need_value("description", data.get("description")),
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


def _checked_response_value(name: str, value: Any) -> Any:
    if name == "description":
        return _text("response", value)
    if name == "period":
        return checked_choice("period", value, PERIODS)
    if name == "status":
        return checked_choice("status", value, RESPONSE_STATUSES)
    if name == "year":
        if value in (None, ""):
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise RequestRefused(f"'{value}' is not a year.") from None
    return str(value or "").strip()[:255] or None


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
    who = check_member(viewer)
    need = _need(session, need_id)
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
    elif _speaks_for(who, need.partner, need.pillar):
        provider = need.partner
    else:
        provider = support_organisation(who, need.pillar) or ""
    values = {name: _checked_response_value(name, data.get(name)) for name in RESPONSE_FIELDS}
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
    who = check_member(viewer)
    response = session.get(Response, response_id)
    if response is None:
        raise RequestRefused(f"There is no response {response_id} in the IISG database.")
    need = _need(session, response.need_id)
    if not may_edit_response(who, response, need):
        raise NotAllowed(
            f"Only the Secretariat and those who speak for {partner_name(response.provider)} "
            "can change this response."
        )
    _refuse_unknown(changes, RESPONSE_FIELDS, "response")
    done: dict[str, Any] = {}
    for name, raw in changes.items():
        value = _checked_response_value(name, raw)
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
