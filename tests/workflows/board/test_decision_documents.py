"""A Board decision's documents are files: the Secretariat uploads them first, the launch
attaches them in its own transaction, and one hash freezes the text with each file."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine.errors import Refused
from engine.instances.assignment import Participant
from models import AuditEvent, Document, ProcessInstance
from tests.workflows.conftest import Iisg
from workflows.board.frozen import frozen_hash, text_hash
from workflows.inbox.attaching import start_with_documents, upload_for_later
from workflows.inbox.documents import check_upload, documents_directory, file_of
from workflows.procedures.pages import timeline
from workflows.settings import DEFAULT_MIN_NOTICE

PROPOSAL = "The Board adopts the IISG work plan 2027 and its budget."
WORK_PLAN = b"%PDF-1.7\nThe IISG work plan 2027.\n"
BUDGET = b"Line,Amount\nMeetings,12000\nSecretariat,48000\n"


def upload(iisg: Iisg, name: str, data: bytes, by: Participant | None = None) -> int:
    """A file uploaded before its procedure exists, as POST /documents stores it."""
    person = by or iisg.secretariat
    checked = check_upload(name, data)

    def work(session: Any) -> int:
        return upload_for_later(
            session, checked, uploader=person, now=iisg.clock.now(), directory=documents_directory()
        ).id

    found: int = iisg.db.run(work)
    return found


def launch(iisg: Iisg, documents: list[int], by: Participant | None = None) -> int:
    """The Secretariat launches a silent procedure naming its documents, as the API does."""
    person = by or iisg.secretariat
    data = {"subject": "Work plan 2027", "proposal": PROPOSAL, "documents": documents}

    def work(session: Any) -> int:
        row = start_with_documents(
            session,
            person,
            "silent_procedure",
            data,
            iisg.clock.now(),
            notice=DEFAULT_MIN_NOTICE,
        )
        return int(row.id)

    found: int = iisg.db.run(work)
    return found


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_silent_procedure_launched_with_two_files_freezes_them_with_its_text(
    iisg: Iisg,
) -> None:
    work_plan = upload(iisg, "Work plan 2027.pdf", WORK_PLAN)
    budget = upload(iisg, "budget-2027.csv", BUDGET)

    instance_id = launch(iisg, [work_plan, budget])

    decision = iisg.decision(instance_id)
    assert decision.documents == [
        {
            "id": work_plan,
            "name": "Work plan 2027.pdf",
            "media_type": "application/pdf",
            "size": len(WORK_PLAN),
            "sha256": sha256(WORK_PLAN),
        },
        {
            "id": budget,
            "name": "budget-2027.csv",
            "media_type": "text/csv; charset=utf-8",
            "size": len(BUDGET),
            "sha256": sha256(BUDGET),
        },
    ]
    assert decision.text_sha256 == text_hash(PROPOSAL)
    # The frozen hash, recomputed from its definition: the text's hash, then each file's.
    lines = f"{text_hash(PROPOSAL)}\n{sha256(WORK_PLAN)}\n{sha256(BUDGET)}\n"
    assert decision.frozen_sha256 == sha256(lines.encode("ascii"))
    assert decision.frozen_sha256 == frozen_hash(PROPOSAL, [sha256(WORK_PLAN), sha256(BUDGET)])
    with iisg.db.session() as s:
        rows = [s.get_one(Document, i) for i in (work_plan, budget)]
        assert [d.instance_id for d in rows] == [instance_id, instance_id]
        assert [file_of(d, documents_directory()).read_bytes() for d in rows] == [WORK_PLAN, BUDGET]
        attached = s.scalars(select(AuditEvent).where(AuditEvent.kind == "document.attached"))
        assert [e.payload["document"] for e in attached] == [work_plan, budget]
        history = [entry.words for entry in timeline(s, instance_id, {})]
        assert "secretariat attached 'budget-2027.csv' (uploaded before the start)" in history


def test_the_frozen_hash_changes_when_a_document_differs(iisg: Iisg) -> None:
    first = launch(iisg, [upload(iisg, "budget.csv", BUDGET)])
    second = launch(iisg, [upload(iisg, "budget.csv", BUDGET.replace(b"12000", b"12500"))])
    same_again = launch(iisg, [upload(iisg, "budget (copy).csv", BUDGET)])
    without = launch(iisg, [])

    hashes = [iisg.decision(i).frozen_sha256 for i in (first, second, same_again, without)]
    assert len({iisg.decision(i).text_sha256 for i in (first, second, without)}) == 1
    assert hashes[0] != hashes[1]  # one figure changed in the file
    assert hashes[0] == hashes[2]  # the same bytes under another name
    assert hashes[3] not in hashes[:3] and hashes[3] == frozen_hash(PROPOSAL, [])


def test_two_files_in_the_other_order_are_another_frozen_hash(iisg: Iisg) -> None:
    a, b = upload(iisg, "a.pdf", WORK_PLAN), upload(iisg, "b.csv", BUDGET)
    c, d = upload(iisg, "a.pdf", WORK_PLAN), upload(iisg, "b.csv", BUDGET)

    assert iisg.decision(launch(iisg, [a, b])).frozen_sha256 != (
        iisg.decision(launch(iisg, [d, c])).frozen_sha256
    )


@pytest.mark.parametrize("whose", ["unknown", "another uploader's", "attached elsewhere"])
def test_a_document_that_is_not_the_launchers_to_attach_is_refused_naming_documents(
    iisg: Iisg, make_person: Any, whose: str
) -> None:
    colleague = make_person("secretariat-2", *iisg.secretariat.grants)
    if whose == "unknown":
        document = 999_999
    elif whose == "another uploader's":
        document = upload(iisg, "theirs.pdf", WORK_PLAN, by=colleague)
    else:
        document = upload(iisg, "once.pdf", WORK_PLAN)
        launch(iisg, [document])
    mine = upload(iisg, "mine.csv", BUDGET)
    with iisg.db.session() as s:
        instances_before = len(s.scalars(select(ProcessInstance.id)).all())

    with pytest.raises(Refused) as refused:
        launch(iisg, [mine, document])

    assert list(refused.value.errors) == ["documents"]
    assert (
        f"there is no document {document} among the files you uploaded"
        in (refused.value.errors["documents"])
    )
    with iisg.db.session() as s:
        # Nothing started, and my own file is still mine to attach.
        assert len(s.scalars(select(ProcessInstance.id)).all()) == instances_before
        assert s.get_one(Document, mine).instance_id is None


def test_a_file_listed_twice_is_refused(iisg: Iisg) -> None:
    budget = upload(iisg, "budget.csv", BUDGET)

    with pytest.raises(Refused) as refused:
        launch(iisg, [budget, budget])

    assert "listed twice" in refused.value.errors["documents"]


def test_an_upload_waits_under_uploads_until_a_start_attaches_it(
    iisg: Iisg, documents_directory: Path
) -> None:
    budget = upload(iisg, "budget.csv", BUDGET)

    with iisg.db.session() as s:
        row = s.get_one(Document, budget)
        assert (row.instance_id, row.stored_in, row.uploaded_by) == (None, "uploads", "secretariat")
        path = file_of(row, documents_directory)
    assert path.parent == documents_directory / "uploads" and path.read_bytes() == BUDGET
    launch(iisg, [budget])
    assert path.read_bytes() == BUDGET  # attached where it lies
