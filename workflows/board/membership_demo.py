"""The demo's membership procedures, started as people would: an application half-way, and two
applications on one Board list decided one by one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.instances.steps import complete_task, start_instance
from models import HumanTask, ProcessInstance
from workflows.board.membership import ASSESSMENT_TASK, CRITERIA, PROCESS, SEND_LIST_TASK
from workflows.people.accounts import find_user, participant
from workflows.procedures.demo_steps import complete_open_step

DEMO_MEMBERSHIP_KEY = "demo-membership-osce"
# Two applications on one Board list: the meeting confirmed the first and not the second.
DEMO_LIST_KEYS = {"IOM": "demo-membership-list-iom", "UNODC": "demo-membership-list-unodc"}
DEMO_LIST_NAMES = {
    "IOM": "International Organization for Migration",
    "UNODC": "United Nations Office on Drugs and Crime",
}


def start_demo_membership(session: Session, *, now: datetime) -> ProcessInstance | None:
    """An application awaiting the Secretariat's assessment: `applicant` has expressed interest.

    Started once (by its business key); None when it exists already or the demo logins do not.
    """
    exists = session.scalars(
        select(ProcessInstance.id).where(ProcessInstance.business_key == DEMO_MEMBERSHIP_KEY)
    ).first()
    applicant = find_user(session, "applicant")
    if exists is not None or applicant is None or find_user(session, "secretariat") is None:
        return None
    instance = start_instance(
        session,
        PROCESS,
        {
            "how_it_began": "approach",
            "organisation_name": "Organization for Security and Co-operation in Europe",
            "organisation_code": "OSCE",
            "member_group": "international_partner",
            "partner_type": "international_organisation",
            "applicant_username": applicant.username,
        },
        actor="secretariat",
        now=now,
        title="Membership application: OSCE",
        business_key=DEMO_MEMBERSHIP_KEY,
    )
    task = session.scalars(
        select(HumanTask).where(
            HumanTask.instance_id == instance.id,
            HumanTask.bpmn_id == "submit_expression_of_interest",
            HumanTask.status == "open",
        )
    ).one()
    complete_task(
        session,
        task.id,
        {
            "country_or_organisation_name": "Organization for Security and Co-operation in Europe",
            "confirms_interest": True,
            "understands_information_and_database": True,
            "understands_no_sensitive_information": True,
            "focal_point_wbcti_name": "Ana Petrović",
            "focal_point_wbcti_position": "Adviser, Transnational Threats Department",
            "focal_point_wbcti_email": "ana.petrovic@osce.example",
            "focal_point_wbbsi_name": "Jonas Weber",
            "focal_point_wbbsi_position": "Border Security and Management Unit",
            "focal_point_wbbsi_email": "jonas.weber@osce.example",
            "expresses_support": True,
            "signatory_name": "Jonas Weber",
            "signature": "Jonas Weber",
            "signed_on": now.date().isoformat(),
        },
        participant=participant(applicant),
        now=now,
    )
    return instance


def _demo_application(
    session: Session, code: str, applicant: Any, secretariat: Any, now: datetime
) -> ProcessInstance:
    """An application of the demo list, expressed and assessed for 'Board meeting, December
    2026'."""
    name = DEMO_LIST_NAMES[code]
    instance = start_instance(
        session,
        PROCESS,
        {
            "how_it_began": "approach",
            "organisation_name": name,
            "organisation_code": code,
            "member_group": "international_partner",
            "partner_type": "international_organisation",
            "applicant_username": applicant.username,
        },
        actor="secretariat",
        now=now,
        title=f"Membership application: {code}",
        business_key=DEMO_LIST_KEYS[code],
    )
    complete_open_step(
        session,
        instance,
        "submit_expression_of_interest",
        {
            "country_or_organisation_name": name,
            "confirms_interest": True,
            "understands_information_and_database": True,
            "understands_no_sensitive_information": True,
            "focal_point_wbbsi_name": "Lena Hoxha",
            "focal_point_wbbsi_position": "Regional programme officer",
            "focal_point_wbbsi_email": f"lena.hoxha@{code.lower()}.example",
            "expresses_support": True,
            "signatory_name": "Lena Hoxha",
            "signature": "Lena Hoxha",
            "signed_on": now.date().isoformat(),
        },
        applicant,
        now,
    )
    assessment = {key: "meets" for key in CRITERIA} | {
        f"{key}_comment": "Shown in its regional programmes." for key in CRITERIA
    }
    complete_open_step(
        session,
        instance,
        ASSESSMENT_TASK,
        assessment | {"board_list": "Board meeting, December 2026"},
        secretariat,
        now,
    )
    return instance


def start_demo_membership_list(session: Session, *, now: datetime) -> list[ProcessInstance]:
    """Two applications on one Board list, decided at a meeting: IOM confirmed (its focal
    points are asked for), UNODC not confirmed with it (the Secretariat chooses its next step).

    Started once; none when they exist already or the demo logins do not.
    """
    exists = session.scalars(
        select(ProcessInstance.id).where(ProcessInstance.business_key.in_(DEMO_LIST_KEYS.values()))
    ).first()
    applicants = {code: find_user(session, f"applicant-{code.lower()}") for code in DEMO_LIST_KEYS}
    secretariat = find_user(session, "secretariat")
    if exists is not None or None in applicants.values() or secretariat is None:
        return []
    first = _demo_application(session, "IOM", applicants["IOM"], secretariat, now)
    second = _demo_application(session, "UNODC", applicants["UNODC"], secretariat, now)
    complete_open_step(session, first, SEND_LIST_TASK, {}, secretariat, now)
    complete_open_step(session, first, "choose_method", {"method": "meeting"}, secretariat, now)
    complete_open_step(
        session,
        first,
        "record_meeting_outcome",
        {
            "outcome": "adopted",
            "meeting_date": now.date().isoformat(),
            "minutes": "The Board confirms the IOM as an IISG member. It asks the UNODC to "
            "set out its commitment to regional cooperation in the WB first.",
            "not_confirmed": ["UNODC"],
        },
        secretariat,
        now,
    )
    return [first, second]
