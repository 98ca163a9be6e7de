"""Demo of who is told what was decided: a Board decision recorded at a meeting (its outcome
mailed to the Board and the Secretariat) and an EU JHA agency's membership notified to the
Board; both through the same steps a person takes on the web, each started once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.instances.steps import complete_task, start_instance
from models import HumanTask, ProcessInstance, User
from workflows.people.accounts import find_user, participant

DEMO_MEETING_DECISION_KEY = "demo-response-mapping-calendar-2027"
DEMO_NOTIFICATION_KEY = "demo-membership-cepol"
DEMO_AGENCY_APPLICANT = "applicant-cepol"


def _exists(session: Session, business_key: str) -> bool:
    found = session.scalars(
        select(ProcessInstance.id).where(ProcessInstance.business_key == business_key)
    ).first()
    return found is not None


def _complete(
    session: Session,
    instance: ProcessInstance,
    bpmn_id: str,
    data: dict[str, Any],
    user: User,
    now: datetime,
) -> None:
    task = session.scalars(
        select(HumanTask).where(
            HumanTask.instance_id == instance.id,
            HumanTask.bpmn_id == bpmn_id,
            HumanTask.status == "open",
        )
    ).one()
    complete_task(session, task.id, data, participant=participant(user), now=now)


def start_demo_meeting_decision(session: Session, *, now: datetime) -> ProcessInstance | None:
    """A decision the Board took at its meeting, recorded by the Secretariat: the outbox holds
    its outcome for every Board member and the Secretariat. None when it exists already."""
    secretariat = find_user(session, "secretariat")
    if secretariat is None or _exists(session, DEMO_MEETING_DECISION_KEY):
        return None
    instance = start_instance(
        session,
        "board_decision",
        {
            "subject": "Calendar of the 2027 annual response mapping",
            "proposal": "The Board agrees the calendar of the 2027 annual response mapping as "
            "agreed with the WB partners: information per pillar by 31 March 2027, final draft "
            "reports by 30 June 2027.",
        },
        actor=secretariat.username,
        now=now,
        title="Board decision: calendar of the 2027 response mapping",
        business_key=DEMO_MEETING_DECISION_KEY,
    )
    _complete(session, instance, "choose_method", {"method": "meeting"}, secretariat, now)
    _complete(
        session,
        instance,
        "record_meeting_outcome",
        {
            "outcome": "adopted",
            "meeting_date": now.date().isoformat(),
            "minutes": "The Board agreed the calendar by consensus and asked the Secretariat to "
            "send it to the WB partners' focal points.",
        },
        secretariat,
        now,
    )
    return instance


def start_demo_agency_notification(session: Session, *, now: datetime) -> ProcessInstance | None:
    """CEPOL, an EU JHA agency, joins upon notification to the Board: every Board member is
    mailed the notification and CEPOL its membership. None when it exists already."""
    applicant = find_user(session, DEMO_AGENCY_APPLICANT)
    if applicant is None or _exists(session, DEMO_NOTIFICATION_KEY):
        return None
    name = "European Union Agency for Law Enforcement Training"
    instance = start_instance(
        session,
        "membership",
        {
            "how_it_began": "approach",
            "organisation_name": name,
            "organisation_code": "CEPOL",
            "member_group": "eu_jha_agency",
            "applicant_username": applicant.username,
        },
        actor="secretariat",
        now=now,
        title="Membership: CEPOL (EU JHA agency, by notification)",
        business_key=DEMO_NOTIFICATION_KEY,
    )
    _complete(
        session,
        instance,
        "submit_expression_of_interest",
        {
            "country_or_organisation_name": name,
            "confirms_interest": True,
            "understands_information_and_database": True,
            "understands_no_sensitive_information": True,
            "focal_point_wbcsci_name": "Katalin Szabó",
            "focal_point_wbcsci_position": "Training Manager, Serious and Organised Crime",
            "focal_point_wbcsci_email": "katalin.szabo@cepol.example",
            "expresses_support": True,
            "signatory_name": "Katalin Szabó",
            "signature": "Katalin Szabó",
            "signed_on": now.date().isoformat(),
        },
        applicant,
        now,
    )
    return instance
