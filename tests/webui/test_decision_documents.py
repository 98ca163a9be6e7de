"""The documents of a silent procedure are files: the Secretariat uploads them on the launch
page or through the API, Board members download them from the silent-procedure page or the
API with the SHA-256 the page lists, and nobody else can."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from typing import Any

import pytest
from argon2 import PasswordHasher
from flask import Flask
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from engine.instances.assignment import Grant, Participant
from models import Document, ProcessInstance
from tests.conftest import Clock, Database
from tests.webui.conftest import Browser, main_region, main_text
from tests.webui.test_api import problem_of, token_for
from tests.workflows.conftest import Iisg, methodology_and_board
from workflows.board.frozen import frozen_hash
from workflows.people import accounts

PROPOSAL = "The Board adopts the IISG work plan 2027 and its budget."
WORK_PLAN = b"%PDF-1.7\nThe IISG work plan 2027: three pillars, one calendar.\n"
BUDGET = b"Line,Amount\nMeetings,12000\nSecretariat,48000\n"
START = "/procedures/silent_procedure/start"


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real Argon2, cheap settings: these tests create the whole Board."""
    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


@pytest.fixture
def iisg(db: Database, clock: Clock, make_person: Callable[..., Participant]) -> Iisg:
    """The methodology from bpmn/, the Secretariat (two of them), the Board, a focal point."""
    deployed = methodology_and_board(db, clock, make_person)
    make_person("secretariat-2", Grant("secretariat"))
    make_person("focal-point", Grant("focal_point", "AL", "WBCTi"))
    return deployed


class Api:
    """One person's API client: JSON, and files as multipart."""

    def __init__(self, app: Flask, token: str) -> None:
        self.client = app.test_client()
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str) -> TestResponse:
        return self.client.get(f"/api/v1{path}", headers=self.headers)

    def post(self, path: str, body: Any) -> TestResponse:
        return self.client.post(f"/api/v1{path}", headers=self.headers, json=body)

    def upload(self, name: str, data: bytes) -> TestResponse:
        return self.client.post(
            "/api/v1/documents",
            headers=self.headers,
            data={"file": (io.BytesIO(data), name)},
            content_type="multipart/form-data",
        )


@pytest.fixture
def api(db: Database, clock: Clock, app: Flask, iisg: Iisg) -> Callable[[str], Api]:
    return lambda username: Api(app, token_for(db, clock, username))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def listed_files(page: str) -> list[tuple[str, str, str, str]]:
    """The documents table of a page's main region: (name, link, size, SHA-256) per row."""
    rows = main_region(page).xpath(".//table[contains(@class, 'documents')]/tbody/tr")
    found = []
    for row in rows:
        link = row.xpath(".//th/a")[0]
        size, digest = (" ".join(td.text_content().split()) for td in row.xpath("./td"))
        found.append((link.text_content().strip(), link.get("href"), size, digest))
    return found


def instances(db: Database) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(ProcessInstance)) or 0)


def launch_on_the_web(secretariat: Browser, files: list[tuple[bytes, str]]) -> TestResponse:
    return secretariat.submit(
        START,
        START,
        {
            "subject": "Work plan 2027",
            "proposal": PROPOSAL,
            "documents": [(io.BytesIO(data), name) for data, name in files],  # type: ignore[dict-item]
        },
        content_type="multipart/form-data",
    )


def test_a_silent_procedure_launched_on_the_web_with_two_files_is_downloaded_by_a_board_member(
    db: Database, iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    secretariat = browser("secretariat")
    form = main_region(secretariat.text(START))
    assert form.xpath(".//form[@enctype='multipart/form-data']//input[@type='file'][@multiple]")

    started = launch_on_the_web(
        secretariat, [(WORK_PLAN, "Work plan 2027.pdf"), (BUDGET, "budget-2027.csv")]
    )
    assert started.status_code == 302, started.get_data(as_text=True)
    instance_id = int(started.headers["Location"].rsplit("/", 1)[1])

    albania = browser("board-al")
    page = albania.text(f"/silent-procedures/{instance_id}")
    files = listed_files(page)
    assert [(name, size, digest) for name, _link, size, digest in files] == [
        ("Work plan 2027.pdf", f"{len(WORK_PLAN)} bytes", sha256(WORK_PLAN)),
        ("budget-2027.csv", f"{len(BUDGET)} bytes", sha256(BUDGET)),
    ]
    for (_name, link, _size, digest), data in zip(files, (WORK_PLAN, BUDGET), strict=True):
        download = albania.get(link)
        assert download.status_code == 200
        assert sha256(download.get_data()) == digest and download.get_data() == data
    assert download.headers["Content-Disposition"].startswith("attachment")
    frozen = frozen_hash(PROPOSAL, [sha256(WORK_PLAN), sha256(BUDGET)])
    assert f"SHA-256 over the text and each document: {frozen}" in main_text(page)

    record = browser("secretariat").text(f"/decisions/{iisg.decision(instance_id).id}")
    assert listed_files(record) == files


def test_a_file_of_a_type_the_procedures_refuse_is_named_at_the_documents_field(
    db: Database, iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    secretariat = browser("secretariat")
    before = instances(db)

    refused = launch_on_the_web(secretariat, [(b"MZ\x90\x00", "budget.exe")])

    assert refused.status_code == 400
    text = main_text(refused.get_data(as_text=True))
    assert "Documents: Not uploaded: 'budget.exe' is not a type of file the procedures" in text
    assert instances(db) == before
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Document)) == 0


def test_files_uploaded_with_a_launch_that_is_refused_stay_ticked_for_the_next_try(
    db: Database, iisg: Iisg, browser: Callable[..., Browser]
) -> None:
    secretariat = browser("secretariat")
    refused = secretariat.submit(
        START,
        START,
        {
            "subject": "Work plan 2027",
            "proposal": PROPOSAL,
            "deadline": "2001-01-01T10:00:00+00:00",  # long past: refused
            "documents": (io.BytesIO(BUDGET), "budget-2027.csv"),  # type: ignore[dict-item]
        },
        content_type="multipart/form-data",
    )

    assert refused.status_code == 400
    ticked = main_region(refused.get_data(as_text=True)).xpath(
        ".//input[@type='checkbox'][@name='documents'][@checked]"
    )
    assert len(ticked) == 1
    assert "budget-2027.csv" in ticked[0].getparent().text_content()
    started = secretariat.submit(
        START,
        START,
        {"subject": "Work plan 2027", "proposal": PROPOSAL, "documents": ticked[0].get("value")},
        content_type="multipart/form-data",
    )
    assert started.status_code == 302
    instance_id = int(started.headers["Location"].rsplit("/", 1)[1])
    assert [d["name"] for d in iisg.decision(instance_id).documents] == [  # type: ignore[index]
        "budget-2027.csv"
    ]


def test_through_the_api_two_uploaded_files_launch_a_silent_procedure_a_board_member_downloads(
    iisg: Iisg, api: Callable[[str], Api]
) -> None:
    secretariat = api("secretariat")
    uploaded = [
        secretariat.upload("Work plan 2027.pdf", WORK_PLAN),
        secretariat.upload("budget-2027.csv", BUDGET),
    ]
    assert [u.status_code for u in uploaded] == [201, 201]
    work_plan, budget = (u.get_json() for u in uploaded)
    assert {k: v for k, v in work_plan.items() if k != "id"} == {
        "name": "Work plan 2027.pdf",
        "media_type": "application/pdf",
        "size": len(WORK_PLAN),
        "sha256": sha256(WORK_PLAN),
    }
    assert uploaded[1].headers["Location"] == f"/api/v1/documents/{budget['id']}"

    started = secretariat.post(
        "/instances",
        {
            "process": "silent_procedure",
            "data": {
                "subject": "Work plan 2027",
                "proposal": PROPOSAL,
                "documents": [work_plan["id"], budget["id"]],
            },
        },
    )
    assert started.status_code == 201, started.get_data(as_text=True)

    albania = api("board-al")
    for listed, data in ((work_plan, WORK_PLAN), (budget, BUDGET)):
        download = albania.get(f"/documents/{listed['id']}")
        assert download.status_code == 200
        assert download.get_data() == data and sha256(download.get_data()) == listed["sha256"]
        assert download.mimetype == listed["media_type"].split(";")[0]
    (decision,) = albania.get("/decisions").get_json()["decisions"]
    assert decision["documents"] == [work_plan, budget]
    assert decision["frozen_sha256"] == frozen_hash(PROPOSAL, [sha256(WORK_PLAN), sha256(BUDGET)])
    assert "named_documents" not in decision
    assert albania.get(f"/decisions/{decision['id']}").get_json() == decision


def test_a_person_who_may_not_see_the_procedure_gets_404_for_its_documents(
    iisg: Iisg, api: Callable[[str], Api]
) -> None:
    secretariat = api("secretariat")
    attached = secretariat.upload("Work plan 2027.pdf", WORK_PLAN).get_json()["id"]
    waiting = secretariat.upload("budget-2027.csv", BUDGET).get_json()["id"]
    secretariat.post(
        "/instances",
        {
            "process": "silent_procedure",
            "data": {"subject": "Work plan", "proposal": PROPOSAL, "documents": [attached]},
        },
    )

    focal_point = api("focal-point")
    for document_id in (attached, waiting, 999_999):
        problem_of(focal_point.get(f"/documents/{document_id}"), 404)
    # Not attached yet: its uploader's alone, even among the Secretariat.
    problem_of(api("secretariat-2").get(f"/documents/{waiting}"), 404)
    problem_of(api("board-al").get(f"/documents/{waiting}"), 404)
    assert secretariat.get(f"/documents/{waiting}").get_data() == BUDGET
    # Nor can another member of the Secretariat attach it to their own launch.
    refused = api("secretariat-2").post(
        "/instances",
        {
            "process": "silent_procedure",
            "data": {"subject": "Budget", "proposal": PROPOSAL, "documents": [waiting]},
        },
    )
    body = problem_of(refused, 422)
    assert [e["field"] for e in body["errors"]] == ["documents"]


def test_a_bad_or_oversized_upload_is_refused_in_words_naming_file(
    app: Flask, iisg: Iisg, api: Callable[[str], Api]
) -> None:
    secretariat = api("secretariat")

    for name, data, words in (
        ("budget.exe", b"MZ\x90\x00", "is not a type of file the procedures accept"),
        ("work-plan.pdf", b"Not a PDF at all", "is named like a PDF but its content is not one"),
        ("empty.pdf", b"", "is empty"),
    ):
        body = problem_of(secretariat.upload(name, data), 422)
        assert [e["field"] for e in body["errors"]] == ["file"]
        assert words in body["errors"][0]["message"]

    app.config["MAX_CONTENT_LENGTH"] = 4096
    body = problem_of(secretariat.upload("big.pdf", b"%PDF-" + b"x" * 8192), 413)
    assert body["errors"] == [{"field": "file", "message": "files can be at most 4 KB"}]
    missing = secretariat.client.post(
        "/api/v1/documents",
        headers=secretariat.headers,
        data={"other": "x"},
        content_type="multipart/form-data",
    )
    assert [e["field"] for e in problem_of(missing, 400)["errors"]] == ["file"]
    problem_of(api("board-al").upload("work-plan.pdf", WORK_PLAN), 403)
