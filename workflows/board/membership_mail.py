"""Membership, told: the applicant hears the outcome of their application in plain words, and
every Board member (alternates too) is notified of an EU Justice and Home Affairs agency's
membership with its documents ("Any EU Justice and Home Affairs agency upon notification to
the Board", Methodology for becoming an IISG member, 2021, 1.)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from engine import audit
from engine.services import ServiceCall
from models import Organisation, User
from workflows.inbox.documents import documents, size_words
from workflows.mail.compose import enqueue, enqueue_to_address, page_link, when
from workflows.mail.recipients import board_members
from workflows.people.accounts import find_user
from workflows.people.roles import PILLARS

APPLICANT_MAIL = "membership_outcome"
NOTIFICATION_MAIL = "board_notification"
CRITERIA_WORDS = (
    "like-minded partner; commitment to regional cooperation in the WB; support for EU values, "
    "EU policies and the EU perspective for the region"
)


def _given_addresses(application: Mapping[str, Any]) -> list[str]:
    """The e-mail addresses the expression of interest gave (its focal points'), each once."""
    found: list[str] = []
    for pillar in PILLARS:
        address = str(application.get(f"focal_point_{pillar.lower()}_email") or "").strip()
        if address and address.casefold() not in {a.casefold() for a in found}:
            found.append(address)
    return found


def _takes_mail(user: User | None) -> bool:
    return user is not None and user.active and bool((user.email or "").strip())


def _next_for_a_member(with_login: bool) -> list[str]:
    lines = [
        "",
        "What happens next: the IISG Secretariat asks you to nominate a focal point for "
        "official correspondence and for each pillar of the Support Group you take part in "
        "(WB CTi, WB CSCi, WB BSi).",
    ]
    if with_login:
        lines[-1] += " The nomination will then wait in your IISG Procedures inbox."
        lines += [
            "",
            "With your login you now read what IISG members read: the IISG database, the "
            "decision register and the list of members.",
        ]
    return lines


def applicant_mail(
    application: Mapping[str, Any],
    *,
    outcome: str,
    reasons: str | None,
    with_login: bool,
    now: datetime,
) -> tuple[str, str]:
    """The subject and body telling the applicant the outcome of their application:
    `confirmed` or `not_confirmed` by the Board, or `notified` (an EU JHA agency)."""
    name = str(application["organisation_name"])
    signed = ""
    if application.get("signature") and application.get("signed_on"):
        signed = (
            f", expressed in the form signed by {application['signature']} "
            f"on {application['signed_on']}"
        )
    since = f"{now.astimezone(UTC):%d %B %Y}"
    if outcome == "notified":
        lines = [
            f"{name} is an IISG member from {since}. The IISG Secretariat has notified the IISG "
            "Board of its membership: an EU Justice and Home Affairs agency becomes an IISG "
            "member upon notification to the Board, without a decision of the Board. Its "
            "expression of interest named the focal points it keeps for now.",
            *_next_for_a_member(with_login),
        ]
        subject = f"IISG membership: {name}"
    elif outcome == "confirmed":
        lines = [
            f"The IISG Board has decided on the application of {name} to become an IISG "
            f"member{signed}.",
            "",
            f"The Board confirmed that {name} is an IISG member. {name} is on the list of "
            f"IISG members from {since}, with the focal points named in the expression of "
            "interest.",
            *_next_for_a_member(with_login),
        ]
        subject = f"IISG membership confirmed: {name}"
    else:
        lines = [
            f"The IISG Board has decided on the application of {name} to become an IISG "
            f"member{signed}.",
            "",
            f"The Board checked whether {name} fulfils the criteria for IISG membership "
            f"({CRITERIA_WORDS}) and did not confirm its membership.",
            "",
            "The Board's reasons:",
            reasons or "The Board gave no reasons.",
            "",
            "What happens next: this application is closed. You may reach out to the IISG "
            "Secretariat directly, and express interest again later.",
        ]
        if with_login:
            lines[-1] += (
                " The decision and its reasons also wait in your IISG Procedures inbox, for you "
                "to confirm that you have read them."
            )
        subject = f"IISG membership not confirmed: {name}"
    if with_login:
        lines += ["", f"IISG Procedures: {page_link('/inbox')}"]
    lines.append("")
    return subject, "\n".join(lines)


def tell_the_applicant(call: ServiceCall, *, outcome: str, reasons: str | None = None) -> None:
    """Mail the applicant the outcome of their application (`confirmed`, `not_confirmed`, or
    `notified` for an EU JHA agency), in this unit of work, audited.

    The applicant is the login named when the application was opened; when that login can no
    longer take mail (deactivated, or without an address), the mail goes to the addresses the
    expression of interest gave instead.
    """
    context, application = call.context, call.data
    session = context.session
    user = find_user(session, str(application.get("applicant_username") or ""))
    addresses = [] if _takes_mail(user) else _given_addresses(application)
    with_login = not addresses and user is not None
    subject, body = applicant_mail(
        application, outcome=outcome, reasons=reasons, with_login=with_login, now=context.now
    )
    told: list[str] = []
    if with_login:
        assert user is not None
        enqueue(
            session,
            user,
            subject=subject,
            body=body,
            kind=APPLICANT_MAIL,
            now=context.now,
            instance_id=context.instance_id,
        )
        told.append(user.username)
    for address in addresses:
        enqueue_to_address(
            session,
            address,
            subject=subject,
            body=body,
            kind=APPLICANT_MAIL,
            now=context.now,
            instance_id=context.instance_id,
        )
        told.append(address)
    audit.record(
        session,
        kind="membership.outcome_told",
        actor=context.actor,
        now=context.now,
        instance_id=context.instance_id,
        payload={
            "organisation": application.get("organisation_code"),
            "outcome": outcome,
            "told": told,
        },
    )


def _expression_of_interest(application: Mapping[str, Any]) -> list[str]:
    lines = [
        "Its expression of interest (the Annex form):",
        f"- Name of the country/Organisation: {application.get('country_or_organisation_name')}",
    ]
    for pillar in PILLARS:
        prefix = f"focal_point_{pillar.lower()}"
        if application.get(f"{prefix}_name"):
            position = application.get(f"{prefix}_position")
            lines.append(
                f"- {pillar} focal point: {application[f'{prefix}_name']}"
                + (f", {position}" if position else "")
            )
    lines.append(f"- Signed by {application.get('signature')} on {application.get('signed_on')}")
    return lines


def notification_mail(call: ServiceCall, organisation: Organisation) -> tuple[str, str, list[int]]:
    """The notification to the Board of an agency's membership: subject, body, document ids."""
    context = call.context
    attached = documents(context.session, context.instance_id)
    lines = [
        "The IISG Secretariat notifies the IISG Board:",
        "",
        f"{organisation.name} ({organisation.code}), an EU Justice and Home Affairs agency, is "
        f"an IISG member from {when(context.now)}, upon notification to the Board. The Board "
        'takes no decision on it (Methodology for becoming an IISG member, 2021: "The EU '
        'Justice and Home Affairs may become an IISG member, upon notification to the Board").',
        "",
        *_expression_of_interest(call.data),
        "",
    ]
    if attached:
        lines.append("Its documents:")
        lines += [
            f"- {d.filename} ({size_words(d.size)}): {page_link(f'/documents/{d.id}')}"
            for d in attached
        ]
    else:
        lines.append("No documents were attached to its expression of interest.")
    lines += ["", f"The list of IISG members: {page_link('/members')}", ""]
    subject = f"Notification to the Board: {organisation.name} is an IISG member"
    return subject, "\n".join(lines), [d.id for d in attached]


def tell_of_the_notification(call: ServiceCall, organisation: Organisation) -> None:
    """An EU JHA agency is a member upon notification to the Board: mail every Board member
    (alternates too) the notification with its documents, and the agency its membership; in
    this unit of work, audited."""
    context = call.context
    subject, body, document_ids = notification_mail(call, organisation)
    told = board_members(context.session)
    for member in told:
        enqueue(
            context.session,
            member,
            subject=subject,
            body=body,
            kind=NOTIFICATION_MAIL,
            now=context.now,
            instance_id=context.instance_id,
        )
    audit.record(
        context.session,
        kind="board.notification_told",
        actor=context.actor,
        now=context.now,
        instance_id=context.instance_id,
        payload={
            "organisation": organisation.code,
            "documents": document_ids,
            "told": [member.username for member in told],
        },
    )
    tell_the_applicant(call, outcome="notified")
