"""The methodology editor's pages and API: only the Secretariat reaches them, every POST needs
the CSRF token, an untrusted diagram is refused with its reason and nothing stored, a draft is
saved, compared and proposed, and a running procedure moves to a new version only when
nothing it has done changes."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from engine.diagrams.bundle import read_directory, require_bundle
from engine.diagrams.deploy import deploy_bundle
from engine.instances.assignment import Grant, Participant
from engine.instances.steps import complete_task
from models import ProcessDefinition, ProcessInstance
from tests.conftest import TEST_BPMN, Clock, Database
from tests.webui.conftest import (
    Browser,
    People,
    csrf_token,
    main_region,
    main_text,
    task_of,
    values,
    words,
)
from workflows.methodology.diagrams import BPMN_DIR, deploy_directory, validate_files
from workflows.people.roles import known_roles

LANE_TASK = (TEST_BPMN / "lane_task.bpmn").read_text(encoding="utf-8")
REVIEW_FORM = (TEST_BPMN / "review.json").read_text(encoding="utf-8")
FORMS = {"review.json": REVIEW_FORM}
REVIEW_STEP = '<bpmn:userTask id="review" name="Review the proposal">'
FLOWS_END = '<bpmn:sequenceFlow id="f3" sourceRef="acknowledge" targetRef="end" />'

PAGES = [
    "/methodology",
    "/methodology/lane_task",
    "/methodology/lane_task/versions/1",
    "/methodology/lane_task/versions/1.bpmn",
    "/methodology/lane_task/versions/1.json",
    "/methodology/lane_task/compare?from=1&to=1",
    "/methodology/lane_task/edit?version=1",
    "/methodology/lane_task/versions/1/propose",
    "/methodology/lane_task/import",
]
JSON_CALLS = ["/methodology/lane_task/check", "/methodology/lane_task/drafts"]


def with_script(script: str) -> str:
    """lane_task with a script step between the start and the review."""
    return (
        LANE_TASK.replace(
            '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review" />',
            '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="prepare" />'
            '<bpmn:sequenceFlow id="f0" sourceRef="prepare" targetRef="review" />',
        )
        .replace(
            REVIEW_STEP,
            '<bpmn:scriptTask id="prepare" name="Prepare"><bpmn:incoming>f1</bpmn:incoming>'
            f"<bpmn:outgoing>f0</bpmn:outgoing><bpmn:script>{script}</bpmn:script>"
            f"</bpmn:scriptTask>{REVIEW_STEP}",
        )
        .replace(
            "<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2",
            "<bpmn:incoming>f0</bpmn:incoming><bpmn:outgoing>f2",
        )
    )


HOSTILE = {
    "a script importing os": (
        with_script("import os\nos.system('id')"),
        "imports are not allowed",
    ),
    "an XML entity": (
        LANE_TASK.replace(
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE bpmn:definitions '
            '[<!ENTITY boom "boom">]>',
        ).replace("Review the proposal", "&boom;"),
        "DOCTYPE or an ENTITY",
    ),
    # 20 MB as the disk counts them, within the web app's cap on a request (20 MiB), so the
    # diagram's own size rule answers, not the cap.
    "a 20 MB diagram": (
        LANE_TASK.replace(FLOWS_END, FLOWS_END + "<!--" + "x" * 20_000_000 + "-->"),
        "a diagram may be at most 2 MB",
    ),
    "a dangling sequence flow": (
        LANE_TASK.replace(
            FLOWS_END,
            FLOWS_END + '<bpmn:sequenceFlow id="f_dangling" sourceRef="review" '
            'targetRef="nowhere" />',
        ),
        "nowhere",
    ),
}


@pytest.fixture
def sec(browser: Callable[..., Browser], people: People, test_diagrams: None) -> Browser:
    """The Secretariat, logged in, with the test diagrams deployed."""
    return browser("sec")


def token_of(person: Browser) -> str:
    """The CSRF token of the person's session, from the logout form every page has."""
    return csrf_token(person.get("/inbox"))


def post_draft(
    person: Browser, url: str, xml: str, forms: dict[str, str] | None = None
) -> TestResponse:
    """POST a diagram as the editor page does: JSON, the CSRF token in a header."""
    return person.client.post(
        url,
        data=json.dumps({"xml": xml, "forms": FORMS if forms is None else forms}),
        content_type="application/json",
        headers={"X-CSRFToken": token_of(person)},
    )


def versions(db: Database) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(ProcessDefinition)) or 0)


def reasons(response: TestResponse) -> str:
    return " ".join(p["message"] for p in response.get_json()["problems"])


@pytest.mark.parametrize("url", PAGES)
@pytest.mark.parametrize("username", ["board-al", "fp-al"])
def test_only_the_secretariat_opens_the_editor_pages(
    browser: Callable[..., Browser],
    people: People,
    make_person: Callable[..., Participant],
    test_diagrams: None,
    username: str,
    url: str,
) -> None:
    make_person("fp-al", Grant("focal_point", "AL", "wbcti"))
    response = browser(username).get(url)
    assert response.status_code == 403
    assert "kept by the Secretariat" in main_text(response.get_data(as_text=True))


@pytest.mark.parametrize("username", ["board-al", "fp-al"])
def test_only_the_secretariat_calls_the_editor_api(
    browser: Callable[..., Browser],
    people: People,
    make_person: Callable[..., Participant],
    db: Database,
    test_diagrams: None,
    start_lane_task: Callable[..., int],
    username: str,
) -> None:
    make_person("fp-al", Grant("focal_point", "AL", "wbcti"))
    instance_id = start_lane_task()
    before = versions(db)
    person = browser(username)
    for url in JSON_CALLS:
        assert post_draft(person, url, LANE_TASK).status_code == 403
    token = token_of(person)
    forms = {
        "/methodology/lane_task/versions/1/propose": {"summary": "Anything."},
        f"/instances/{instance_id}/migrate": {"version": "1"},
    }
    for url, form in forms.items():
        assert person.client.post(url, data={**form, "csrf_token": token}).status_code == 403
    assert versions(db) == before


def test_a_post_without_the_csrf_token_is_refused(sec: Browser, db: Database) -> None:
    before = versions(db)
    body = json.dumps({"xml": LANE_TASK, "forms": FORMS})
    for url in JSON_CALLS:
        response = sec.client.post(url, data=body, content_type="application/json")
        assert response.status_code == 400
        assert "The form was not accepted" in main_text(response.get_data(as_text=True))
    response = sec.client.post(
        "/methodology/lane_task/versions/1/propose", data={"summary": "Anything."}
    )
    assert response.status_code == 400
    assert versions(db) == before


@pytest.mark.parametrize("name", list(HOSTILE))
def test_an_untrusted_diagram_is_refused_with_its_reason_and_nothing_stored(
    sec: Browser, db: Database, name: str
) -> None:
    xml, reason = HOSTILE[name]
    before = versions(db)
    saved = post_draft(sec, "/methodology/lane_task/drafts", xml)
    assert saved.status_code == 422, saved.get_data(as_text=True)[:500]
    assert reason in reasons(saved)
    assert versions(db) == before
    checked = post_draft(sec, "/methodology/lane_task/check", xml)
    assert checked.status_code == 200
    assert checked.get_json()["ok"] is False
    assert reason in reasons(checked)
    assert versions(db) == before


def test_a_request_the_editor_would_not_send_is_refused(sec: Browser, db: Database) -> None:
    before = versions(db)
    response = sec.client.post(
        "/methodology/lane_task/drafts",
        data=json.dumps({"xml": LANE_TASK, "forms": {"review.json": 7}}),
        content_type="application/json",
        headers={"X-CSRFToken": token_of(sec)},
    )
    assert response.status_code == 400
    assert "map of file name" in reasons(response)
    assert versions(db) == before


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ('{"xml": ' + "[" * 5000 + "]" * 5000 + "}", "nested more than 64 levels"),
        ('{"xml": "<a/>", "forms": {"review.json": "\\udfff"}}', "forms/review.json: the text"),
    ],
)
def test_a_body_nested_too_deep_or_with_half_a_character_is_refused(
    sec: Browser, db: Database, body: str, reason: str
) -> None:
    before = versions(db)
    response = sec.client.post(
        "/methodology/lane_task/check",
        data=body,
        content_type="application/json",
        headers={"X-CSRFToken": token_of(sec)},
    )
    assert response.status_code == 400
    assert reason in reasons(response)
    assert versions(db) == before


def test_the_editor_opens_a_version_with_its_diagram_and_forms(sec: Browser) -> None:
    editor = sec.region("/methodology/lane_task/edit?version=1")
    assert "Edit the diagram of Review then acknowledge" in words(editor)
    assert values(editor, './/*[@id="editor"]/@data-check-url') == ["/methodology/lane_task/check"]
    scripts = values(editor, ".//script/@src")
    assert [src for src in scripts if src.endswith("/bpmn-modeler.development.js")]
    bundle = sec.get("/methodology/lane_task/versions/1.json").get_json()
    assert bundle["version"] == 1 and bundle["status"] == "active"
    assert 'id="review"' in bundle["xml"]
    assert set(bundle["forms"]) == {"review.json"}


def test_a_draft_with_a_step_missing_its_form_is_checked_not_saved(
    sec: Browser, db: Database
) -> None:
    xml = LANE_TASK.replace(
        '<spiffworkflow:property name="formJsonSchemaFilename" value="review.json" />', ""
    )
    checked = post_draft(sec, "/methodology/lane_task/check", xml, {})
    problems = checked.get_json()["problems"]
    assert any(p["element_id"] == "review" and "form" in p["message"] for p in problems)
    before = versions(db)
    assert post_draft(sec, "/methodology/lane_task/drafts", xml, {}).status_code == 422
    assert versions(db) == before


def renamed_review() -> str:
    return LANE_TASK.replace("Review the proposal", "Review the proposal and its annexes")


def test_a_saved_draft_is_listed_compared_downloaded_and_proposed(
    sec: Browser, db: Database, clock: Clock
) -> None:
    # The amendment procedure (and the Board's) come with the methodology.
    db.run(lambda s: deploy_directory(s, BPMN_DIR, actor="tests", now=clock.now()))
    saved = post_draft(sec, "/methodology/lane_task/drafts", renamed_review())
    assert saved.status_code == 201, saved.get_data(as_text=True)
    body = saved.get_json()
    assert body["version"] == 2
    assert any("Review the proposal and its annexes" in line for line in body["changes"])

    listing = sec.main("/methodology")
    assert "draft version 2" in listing
    history = sec.main("/methodology/lane_task")
    assert "Version 2" in history and "by sec" in history
    download = sec.get("/methodology/lane_task/versions/2.bpmn")
    assert download.headers["Content-Disposition"] == 'attachment; filename="lane_task-v2.bpmn"'
    assert "Review the proposal and its annexes" in download.get_data(as_text=True)
    compare = sec.region("/methodology/lane_task/compare?from=1&to=2")
    assert "What changes from version 1 to version 2" in words(compare)
    assert "its name changes from" in words(compare)
    markers = [json.loads(m) for m in values(compare, ".//@data-markers")]
    assert [m["changed"] for m in markers] == [["review"], ["review"]]  # marked on both diagrams

    proposal = sec.get("/methodology/lane_task/versions/2/propose")
    assert "its name changes from" in main_text(proposal.get_data(as_text=True))
    answer = sec.submit(
        "/methodology/lane_task/versions/2/propose",
        "/methodology/lane_task/versions/2/propose",
        {"summary": "The review covers the annexes too."},
    )
    assert answer.status_code == 303, answer.get_data(as_text=True)
    assert answer.headers["Location"].startswith("/instances/")
    with db.session() as session:
        amendment = session.scalars(
            select(ProcessInstance).where(ProcessInstance.process_key == "methodology_amendment")
        ).one()
        assert answer.headers["Location"] == f"/instances/{amendment.id}"
        proposed = session.scalars(
            select(ProcessDefinition).where(
                ProcessDefinition.process_key == "lane_task", ProcessDefinition.version == 2
            )
        ).one()
        assert proposed.status == "proposed"


def put_in_force(db: Database, clock: Clock, xml: str) -> None:
    """A new version of lane_task in force, as if the Board had adopted it."""
    files: dict[str, str | bytes] = {**read_directory(TEST_BPMN), "lane_task.bpmn": xml}
    bundle = require_bundle(files, known_roles())
    db.run(lambda s: deploy_bundle(s, bundle, actor="tests", now=clock.now()))


def review_done(db: Database, clock: Clock, people: People, instance_id: int) -> None:
    task = task_of(db, instance_id, "review")

    def work(session: Session) -> None:
        complete_task(
            session,
            task.id,
            {"approved": True, "comment": "Fine."},
            participant=people.secretariat,
            now=clock.now(),
        )

    db.run(work)


def version_of(db: Database, instance_id: int) -> int:
    with db.session() as session:
        row = session.get(ProcessInstance, instance_id)
        assert row is not None
        return row.definition.version


def test_a_migration_that_would_change_a_completed_step_is_refused(
    sec: Browser,
    db: Database,
    clock: Clock,
    people: People,
    start_lane_task: Callable[..., int],
) -> None:
    instance_id = start_lane_task()
    review_done(db, clock, people, instance_id)
    put_in_force(db, clock, renamed_review())

    page = sec.main(f"/instances/{instance_id}")
    assert "Move to version 2" in page
    assert "cannot move to version 2" in page
    assert "the step 'Review the proposal' is already done" in page
    answer = sec.submit(
        f"/instances/{instance_id}", f"/instances/{instance_id}/migrate", {"version": "2"}
    )
    assert answer.status_code == 303
    told = sec.main(f"/instances/{instance_id}")
    assert "nothing was changed" in told
    assert "is already done or under way" in told
    assert version_of(db, instance_id) == 1


def test_a_migration_that_changes_only_steps_ahead_moves_the_procedure(
    sec: Browser,
    db: Database,
    clock: Clock,
    people: People,
    start_lane_task: Callable[..., int],
) -> None:
    instance_id = start_lane_task()
    review_done(db, clock, people, instance_id)
    put_in_force(
        db,
        clock,
        LANE_TASK.replace("Acknowledge the review", "Acknowledge the Secretariat's review"),
    )
    page = sec.main(f"/instances/{instance_id}")
    assert "It can move" in page
    answer = sec.submit(
        f"/instances/{instance_id}", f"/instances/{instance_id}/migrate", {"version": "2"}
    )
    assert answer.status_code == 303
    assert "now runs on version 2" in sec.main(f"/instances/{instance_id}")
    assert version_of(db, instance_id) == 2


def test_the_board_sees_no_migration_offer(
    browser: Callable[..., Browser],
    db: Database,
    clock: Clock,
    people: People,
    start_lane_task: Callable[..., int],
) -> None:
    instance_id = start_lane_task()
    review_done(db, clock, people, instance_id)
    put_in_force(db, clock, renamed_review())
    page = browser("board-al").text(f"/instances/{instance_id}")
    assert "Move to version" not in page


def import_file(person: Browser, name: str, content: bytes) -> TestResponse:
    """Choose a file on the import page and press Import, as the Secretariat does."""
    return person.client.post(
        "/methodology/lane_task/import",
        data={"csrf_token": token_of(person), "diagram": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def camunda_export(xml: str) -> bytes:
    """lane_task as Camunda Modeler saves it after an edit in French, in ISO-8859-1."""
    latin1 = xml.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"').replace(
        "Review the proposal", "Examiner la proposition (révisée)"
    )
    return latin1.encode("iso-8859-1")


def test_a_file_from_another_modeler_is_imported_as_a_draft(sec: Browser, db: Database) -> None:
    page = sec.main("/methodology/lane_task/import")
    assert "Import a diagram file as a draft of Review then acknowledge" in page
    assert "Its process id must be lane_task" in page

    response = import_file(sec, "lane_task export.bpmn20.xml", camunda_export(LANE_TASK))

    assert response.status_code == 303, main_text(response.get_data(as_text=True))
    assert response.headers["Location"].endswith("/methodology/lane_task/versions/2")
    shown = sec.main("/methodology/lane_task/versions/2")
    assert "lane_task export.bpmn20.xml is saved as draft version 2 of" in shown
    with db.session() as session:
        draft = session.scalars(
            select(ProcessDefinition).where(ProcessDefinition.version == 2)
        ).one()
        assert draft.status == "draft"
        assert draft.source_name == "lane_task.bpmn"  # still the procedure's own diagram
        assert "Examiner la proposition (révisée)" in draft.bpmn_xml


def test_an_imported_file_shows_what_iisg_validate_says_and_nothing_is_stored(
    sec: Browser, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mistaken = (
        LANE_TASK.replace('name="Board member"', 'name="Press office"')
        .replace(
            '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>', ""
        )
        .replace('<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review" />', "")
        .replace("<bpmn:incoming>f1</bpmn:incoming>", "")
    )
    before = versions(db)

    response = import_file(sec, "lane_task.xml", mistaken.encode("utf-8"))

    assert response.status_code == 422
    page = main_text(response.get_data(as_text=True))
    assert "lane_task.xml was not imported, nothing was stored." in page
    # The same lines as `iisg validate` prints for the same file beside the same form.
    (tmp_path / "lane_task.xml").write_text(mistaken, encoding="utf-8")
    (tmp_path / "review.json").write_text(REVIEW_FORM, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    said = [str(problem) for problem in validate_files([Path("lane_task.xml")])]
    assert len(said) == 2
    assert (
        "lane_task.xml:3 [lane_task 'Review then acknowledge']: this process has no start event"
        in said[1]
    )
    assert (
        "[acknowledge 'Acknowledge the review']: the lane 'Press office' is not a known role"
        in said[0]
    )
    listed = [li.text_content() for li in main_region(response.get_data(as_text=True)).iter("li")]
    assert [line for line in listed if line.startswith("lane_task.xml")] == said
    assert versions(db) == before


def test_an_import_without_a_file_or_of_no_xml_is_refused_in_words(
    sec: Browser, db: Database
) -> None:
    before = versions(db)

    empty = sec.client.post(
        "/methodology/lane_task/import",
        data={"csrf_token": token_of(sec)},
        content_type="multipart/form-data",
    )
    picture = import_file(sec, "photo.xml", b"\x89PNG\r\n\x1a\n")

    assert empty.status_code == 400
    assert "Choose the diagram file to import" in main_text(empty.get_data(as_text=True))
    assert picture.status_code == 422
    assert "photo.xml:1: is not XML: it does not begin with an element" in main_text(
        picture.get_data(as_text=True)
    )
    assert versions(db) == before
