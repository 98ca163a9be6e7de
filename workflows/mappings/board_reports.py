"""The reports a mapping sends to the Board, as documents of its decision: the draft of each
pillar generated from the inputs in the IISG database (.docx), and the final reports the
Secretariat uploaded to the procedure since it last went to the Board."""

from __future__ import annotations

from sqlalchemy import select

from engine.errors import EngineError
from engine.services import ServiceCall, register
from models import Decision, Document
from workflows.inbox.documents import check_upload, documents_directory, store_document
from workflows.needs_database.reports import draft_report_docx
from workflows.people.accounts import find_user, participant
from workflows.people.roles import PILLARS, SECRETARIAT

# Who the generated drafts are recorded as uploaded by: the system, not a person.
GENERATED_BY = "system"
REPORT_WORDS = {"needs_mapping": "needs-mapping", "response_mapping": "response-mapping"}


def _uploaded_by_the_secretariat(call: ServiceCall, document: Document) -> bool:
    user = find_user(call.context.session, document.uploaded_by)
    return user is not None and user.active and participant(user).holds(SECRETARIAT)


def _final_reports(call: ServiceCall) -> list[Document]:
    """The Secretariat's uploads to this procedure since its last Board decision was asked."""
    session, instance_id = call.context.session, call.context.instance_id
    last_asked = session.scalar(
        select(Decision.launched_at)
        .where(Decision.instance_id == instance_id)
        .order_by(Decision.launched_at.desc())
        .limit(1)
    )
    query = select(Document).where(
        Document.instance_id == instance_id, Document.uploaded_by != GENERATED_BY
    )
    if last_asked is not None:
        query = query.where(Document.uploaded_at > last_asked)
    found = session.scalars(query.order_by(Document.uploaded_at, Document.id))
    return [d for d in found if _uploaded_by_the_secretariat(call, d)]


@register("attach_mapping_reports")
def attach_mapping_reports(call: ServiceCall) -> list[int]:
    """Generate each pillar's draft report and store it with the procedure; the ids of the
    drafts and of the Secretariat's uploaded final reports, for the Board decision."""
    context = call.context
    kind, year = str(call.params.get("kind") or ""), int(call.params["year"])
    if kind not in REPORT_WORDS:
        raise EngineError(f"'{kind}' is not a kind of mapping report")
    user = find_user(context.session, context.actor)
    if user is None:
        raise EngineError(f"'{context.actor}' drafts no reports: only the Secretariat does")
    drafter = participant(user)
    drafts: list[Document] = []
    for pillar in PILLARS:
        body = draft_report_docx(context.session, kind, pillar, year, viewer=drafter)
        name = f"iisg-{REPORT_WORDS[kind]}-{pillar}-{year}-draft.docx"
        drafts.append(
            store_document(
                context.session,
                context.instance_id,
                check_upload(name, body),
                uploaded_by=GENERATED_BY,
                now=context.now,
                directory=documents_directory(),
            )
        )
    return [d.id for d in [*drafts, *_final_reports(call)]]
