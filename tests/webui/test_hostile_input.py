"""Hostile input: random answers against every form's schema, script in every free-text
field, SQL meta characters in every filter, tricky uploads, and diagrams that never end.
Each gets a clear refusal (or plain, harmless handling) and changes nothing."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from engine.diagrams.forms import validate_submission
from engine.errors import EngineError, FormInvalid, SandboxViolation
from engine.instances.assignment import Grant, Participant
from engine.sandbox.restricted import ScriptTimeLimit
from models import Document, Need, Organisation, ProcessInstance, User
from tests.conftest import TEST_BPMN, Clock, Database, tally
from tests.engine.conftest import Procedures
from tests.engine.sandbox.test_sandbox import causes, deploy_unchecked, probe_diagram
from tests.webui.conftest import Browser, People, csrf_token, main_text, task_of
from tests.webui.test_api import token_for
from webui.api.openapi import document as openapi_document
from workflows.methodology.diagrams import BPMN_DIR

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '"><img src=x onerror=alert(1)>'
HOSTILE_TEXT = (SCRIPT, ATTRIBUTE)
SQL_META = ("' OR 1=1 --", "%", "_", "\\", "\x00", "'; DROP TABLE need; --")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
RANDOM = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _schemas() -> dict[str, dict[str, Any]]:
    """Every task form shipped or tested: the JSON Schemas beside the diagrams."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted([*BPMN_DIR.glob("*.json"), *TEST_BPMN.glob("*.json")]):
        schema = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(schema, dict) and "properties" in schema:
            found[path.name] = schema
    return found


SCHEMAS = _schemas()
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | st.text()
    | st.sampled_from([*HOSTILE_TEXT, *SQL_META, "2026-11-30", "2026-11-30T17:00:00+01:00"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


def _answers(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Answers shaped like the form (its own field names, random values) or anything at all."""
    names = sorted(schema.get("properties", {}))
    shaped = st.dictionaries(
        st.sampled_from(names) if names else st.text(), JSON_VALUES, max_size=len(names) + 1
    )
    return shaped | JSON_VALUES


def _check_one_answer(schema: dict[str, Any], answer: Any) -> None:
    try:
        accepted = validate_submission(schema, answer)
    except FormInvalid as invalid:
        assert invalid.errors, "a refusal names what is wrong"
        tally("random form answers", tried=1, refused_naming_the_field=1)
        return
    tally("random form answers", tried=1, accepted=1)
    assert Draft202012Validator(schema, format_checker=FormatChecker()).is_valid(accepted)
    assert set(accepted) <= set(schema["properties"])


def test_there_are_forms_to_try() -> None:
    assert len(SCHEMAS) >= 30


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_a_random_answer_is_accepted_only_when_the_schema_says_so(name: str) -> None:
    schema = SCHEMAS[name]

    @RANDOM
    @given(_answers(schema))
    def check(answer: Any) -> None:
        _check_one_answer(schema, answer)

    check()


# Script in free text: shown as text, never run


def _seed_need(db: Database, clock: Clock) -> int:
    def work(session: Session) -> int:
        if session.get(Organisation, "AL") is None:
            session.add(Organisation(code="AL", name="AL", member_group="wb_partner"))
        session.flush()
        row = Need(
            partner="AL",
            pillar="WBCTi",
            sub_pillar="legal_framework",
            kind="legislation",
            perspective="prevention",
            description="A law on radicalisation prevention",
            source_year=2025,
            status="open",
            created_at=clock.now(),
            updated_at=clock.now(),
        )
        session.add(row)
        session.flush()
        return row.id

    need_id: int = db.run(work)
    return need_id


def _post(browser: Browser, url: str, data: dict[str, Any], **kw: Any) -> Any:
    token = csrf_token(browser.get("/account/tokens"))
    return browser.client.post(url, data={**data, "csrf_token": token}, **kw)


def _assert_escaped(pages: dict[str, str], payload: str) -> None:
    for url, html in pages.items():
        assert payload not in html, f"{url} shows {payload!r} unescaped"
    # Shown as the words that were typed, in a page's main region.
    assert any(payload in main_text(html) for html in pages.values()), (
        f"{payload!r} is shown nowhere"
    )


@pytest.mark.parametrize("payload", HOSTILE_TEXT)
def test_script_in_a_form_a_comment_and_a_file_name_is_shown_as_text(
    payload: str,
    browser: Callable[..., Browser],
    people: People,
    start_lane_task: Callable[..., int],
    db: Database,
) -> None:
    instance_id = start_lane_task("AL", title="Review")
    review = task_of(db, instance_id, "review")
    secretariat = browser("sec")
    url = f"/tasks/{review.id}"

    assert _post(secretariat, f"{url}/comments", {"text": payload}).status_code == 302
    upload = {"document": (io.BytesIO(PDF), f"{payload}.pdf")}
    # A name with a double quote does not survive the test client's multipart encoding: the
    # file arrives without one, and is refused in words (400) instead of stored.
    assert _post(secretariat, f"{url}/documents", upload).status_code in {302, 400}
    task_page = secretariat.text(url)
    response = secretariat.submit(url, f"{url}/complete", {"approved": "true", "comment": payload})
    assert response.status_code == 302

    pages = {url: task_page, "/done": secretariat.text("/done")}
    pages[f"/instances/{instance_id}"] = secretariat.text(f"/instances/{instance_id}")
    _assert_escaped(pages, payload)
    with db.session() as session:
        names = list(session.scalars(select(Document.filename)))
    assert all("/" not in name and "\n" not in name for name in names)


@pytest.mark.parametrize("payload", HOSTILE_TEXT)
def test_script_in_a_need_is_shown_as_text_on_its_page_and_in_the_list(
    payload: str,
    browser: Callable[..., Browser],
    make_person: Callable[..., Participant],
    db: Database,
    clock: Clock,
) -> None:
    make_person("sec", Grant("secretariat"))
    need_id = _seed_need(db, clock)
    secretariat = browser("sec")

    response = _post(secretariat, f"/database/needs/{need_id}", {"description": payload})

    assert response.status_code == 302, response.get_data(as_text=True)
    pages = {
        f"/database/needs/{need_id}": secretariat.text(f"/database/needs/{need_id}"),
        "/database/needs": secretariat.text("/database/needs"),
    }
    _assert_escaped(pages, payload)


@pytest.mark.parametrize("payload", HOSTILE_TEXT)
def test_script_in_a_display_name_is_shown_as_text(
    payload: str,
    browser: Callable[..., Browser],
    people: People,
    start_lane_task: Callable[..., int],
    db: Database,
) -> None:
    db.run(
        lambda s: s.execute(update(User).where(User.username == "sec").values(display_name=payload))
    )
    instance_id = start_lane_task("AL")
    review = task_of(db, instance_id, "review")
    secretariat = browser("sec")
    url = f"/tasks/{review.id}"
    assert _post(secretariat, f"{url}/claim", {"return_to": "task"}).status_code == 302

    pages = {
        u: secretariat.text(u) for u in ("/inbox", url, f"/instances/{instance_id}", "/members")
    }
    pages["/tasks/reassign"] = secretariat.text(f"{url}/reassign")
    _assert_escaped(pages, payload)


# SQL meta characters in every filter

PAGE_FILTERS = {
    "/inbox": ("q", "procedure", "pillar", "partner", "state", "sort", "whose"),
    "/done": ("q", "procedure", "pillar", "partner"),
    "/database/needs": (
        "partner",
        "pillar",
        "sub_pillar",
        "kind",
        "perspective",
        "status",
        "year",
        "text",
        "has_response",
    ),
    "/database/needs.csv": ("text", "partner"),
    "/database/needs.xlsx": ("text", "partner"),
    "/database/responses": ("text", "provider", "provider_kind", "year", "status"),
    "/database/responses.csv": ("text", "provider"),
    "/database/responses.xlsx": ("text", "provider"),
    "/database/analysis": ("text", "partner", "pillar", "year"),
    "/database/reports": ("kind", "pillar", "year"),
    "/outbox": ("status", "page"),
    "/calendar": ("year",),
    "/overview": ("order",),
    "/decisions": ("q",),
    "/procedures": ("order",),
}
# A filter value that is not a year of the calendar is refused, on purpose, with a message.
REFUSED = {("/calendar", "year"): 404}
API_FILTERS = {
    "/api/v1/tasks": ("q", "procedure", "pillar", "partner", "state", "sort", "whose"),
}


def api_answer(url: str, name: str, value: str) -> int:
    """What the API answers a query value: 200 if its document takes it, else 400."""
    path = openapi_document()["paths"][url.removeprefix("/api/v1")]["get"]
    schema = next(p["schema"] for p in path["parameters"] if p["name"] == name)
    return 200 if Draft202012Validator(schema).is_valid(value) else 400


def test_sql_meta_characters_in_every_filter_give_plain_answers(
    browser: Callable[..., Browser],
    people: People,
    start_lane_task: Callable[..., int],
    make_person: Callable[..., Participant],
    app: Flask,
    db: Database,
    clock: Clock,
) -> None:
    start_lane_task("AL", title="A review")
    _seed_need(db, clock)
    secretariat = browser("sec")
    api = app.test_client()
    headers = {"Authorization": f"Bearer {token_for(db, clock, 'sec')}"}
    tried, wrong = 0, list[tuple[str, str, str, int]]()
    for value in SQL_META:
        for url, names in PAGE_FILTERS.items():
            for name in names:
                response = secretariat.client.get(url, query_string={name: value})
                if response.status_code != REFUSED.get((url, name), 200):
                    wrong.append((url, name, value, response.status_code))
                tried += 1
        for url, names in API_FILTERS.items():
            for name in names:
                response = api.get(url, query_string={name: value}, headers=headers)
                if response.status_code != api_answer(url, name, value):
                    wrong.append((url, name, value, response.status_code))
                tried += 1
        assert not wrong, wrong
        # Taken literally: no need, and no task, has these characters in its words.
        # (A lone NUL is dropped: an empty search, which lists everything.)
        needs = secretariat.text(f"/database/needs?text={quote(value)}")
        if value == "\x00":
            assert "radicalisation prevention" in main_text(needs)
        else:
            assert "radicalisation prevention" not in needs, value
        tasks = api.get("/api/v1/tasks", query_string={"q": value}, headers=headers)
        if api_answer("/api/v1/tasks", "q", value) == 400:  # a control character: refused
            assert tasks.status_code == 400, value
        else:
            assert tasks.get_json()["tasks"] == [], value
    tally("SQL meta characters in filters", requests=tried, wrong_answers=len(wrong))
    assert tried == len(SQL_META) * (
        sum(map(len, PAGE_FILTERS.values())) + sum(map(len, API_FILTERS.values()))
    )


# Uploads


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd",
        "..\\x.pdf",
        "../../x.pdf",
        "report\x00.pdf",
        "line\nbreak.pdf",
        "carriage\rreturn.pdf",
        "/abs/olute.pdf",
        "C:\\Windows\\x.pdf",
        ".pdf",
        "a" * 400 + ".pdf",
    ],
)
def test_path_tricks_in_a_file_name_are_refused_or_neutralised(
    name: str,
    browser: Callable[..., Browser],
    people: People,
    start_lane_task: Callable[..., int],
    db: Database,
    tmp_path: Path,
) -> None:
    instance_id = start_lane_task("AL")
    review = task_of(db, instance_id, "review")
    secretariat = browser("sec")

    response = _post(
        secretariat,
        f"/tasks/{review.id}/documents",
        {"document": (io.BytesIO(PDF), name)},
    )

    assert response.status_code in {302, 400}  # stored under a safe name, or refused in words
    with db.session() as session:
        stored = list(session.scalars(select(Document)))
    for document in stored:
        for bad in ("/", "\\", "\x00", "\n", "\r"):
            assert bad not in document.filename
        assert len(document.filename) <= 255
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    documents = tmp_path / "documents"
    assert all(documents in p.parents for p in files), files
    assert len(files) == len(stored)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("evil.exe", b"MZ\x90\x00"),
        ("page.html", b"<html><script>alert(1)</script></html>"),
        ("image.svg", b"<svg onload=alert(1)></svg>"),
        ("fake.pdf", b"<script>alert(1)</script>"),
        ("empty.pdf", b""),
    ],
)
def test_an_upload_of_the_wrong_type_is_refused_and_nothing_is_stored(
    name: str,
    content: bytes,
    browser: Callable[..., Browser],
    people: People,
    start_lane_task: Callable[..., int],
    db: Database,
    tmp_path: Path,
) -> None:
    instance_id = start_lane_task("AL")
    review = task_of(db, instance_id, "review")
    secretariat = browser("sec")

    response = _post(
        secretariat, f"/tasks/{review.id}/documents", {"document": (io.BytesIO(content), name)}
    )

    assert response.status_code == 400
    assert "Not uploaded" in main_text(response.get_data(as_text=True))
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Document)) == 0
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_a_huge_upload_is_refused_before_it_is_read(
    browser: Callable[..., Browser],
    people: People,
    start_lane_task: Callable[..., int],
    app: Flask,
    db: Database,
) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    instance_id = start_lane_task("AL")
    review = task_of(db, instance_id, "review")
    huge = PDF + b"0" * (128 * 1024)

    response = _post(
        browser("sec"), f"/tasks/{review.id}/documents", {"document": (io.BytesIO(huge), "a.pdf")}
    )

    assert response.status_code == 413
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Document)) == 0


# Diagrams that try to escape or never end


def _start_refused(
    db: Database, clock: Clock, match: str, **probe: str
) -> tuple[EngineError, float]:
    """Deploy the probe diagram unchecked and start it: the refusal, and the seconds it took.
    Whatever the refusal, no instance is stored."""
    deploy_unchecked(db, clock, probe_diagram(**probe))
    began = time.monotonic()
    with pytest.raises(EngineError, match=match) as raised:
        Procedures(db, clock).start("probe", {"target": "unused"})
    seconds = time.monotonic() - began
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(ProcessInstance)) == 0
    return raised.value, seconds


@pytest.mark.parametrize(
    ("placeholder", "code"),
    [
        ("SCRIPT", "while True:\n    pass"),
        ("SCRIPT", "n = 0\nwhile n >= 0:\n    n = n + 1"),
        ("SCRIPT", "total = sum([1 for _ in range(99999) for _ in range(99999)])"),
        ("CONDITION", "len([1 for a in range(99999) for b in range(99999)]) > 0"),
    ],
    ids=["while_true", "counting_forever", "nested_comprehension", "condition"],
)
def test_a_diagram_that_never_ends_is_stopped_within_seconds_and_changes_nothing(
    placeholder: str, code: str, db: Database, clock: Clock
) -> None:
    refused, seconds = _start_refused(
        db, clock, "of the methodology went wrong", **{placeholder: code}
    )

    assert seconds < 10
    assert any(isinstance(err, ScriptTimeLimit) for err in causes(refused))


@pytest.mark.parametrize(
    ("placeholder", "code"),
    [
        ("SCRIPT", 'padding = "x" * int("1" + "0" * 10)'),
        ("SCRIPT", "items = [0]\nwhile True:\n    items += items"),
        ("CONDITION", "len([0] * 2 ** int(target.count('u') + 39)) > 0"),
        ("TIMER", '"PT%dH" % len(str(10 ** 10 ** len(target)))'),
    ],
    ids=["text_of_ten_billion", "list_doubling", "list_of_a_trillion", "power_tower"],
)
def test_a_diagram_that_would_exhaust_memory_is_refused_within_a_second_and_changes_nothing(
    placeholder: str, code: str, db: Database, clock: Clock
) -> None:
    refused, seconds = _start_refused(db, clock, "a diagram may", **{placeholder: code})

    assert seconds < 1
    assert any(isinstance(err, SandboxViolation) for err in causes(refused))


@pytest.mark.parametrize(
    "condition",
    ["__import__('os').system('true') == 0", "().__class__.__bases__[0]", "sum(range(10**9)) > 0"],
)
def test_a_gateway_that_reaches_out_is_refused_and_changes_nothing(
    condition: str, db: Database, clock: Clock
) -> None:
    _start_refused(db, clock, "of the methodology went wrong", CONDITION=condition)
