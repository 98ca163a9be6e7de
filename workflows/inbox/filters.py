"""The inbox's filters: what a person may choose to see, read from the query string, and the
choices offered."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ProcessDefinition
from workflows.people.roles import BOARD_SEATS, PILLARS

SORTS: dict[str, str] = {
    "due": "Due soonest",
    "created": "Newest first",
    "procedure": "Procedure",
}
STATES: dict[str, str] = {"open": "All open", "late": "Overdue only"}
SEARCH_MAX_CHARS = 200


@dataclass(frozen=True)
class InboxFilter:
    """What the person chose to see; every field round-trips through the URL's query."""

    procedure: str = ""
    pillar: str = ""
    partner: str = ""
    state: str = "open"
    search: str = ""
    sort: str = "due"
    everyone: bool = False

    def query(self) -> dict[str, str]:
        """The query-string parameters that give this view again (defaults left out)."""
        found = {
            "procedure": self.procedure,
            "pillar": self.pillar,
            "partner": self.partner,
            "state": "" if self.state == "open" else self.state,
            "q": self.search,
            "sort": "" if self.sort == "due" else self.sort,
            "whose": "everyone" if self.everyone else "",
        }
        return {key: value for key, value in found.items() if value}

    @property
    def narrowed(self) -> bool:
        """True when something other than the defaults hides tasks."""
        return bool(self.procedure or self.pillar or self.partner or self.search) or (
            self.state != "open"
        )


def inbox_filter(args: Mapping[str, str]) -> InboxFilter:
    """The filter a query string asks for; unknown values fall back to the defaults."""
    # A NUL character can be sent in a URL but not stored or searched in PostgreSQL.
    args = {key: value.replace("\x00", "") for key, value in args.items()}
    state = args.get("state", "open")
    sort = args.get("sort", "due")
    return InboxFilter(
        procedure=args.get("procedure", "").strip()[:128],
        pillar=args.get("pillar", "") if args.get("pillar", "") in PILLARS else "",
        partner=args.get("partner", "").strip()[:32],
        state=state if state in STATES else "open",
        search=" ".join(args.get("q", "").split())[:SEARCH_MAX_CHARS],
        sort=sort if sort in SORTS else "due",
        everyone=args.get("whose") == "everyone",
    )


def procedure_choices(session: Session) -> list[tuple[str, str]]:
    """Every procedure that has been deployed, as (process key, name), by name."""
    names: dict[str, str] = {}
    for key, name in session.execute(
        select(ProcessDefinition.process_key, ProcessDefinition.name).order_by(
            ProcessDefinition.version
        )
    ):
        names[key] = name  # the newest version's name wins
    return sorted(names.items(), key=lambda pair: pair[1].lower())


def partner_choices() -> list[tuple[str, str]]:
    """The partners a task can be scoped to, as (code, name as shown)."""
    return [(seat.code, seat.display_name) for seat in BOARD_SEATS]


def pillar_choices() -> list[tuple[str, str]]:
    """The pillars, as (key, its name and what it covers)."""
    return [(key, f"{key}: {words}") for key, words in PILLARS.items()]
