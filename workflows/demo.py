"""Demo data: the Secretariat, the seven Board seats, focal points, Support Group, an applicant,
on the founding members `iisg init` puts on the register.

Idempotent: running it again adds only what is missing and never changes a password.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from engine.instances.assignment import Grant
from engine.instances.steps import complete_task, start_instance
from models import Organisation, ProcessInstance, User
from workflows.board.membership_demo import start_demo_membership, start_demo_membership_list
from workflows.board.outcome_demo import (
    DEMO_AGENCY_APPLICANT,
    start_demo_agency_notification,
    start_demo_meeting_decision,
)
from workflows.calendar.holidays import add_public_holiday, public_holidays
from workflows.inbox.attaching import start_with_documents, upload_for_later
from workflows.inbox.documents import check_upload, documents_directory
from workflows.mappings.needs_mapping import start_demo_needs_mapping
from workflows.mappings.response_mapping import start_demo_response_mapping
from workflows.needs_database.demo_history import load_database_history
from workflows.people.accounts import add_grant, create_user, find_user, participant
from workflows.people.management import HeldRole, held_roles, set_roles
from workflows.people.organisations import ensure_founding_members
from workflows.people.roles import BOARD_SEATS, PILLARS, WB_PARTNERS
from workflows.procedures.demo_steps import open_step, started_already
from workflows.withdrawal.withdraw import withdraw_procedure

DEMO_DECISION_KEY = "demo-work-programme-2027"
DEMO_SILENT_PROCEDURE_KEY = "demo-response-mapping-summaries-2026"
DEMO_WITHDRAWN_KEY = "demo-visibility-guidelines-withdrawn"
DEMO_BROKEN_SILENCE_KEY = "demo-annual-meeting-venue-2027"


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
                [Grant("support_group", "EC", pillar), Grant("member", "EC")],
                "EC",
            )
        )
    accounts.append(
        DemoAccount(
            "observer",
            "Observer, EEAS (reads the IISG database)",
            [Grant("observer"), Grant("member", "EEAS")],
            "EEAS",
        )
    )
    accounts.append(DemoAccount("applicant", "Applicant organisation", [Grant("applicant")]))
    accounts.append(
        DemoAccount(
            DEMO_AGENCY_APPLICANT, "Applicant, CEPOL (an EU JHA agency)", [Grant("applicant")]
        )
    )
    for code, name in (("iom", "IOM"), ("unodc", "UNODC")):
        accounts.append(
            DemoAccount(f"applicant-{code}", f"Applicant, {name}", [Grant("applicant")])
        )
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
    if not started_already(session, DEMO_DECISION_KEY):
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
    secretariat = find_user(session, "secretariat")
    if not started_already(session, DEMO_SILENT_PROCEDURE_KEY) and secretariat is not None:
        launcher = participant(secretariat)
        # Launched as the Secretariat launches one: the files uploaded first, then named.
        documents = [
            upload_for_later(
                session,
                check_upload(name, body),
                uploader=launcher,
                now=now,
                directory=documents_directory(),
            ).id
            for name, body in _demo_documents()
        ]
        silent = start_with_documents(
            session,
            launcher,
            "silent_procedure",
            {
                "subject": "Summaries of the 2026 response mapping reports",
                "proposal": "The Board approves the summaries of the 2026 annual response mapping "
                "reports for WBCTi, WBCSCi and WBBSi for publication.",
                "documents": documents,
            },
            now,
            notice=timedelta(0),
        )
        silent.title = "Silent procedure: summaries of the 2026 response mapping reports"
        silent.business_key = DEMO_SILENT_PROCEDURE_KEY
        for seat in ("AL", "ME", "EC"):
            _answer(session, silent, seat, now)
        started.append(silent)
    withdrawn = _withdrawn_silent_procedure(session, now)
    if withdrawn is not None:
        started.append(withdrawn)
    broken = _start_demo_broken_silence(session, now)
    if broken is not None:
        started.append(broken)
    started.extend(start_demo_membership_list(session, now=now))
    for start in (
        start_demo_membership,
        start_demo_response_mapping,
        start_demo_needs_mapping,
        start_demo_meeting_decision,
        start_demo_agency_notification,
    ):
        instance = start(session, now=now)
        if instance is not None:
            started.append(instance)
    # The IISG database's history, after the procedures so that theirs stay as they were.
    load_database_history(session, now=now)
    return started


def _withdrawn_silent_procedure(session: Session, now: datetime) -> ProcessInstance | None:
    """A silent procedure the Secretariat withdrew after two seats had answered."""
    secretariat = find_user(session, "secretariat")
    if started_already(session, DEMO_WITHDRAWN_KEY) or secretariat is None:
        return None
    silent = start_instance(
        session,
        "silent_procedure",
        {
            "subject": "IISG visibility guidelines",
            "proposal": "The Board adopts the IISG visibility guidelines as circulated.",
        },
        actor="secretariat",
        now=now,
        title="Silent procedure: IISG visibility guidelines",
        business_key=DEMO_WITHDRAWN_KEY,
    )
    for seat in ("BA", "RS"):
        _answer(session, silent, seat, now)
    withdraw_procedure(
        session,
        participant(secretariat),
        silent.id,
        "The guidelines must be re-drafted to name the 2027 logo; a new procedure follows.",
        now,
    )
    return silent


def _demo_documents() -> list[tuple[str, bytes]]:
    """The files of the demo silent procedure: the summaries (.docx) and a table (.csv)."""
    from docx import Document as DocxDocument

    doc = DocxDocument()
    doc.add_heading("Annual response mapping 2026: summaries for publication", level=0)
    for pillar, words in PILLARS.items():
        doc.add_heading(f"{pillar}: {words}", level=1)
        doc.add_paragraph(
            f"The WB partners reported the state of play of their mapped {pillar} needs; "
            "the Support Group added the project support it gave."
        )
    summaries = io.BytesIO()
    doc.save(summaries)
    table = "pillar,needs mapped,responses reported\nWBCTi,14,11\nWBCSCi,17,12\nWBBSi,12,9\n"
    return [
        ("Response mapping 2026 - summaries.docx", summaries.getvalue()),
        ("response-mapping-2026-figures.csv", table.encode("utf-8")),
    ]


def _start_demo_broken_silence(session: Session, now: datetime) -> ProcessInstance | None:
    """A Board decision whose silent procedure an objection broke: the Secretariat's task to
    put it on the next Board meeting's agenda waits in the inbox."""
    secretariat = find_user(session, "secretariat")
    if started_already(session, DEMO_BROKEN_SILENCE_KEY) or secretariat is None:
        return None
    instance = start_instance(
        session,
        "board_decision",
        {
            "subject": "Venue of the 2027 annual Board meeting",
            "proposal": "The Board holds its 2027 annual meeting in Tirana, in May 2027, "
            "back-to-back with the ministerial meeting of the hosting regional framework.",
        },
        actor="secretariat",
        now=now,
        title="Board decision: venue of the 2027 annual meeting",
        business_key=DEMO_BROKEN_SILENCE_KEY,
    )
    choose = open_step(session, instance, "choose_method")
    if choose is not None:
        complete_task(
            session,
            choose.id,
            {"method": "silent_procedure"},
            participant=participant(secretariat),
            now=now,
        )
    _answer(session, instance, "AL", now)
    _answer(
        session,
        instance,
        "ME",
        now,
        {"answer": "objection", "reason": "May clashes with our presidency; we propose June."},
    )
    return instance


def _answer(
    session: Session,
    instance: ProcessInstance,
    seat: str,
    now: datetime,
    answer: dict[str, str] | None = None,
) -> None:
    user = find_user(session, f"board-{seat.lower()}")
    if user is None:
        return
    task = open_step(session, instance, "answer_silent_procedure", organisation=seat)
    if task is not None:
        complete_task(
            session,
            task.id,
            answer or {"answer": "no_objection"},
            participant=participant(user),
            now=now,
        )
