"""The web app served on a real port, and Debian's Chromium driven by Playwright.

The server runs waitress in a thread of the test process, on the test database, with the
methodology in bpmn/ deployed and the IISG's people created. The clock is the real one: a
browser cannot share a travelling clock with the test.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from playwright.sync_api import Browser, Page, Playwright, ViewportSize, sync_playwright
from sqlalchemy import select
from sqlalchemy.orm import Session
from waitress import create_server

from engine.instances.assignment import Grant, Participant
from engine.instances.steps import complete_task, start_instance
from models import HumanTask
from tests.conftest import Database
from webui import create_app
from workflows.demo import load_demo
from workflows.methodology.diagrams import BPMN_DIR, deploy_directory
from workflows.people import accounts

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT: ViewportSize = {"width": 1100, "height": 760}
PASSWORD = "browser-test-password"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real Argon2, cheap settings: the IISG's whole cast is created for every test.

    The server runs in this process, so logging in checks against the same cheap hashes.
    """
    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


@dataclass
class Iisg:
    """The IISG on the served database: its people, and procedures worked through the engine."""

    db: Database

    def person(self, username: str) -> Participant:
        with self.db.session() as session:
            user = accounts.find_user(session, username)
            assert user is not None, f"no user {username}"
            return accounts.participant(user)

    def add_person(self, username: str, *grants: Grant) -> Participant:
        """Someone beyond the demo cast, with these roles."""

        def work(session: Session) -> Participant:
            user = accounts.create_user(
                session,
                username,
                PASSWORD,
                display_name=username,
                now=datetime.now(UTC),
                grants=grants,
            )
            return accounts.participant(user)

        result: Participant = self.db.run(work)
        return result

    def start(self, process: str, data: dict[str, Any], title: str | None = None) -> int:
        """Start a procedure as the Secretariat; the instance id."""

        def work(session: Session) -> int:
            row = start_instance(
                session, process, data, actor="secretariat", now=datetime.now(UTC), title=title
            )
            return int(row.id)

        result: int = self.db.run(work)
        return result

    def task_id(self, instance_id: int, bpmn_id: str, organisation: str | None = None) -> int:
        """The open inbox row of one step (for one seat or partner, when given)."""
        with self.db.session() as session:
            query = select(HumanTask.id).where(
                HumanTask.instance_id == instance_id,
                HumanTask.bpmn_id == bpmn_id,
                HumanTask.status == "open",
            )
            if organisation is not None:
                query = query.where(HumanTask.organisation == organisation)
            return int(session.scalars(query).one())

    def complete(
        self,
        username: str,
        instance_id: int,
        bpmn_id: str,
        data: dict[str, Any],
        organisation: str | None = None,
    ) -> None:
        """Complete a step as `username` would, without the browser."""
        task_id = self.task_id(instance_id, bpmn_id, organisation)
        person = self.person(username)
        self.db.run(
            lambda s: complete_task(s, task_id, data, participant=person, now=datetime.now(UTC))
        )


@pytest.fixture
def iisg(db: Database) -> Iisg:
    """bpmn/ deployed, and the demo cast: the Secretariat, seven Board members, focal points,
    the Support Group and an applicant, all with the password PASSWORD."""
    now = datetime.now(UTC)
    db.run(lambda s: deploy_directory(s, BPMN_DIR, actor="tests", now=now))
    db.run(lambda s: load_demo(s, PASSWORD, now=now))
    return Iisg(db)


@pytest.fixture
def live_server(db: Database, iisg: Iisg, tmp_path: Path) -> Iterator[str]:
    """The app served by waitress on 127.0.0.1 and a free port; its base URL."""
    app = create_app(
        {
            "DATABASE_URL": db.url,
            "SECRET_KEY": "browser-tests",
            "TESTING": False,
            "DOCUMENTS_DIR": str(tmp_path / "documents"),
            # Plain http on 127.0.0.1, as `iisg serve` on a loopback address.
            "SESSION_COOKIE_SECURE": False,
        }
    )
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()

    def stop() -> None:
        # Runs in the serving thread (waitress's trigger): closing every connection and the
        # listening socket there empties its loop, which then returns.
        for channel in list(server.active_channels.values()):
            channel.close()
        server.close()

    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        server.trigger.pull_trigger(stop)
        thread.join(timeout=10)
        server.task_dispatcher.shutdown()
        app.extensions["iisg"].engine.dispose()
        assert not thread.is_alive(), "the test server did not stop"


@pytest.fixture(scope="session")
def _playwright() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def chromium(_playwright: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, headless. Missing, it fails the run: browser tests are never skipped."""
    if not os.access(CHROMIUM, os.X_OK):
        how = "CI installs it in .ci/run" if os.environ.get("CI") == "true" else "install it"
        pytest.fail(
            f"{CHROMIUM} is missing; the browser tests need Debian's chromium "
            f"(apt-get install chromium; {how}).",
            pytrace=False,
        )
    browser = _playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture
def page(chromium: Browser, live_server: str) -> Iterator[Page]:
    """A fresh browser window on the live server, at a fixed size for the screenshots.

    The app's Content-Security-Policy is in force; anything it blocks fails the test.
    """
    context = chromium.new_context(base_url=live_server, viewport=VIEWPORT, locale="en-GB")
    context.set_default_timeout(10_000)
    page = context.new_page()
    blocked: list[str] = []
    page.on(
        "console",
        lambda message: (
            blocked.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield page
    context.close()
    assert not blocked, "the Content-Security-Policy blocked:\n" + "\n".join(blocked)


def log_in(page: Page, username: str) -> None:
    """Log in through the login form, as a person would; ends on the page after login."""
    page.goto("/login")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login" not in url)


def screenshot(page: Page, name: str) -> None:
    """Keep what the page shows now as docs/screenshots/<name>.png (shown in the README)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
