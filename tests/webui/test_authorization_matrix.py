"""Who may open which page and call which endpoint: every route of the app, walked with every
role, each answer checked against the table below.

The table is the record of intent. A route the app gains without a row here fails
`test_every_route_has_a_row`, so nobody adds a page without saying who may open it.

Statuses: 200/302/303 let in (a POST with an empty form is let in and then refused by
validation: 400 or a redirect with a message); 401 the API without a token; 403 refused,
which is what the app answers for a procedure, task, decision or need one may not see;
404 where it does not confirm that the thing exists (another person's API token);
`LOGIN` a page that sends the anonymous visitor to the login page.

The world: a silent procedure started by the Secretariat, so every Board seat has a task;
the ids are those of seat AL's task (the Board member of seat BA takes part in the same
procedure, and so sees it, but not AL's task). The POSTs carry a valid CSRF token and no
fields, so what is checked is who gets in, not what they send.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from argon2 import PasswordHasher
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from engine.instances.assignment import Grant, Participant
from engine.instances.steps import start_instance
from models import (
    ApiToken,
    Decision,
    Document,
    HumanTask,
    Need,
    Organisation,
    OutboxMessage,
    PublicHoliday,
    Report,
)
from tests.conftest import Clock, Database, tally
from tests.webui.conftest import Browser, csrf_token, main_text
from tests.webui.test_api import token_for
from workflows.methodology.diagrams import BPMN_DIR, deploy_directory
from workflows.people import accounts

# The seven people the table checks, in the order of the table's columns.
ROLES = ("anonymous", "applicant", "fp_other", "support", "board_other", "observer", "sec")
LOGIN = 3020  # a redirect to /login (a 302 whose Location is the login page)
_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

API_TASK = "/api/v1/tasks/<int(min=1, max=2147483647):task_id>"
_CONVERTER = re.compile(r"<(\w+)\([^)]*\):(\w+)>")

# Files, not pages: no role is needed to fetch the app's own scripts and styles.
NOT_IN_TABLE = {"static", "procedures.bpmn_js"}


@dataclass(frozen=True)
class World:
    """The ids the routes' parameters are filled with."""

    instance: int
    task: int
    decision: int
    need: int
    report: int
    document: int
    holiday: int
    message: int
    token: int

    def fill(self, rule: str) -> str:
        """The rule with its parameters replaced by ids of the seeded world."""
        values = {
            "<int:instance_id>": self.instance,
            "<int:task_id>": self.task,
            "<int:decision_id>": self.decision,
            "<int:need_id>": self.need,
            "<int:report_id>": self.report,
            "<int:document_id>": self.document,
            "<int:holiday_id>": self.holiday,
            "<int:message_id>": self.message,
            "<int:token_id>": self.token,
            "<process_key>": "silent_procedure",
            "<secret>": "a-link-nobody-was-sent",
            "<username>": "observer",
            "<string:username>": "observer",
            "<int:version>": 1,
        }
        # The API's converters carry bounds (<int(min=1, ...):task_id>); the name is what counts.
        path = _CONVERTER.sub(lambda m: f"<{m.group(1)}:{m.group(2)}>", rule)
        for name, value in values.items():
            path = path.replace(name, str(value))
        assert "<" not in path, f"no value for a parameter of {rule}"
        return path


def row(*statuses: int) -> dict[str, int]:
    """One row of the table: the status each role gets, in the order of ROLES."""
    return dict(zip(ROLES, statuses, strict=True))


TABLE: dict[tuple[str, str], dict[str, int]] = {
    ("/", "GET"): row(LOGIN, 302, 302, 302, 302, 302, 302),
    ("/account", "GET"): row(LOGIN, 200, 200, 200, 200, 200, 200),
    ("/account/mail", "GET"): row(LOGIN, 200, 200, 200, 200, 200, 200),
    ("/account/mail", "POST"): row(LOGIN, 400, 400, 400, 400, 400, 400),
    ("/account/password", "GET"): row(LOGIN, 200, 200, 200, 200, 200, 200),
    # An empty form is refused: the current password is not given.
    ("/account/password", "POST"): row(LOGIN, 422, 422, 422, 422, 422, 422),
    ("/account/sessions", "GET"): row(LOGIN, 200, 200, 200, 200, 200, 200),
    # An empty form ends the person's other sessions, never this one.
    ("/account/sessions/end", "POST"): row(LOGIN, 302, 302, 302, 302, 302, 302),
    ("/account/two-factor", "GET"): row(LOGIN, 200, 200, 200, 200, 200, 200),
    # An empty form: no code, no password; refused beside the field (the walk opened the
    # page first, which made the key being set up).
    ("/account/two-factor/on", "POST"): row(LOGIN, 422, 422, 422, 422, 422, 422),
    ("/account/two-factor/recovery-codes", "POST"): row(LOGIN, 422, 422, 422, 422, 422, 422),
    ("/account/two-factor/off", "POST"): row(LOGIN, 422, 422, 422, 422, 422, 422),
    ("/account/tokens", "GET"): row(LOGIN, 200, 200, 200, 200, 200, 200),
    ("/account/tokens", "POST"): row(LOGIN, 400, 400, 400, 400, 400, 400),
    # Another person's token: 404, its existence is not confirmed.
    ("/account/tokens/<int:token_id>/revoke", "POST"): row(LOGIN, 404, 404, 404, 404, 404, 302),
    ("/api/v1/decisions", "GET"): row(401, 403, 403, 403, 200, 403, 200),
    ("/api/v1/decisions/<int(min=1, max=2147483647):decision_id>", "GET"): row(
        401, 403, 403, 403, 200, 403, 200
    ),
    # Uploading a decision's documents is the Secretariat's (an empty body: no file, 400).
    ("/api/v1/documents", "POST"): row(401, 403, 403, 403, 403, 403, 400),
    # A document of a procedure one may not see: 404, its existence is not confirmed.
    ("/api/v1/documents/<int(min=1, max=2147483647):document_id>", "GET"): row(
        401, 404, 404, 404, 200, 404, 200
    ),
    ("/api/v1/instances", "GET"): row(401, 200, 200, 200, 200, 200, 200),
    ("/api/v1/instances", "POST"): row(401, 400, 400, 400, 400, 400, 400),
    ("/api/v1/instances/<int(min=1, max=2147483647):instance_id>", "GET"): row(
        401, 403, 403, 403, 200, 403, 200
    ),
    # Only the Secretariat withdraws this procedure; with no reason it is refused (422).
    ("/api/v1/instances/<int(min=1, max=2147483647):instance_id>/cancel", "POST"): row(
        401, 403, 403, 403, 403, 403, 422
    ),
    ("/api/v1/me", "GET"): row(401, 200, 200, 200, 200, 200, 200),
    # People are the Secretariat's; an empty body lacks the new person's fields (400), and
    # changes nothing of an existing one (200).
    ("/api/v1/people", "GET"): row(401, 403, 403, 403, 403, 403, 200),
    ("/api/v1/people", "POST"): row(401, 403, 403, 403, 403, 403, 400),
    ("/api/v1/people/<username>", "GET"): row(401, 403, 403, 403, 403, 403, 200),
    ("/api/v1/people/<username>", "PATCH"): row(401, 403, 403, 403, 403, 403, 200),
    # The API's description is public on purpose: it names no person and no data.
    ("/api/v1/openapi.json", "GET"): row(200, 200, 200, 200, 200, 200, 200),
    ("/api/v1/processes", "GET"): row(401, 200, 200, 200, 200, 200, 200),
    ("/api/v1/tasks", "GET"): row(401, 200, 200, 200, 200, 200, 200),
    ("/api/v1/tasks/<int(min=1, max=2147483647):task_id>", "GET"): row(
        401, 403, 403, 403, 403, 403, 200
    ),
    ("/api/v1/tasks/<int(min=1, max=2147483647):task_id>/claim", "POST"): row(
        401, 403, 403, 403, 403, 403, 403
    ),
    ("/api/v1/tasks/<int(min=1, max=2147483647):task_id>/complete", "POST"): row(
        401, 403, 403, 403, 403, 403, 403
    ),
    ("/api/v1/tasks/<int(min=1, max=2147483647):task_id>/release", "POST"): row(
        401, 403, 403, 403, 403, 403, 403
    ),
    ("/calendar", "GET"): row(LOGIN, 403, 403, 403, 403, 403, 200),
    ("/calendar/holidays", "POST"): row(LOGIN, 403, 403, 403, 403, 403, 400),
    ("/calendar/holidays/<int:holiday_id>/remove", "POST"): row(
        LOGIN, 403, 403, 403, 403, 403, 200
    ),
    ("/database/analysis", "GET"): row(LOGIN, 403, 200, 200, 200, 200, 200),
    ("/database/needs", "GET"): row(LOGIN, 403, 200, 200, 200, 200, 200),
    ("/database/needs.csv", "GET"): row(LOGIN, 403, 200, 200, 200, 200, 200),
    ("/database/needs.xlsx", "GET"): row(LOGIN, 403, 200, 200, 200, 200, 200),
    ("/database/needs/<int:need_id>", "GET"): row(LOGIN, 403, 200, 200, 200, 200, 200),
    ("/database/needs/<int:need_id>", "POST"): row(LOGIN, 403, 403, 403, 403, 403, 302),
    # A Support Group member adds project support of their organisation (an empty form: 400).
    ("/database/needs/<int:need_id>/responses", "POST"): row(LOGIN, 403, 403, 400, 403, 403, 400),
    ("/database/reports", "GET"): row(LOGIN, 403, 200, 200, 200, 200, 200),
    ("/database/reports/<int:report_id>/document", "POST"): row(
        LOGIN, 403, 403, 403, 403, 403, 302
    ),
    # Without its pillar and year the draft is not found.
    ("/database/reports/draft.docx", "GET"): row(LOGIN, 403, 403, 403, 403, 403, 404),
    ("/database/responses", "GET"): row(LOGIN, 403, 200, 200, 200, 200, 200),
    ("/database/responses.csv", "GET"): row(LOGIN, 403, 200, 200, 200, 200, 200),
    ("/database/responses.xlsx", "GET"): row(LOGIN, 403, 200, 200, 200, 200, 200),
    ("/decisions", "GET"): row(LOGIN, 403, 403, 403, 200, 403, 200),
    ("/decisions.csv", "GET"): row(LOGIN, 403, 403, 403, 200, 403, 200),
    ("/decisions/<int:decision_id>", "GET"): row(LOGIN, 403, 403, 403, 200, 403, 200),
    ("/decisions/print", "GET"): row(LOGIN, 403, 403, 403, 200, 403, 200),
    ("/documents/<int:document_id>", "GET"): row(LOGIN, 403, 403, 403, 200, 403, 200),
    ("/done", "GET"): row(LOGIN, 200, 200, 200, 200, 200, 200),
    # No login on purpose (monitoring); 503 here because no scheduler runs in the tests.
    ("/health", "GET"): row(503, 503, 503, 503, 503, 503, 503),
    ("/inbox", "GET"): row(LOGIN, 200, 200, 200, 200, 200, 200),
    ("/instances/<int:instance_id>", "GET"): row(LOGIN, 403, 403, 403, 200, 403, 200),
    ("/instances/<int:instance_id>/diagram.bpmn", "GET"): row(LOGIN, 403, 403, 403, 200, 403, 200),
    # No newer version to migrate to: not found.
    ("/instances/<int:instance_id>/migrate", "POST"): row(LOGIN, 403, 403, 403, 403, 403, 404),
    ("/instances/<int:instance_id>/state.json", "GET"): row(LOGIN, 403, 403, 403, 200, 403, 200),
    # Unconfirmed, the Secretariat is asked to confirm; nothing is withdrawn.
    ("/instances/<int:instance_id>/withdraw", "POST"): row(LOGIN, 403, 403, 403, 403, 403, 200),
    ("/login", "GET"): row(200, 302, 302, 302, 302, 302, 302),
    # Anyone may ask for a link to set a password; an empty form names the missing field.
    # No password typed in this session: back to the login page.
    ("/login/code", "GET"): row(LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN),
    ("/login/code", "POST"): row(LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN),
    ("/login/forgot", "GET"): row(200, 200, 200, 200, 200, 200, 200),
    ("/login/forgot", "POST"): row(422, 422, 422, 422, 422, 422, 422),
    # A link nobody was sent opens nothing.
    ("/login/reset/<secret>", "GET"): row(404, 404, 404, 404, 404, 404, 404),
    ("/login/invitation/<secret>", "GET"): row(404, 404, 404, 404, 404, 404, 404),
    ("/login/invitation/<secret>", "POST"): row(404, 404, 404, 404, 404, 404, 404),
    ("/login/reset/<secret>", "POST"): row(404, 404, 404, 404, 404, 404, 404),
    ("/login", "POST"): row(200, 302, 302, 302, 302, 302, 302),
    ("/logout", "POST"): row(LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN),
    ("/members", "GET"): row(LOGIN, 403, 403, 403, 200, 403, 200),
    ("/methodology", "GET"): row(LOGIN, 403, 403, 403, 403, 403, 200),
    ("/methodology/<process_key>", "GET"): row(LOGIN, 403, 403, 403, 403, 403, 200),
    ("/methodology/<process_key>/check", "POST"): row(LOGIN, 403, 403, 403, 403, 403, 400),
    ("/methodology/<process_key>/compare", "GET"): row(LOGIN, 403, 403, 403, 403, 403, 200),
    ("/methodology/<process_key>/drafts", "POST"): row(LOGIN, 403, 403, 403, 403, 403, 400),
    ("/methodology/<process_key>/edit", "GET"): row(LOGIN, 403, 403, 403, 403, 403, 200),
    ("/methodology/<process_key>/import", "GET"): row(LOGIN, 403, 403, 403, 403, 403, 200),
    ("/methodology/<process_key>/import", "POST"): row(LOGIN, 403, 403, 403, 403, 403, 400),
    ("/methodology/<process_key>/versions/<int:version>", "GET"): row(
        LOGIN, 403, 403, 403, 403, 403, 200
    ),
    ("/methodology/<process_key>/versions/<int:version>.bpmn", "GET"): row(
        LOGIN, 403, 403, 403, 403, 403, 200
    ),
    ("/methodology/<process_key>/versions/<int:version>.json", "GET"): row(
        LOGIN, 403, 403, 403, 403, 403, 200
    ),
    ("/methodology/<process_key>/versions/<int:version>/propose", "GET"): row(
        LOGIN, 403, 403, 403, 403, 403, 200
    ),
    ("/methodology/<process_key>/versions/<int:version>/propose", "POST"): row(
        LOGIN, 403, 403, 403, 403, 403, 400
    ),
    # Each person's own membership applications (none, for most): nobody sees another's.
    ("/my-applications", "GET"): row(LOGIN, 200, 200, 200, 200, 200, 200),
    ("/outbox", "GET"): row(LOGIN, 403, 403, 403, 403, 403, 200),
    ("/outbox/<int:message_id>", "GET"): row(LOGIN, 403, 403, 403, 403, 403, 200),
    ("/overview", "GET"): row(LOGIN, 403, 403, 403, 403, 403, 200),
    # The people pages are the Secretariat's. Empty forms: a name, a role are refused (422);
    # taking away a role the person does not hold changes nothing; the access form without a
    # field deactivates; a person who set their password gets no new invitation.
    ("/people", "GET"): row(LOGIN, 403, 403, 403, 403, 403, 200),
    ("/focal-points", "GET"): row(LOGIN, 403, 403, 403, 403, 403, 200),
    ("/focal-points", "POST"): row(LOGIN, 403, 403, 403, 403, 403, 422),
    ("/people/new", "GET"): row(LOGIN, 403, 403, 403, 403, 403, 200),
    ("/people/new", "POST"): row(LOGIN, 403, 403, 403, 403, 403, 422),
    ("/people/<username>", "GET"): row(LOGIN, 403, 403, 403, 403, 403, 200),
    ("/people/<username>", "POST"): row(LOGIN, 403, 403, 403, 403, 403, 422),
    ("/people/<username>/active", "POST"): row(LOGIN, 403, 403, 403, 403, 403, 302),
    ("/people/<username>/invitation", "POST"): row(LOGIN, 403, 403, 403, 403, 403, 422),
    ("/people/<username>/roles", "POST"): row(LOGIN, 403, 403, 403, 403, 403, 422),
    ("/people/<username>/roles/remove", "POST"): row(LOGIN, 403, 403, 403, 403, 403, 302),
    ("/procedures", "GET"): row(LOGIN, 200, 200, 200, 200, 200, 200),
    ("/procedures/<process_key>/start", "GET"): row(LOGIN, 403, 403, 403, 403, 403, 200),
    ("/procedures/<process_key>/start", "POST"): row(LOGIN, 403, 403, 403, 403, 403, 400),
    ("/public", "GET"): row(200, 200, 200, 200, 200, 200, 200),
    ("/silent-procedures/<int:instance_id>", "GET"): row(LOGIN, 403, 403, 403, 200, 403, 200),
    # Board member of another seat: let in for their own seat, refused the empty form.
    ("/silent-procedures/<int:instance_id>/answer", "POST"): row(
        LOGIN, 403, 403, 403, 400, 403, 403
    ),
    # A seat's task is for its seat: the Secretariat, who follows every procedure, may read
    # it (without its form; as GET /api/v1/tasks/<id>), never answer, claim or release it.
    ("/tasks/<int:task_id>", "GET"): row(LOGIN, 403, 403, 403, 403, 403, 200),
    ("/tasks/<int:task_id>/claim", "POST"): row(LOGIN, 403, 403, 403, 403, 403, 403),
    # Those who may see the procedure may comment on it and add documents: the Board
    # member of another seat takes part in the same silent procedure. The empty post is
    # refused: the Secretariat, who follows the task, gets its page again with the reason.
    ("/tasks/<int:task_id>/comments", "POST"): row(LOGIN, 403, 403, 403, 302, 403, 400),
    ("/tasks/<int:task_id>/complete", "POST"): row(LOGIN, 403, 403, 403, 403, 403, 403),
    ("/tasks/<int:task_id>/documents", "POST"): row(LOGIN, 403, 403, 403, 302, 403, 400),
    ("/tasks/<int:task_id>/reassign", "GET"): row(LOGIN, 403, 403, 403, 403, 403, 200),
    ("/tasks/<int:task_id>/reassign", "POST"): row(LOGIN, 403, 403, 403, 403, 403, 400),
    ("/tasks/<int:task_id>/release", "POST"): row(LOGIN, 403, 403, 403, 403, 403, 403),
}


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


@pytest.fixture
def world(db: Database, clock: Clock, make_person: Callable[..., Participant], app: Flask) -> World:
    """A silent procedure with a task for seat AL, its decision, a need of AL, a report, a
    document, a holiday, a message and a token; and one person for each role."""
    db.run(lambda s: deploy_directory(s, BPMN_DIR, actor="tests", now=clock.now()))
    make_person("sec", Grant("secretariat"))
    make_person("board-al", Grant("board_member", "AL"))
    make_person("board_other", Grant("board_member", "BA"))
    make_person("applicant", Grant("applicant", "XY"))
    make_person("fp_other", Grant("focal_point", "BA", "WBCTi"))
    make_person("support", Grant("support_group", "EC", "WBCTi"))
    make_person("observer", Grant("observer", "EEAS"))
    now = clock.now()

    def work(session: Session) -> World:
        for code in ("AL", "BA"):
            if session.get(Organisation, code) is None:
                session.add(Organisation(code=code, name=code, member_group="wb_partner"))
        session.flush()
        instance = start_instance(
            session,
            "silent_procedure",
            {"subject": "Membership of the OSCE", "proposal": "The Board admits the OSCE."},
            actor="sec",
            now=now,
        )
        task = session.scalars(
            select(HumanTask).where(
                HumanTask.instance_id == instance.id, HumanTask.organisation == "AL"
            )
        ).first()
        assert task is not None
        decision = session.scalars(
            select(Decision).where(Decision.instance_id == instance.id)
        ).one()
        need = Need(
            partner="AL",
            pillar="WBCTi",
            sub_pillar="1",
            kind="legislation",
            perspective="prevention",
            description="A law on radicalisation prevention",
            source_year=2025,
            status="open",
            created_at=now,
            updated_at=now,
        )
        report = Report(kind="needs", pillar="WBCTi", year=2025, summary="Draft", status="draft")
        holiday = PublicHoliday(day=now.date(), partner="AL", name="A holiday")
        session.add_all([need, report, holiday])
        session.flush()
        message = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).first()
        assert message is not None
        return World(
            instance.id, task.id, decision.id, need.id, report.id, 0, holiday.id, message.id, 0
        )

    seeded: World = db.run(work)
    secretariat = Browser(app.test_client())
    secretariat.log_in("sec")
    page = f"/tasks/{seeded.task}"
    secretariat.client.post(
        f"/tasks/{seeded.task}/documents",
        data={
            "csrf_token": csrf_token(secretariat.get(page)),
            "document": (io.BytesIO(_PDF), "a.pdf"),
        },
    )
    token_for(db, clock, "sec")
    with db.session() as session:
        document = session.scalars(select(Document.id)).one()
        token = session.scalars(select(ApiToken.id)).one()
    return World(**{**seeded.__dict__, "document": document, "token": token})


def _routes(app: Flask) -> Iterator[tuple[str, str, str]]:
    for rule in app.url_map.iter_rules():
        if rule.endpoint in NOT_IN_TABLE:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule.rule, method, rule.endpoint


def _status(response: TestResponse) -> int:
    if response.status_code == 302 and "/login" in response.headers.get("Location", ""):
        return LOGIN
    return response.status_code


def _walk(
    app: Flask, db: Database, clock: Clock, world: World, role: str
) -> dict[tuple[str, str], int]:
    browser = Browser(app.test_client())
    headers: dict[str, str] = {}
    if role != "anonymous":
        browser.log_in(role)
        headers = {"Authorization": f"Bearer {token_for(db, clock, role)}"}
    found: dict[tuple[str, str], int] = {}
    routes = sorted(_routes(app), key=lambda r: (r[1] == "POST", r[2] == "auth.logout", r[0]))
    for rule, method, _endpoint in routes:
        path = world.fill(rule)
        if rule.startswith("/api/"):
            if method == "GET":
                response = browser.client.get(path, headers=headers)
            else:
                response = browser.client.open(path, method=method, headers=headers, json={})
        elif method == "GET":
            response = browser.get(path)
        else:
            token = csrf_token(browser.get("/login" if role == "anonymous" else "/account/tokens"))
            response = browser.client.post(path, data={"csrf_token": token})
        found[(rule, method)] = _status(response)
    return found


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_the_answer_the_table_gives(
    app: Flask, db: Database, clock: Clock, world: World, role: str
) -> None:
    found = _walk(app, db, clock, world, role)
    wrong = {
        key: (TABLE[key][role], status)
        for key, status in found.items()
        if TABLE[key][role] != status
    }
    tally("authorization matrix", cells=len(found), roles=1, answers_not_in_the_table=len(wrong))
    assert not wrong, f"{role}: (expected, got) {wrong}"


def test_every_route_has_a_row(app: Flask) -> None:
    """A new route, or a new method on one, needs a row saying who may use it."""
    missing = sorted(
        (rule, method) for rule, method, _ in _routes(app) if (rule, method) not in TABLE
    )
    assert not missing, f"routes with no row in TABLE: {missing}"
    stale = sorted(set(TABLE) - {(rule, method) for rule, method, _ in _routes(app)})
    assert not stale, f"rows in TABLE for routes the app no longer has: {stale}"


def test_nobody_but_the_secretariat_reaches_a_secretariat_page() -> None:
    """A reading of the table: what the Secretariat alone may open stays closed to the rest."""
    only_secretariat = [
        key
        for key, answers in TABLE.items()
        if key[0].startswith(
            ("/methodology", "/outbox", "/overview", "/calendar", "/people", "/focal-points")
        )
    ]
    assert only_secretariat
    for key in only_secretariat:
        others = {role: TABLE[key][role] for role in ROLES if role not in ("anonymous", "sec")}
        assert set(others.values()) == {403}, (key, others)


def test_reading_a_seats_task_is_the_same_on_the_web_and_the_api(
    app: Flask, db: Database, clock: Clock, world: World
) -> None:
    """The Secretariat reads seat AL's task on both, without a form, and answers it on
    neither; every other role is refused on both, told only that it is not theirs."""
    api_path, page_path = f"/api/v1/tasks/{world.task}", f"/tasks/{world.task}"
    for role in ROLES[1:]:
        browser = Browser(app.test_client())
        browser.log_in(role)
        token = {"Authorization": f"Bearer {token_for(db, clock, role)}"}
        page = browser.get(page_path)
        api = browser.client.get(api_path, headers=token)
        expected = TABLE[("/tasks/<int:task_id>", "GET")][role]
        assert TABLE[(API_TASK, "GET")][role] == expected, f"the table disagrees for {role}"
        assert (page.status_code, api.status_code) == (expected, expected), role
        text = page.get_data(as_text=True)
        assert f'action="/tasks/{world.task}/complete"' not in text, role
        if role != "sec":
            # The seat's instructions, its partner's data, stay with the seat.
            assert "not one of your tasks" in api.get_json()["detail"], role
            assert set(api.get_json()) == {"type", "status", "title", "detail"}, role
            seen = main_text(text)
            assert "This task is not yours" in seen and "board member (AL)" in seen, role
            continue
        detail = api.get_json()
        assert (detail["id"], detail["scope"]["partner"]) == (world.task, "AL")
        assert "This step is for board member (AL); only they can answer it." in main_text(text)
        assert detail["name"] in main_text(text)
        answered = browser.client.post(
            f"{api_path}/complete", headers=token, json={"data": {"answer": "objection"}}
        )
        assert answered.status_code == 403
        assert "not one of your tasks: it is for board member (AL)" in answered.get_json()["detail"]
