"""Filters over the IISG database's needs and responses, as the lists and the URL carry them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, TypeVar

from sqlalchemy import Select, exists, func

from models import Need, Response
from workflows.needs_database.terms import NO_SUB_PILLAR

# The filters over fixed values: a page offers them as a select, a URL may spell them in words.
_WORDED = frozenset({"kind", "perspective", "status"})


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
            elif f.name in _WORDED:
                # A fixed value as its code or its words, in any case: "Partly addressed".
                values[f.name] = raw.lower().replace(" ", "_")
            elif f.name == "has_response":
                if raw in ("yes", "no", "true", "false", "1", "0"):
                    values["has_response"] = raw in ("yes", "true", "1")
            else:
                values[f.name] = raw
        return cls(**values)


_Q = TypeVar("_Q", bound=Select[*tuple[Any, ...]])


def has_response() -> Any:
    """SQL condition: the need has at least one response in the members' database (a response
    mapping's draft counts once the Board has approved its reports)."""
    return exists().where(Response.need_id == Need.id, Response.state == "approved")


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
