"""The web app on the test database, and a browser-like client that logs in and posts forms."""

from __future__ import annotations

import json
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from lxml import html
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from werkzeug.serving import make_server
from werkzeug.test import TestResponse

from commands.cli import main
from engine.instances.assignment import Grant, Participant
from engine.instances.steps import complete_task, start_instance
from models import AuditEvent, HumanTask, ProcessInstance
from tests.conftest import Clock, Database
from tests.webui.api_contract import ContractClient
from webui import create_app

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def main_region(page: str) -> html.HtmlElement:
    """The page's main region, where a person reads what the page says."""
    found = html.fromstring(page).find(".//main")
    assert isinstance(found, html.HtmlElement) and found.get("id") == "main", "no main region"
    return found


def main_text(page: str) -> str:
    """The words of the page's main region, as a person reads them."""
    return words(main_region(page))


# Elements that stand on their own line or in their own box: their words never run into
# the words around them, while those of inline elements (a link in a sentence) do.
_BLOCKS = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "br",
        "button",
        "caption",
        "dd",
        "details",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "legend",
        "main",
        "nav",
        "ol",
        "option",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "ul",
    }
)
# Elements whose text nobody reads on the page.
_UNSEEN = frozenset({"script", "style", "template"})


def words(element: html.HtmlElement) -> str:
    """The words of one part of a page, as a person reads them."""
    parts: list[str] = []

    def read(node: html.HtmlElement) -> None:
        tag = node.tag if isinstance(node.tag, str) else None
        block = tag in _BLOCKS
        if block:
            parts.append(" ")
        if tag is not None and tag not in _UNSEEN:
            parts.append(node.text or "")
            for child in node:
                read(child)
        if block:
            parts.append(" ")
        parts.append(node.tail or "")

    read(element)
    if element.tail:
        parts.pop()  # what follows the element is not part of it
    return " ".join("".join(parts).split())


def values(element: html.HtmlElement, path: str) -> list[str]:
    """The attribute values or texts an XPath finds in one part of a page."""
    found = element.xpath(path)
    assert isinstance(found, list)
    return [str(value) for value in found]


def elements(element: html.HtmlElement, path: str) -> list[html.HtmlElement]:
    """The elements an XPath finds in one part of a page."""
    found = element.xpath(path)
    assert isinstance(found, list)
    return [node for node in found if isinstance(node, html.HtmlElement)]


def links(page: str | html.HtmlElement) -> list[str]:
    """Where the links of a page (or of one part of it) lead, in the order they stand."""
    element = html.fromstring(page) if isinstance(page, str) else page
    return values(element, ".//a/@href")


def field_names(page: str | html.HtmlElement) -> set[str]:
    """The names of the fields a person can fill in on a page (or in one part of it)."""
    element = html.fromstring(page) if isinstance(page, str) else page
    return set(values(element, ".//*[self::input or self::select or self::textarea]/@name"))


def csrf_token(page: TestResponse) -> str:
    """The CSRF token of the first form on a rendered page."""
    found = _TOKEN.search(page.get_data(as_text=True))
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


@dataclass
class Browser:
    """One person's browser: a cookie jar, and forms filled in from the rendered page."""

    client: FlaskClient

    def get(self, url: str, **kwargs: Any) -> TestResponse:
        return self.client.get(url, **kwargs)

    def text(self, url: str) -> str:
        response = self.client.get(url)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_data(as_text=True)

    def main(self, url: str) -> str:
        """The words a person reads in the main region of the page at `url`."""
        return main_text(self.text(url))

    def region(self, url: str) -> html.HtmlElement:
        """The main region of the page at `url`, to look at one part of it."""
        return main_region(self.text(url))

    def submit(
        self, page_url: str, action: str, data: dict[str, str], **kwargs: Any
    ) -> TestResponse:
        """Open `page_url`, take its CSRF token, and post `data` to `action`."""
        token = csrf_token(self.client.get(page_url))
        return self.client.post(action, data={**data, "csrf_token": token}, **kwargs)

    def log_in(self, username: str, password: str = "correct horse") -> TestResponse:
        return self.submit("/login", "/login", {"username": username, "password": password})


@pytest.fixture
def app(db: Database, tmp_path: Path) -> Iterator[Flask]:
    """The app as the factory builds it, on the test database; CSRF stays on. Its test
    clients check every API answer against the OpenAPI document."""
    app = create_app(
        {
            "DATABASE_URL": db.url,
            "SECRET_KEY": "test",
            "TESTING": True,
            "DOCUMENTS_DIR": str(tmp_path / "documents"),
        }
    )
    app.test_client_class = ContractClient
    yield app
    app.extensions["iisg"].engine.dispose()


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """The app served for real on a free port, one thread per request; its API's base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/api/v1"
    finally:
        server.shutdown()
        thread.join()


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The test app on a real server (see `serving`)."""
    with serving(app) as url:
        yield url


@dataclass(frozen=True)
class Reply:
    """What the API answered over the socket: status, media type, JSON body."""

    status: int
    media_type: str
    body: dict[str, Any]


def post(url: str, token: str, body: dict[str, Any]) -> Reply:
    """POST a JSON body with a bearer token; the reply, refusals included."""
    request = urllib.request.Request(  # noqa: S310 (the test's own server)
        url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return Reply(response.status, response.headers.get_content_type(), json.load(response))
    except urllib.error.HTTPError as refused:
        return Reply(refused.code, refused.headers.get_content_type(), json.load(refused))


@pytest.fixture
def browser(app: Flask) -> Callable[..., Browser]:
    """A fresh browser; logged in as `username` when one is given."""

    def open_browser(username: str | None = None) -> Browser:
        browser = Browser(app.test_client())
        if username is not None:
            response = browser.log_in(username)
            assert response.status_code == 302, response.get_data(as_text=True)
        return browser

    return open_browser


@dataclass(frozen=True)
class People:
    """The people of the lane_task procedure."""

    secretariat: Participant
    board_al: Participant
    board_ba: Participant


@pytest.fixture
def people(make_person: Callable[..., Participant]) -> People:
    """A Secretariat member and the Board members for Albania and for Bosnia and Herzegovina."""
    return People(
        make_person("sec", Grant("secretariat")),
        make_person("board-al", Grant("board_member", "AL")),
        make_person("board-ba", Grant("board_member", "BA")),
    )


@pytest.fixture
def command_line(db: Database, monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """Runs `iisg` with the given arguments on the test database, as the Secretariat would;
    it must succeed, and its output is returned."""
    monkeypatch.setenv("IISG_DATABASE_URL", db.url)

    def run(*args: str) -> str:
        result = CliRunner().invoke(main, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    return run


@pytest.fixture
def start_lane_task(db: Database, clock: Clock, test_diagrams: None) -> Callable[..., int]:
    """Start 'Review then acknowledge' for a Board seat; the instance id."""

    def start(seat: str = "AL", title: str | None = None) -> int:
        def work(session: Session) -> int:
            row = start_instance(
                session, "lane_task", {"seat": seat}, actor="tests", now=clock.now(), title=title
            )
            return row.id

        instance_id: int = db.run(work)
        return instance_id

    return start


def task_of(db: Database, instance_id: int, bpmn_id: str) -> HumanTask:
    """The inbox row of one step of an instance, whatever its status."""
    with db.session() as session:
        return session.scalars(
            select(HumanTask).where(
                HumanTask.instance_id == instance_id, HumanTask.bpmn_id == bpmn_id
            )
        ).one()


def acknowledgement_of_a_review(
    db: Database, clock: Clock, people: People, start_lane_task: Callable[..., int], partner: str
) -> HumanTask:
    """A partner's open "Acknowledge the review": the Secretariat reviewed the proposal."""
    instance_id = start_lane_task(partner)
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


def set_due(db: Database, task_id: int, due: datetime) -> None:
    """Give a task a due time, as a diagram's due-time property would."""

    def work(session: Session) -> None:
        session.execute(update(HumanTask).where(HumanTask.id == task_id).values(due_at=due))

    db.run(work)


def snapshot(db: Database, instance_id: int) -> tuple[Any, ...]:
    """Everything a refused request must leave as it was: tasks, instance version, audit."""
    with db.session() as session:
        tasks = session.execute(
            select(HumanTask.bpmn_id, HumanTask.status, HumanTask.completed_by)
            .where(HumanTask.instance_id == instance_id)
            .order_by(HumanTask.id)
        ).all()
        version = session.scalar(
            select(ProcessInstance.lock_version).where(ProcessInstance.id == instance_id)
        )
        events = session.scalar(select(func.count()).select_from(AuditEvent))
        return (tuple(tasks), version, events)


@pytest.fixture
def board_member(make_person: Callable[..., Participant]) -> Participant:
    """A Board member of the seat AL, who calls the API with tokens of their own."""
    return make_person("board-al", Grant("board_member", "AL"))
