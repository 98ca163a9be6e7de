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

Refusals are `NotAllowed` (who may do it instead) and `Refused` (what is wrong with the data),
both in plain words. Every change is kept in the need's history (`NeedChange`) and audited.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session

from engine import audit
from engine.assignment import Participant
from engine.errors import NotAllowed
from models import Need, NeedChange, Organisation, Report, Response
from models.mapping import NEED_KINDS, NEED_STATUSES, PERSPECTIVES, PROVIDER_KINDS, SUB_PILLARS
from workflows.access import NoAccess
from workflows.documents import Upload, add_document, check_upload
from workflows.inbox import Refused
from workflows.roles import PILLARS, WB_PARTNERS, partner_name

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


def _has_response() -> Any:
    return exists().where(Response.need_id == Need.id)


def _need_where(query: _Q, f: NeedFilter, *, with_year: bool = True) -> _Q:
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
        query = query.where(_has_response())
    elif f.has_response is False:
        query = query.where(~_has_response())
    return query


_NEED_ORDER = (Need.partner, Need.pillar, Need.sub_pillar, Need.source_year, Need.id)


def search_needs(session: Session, f: NeedFilter, *, viewer: Participant | None) -> list[Need]:
    """The needs the filter selects, by partner, pillar and sub-pillar."""
    check_member(viewer)
    return list(session.scalars(_need_where(select(Need), f).order_by(*_NEED_ORDER)))


def search_responses(
    session: Session, f: NeedFilter, *, viewer: Participant | None
) -> list[Response]:
    """The responses to the needs the filter selects (`year`: the responses' year)."""
    check_member(viewer)
    query = _need_where(
        select(Response).join(Need, Response.need_id == Need.id), f, with_year=False
    )
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
        raise Refused(f"There is no need {need_id} in the IISG database.")
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


def _choice(name: str, value: Any, allowed: Sequence[str]) -> str:
    text = str(value or "").strip()
    if text not in allowed:
        raise Refused(f"'{text}' is not a {name}; choose one of: {', '.join(allowed)}.")
    return text


def _text(name: str, value: Any) -> str:
    text = str(value or "").strip()
    if not text:
        raise Refused(f"The {name} is empty; describe it.")
    return text


def _checked_need_value(name: str, value: Any) -> Any:
    if name == "description":
        return _text("description", value)
    if name == "status":
        return _choice("status", value, NEED_STATUSES)
    if name == "kind":
        return _choice("kind of need", value, NEED_KINDS)
    if name == "perspective":
        return _choice("perspective", value, PERSPECTIVES)
    if value in (None, "", NO_SUB_PILLAR):
        return None
    return _choice("sub-pillar", value, SUB_PILLARS)


def _refuse_unknown(changes: Mapping[str, Any], allowed: Sequence[str], what: str) -> None:
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise Refused(
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
        raise Refused(f"'{pillar}' is not a pillar; choose one of: {', '.join(PILLARS)}.")
    if session.get(Organisation, partner) is None:
        raise Refused(f"'{partner}' is not an organisation in the register.")
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
        return _choice("period", value, PERIODS)
    if name == "status":
        return _choice("status", value, RESPONSE_STATUSES)
    if name == "year":
        if value in (None, ""):
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise Refused(f"'{value}' is not a year.") from None
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
            raise Refused(f"'{provider}' is not an organisation in the register.")
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
        raise Refused(f"There is no response {response_id} in the IISG database.")
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


# --- analysis -----------------------------------------------------------------------------


def gaps(session: Session, f: NeedFilter, *, viewer: Participant | None) -> list[Need]:
    """Open needs with no response at all."""
    return search_needs(session, replace(f, status="open", has_response=False), viewer=viewer)


@dataclass(frozen=True)
class DuplicationRow:
    """A need that two or more other members support in the same year: possible duplication."""

    need: Need
    year: int
    providers: list[str]
    responses: list[Response]


def _response_year(response: Response) -> int:
    return response.year if response.year is not None else response.created_at.year


def duplications(
    session: Session, f: NeedFilter, *, viewer: Participant | None
) -> list[DuplicationRow]:
    """Needs with project support from two or more different members (the partner itself not
    counted) whose periods overlap, i.e. that fall in the same year."""
    needs = search_needs(session, f, viewer=viewer)
    by_id = {n.id: n for n in needs}
    if not by_id:
        return []
    support = session.scalars(
        select(Response)
        .where(Response.need_id.in_(by_id), Response.provider_kind == "project_support")
        .order_by(Response.id)
    )
    grouped: dict[tuple[int, int], list[Response]] = defaultdict(list)
    for response in support:
        if response.provider != by_id[response.need_id].partner:
            grouped[(response.need_id, _response_year(response))].append(response)
    years_of: dict[int, list[int]] = defaultdict(list)
    for need_id, year in grouped:
        years_of[need_id].append(year)
    rows = []
    for need in needs:
        for year in sorted(years_of.get(need.id, ())):
            responses = grouped[(need.id, year)]
            providers = sorted({r.provider for r in responses})
            if len(providers) >= 2:
                rows.append(DuplicationRow(need, year, providers, responses))
    return rows


@dataclass(frozen=True)
class Cell:
    """One partner in one pillar (or sub-pillar): its needs, how many have a response."""

    needs: int
    with_response: int
    filter: NeedFilter

    @property
    def share(self) -> float | None:
        """The share of needs with a response (0 to 1), None when there are no needs."""
        return self.with_response / self.needs if self.needs else None


@dataclass(frozen=True)
class Matrix:
    """Coverage: rows are partners, columns pillars (or one pillar's sub-pillars)."""

    rows: list[str]
    columns: list[str]
    cells: dict[tuple[str, str], Cell] = field(default_factory=dict)
    # "pillar" or "sub_pillar": what the columns are.
    column_kind: str = "pillar"

    def cell(self, row: str, column: str) -> Cell:
        """The cell at a partner and a column."""
        return self.cells[(row, column)]


def coverage_matrix(session: Session, f: NeedFilter, *, viewer: Participant | None) -> Matrix:
    """Needs and needs with a response per partner and pillar; with `f.pillar` set, per
    partner and sub-pillar of that pillar ("none" for the needs naming no sub-pillar)."""
    check_member(viewer)
    by_sub_pillar = bool(f.pillar)
    column = Need.sub_pillar if by_sub_pillar else Need.pillar
    query = _need_where(
        select(Need.partner, column, func.count(), func.count().filter(_has_response())),
        replace(f, has_response=None),
    ).group_by(Need.partner, column)
    counts = {(p, c or NO_SUB_PILLAR): (n, w) for p, c, n, w in session.execute(query)}
    rows = [p.code for p in WB_PARTNERS if not f.partner or p.code == f.partner]
    rows += sorted({p for p, _ in counts} - set(rows))
    columns = [*SUB_PILLARS, NO_SUB_PILLAR] if by_sub_pillar else list(PILLARS)
    matrix = Matrix(rows, columns, column_kind="sub_pillar" if by_sub_pillar else "pillar")
    for row in rows:
        for col in columns:
            needs, with_response = counts.get((row, col), (0, 0))
            target = replace(f, partner=row, has_response=None)
            target = (
                replace(target, sub_pillar=col) if by_sub_pillar else replace(target, pillar=col)
            )
            matrix.cells[(row, col)] = Cell(needs, with_response, target)
    return matrix


@dataclass(frozen=True)
class TrendPoint:
    """One year: needs mapped in it, responses recorded for it, and how many needs of that
    year have any response."""

    year: int
    needs: int
    responses: int
    covered: int

    @property
    def share(self) -> float | None:
        """The share of the year's needs with a response, None when none were mapped."""
        return self.covered / self.needs if self.needs else None


def trends(session: Session, f: NeedFilter, *, viewer: Participant | None) -> list[TrendPoint]:
    """Per year, oldest first: needs mapped, responses recorded, share covered."""
    check_member(viewer)
    base = replace(f, year=None, has_response=None)
    needs = dict(
        session.execute(
            _need_where(select(Need.source_year, func.count()), base).group_by(Need.source_year)
        ).all()
    )
    covered = dict(
        session.execute(
            _need_where(
                select(Need.source_year, func.count()), replace(base, has_response=True)
            ).group_by(Need.source_year)
        ).all()
    )
    responses: dict[int, int] = defaultdict(int)
    for response in search_responses(session, base, viewer=viewer):
        responses[_response_year(response)] += 1
    years = sorted(set(needs) | set(responses))
    if f.year is not None:
        years = [y for y in years if y == f.year]
    return [
        TrendPoint(y, int(needs.get(y, 0)), responses.get(y, 0), int(covered.get(y, 0)))
        for y in years
    ]


# --- exports ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A column of an export: its heading and how a row gives its value."""

    heading: str
    value: Callable[[Any], str | int | None]


NEED_COLUMNS: tuple[Column, ...] = (
    Column("ID", lambda n: n.id),
    Column("Partner", lambda n: partner_name(n.partner)),
    Column("Pillar", lambda n: n.pillar),
    Column("Sub-pillar", lambda n: SUB_PILLAR_TITLES.get(n.sub_pillar or "", "")),
    Column("Kind", lambda n: n.kind),
    Column("Perspective", lambda n: n.perspective),
    Column("Description", lambda n: n.description),
    Column("Source", lambda n: n.source_kind),
    Column("Year", lambda n: n.source_year),
    Column("Status", lambda n: n.status),
)
RESPONSE_COLUMNS: tuple[Column, ...] = (
    Column("ID", lambda r: r.id),
    Column("Need", lambda r: r.need_id),
    Column("Provider", lambda r: partner_name(r.provider)),
    Column("Provider kind", lambda r: r.provider_kind),
    Column("Description", lambda r: r.description),
    Column("Period", lambda r: r.period),
    Column("Year", lambda r: r.year),
    Column("Status", lambda r: r.status),
    Column("Funding", lambda r: r.funding),
)


def _cell_text(value: str | int | None) -> str | int:
    if value is None:
        return ""
    # A cell starting like a formula is kept as text, never run by a spreadsheet.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def export_csv(rows: Iterable[Any], columns: Sequence[Column]) -> str:
    """The rows as CSV, one line per row under a line of headings."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.heading for c in columns])
    for row in rows:
        writer.writerow([_cell_text(c.value(row)) for c in columns])
    return out.getvalue()


def export_xlsx(rows: Iterable[Any], columns: Sequence[Column], *, title: str = "IISG") -> bytes:
    """The rows as an Excel workbook of one sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    sheet.append([c.heading for c in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([_cell_text(c.value(row)) for c in columns])
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- reports ------------------------------------------------------------------------------


def reports(
    session: Session,
    *,
    viewer: Participant | None,
    kind: str | None = None,
    year: int | None = None,
) -> list[Report]:
    """The mapping reports in the database (members only), newest year first."""
    check_member(viewer)
    query = select(Report)
    if kind:
        query = query.where(Report.kind == kind)
    if year is not None:
        query = query.where(Report.year == year)
    return list(session.scalars(query.order_by(Report.year.desc(), Report.kind, Report.pillar)))


def public_summaries(session: Session) -> list[Report]:
    """The approved summaries the Board published: for everyone, without login."""
    return list(
        session.scalars(
            select(Report)
            .where(
                Report.status == "published",
                Report.published_at.is_not(None),
                Report.approved_at.is_not(None),
                Report.summary != "",
            )
            .order_by(Report.year.desc(), Report.kind, Report.pillar)
        )
    )


def _check_secretariat(viewer: Participant | None, what: str) -> Participant:
    who = check_member(viewer)
    if not who.holds("secretariat"):
        raise NotAllowed(f"Only the Secretariat {what}.")
    return who


def draft_report_docx(
    session: Session, kind: str, pillar: str, year: int, *, viewer: Participant | None
) -> bytes:
    """The draft report of a mapping for one pillar and year, from the collected inputs: one
    heading per sub-pillar and, under it, each partner's needs (needs mapping) or responses
    (response mapping). The Secretariat edits it and uploads it back."""
    _check_secretariat(viewer, "drafts the mapping reports")
    kind = _choice("kind of report", kind, REPORT_KINDS)
    pillar = _choice("pillar", pillar, list(PILLARS))
    from docx import Document as DocxDocument

    needs = search_needs(session, NeedFilter(pillar=pillar), viewer=viewer)
    if kind == "needs_mapping":
        needs = [n for n in needs if n.source_year == year]
        responses: dict[int, list[Response]] = {}
    else:
        responses = defaultdict(list)
        for r in search_responses(session, NeedFilter(pillar=pillar, year=year), viewer=viewer):
            responses[r.need_id].append(r)
        needs = [n for n in needs if n.id in responses]
    title = "Needs mapping" if kind == "needs_mapping" else "Annual response mapping"
    doc = DocxDocument()
    doc.add_heading(f"{title} {year}: {pillar}", level=0)
    doc.add_paragraph(f"{PILLARS[pillar]}. Draft compiled from the inputs in the IISG database.")
    for sub_pillar in (*SUB_PILLARS, None):
        in_section = [n for n in needs if n.sub_pillar == sub_pillar]
        if sub_pillar is None and not in_section:
            continue
        doc.add_heading(SUB_PILLAR_TITLES.get(sub_pillar or "", "Other needs"), level=1)
        if not in_section:
            doc.add_paragraph("No inputs.")
        for partner in [p.code for p in WB_PARTNERS] + sorted(
            {n.partner for n in in_section} - {p.code for p in WB_PARTNERS}
        ):
            own = [n for n in in_section if n.partner == partner]
            if not own:
                continue
            doc.add_heading(partner_name(partner), level=2)
            for need in own:
                doc.add_paragraph(
                    f"{need.description} ({need.kind}, {need.perspective}; {need.status})",
                    style="List Bullet",
                )
                for r in responses.get(need.id, []):
                    funding = f"; funding: {r.funding}" if r.funding else ""
                    doc.add_paragraph(
                        f"{partner_name(r.provider)}: {r.description} "
                        f"({r.period}, {r.status}{funding})",
                        style="List Bullet 2",
                    )
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def check_report_upload(filename: str, data: bytes) -> Upload:
    """The edited report as uploaded, checked: a Word document (.docx) the upload rules accept.

    Checked before the unit of work, so a refused file is never written."""
    if (filename or "").strip() and not filename.strip().lower().endswith(".docx"):
        raise Refused(
            "the edited report must be a Word document (.docx); save it as .docx in your "
            "word processor and upload it again"
        )
    return check_upload(filename, data)


def upload_report(
    session: Session,
    report_id: int,
    upload: Upload,
    *,
    viewer: Participant | None,
    now: datetime,
    directory: Path,
) -> Report:
    """Store the edited report (checked by `check_report_upload`) as a document of the
    report's procedure and link it. A caller whose unit of work fails removes the file again
    with `workflows.documents.discard_upload`."""
    who = _check_secretariat(viewer, "uploads the reports")
    report = session.get(Report, report_id)
    if report is None:
        raise Refused(f"There is no report {report_id} in the IISG database.")
    if report.instance_id is None:
        raise Refused(
            "This report was recorded without a procedure, so there is nowhere to keep its "
            "document; attach it to the mapping procedure that produced it."
        )
    document = add_document(
        session, report.instance_id, upload, uploader=who, now=now, directory=directory
    )
    report.document_id = document.id
    session.flush()
    audit.record(
        session,
        kind="report.uploaded",
        actor=who.username,
        now=now,
        instance_id=report.instance_id,
        payload={"report": report.id, "document": document.id},
    )
    return report
