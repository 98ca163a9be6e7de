"""Demo of who is told what was decided: a Board decision recorded at a meeting (its outcome
mailed to the Board and the Secretariat) and an EU JHA agency's membership notified to the
Board; both through the same steps a person takes on the web, each started once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from engine.instances.steps import start_instance
from models import ProcessInstance
from workflows.people.accounts import find_user
from workflows.procedures.demo_steps import complete_open_step, started_already

DEMO_MEETING_DECISION_KEY = "demo-response-mapping-calendar-2027"
DEMO_NOTIFICATION_KEY = "demo-membership-cepol"
DEMO_AGENCY_APPLICANT = "applicant-cepol"


def start_demo_meeting_decision(session: Session, *, now: datetime) -> ProcessInstance | None:
    """A decision the Board took at its meeting, recorded by the Secretariat: the outbox holds
    its outcome for every Board member and the Secretariat. None when it exists already."""
    secretariat = find_user(session, "secretariat")
    if secretariat is None or started_already(session, DEMO_MEETING_DECISION_KEY):
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
    complete_open_step(session, instance, "choose_method", {"method": "meeting"}, secretariat, now)
    complete_open_step(
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
    if applicant is None or started_already(session, DEMO_NOTIFICATION_KEY):
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
    complete_open_step(
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
