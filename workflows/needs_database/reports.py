"""The mapping reports in the IISG database: the members' list, the public summaries, the
Secretariat's draft as .docx and the edited report uploaded back."""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.errors import NotAllowed
from engine.instances.assignment import Participant
from models import Report, Response
from models.mapping import SUB_PILLARS
from workflows.inbox.documents import Upload, add_document, check_upload

# Who reads the database: members, in whichever role; applicants and strangers do not.
from workflows.needs_database.access import check_member
from workflows.needs_database.checks import checked_choice
from workflows.needs_database.filters import NeedFilter
from workflows.needs_database.search import search_needs, search_responses
from workflows.needs_database.terms import REPORT_KINDS, SUB_PILLAR_TITLES
from workflows.people.roles import PILLARS, SECRETARIAT, WB_PARTNERS, partner_name
from workflows.refusals import RequestRefused

# --- reports ------------------------------------------------------------------------------


def reports(
    session: Session,
    *,
    viewer: Participant | None,
    kind: str | None = None,
    year: int | None = None,
) -> list[Report]:
    """The mapping reports in the database (members only), newest year first: the approved
    ones, and for the Secretariat also the drafts it is preparing."""
    check_member(session, viewer)
    query = select(Report)
    if viewer is None or not viewer.holds(SECRETARIAT):
        query = query.where(Report.approved_at.is_not(None))
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


@dataclass(frozen=True)
class PublicReport:
    """A published report as the public reads it: its summary and, for a needs mapping, the
    report itself ("The IISG publishes biennially a needs report on its webpage"); a response
    mapping's report stays in the members-only database ("The approved reports will be
    uploaded on the IISG Database, which is accessible only to the IISG members")."""

    report: Report
    body: str


def public_reports(session: Session) -> list[PublicReport]:
    """What the public page shows: every published summary, with its needs report."""
    return [
        PublicReport(r, r.body.strip() if r.kind == "needs_mapping" else "")
        for r in public_summaries(session)
    ]


def _check_secretariat(session: Session, viewer: Participant | None, what: str) -> Participant:
    who = check_member(session, viewer)
    if not who.holds("secretariat"):
        raise NotAllowed(f"Only the Secretariat {what}.")
    return who


def draft_report_docx(
    session: Session, kind: str, pillar: str, year: int, *, viewer: Participant | None
) -> bytes:
    """The draft report of a mapping for one pillar and year, from the collected inputs: one
    heading per sub-pillar and, under it, each partner's needs (needs mapping) or responses
    (response mapping). The Secretariat edits it and uploads it back."""
    _check_secretariat(session, viewer, "drafts the mapping reports")
    kind = checked_choice("kind of report", kind, REPORT_KINDS)
    pillar = checked_choice("pillar", pillar, list(PILLARS))
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
        raise RequestRefused(
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
    with `workflows.inbox.documents.discard_upload`."""
    who = _check_secretariat(session, viewer, "uploads the reports")
    report = session.get(Report, report_id)
    if report is None:
        raise RequestRefused(f"There is no report {report_id} in the IISG database.")
    if report.instance_id is None:
        raise RequestRefused(
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
