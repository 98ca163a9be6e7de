"""Demo data: the Secretariat, the seven Board seats, focal points, Support Group, an applicant,
on the founding members `iisg init` puts on the register.

Idempotent: running it again adds only what is missing and never changes a password.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.instances.assignment import Grant
from engine.instances.steps import complete_task, start_instance
from models import HumanTask, Organisation, ProcessInstance, User
from workflows.board.membership import start_demo_membership
from workflows.calendar.holidays import add_public_holiday, public_holidays
from workflows.mappings.needs_mapping import start_demo_needs_mapping
from workflows.mappings.response_mapping import start_demo_response_mapping
from workflows.needs_database.demo_history import load_database_history
from workflows.people.accounts import add_grant, create_user, find_user, participant
from workflows.people.management import HeldRole, held_roles, set_roles
from workflows.people.organisations import ensure_founding_members
from workflows.people.roles import BOARD_SEATS, PILLARS, WB_PARTNERS

DEMO_DECISION_KEY = "demo-work-programme-2027"
DEMO_SILENT_PROCEDURE_KEY = "demo-response-mapping-summaries-2026"


@dataclass
class DemoAccount:
    """One demo login and what it is for."""

    username: str
    display_name: str
    grants: list[Grant] = field(default_factory=list)
    organisation: str | None = None
    # The Board seat this login is the designated alternate of (given as on the People page).
    alternate_of: str | None = None


def demo_accounts() -> list[DemoAccount]:
    """Every demo login, in the order they are printed."""
    accounts = [DemoAccount("secretariat", "IISG Secretariat", [Grant("secretariat")], "RCC")]
    for seat in BOARD_SEATS:
        accounts.append(
            DemoAccount(
                f"board-{seat.code.lower()}",
                f"Board member, {seat.display_name}",
                [Grant("board_member", seat.code), Grant("member", seat.code)],
                seat.code,
            )
        )
    accounts.append(
        DemoAccount(
            "alternate-me",
            "Board alternate, Montenegro",
            [Grant("member", "ME")],
            "ME",
            alternate_of="ME",
        )
    )
    for partner in WB_PARTNERS:
        for pillar in PILLARS:
            accounts.append(
                DemoAccount(
                    f"fp-{partner.code.lower()}-{pillar.lower()}",
                    f"Focal point {pillar}, {partner.display_name}",
                    [Grant("focal_point", partner.code, pillar), Grant("member", partner.code)],
                    partner.code,
                )
            )
    for pillar in PILLARS:
        accounts.append(
            DemoAccount(
                f"sg-{pillar.lower()}",
                f"Support Group member, {pillar}",
                [Grant("support_group", None, pillar), Grant("member", "EC")],
                "EC",
            )
        )
    accounts.append(
        DemoAccount("observer", "Observer (reads the IISG database)", [Grant("observer")])
    )
    accounts.append(DemoAccount("applicant", "Applicant organisation", [Grant("applicant")]))
    return accounts


# A few public holidays, so the calendar page and working-day deadlines show something real:
# the Secretariat's (for everyone) and some partners' own.
DEMO_HOLIDAYS = (
    (date(2026, 12, 25), "Christmas Day", None),
    (date(2027, 1, 1), "New Year's Day", None),
    (date(2027, 1, 7), "Orthodox Christmas", "RS"),
    (date(2027, 1, 7), "Orthodox Christmas", "ME"),
    (date(2027, 2, 15), "Statehood Day", "RS"),
    (date(2027, 2, 17), "Independence Day", "XK"),
    (date(2027, 3, 14), "Summer Day", "AL"),
)


def _ensure_holidays(session: Session, now: datetime) -> None:
    have = {
        (h.day, h.partner)
        for year in {day.year for day, _, _ in DEMO_HOLIDAYS}
        for h in public_holidays(session, year)
    }
    for day, name, partner in DEMO_HOLIDAYS:
        if (day, partner) not in have:
            add_public_holiday(session, day, name, partner=partner, actor="demo", now=now)


def load_demo(session: Session, password: str, *, now: datetime) -> list[DemoAccount]:
    """Create whatever demo data is missing; returns every demo account."""
    ensure_founding_members(session, actor="demo", now=now)
    _ensure_holidays(session, now)
    accounts = demo_accounts()
    for account in accounts:
        user: User | None = find_user(session, account.username)
        if user is None:
            user = create_user(
                session,
                account.username,
                password,
                display_name=account.display_name,
                now=now,
                email=f"{account.username}@iisg.example",
                grants=account.grants,
                organisation=account.organisation,
            )
        else:
            for grant in account.grants:
                add_grant(user, grant)
            if user.organisation is None:
                user.organisation = account.organisation
        seat = session.get(Organisation, account.alternate_of) if account.alternate_of else None
        if seat is not None and seat.board_seat and not held_roles(user):
            set_roles(
                session,
                user,
                [HeldRole("board_alternate", seat.code)],
                actor="demo",
                now=now,
            )
    session.flush()
    return accounts


def start_demo_procedures(session: Session, *, now: datetime) -> list[ProcessInstance]:
    """Procedures in a telling state, each started once: returns the ones started now."""
    started: list[ProcessInstance] = []
    if not _exists(session, DEMO_DECISION_KEY):
        started.append(
            start_instance(
                session,
                "board_decision",
                {
                    "subject": "IISG work programme 2027",
                    "proposal": "The Board adopts the IISG work programme for 2027 as circulated.",
                },
                actor="secretariat",
                now=now,
                title="Board decision: IISG work programme 2027",
                business_key=DEMO_DECISION_KEY,
            )
        )
    if not _exists(session, DEMO_SILENT_PROCEDURE_KEY):
        silent = start_instance(
            session,
            "silent_procedure",
            {
                "subject": "Summaries of the 2026 response mapping reports",
                "proposal": "The Board approves the summaries of the 2026 annual response mapping "
                "reports for WBCTi, WBCSCi and WBBSi for publication.",
            },
            actor="secretariat",
            now=now,
            title="Silent procedure: summaries of the 2026 response mapping reports",
            business_key=DEMO_SILENT_PROCEDURE_KEY,
        )
        for seat in ("AL", "ME", "EC"):
            _answer(session, silent, seat, now)
        started.append(silent)
    for start in (start_demo_membership, start_demo_response_mapping, start_demo_needs_mapping):
        instance = start(session, now=now)
        if instance is not None:
            started.append(instance)
    # The IISG database's history, after the procedures so that theirs stay as they were.
    load_database_history(session, now=now)
    return started


def _exists(session: Session, business_key: str) -> bool:
    found = session.scalars(
        select(ProcessInstance.id).where(ProcessInstance.business_key == business_key)
    ).first()
    return found is not None


def _answer(session: Session, instance: ProcessInstance, seat: str, now: datetime) -> None:
    user = find_user(session, f"board-{seat.lower()}")
    if user is None:
        return
    task = session.scalars(
        select(HumanTask).where(
            HumanTask.instance_id == instance.id,
            HumanTask.organisation == seat,
            HumanTask.status == "open",
        )
    ).first()
    if task is not None:
        complete_task(
            session, task.id, {"answer": "no_objection"}, participant=participant(user), now=now
        )
