"""Finding needs and responses, and one need with its responses, as a member may see them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.instances.assignment import Participant
from models import Need, NeedChange, Response
from workflows.needs_database.access import (
    approved_responses,
    check_member,
    may_edit_need,
    may_respond,
    readable_responses,
)
from workflows.needs_database.filters import NeedFilter, need_where
from workflows.refusals import RequestRefused

_NEED_ORDER = (Need.partner, Need.pillar, Need.sub_pillar, Need.source_year, Need.id)


def search_needs(session: Session, f: NeedFilter, *, viewer: Participant | None) -> list[Need]:
    """The needs the filter selects, by partner, pillar and sub-pillar."""
    check_member(session, viewer)
    return list(session.scalars(need_where(select(Need), f).order_by(*_NEED_ORDER)))


def search_responses(
    session: Session, f: NeedFilter, *, viewer: Participant | None, drafts: bool = True
) -> list[Response]:
    """The responses to the needs the filter selects (`year`: the responses' year) that the
    person reads: with `drafts`, also the response mappings' drafts they may see."""
    who = check_member(session, viewer)
    query = need_where(select(Response).join(Need, Response.need_id == Need.id), f, with_year=False)
    query = query.where(readable_responses(who) if drafts else approved_responses())
    if f.year is not None:
        query = query.where(Response.year == f.year)
    if f.provider:
        query = query.where(Response.provider == f.provider)
    if f.provider_kind:
        query = query.where(Response.provider_kind == f.provider_kind)
    return list(session.scalars(query.order_by(*_NEED_ORDER, Response.id)))


def response_counts(session: Session, need_ids: Iterable[int]) -> dict[int, int]:
    """How many approved responses each of the needs has (a need with none is left out)."""
    ids = list(need_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(Response.need_id, func.count())
        .where(Response.need_id.in_(ids), approved_responses())
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


def find_need(session: Session, need_id: int) -> Need:
    need = session.get(Need, need_id)
    if need is None:
        raise RequestRefused(f"There is no need {need_id} in the IISG database.")
    return need


def need_detail(session: Session, need_id: int, viewer: Participant | None) -> NeedDetail:
    """One need with everything about it (of its responses, those the person reads)."""
    who = check_member(session, viewer)
    need = find_need(session, need_id)
    responses = session.scalars(
        select(Response)
        .where(Response.need_id == need_id, readable_responses(who))
        .order_by(Response.id)
    )
    history = session.scalars(
        select(NeedChange)
        .where(NeedChange.need_id == need_id)
        .order_by(NeedChange.changed_at.desc(), NeedChange.id.desc())
    )
    return NeedDetail(
        need, list(responses), list(history), may_edit_need(viewer, need), may_respond(viewer, need)
    )
