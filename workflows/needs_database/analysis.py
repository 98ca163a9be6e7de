"""What the IISG database says: gaps, possible duplications, coverage by partner and
pillar, trends across years. Members only."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.instances.assignment import Participant
from models import Need, Response
from models.mapping import SUB_PILLARS

# Who reads the database: members, in whichever role; applicants and strangers do not.
from workflows.needs_database.access import approved_responses, check_member
from workflows.needs_database.filters import NeedFilter, has_response, need_where
from workflows.needs_database.search import search_needs, search_responses
from workflows.needs_database.terms import NO_SUB_PILLAR
from workflows.people.roles import PILLARS, WB_PARTNERS

# --- analysis -----------------------------------------------------------------------------


def gaps(session: Session, f: NeedFilter, *, viewer: Participant | None) -> list[Need]:
    """Open needs with no response in the members' database."""
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
        .where(
            Response.need_id.in_(by_id),
            Response.provider_kind == "project_support",
            approved_responses(),
        )
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
    check_member(session, viewer)
    by_sub_pillar = bool(f.pillar)
    column = Need.sub_pillar if by_sub_pillar else Need.pillar
    query = need_where(
        select(Need.partner, column, func.count(), func.count().filter(has_response())),
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
    check_member(session, viewer)
    base = replace(f, year=None, has_response=None)
    needs = dict(
        session.execute(
            need_where(select(Need.source_year, func.count()), base).group_by(Need.source_year)
        ).all()
    )
    covered = dict(
        session.execute(
            need_where(
                select(Need.source_year, func.count()), replace(base, has_response=True)
            ).group_by(Need.source_year)
        ).all()
    )
    responses: dict[int, int] = defaultdict(int)
    for response in search_responses(session, base, viewer=viewer, drafts=False):
        responses[_response_year(response)] += 1
    years = sorted(set(needs) | set(responses))
    if f.year is not None:
        years = [y for y in years if y == f.year]
    return [
        TrendPoint(y, int(needs.get(y, 0)), responses.get(y, 0), int(covered.get(y, 0)))
        for y in years
    ]
