"""The inbox at work: my tasks and my roles' tasks, claims and reassignment, the alternate
of a seat, sorting, filters and search in the URL, and a procedure's documents and comments."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from flask import Flask
from lxml import html
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from engine.instances.assignment import Grant, Participant
from engine.instances.steps import complete_task, send_signal, start_instance
from models import AuditEvent, Comment, Document, HumanTask
from tests.conftest import Clock, Database
from tests.webui.conftest import (
    Browser,
    People,
    csrf_token,
    elements,
    links,
    main_region,
    main_text,
    set_due,
    snapshot,
    task_of,
    values,
    words,
)
from webui import create_app
from workflows.inbox.comments import comments
from workflows.inbox.documents import display_name
from workflows.inbox.tasks import like_pattern
from workflows.people import accounts

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
UPLOAD_CAP = 64 * 1024


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real Argon2, cheap settings: these tests log many people in."""
    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


@pytest.fixture
def documents_dir(tmp_path: Path) -> Path:
    return tmp_path / "documents"


@pytest.fixture
def app(db: Database, documents_dir: Path) -> Iterator[Flask]:
    """The app on the test database, keeping documents in the test's own folder."""
    app = create_app(
        {
            "DATABASE_URL": db.url,
            "SECRET_KEY": "test",
            "TESTING": True,
            "DOCUMENTS_DIR": str(documents_dir),
            "MAX_CONTENT_LENGTH": UPLOAD_CAP,
        }
    )
    yield app
    app.extensions["iisg"].engine.dispose()


@pytest.fixture
def alternate(make_person: Callable[..., Participant], people: People) -> Participant:
    """Albania's designated alternate: holds the Albanian seat as well."""
    return make_person("board-al-alt", Grant("board_member", "AL"))


@pytest.fixture
def second_secretary(make_person: Callable[..., Participant], people: People) -> Participant:
    return make_person("sec2", Grant("secretariat"))


def _review_done(db: Database, clock: Clock, people: People, instance_id: int) -> HumanTask:
    """Complete the Secretariat's review, so the seat's acknowledgement is open."""
    review = task_of(db, instance_id, "review")
    db.run(
        lambda s: complete_task(
            s,
            review.id,
            {"approved": True, "comment": "Ready."},
            participant=people.secretariat,
            now=clock.now(),
        )
    )
    return task_of(db, instance_id, "acknowledge")


def _section(page: str, name: str) -> str:
    """The words of one inbox section ("mine", "roles" or "others"), as a person reads them."""
    (section,) = elements(main_region(page), f'.//section[@aria-labelledby="section-{name}"]')
    return words(section)


def _selected(page: str, name: str) -> list[str]:
    """The values chosen in the page's select named `name`."""
    return values(main_region(page), f".//select[@name='{name}']/option[@selected]/@value")


def _post(
    browser: Browser, url: str, data: dict[str, Any] | None = None, **kw: Any
) -> TestResponse:
    """Post with the CSRF token of the inbox page."""
    token = csrf_token(browser.get("/inbox"))
    return browser.client.post(url, data={**(data or {}), "csrf_token": token}, **kw)


def _upload(browser: Browser, task_id: int, name: str, content: bytes) -> TestResponse:
    return _post(
        browser,
        f"/tasks/{task_id}/documents",
        {"document": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def _count(db: Database, model: type[Any]) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _events(db: Database, kind: str) -> list[AuditEvent]:
    with db.session() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.kind == kind)))


def _stored_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file()) if directory.exists() else []


# My tasks and my roles' tasks


def test_claimed_tasks_are_mine_and_unclaimed_ones_are_for_my_roles(
    db: Database,
    people: People,
    start_lane_task: Callable[..., int],
    browser: Callable[..., Browser],
) -> None:
    claimed = task_of(db, start_lane_task(title="Claimed matter"), "review")
    start_lane_task(title="Open matter")
    secretariat = browser("sec")

    assert _post(secretariat, f"/tasks/{claimed.id}/claim").status_code == 302

    page = secretariat.text("/inbox")
    assert "Claimed matter" in _section(page, "mine")
    assert "Open matter" not in _section(page, "mine")
    assert "Open matter" in _section(page, "roles")
    assert "Secretariat" in _section(page, "roles")
    assert "Claimed by you" in _section(page, "mine")


def test_a_claim_hides_the_task_from_the_other_holders_and_a_release_brings_it_back(
    db: Database,
    people: People,
    second_secretary: Participant,
    start_lane_task: Callable[..., int],
    browser: Callable[..., Browser],
) -> None:
    review = task_of(db, start_lane_task(title="Shared matter"), "review")
    sec, sec2 = browser("sec"), browser("sec2")
    assert "Shared matter" in sec2.main("/inbox")

    response = _post(sec, f"/tasks/{review.id}/claim", {"return_to": "task"})

    assert response.headers["Location"] == f"/tasks/{review.id}"
    assert task_of(db, review.instance_id, "review").claimed_by == "sec"
    assert "Shared matter" not in sec2.text("/inbox")
    # The other secretary may still read it (the Secretariat follows every step), not answer.
    followed = sec2.text(f"/tasks/{review.id}")
    assert "sec has claimed this step; only they can answer it now" in main_text(followed)
    assert f"/tasks/{review.id}/complete" not in values(html.fromstring(followed), "//form/@action")
    assert "You have claimed this task" in sec.main(f"/tasks/{review.id}")

    _post(sec, f"/tasks/{review.id}/release")

    assert task_of(db, review.instance_id, "review").claimed_by is None
    assert "Shared matter" in _section(sec2.text("/inbox"), "roles")
    assert [e.kind for e in _events(db, "task.claimed") + _events(db, "task.released")] == [
        "task.claimed",
        "task.released",
    ]


def test_someone_without_the_role_cannot_claim(
    db: Database,
    people: People,
    start_lane_task: Callable[..., int],
    browser: Callable[..., Browser],
) -> None:
    review = task_of(db, start_lane_task(), "review")

    response = _post(browser("board-al"), f"/tasks/{review.id}/claim")

    assert response.status_code == 403
    assert task_of(db, review.instance_id, "review").claimed_by is None


def test_the_claim_button_keeps_the_inbox_filters(
    db: Database,
    people: People,
    start_lane_task: Callable[..., int],
    browser: Callable[..., Browser],
) -> None:
    review = task_of(db, start_lane_task(title="Work plan"), "review")
    secretariat = browser("sec")

    page = secretariat.region("/inbox?q=work&sort=created")
    assert f"/tasks/{review.id}/claim?q=work&sort=created" in values(page, ".//form/@action")

    response = _post(secretariat, f"/tasks/{review.id}/claim?q=work&sort=created&_external=1")
    assert response.headers["Location"] == "/inbox?q=work&sort=created"


# Reassignment by the Secretariat


def test_the_secretariat_reassigns_a_task_to_a_holder_of_its_seat(
    db: Database,
    clock: Clock,
    people: People,
    alternate: Participant,
    start_lane_task: Callable[..., int],
    browser: Callable[..., Browser],
) -> None:
    acknowledge = _review_done(db, clock, people, start_lane_task("AL"))
    secretariat = browser("sec")
    url = f"/tasks/{acknowledge.id}/reassign"
    choices = values(html.fromstring(secretariat.text(url)), "//form//*[@name='username']//@value")
    assert "board-al" in choices
    assert "board-al-alt" in choices
    assert "board-ba" not in choices

    response = secretariat.submit(url, url, {"username": "board-al-alt"})

    assert response.status_code == 302
    assert task_of(db, acknowledge.instance_id, "acknowledge").claimed_by == "board-al-alt"
    assert "Acknowledge the review" not in browser("board-al").text("/inbox")
    assert "Acknowledge the review" in _section(browser("board-al-alt").text("/inbox"), "mine")
    (event,) = _events(db, "task.reassigned")
    assert (event.actor, event.payload["to"]) == ("sec", "board-al-alt")


def test_reassigning_to_someone_without_the_role_is_refused_with_a_message(
    db: Database,
    clock: Clock,
    people: People,
    start_lane_task: Callable[..., int],
    browser: Callable[..., Browser],
) -> None:
    acknowledge = _review_done(db, clock, people, start_lane_task("AL"))
    before = snapshot(db, acknowledge.instance_id)
    url = f"/tasks/{acknowledge.id}/reassign"

    response = browser("sec").submit(url, url, {"username": "board-ba"})

    assert response.status_code == 400
    page = main_text(response.get_data(as_text=True))
    assert "board-ba cannot take 'Acknowledge the review'" in page
    assert "Nothing was changed." in page
    assert task_of(db, acknowledge.instance_id, "acknowledge").claimed_by is None
    assert snapshot(db, acknowledge.instance_id) == before


def test_only_the_secretariat_may_reassign_or_see_everyones_tasks(
    db: Database,
    clock: Clock,
    people: People,
    start_lane_task: Callable[..., int],
    browser: Callable[..., Browser],
) -> None:
    acknowledge = _review_done(db, clock, people, start_lane_task("AL"))
    board_al = browser("board-al")
    url = f"/tasks/{acknowledge.id}/reassign"

    assert board_al.get(url).status_code == 403
    assert _post(board_al, url, {"username": "board-al"}).status_code == 403
    assert board_al.get("/inbox?whose=everyone").status_code == 403
    assert task_of(db, acknowledge.instance_id, "acknowledge").claimed_by is None
    anonymous = browser()
    assert anonymous.get(url).headers["Location"].startswith("/login")
    assert anonymous.get("/inbox").headers["Location"].startswith("/login")
    everyone = browser("sec").text("/inbox?whose=everyone")
    assert "Acknowledge the review" in _section(everyone, "others")


# The alternate of a seat


def test_the_alternate_sees_the_seats_task_and_completes_it(
    db: Database,
    clock: Clock,
    people: People,
    alternate: Participant,
    start_lane_task: Callable[..., int],
    browser: Callable[..., Browser],
) -> None:
    acknowledge = _review_done(db, clock, people, start_lane_task("AL", title="Work plan"))
    deputy = browser("board-al-alt")

    roles = _section(deputy.text("/inbox"), "roles")
    assert "Acknowledge the review" in roles
    assert "Board member · Albania" in roles

    url = f"/tasks/{acknowledge.id}"
    assert deputy.submit(url, f"{url}/complete", {}).status_code == 302
    done = task_of(db, acknowledge.instance_id, "acknowledge")
    assert (done.status, done.completed_by) == ("completed", "board-al-alt")
    assert "Acknowledge the review" not in browser("board-al").text("/inbox")


# Sorting, filters and search, kept in the URL


def test_tasks_sort_by_due_date_created_date_or_procedure(
    db: Database,
    clock: Clock,
    people: People,
    start_lane_task: Callable[..., int],
    browser: Callable[..., Browser],
) -> None:
    first = start_lane_task(title="Charlie matter")
    clock.move(hours=1)
    second = start_lane_task(title="Alpha matter")
    clock.move(hours=1)
    start_lane_task(title="Bravo matter")
    set_due(db, task_of(db, first, "review").id, clock.now() + timedelta(days=1))
    set_due(db, task_of(db, second, "review").id, clock.now() + timedelta(days=5))
    secretariat = browser("sec")

    def order(url: str) -> list[str]:
        page = secretariat.main(url)
        names = ("Alpha matter", "Bravo matter", "Charlie matter")
        return sorted(names, key=page.index)

    assert order("/inbox") == ["Charlie matter", "Alpha matter", "Bravo matter"]
    assert order("/inbox?sort=created") == ["Bravo matter", "Alpha matter", "Charlie matter"]
    assert order("/inbox?sort=procedure") == ["Alpha matter", "Bravo matter", "Charlie matter"]
    assert _selected(secretariat.text("/inbox?sort=created"), "sort") == ["created"]


def test_filters_narrow_the_inbox_and_stay_in_the_url(
    db: Database,
    clock: Clock,
    people: People,
    start_lane_task: Callable[..., int],
    browser: Callable[..., Browser],
) -> None:
    late = start_lane_task(title="Late matter")
    start_lane_task(title="Timely matter")
    set_due(db, task_of(db, late, "review").id, clock.now() + timedelta(hours=1))
    minutes = db.run(
        lambda s: start_instance(s, "signal_wait", {}, actor="tests", now=clock.now()).id
    )
    db.run(lambda s: send_signal(s, minutes, "board_meeting_held", actor="tests", now=clock.now()))
    seats = {
        seat: _review_done(db, clock, people, start_lane_task(seat, title=f"Seat {seat} matter"))
        for seat in ("AL", "BA")
    }

    def work(session: Session) -> None:
        # As a diagram's pillar property would.
        session.execute(
            update(HumanTask).where(HumanTask.id == seats["AL"].id).values(pillar="WBBSi")
        )

    db.run(work)
    clock.move(hours=2)
    secretariat = browser("sec")

    by_procedure = secretariat.text("/inbox?procedure=signal_wait")
    assert "Write the minutes" in main_text(by_procedure)
    assert "Late matter" not in by_procedure
    assert _selected(by_procedure, "procedure") == ["signal_wait"]

    overdue = secretariat.text("/inbox?state=late")
    assert "Late matter" in main_text(overdue)
    assert "Timely matter" not in overdue
    assert "1 task matches these filters" in main_text(overdue)

    by_pillar = secretariat.text("/inbox?whose=everyone&pillar=WBBSi")
    assert "Seat AL matter" in main_text(by_pillar)
    assert "Seat BA matter" not in by_pillar
    assert "Timely matter" not in by_pillar

    by_partner = secretariat.text("/inbox?whose=everyone&partner=BA")
    assert "Seat BA matter" in main_text(by_partner)
    assert "Seat AL matter" not in by_partner
    assert _selected(by_partner, "partner") == ["BA"]

    nothing = secretariat.main("/inbox?partner=XK")
    assert "No open task matches these filters" in nothing
    assert "Kosovo*" in nothing


def test_the_search_takes_percent_and_underscore_literally(
    db: Database,
    people: People,
    start_lane_task: Callable[..., int],
    browser: Callable[..., Browser],
) -> None:
    start_lane_task(title="Budget 100% spent")
    start_lane_task(title="Budget 100 planned")
    start_lane_task(title="Work_plan draft")
    start_lane_task(title="Workplan final")
    secretariat = browser("sec")

    percent = secretariat.text("/inbox?q=%25")
    assert "Budget 100% spent" in main_text(percent)
    assert "Budget 100 planned" not in percent
    assert "Work_plan" not in percent

    underscore = secretariat.text("/inbox?q=k_p")
    assert "Work_plan draft" in main_text(underscore)
    assert "Workplan final" not in underscore

    found = secretariat.text("/inbox?q=budget")
    assert "Budget 100% spent" in main_text(found)
    assert "Budget 100 planned" in main_text(found)
    assert values(main_region(found), ".//input[@name='q']/@value") == ["budget"]
    assert "Work_plan" not in found

    by_task_name = secretariat.main("/inbox?q=review+the")
    assert "Workplan final" in by_task_name
    assert like_pattern("50%_a\\b") == "%50\\%\\_a\\\\b%"


# Documents


def test_a_pdf_uploaded_on_the_task_page_downloads_back_unchanged(
    db: Database,
    people: People,
    documents_dir: Path,
    start_lane_task: Callable[..., int],
    browser: Callable[..., Browser],
) -> None:
    review = task_of(db, start_lane_task(), "review")
    secretariat = browser("sec")

    response = _upload(secretariat, review.id, "Minutes of the meeting.pdf", PDF)

    assert response.headers["Location"] == f"/tasks/{review.id}#documents"
    page = secretariat.region(f"/tasks/{review.id}")
    assert "Uploaded: Minutes of the meeting.pdf." in words(page)
    with db.session() as session:
        document = session.scalars(select(Document)).one()
    assert (document.content_type, document.size, document.uploaded_by) == (
        "application/pdf",
        len(PDF),
        "sec",
    )
    assert f"/documents/{document.id}" in links(page)
    assert _stored_files(documents_dir) == [
        documents_dir / str(review.instance_id) / document.stored_name
    ]

    download = secretariat.get(f"/documents/{document.id}")

    assert download.status_code == 200
    assert download.data == PDF
    assert download.headers["Content-Type"] == "application/pdf"
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "Minutes of the meeting.pdf" in disposition
    (event,) = _events(db, "document.uploaded")
    assert event.payload["sha256"] == document.sha256


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("Agenda.txt", "Agenda: Türkiye first\n".encode(), "text/plain; charset=utf-8"),
        ("Seats.csv", b"seat,answer\nAL,no_objection\n", "text/csv; charset=utf-8"),
    ],
    ids=["txt", "csv"],
)
def test_a_text_document_downloads_with_its_charset_named_once(
    db: Database,
    people: People,
    start_lane_task: Callable[..., int],
    browser: Callable[..., Browser],
    name: str,
    content: bytes,
    content_type: str,
) -> None:
    review = task_of(db, start_lane_task(), "review")
    secretariat = browser("sec")
    _upload(secretariat, review.id, name, content)
    with db.session() as session:
        document = session.scalars(select(Document)).one()

    download = secretariat.get(f"/documents/{document.id}")

    assert download.status_code == 200 and download.data == content
    assert download.headers["Content-Type"] == content_type


def test_a_file_over_the_size_cap_gets_413_and_nothing_is_stored(
    db: Database,
    people: People,
    documents_dir: Path,
    start_lane_task: Callable[..., int],
    browser: Callable[..., Browser],
) -> None:
    review = task_of(db, start_lane_task(), "review")
    big = PDF + b"0" * UPLOAD_CAP

    response = _upload(browser("sec"), review.id, "big.pdf", big)

    assert response.status_code == 413
    assert "The file is too large" in main_text(response.get_data(as_text=True))
    assert "Files can be at most 64 KB. Nothing was uploaded." in main_text(
        response.get_data(as_text=True)
    )
    assert _count(db, Document) == 0
    assert _stored_files(documents_dir) == []


def test_the_size_cap_is_20_mb_unless_set() -> None:
    app = create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": "test"})
    assert app.config["MAX_CONTENT_LENGTH"] == 20 * 1024 * 1024


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("setup.exe", b"MZ\x90\x00" + b"\x00" * 60, "not a type of file the procedures accept"),
        ("report.pdf", b"<html>not a pdf</html>", "named like a PDF but its content is not one"),
        ("table.xlsx", PDF, "named like a Excel workbook but its content is not one"),
        ("notes.txt", b"\x00\x01binary", "named like a text but its content is not one"),
    ],
)
def test_a_file_of_the_wrong_type_is_refused_with_a_message_and_nothing_is_stored(
    db: Database,
    people: People,
    documents_dir: Path,
    start_lane_task: Callable[..., int],
    browser: Callable[..., Browser],
    name: str,
    content: bytes,
    message: str,
) -> None:
    review = task_of(db, start_lane_task(), "review")
    secretariat = browser("sec")

    response = _upload(secretariat, review.id, name, content)

    assert response.status_code == 400
    (error,) = main_region(response.get_data(as_text=True)).xpath(".//p[@id='document-error']")
    assert "Not uploaded:" in error.text_content()
    assert message in error.text_content()
    assert _count(db, Document) == 0
    assert _stored_files(documents_dir) == []


def test_path_tricks_in_a_file_name_change_nothing_but_the_name_shown(
    db: Database,
    people: People,
    tmp_path: Path,
    documents_dir: Path,
    start_lane_task: Callable[..., int],
    browser: Callable[..., Browser],
) -> None:
    review = task_of(db, start_lane_task(), "review")
    secretariat = browser("sec")

    for name in ("../../escape.pdf", "/etc/absolute.pdf", "nul\x00l.pdf"):
        assert _upload(secretariat, review.id, name, PDF).status_code == 302

    with db.session() as session:
        stored = session.scalars(select(Document).order_by(Document.id)).all()
    assert [d.filename for d in stored] == ["escape.pdf", "absolute.pdf", "null.pdf"]
    folder = documents_dir / str(review.instance_id)
    assert _stored_files(tmp_path) == sorted(folder / d.stored_name for d in stored)
    download = secretariat.get(f"/documents/{stored[0].id}")
    assert download.headers["Content-Disposition"] == "attachment; filename=escape.pdf"
    assert display_name("C:\\Windows\\dos.pdf") == "dos.pdf"
    assert display_name("..") == ""


def test_only_people_with_a_task_in_the_procedure_or_the_secretariat_may_download(
    db: Database,
    clock: Clock,
    people: People,
    start_lane_task: Callable[..., int],
    browser: Callable[..., Browser],
) -> None:
    instance_id = start_lane_task("AL")
    review = task_of(db, instance_id, "review")
    _upload(browser("sec"), review.id, "proposal.pdf", PDF)
    with db.session() as session:
        document_id = session.scalars(select(Document.id)).one()
    url = f"/documents/{document_id}"
    board_al, board_ba = browser("board-al"), browser("board-ba")

    assert board_al.get(url).status_code == 403  # no task in it yet
    _review_done(db, clock, people, instance_id)

    assert board_al.get(url).status_code == 200
    refused = board_ba.get(url)
    assert refused.status_code == 403
    assert "people who have a task in it" in main_text(refused.get_data(as_text=True))
    assert browser().get(url).headers["Location"].startswith("/login")
    assert browser("sec").get("/documents/999999").status_code == 404


# Documents and comments in the middle of an answer: nothing typed is lost

HALF_AN_ANSWER = {
    "_answer": "kept",  # the task's form marks its posts (its upload button posts it whole)
    "approved": "true",
    "comment": "The annex is missing;\nI add it below.",
    "text": "A comment still being written",
}


def _kept_answer(page: str) -> tuple[list[str], list[str | None], list[str | None]]:
    """What the task page shows as typed: the radio chosen, the answer's comment, the comment
    being written."""
    main = main_region(page)
    return (
        main.xpath(".//input[@name='approved'][@checked]/@value"),
        [t.text for t in main.xpath(".//textarea[@name='comment']")],
        [t.text for t in main.xpath(".//textarea[@name='text']")],
    )


def test_the_upload_belongs_to_the_answers_form_and_posts_it_whole(
    db: Database,
    people: People,
    start_lane_task: Callable[..., int],
    browser: Callable[..., Browser],
) -> None:
    review = task_of(db, start_lane_task(), "review")

    main = main_region(browser("sec").text(f"/tasks/{review.id}"))

    assert main.xpath(".//form[@id='task-answer']/input[@name='_answer']/@value") == ["kept"]
    (upload,) = main.xpath(".//button[normalize-space()='Upload']")
    assert upload.get("form") == "task-answer"
    assert upload.get("formaction") == f"/tasks/{review.id}/documents#documents"
    assert upload.get("formenctype") == "multipart/form-data"
    assert main.xpath(".//input[@type='file']/@form") == ["task-answer"]
    assert main.xpath(".//textarea[@name='text']/@form") == ["task-answer"]


def test_a_document_uploaded_mid_answer_keeps_everything_typed(
    db: Database,
    people: People,
    start_lane_task: Callable[..., int],
    browser: Callable[..., Browser],
) -> None:
    review = task_of(db, start_lane_task(), "review")
    secretariat = browser("sec")

    response = _post(
        secretariat,
        f"/tasks/{review.id}/documents",
        {**HALF_AN_ANSWER, "document": (io.BytesIO(PDF), "annex.pdf")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert _kept_answer(page) == (
        ["true"],
        ["The annex is missing;\nI add it below."],
        ["A comment still being written"],
    )
    main = main_region(page)
    assert main.xpath("string(.//table[@class='documents']//th[@scope='row'])").strip() == (
        "annex.pdf"
    )
    assert " ".join(
        main.xpath("string(.//section[@class='procedure-files']//p[@role='status'])").split()
    ) == (
        "Uploaded: annex.pdf. Your answer above is kept as you typed it; it is not submitted yet."
    )
    assert task_of(db, review.instance_id, "review").status == "open"
    assert _count(db, Document) == 1


def test_a_document_refused_mid_answer_keeps_everything_typed(
    db: Database,
    people: People,
    start_lane_task: Callable[..., int],
    browser: Callable[..., Browser],
) -> None:
    review = task_of(db, start_lane_task(), "review")

    response = _post(
        browser("sec"),
        f"/tasks/{review.id}/documents",
        {**HALF_AN_ANSWER, "document": (io.BytesIO(b"MZ\x90\x00"), "setup.exe")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert _kept_answer(page)[:2] == (["true"], ["The annex is missing;\nI add it below."])
    (error,) = main_region(page).xpath(".//p[@id='document-error']")
    assert "'setup.exe' is not a type of file the procedures accept" in error.text_content()
    assert _count(db, Document) == 0


def test_a_comment_posted_mid_answer_keeps_the_answer_typed(
    db: Database,
    people: People,
    start_lane_task: Callable[..., int],
    browser: Callable[..., Browser],
) -> None:
    review = task_of(db, start_lane_task(), "review")

    response = _post(browser("sec"), f"/tasks/{review.id}/comments", HALF_AN_ANSWER)

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert _kept_answer(page) == (["true"], ["The annex is missing;\nI add it below."], [None])
    main = main_region(page)
    assert main.xpath("string(.//p[@class='comment-text'])") == "A comment still being written"
    assert "Comment posted. Your answer above is kept as you typed it" in main_text(page)


# Comments


def test_a_comment_is_shown_escaped_with_its_line_breaks(
    db: Database,
    people: People,
    start_lane_task: Callable[..., int],
    browser: Callable[..., Browser],
) -> None:
    review = task_of(db, start_lane_task(), "review")
    secretariat = browser("sec")

    response = _post(
        secretariat,
        f"/tasks/{review.id}/comments",
        {"text": "<script>alert(1)</script>\r\nSecond line"},
    )

    assert response.headers["Location"] == f"/tasks/{review.id}#comments"
    page = secretariat.text(f"/tasks/{review.id}")
    (shown,) = elements(main_region(page), './/*[br][contains(., "alert(1)")]')
    assert [shown.text, shown.find("br").tail] == ["<script>alert(1)</script>", "Second line"]
    assert "<script>alert(1)" not in page
    with db.session() as session:
        (comment,) = comments(session, review.instance_id)
    assert (comment.author, comment.text) == ("sec", "<script>alert(1)</script>\nSecond line")
    assert len(_events(db, "comment.added")) == 1


def test_an_empty_or_too_long_comment_is_refused_with_a_message(
    db: Database,
    people: People,
    start_lane_task: Callable[..., int],
    browser: Callable[..., Browser],
) -> None:
    review = task_of(db, start_lane_task(), "review")
    secretariat = browser("sec")

    empty = _post(secretariat, f"/tasks/{review.id}/comments", {"text": "   "})
    assert empty.status_code == 400
    assert "The comment is empty" in main_text(empty.get_data(as_text=True))
    too_long = _post(secretariat, f"/tasks/{review.id}/comments", {"text": "x" * 5001})
    assert too_long.status_code == 400
    main = main_region(too_long.get_data(as_text=True))
    assert "at most 5000 fit" in main.xpath("string(.//p[@id='comment-error'])")
    # What was written is kept, to be shortened rather than typed again.
    assert [t.text for t in main.xpath(".//textarea[@name='text']")] == ["x" * 5001]
    assert _count(db, Comment) == 0


def test_someone_without_a_task_in_the_procedure_cannot_comment(
    db: Database,
    people: People,
    start_lane_task: Callable[..., int],
    browser: Callable[..., Browser],
) -> None:
    review = task_of(db, start_lane_task("AL"), "review")

    response = _post(browser("board-ba"), f"/tasks/{review.id}/comments", {"text": "Hello"})

    assert response.status_code == 403
    assert _count(db, Comment) == 0


# CSRF


def test_every_inbox_form_refuses_a_post_without_the_csrf_token(
    db: Database,
    clock: Clock,
    people: People,
    documents_dir: Path,
    start_lane_task: Callable[..., int],
    browser: Callable[..., Browser],
) -> None:
    instance_id = start_lane_task("AL")
    review = task_of(db, instance_id, "review")
    secretariat = browser("sec")
    _post(secretariat, f"/tasks/{review.id}/claim")
    before = snapshot(db, instance_id)
    posts: list[tuple[str, dict[str, Any]]] = [
        (f"/tasks/{review.id}/claim", {}),
        (f"/tasks/{review.id}/release", {}),
        (f"/tasks/{review.id}/reassign", {"username": "sec"}),
        (f"/tasks/{review.id}/comments", {"text": "Hello"}),
        (f"/tasks/{review.id}/documents", {"document": (io.BytesIO(PDF), "a.pdf")}),
    ]

    for url, data in posts:
        response = secretariat.client.post(url, data=data, content_type="multipart/form-data")
        assert response.status_code == 400, url
        assert "The form was not accepted" in main_text(response.get_data(as_text=True))

    assert snapshot(db, instance_id) == before
    assert task_of(db, instance_id, "review").claimed_by == "sec"
    assert _count(db, Comment) == _count(db, Document) == 0
    assert _stored_files(documents_dir) == []
