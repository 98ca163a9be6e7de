"""The API's door: bearer tokens, their user's roles only, problems, rate limits, 413."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from commands.cli import main
from engine.instances.assignment import Grant, Participant
from models import ApiToken, AuditEvent, User
from tests.conftest import Clock, Database
from tests.webui.api_contract import ContractClient
from tests.webui.conftest import Browser, main_region, main_text, values
from webui import create_app
from webui.settings import read_settings
from workflows.people.accounts import find_user
from workflows.people.tokens import TokenError, create_token, revoke_token, token_hash

PROBLEM = "application/problem+json"


def make_token(db: Database, clock: Clock, username: str, name: str = "script") -> str:
    """A new token for `username`; its secret."""

    def work(session: Session) -> str:
        user = find_user(session, username)
        assert user is not None
        _token, secret = create_token(session, user, name, now=clock.now())
        return secret

    secret: str = db.run(work)
    return secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def api(app: Flask) -> FlaskClient:
    return app.test_client()


def test_no_token_is_a_401_problem_with_a_challenge(api: FlaskClient) -> None:
    response = api.get("/api/v1/me")
    assert response.status_code == 401
    assert response.mimetype == PROBLEM
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    body = response.get_json()
    assert body["status"] == 401 and "Authorization: Bearer" in body["detail"]
    assert "Set-Cookie" not in response.headers


def test_an_unknown_token_is_a_401(api: FlaskClient, db: Database) -> None:
    response = api.get("/api/v1/me", headers=bearer("iisg_not-a-token"))
    assert response.status_code == 401 and response.mimetype == PROBLEM
    assert "not valid" in response.get_json()["detail"]


def test_a_valid_token_acts_as_its_user_with_their_roles_only(
    api: FlaskClient, db: Database, clock: Clock, board_member: Participant
) -> None:
    secret = make_token(db, clock, "board-al")
    response = api.get("/api/v1/me", headers=bearer(secret))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["username"] == "board-al"
    assert response.get_json()["roles"] == [
        {"role": "board_member", "organisation": "AL", "pillar": None}
    ]


def test_a_revoked_token_stops_working_at_once(
    api: FlaskClient, db: Database, clock: Clock, board_member: Participant
) -> None:
    secret = make_token(db, clock, "board-al")
    assert api.get("/api/v1/me", headers=bearer(secret)).status_code == 200

    def work(session: Session) -> None:
        user = find_user(session, "board-al")
        assert user is not None
        token = session.scalars(select(ApiToken)).one()
        revoke_token(session, token.id, user=user, now=clock.now())

    db.run(work)
    response = api.get("/api/v1/me", headers=bearer(secret))
    assert response.status_code == 401 and response.mimetype == PROBLEM


def test_an_expired_token_or_a_deactivated_user_is_a_401(
    api: FlaskClient, db: Database, clock: Clock, board_member: Participant
) -> None:
    secret = make_token(db, clock, "board-al")

    def expire(session: Session) -> None:
        session.execute(update(ApiToken).values(expires_at=clock.now()))

    db.run(expire)
    assert api.get("/api/v1/me", headers=bearer(secret)).status_code == 401
    other = make_token(db, clock, "board-al", "another")
    db.run(lambda s: s.execute(update(User).values(active=False)))
    assert api.get("/api/v1/me", headers=bearer(other)).status_code == 401


def test_a_token_of_another_user_is_refused_a_revocation(
    db: Database, clock: Clock, make_person: Callable[..., Participant]
) -> None:
    make_person("board-al", Grant("board_member", "AL"))
    make_person("board-ba", Grant("board_member", "BA"))
    make_token(db, clock, "board-al")

    def work(session: Session) -> None:
        stranger = find_user(session, "board-ba")
        assert stranger is not None
        token = session.scalars(select(ApiToken)).one()
        revoke_token(session, token.id, user=stranger, now=clock.now())

    with pytest.raises(TokenError):
        db.run(work)


def test_only_the_hash_is_stored_and_the_making_is_audited(
    db: Database, clock: Clock, board_member: Participant
) -> None:
    secret = make_token(db, clock, "board-al", "weekly report")
    with db.session() as session:
        token = session.scalars(select(ApiToken)).one()
        assert token.token_hash == token_hash(secret) != secret
        assert token.prefix == secret[:8] and secret.startswith("iisg_")
        kinds = session.scalars(select(AuditEvent.kind)).all()
        assert "token.created" in kinds
        # The secret appears nowhere: not in the token row, not in the audit trail.
        payloads = [str(p) for p in session.scalars(select(AuditEvent.payload_text))]
        assert not any(secret in p for p in payloads)
        assert secret not in (token.name, token.prefix, token.token_hash)


def test_last_use_is_written_at_most_once_a_minute(
    api: FlaskClient, db: Database, clock: Clock, board_member: Participant
) -> None:
    secret = make_token(db, clock, "board-al")
    api.get("/api/v1/me", headers=bearer(secret))
    first = clock.now()
    clock.move(seconds=30)
    api.get("/api/v1/me", headers=bearer(secret))
    with db.session() as session:
        assert session.scalars(select(ApiToken.last_used_at)).one() == first
    clock.move(seconds=31)
    api.get("/api/v1/me", headers=bearer(secret))
    with db.session() as session:
        assert session.scalars(select(ApiToken.last_used_at)).one() == clock.now()


def test_an_unknown_address_under_the_api_is_a_404_problem(api: FlaskClient) -> None:
    response = api.get("/api/v1/no-such-thing")
    assert response.status_code == 404 and response.mimetype == PROBLEM
    assert response.get_json()["detail"]


def test_a_wrong_method_is_a_405_problem(
    api: FlaskClient, db: Database, clock: Clock, board_member: Participant
) -> None:
    secret = make_token(db, clock, "board-al")
    response = api.post("/api/v1/me", headers=bearer(secret))
    assert response.status_code == 405 and response.mimetype == PROBLEM
    assert "GET" in response.headers["Allow"]


@pytest.fixture
def small_app(db: Database, tmp_path: Path) -> Iterator[Flask]:
    """The app with a low rate limit and a small cap on a request's size."""
    app = create_app(
        {
            "DATABASE_URL": db.url,
            "SECRET_KEY": "test",
            "TESTING": True,
            "DOCUMENTS_DIR": str(tmp_path / "documents"),
            "API_RATE_LIMIT": "3/minute",
            "MAX_CONTENT_LENGTH": 1024,
        }
    )
    app.test_client_class = ContractClient
    yield app
    app.extensions["iisg"].engine.dispose()


def test_the_rate_limit_answers_429_with_retry_after(
    small_app: Flask, db: Database, clock: Clock, board_member: Participant
) -> None:
    api = small_app.test_client()
    secret = make_token(db, clock, "board-al")
    other = make_token(db, clock, "board-al", "another")
    for _ in range(3):
        assert api.get("/api/v1/me", headers=bearer(secret)).status_code == 200
    response = api.get("/api/v1/me", headers=bearer(secret))
    assert response.status_code == 429 and response.mimetype == PROBLEM
    assert int(response.headers["Retry-After"]) > 0
    assert "Retry-After" in response.get_json()["detail"]
    # Limits are per token: another token is not slowed by the first.
    assert api.get("/api/v1/me", headers=bearer(other)).status_code == 200


def test_a_request_too_large_is_a_413_problem(
    small_app: Flask, db: Database, clock: Clock, board_member: Participant
) -> None:
    api = small_app.test_client()
    secret = make_token(db, clock, "board-al")
    response = api.post("/api/v1/me", headers=bearer(secret), json={"data": {"text": "x" * 4096}})
    assert response.status_code == 413 and response.mimetype == PROBLEM
    assert "larger" in response.get_json()["detail"]


def test_a_person_makes_and_revokes_a_token_in_the_web_pages(
    browser: Callable[..., Browser], api: FlaskClient, db: Database, board_member: Participant
) -> None:
    person = browser("board-al")
    assert "API tokens" in person.main("/account/tokens")
    created = person.submit("/account/tokens", "/account/tokens", {"name": "my script"})
    assert created.status_code == 200
    assert created.headers["Cache-Control"] == "no-store"
    shown = values(
        main_region(created.get_data(as_text=True)), './/input[@id="token-secret"]/@value'
    )
    assert [value[:5] for value in shown] == ["iisg_"], created.get_data(as_text=True)
    secret = shown[0]
    assert api.get("/api/v1/me", headers=bearer(secret)).status_code == 200
    listing = person.text("/account/tokens")
    assert "my script" in main_text(listing) and secret[:8] in main_text(listing)
    assert secret not in listing
    with db.session() as session:
        token = session.scalars(select(ApiToken)).one()
    revoked = person.submit(
        "/account/tokens", f"/account/tokens/{token.id}/revoke", {}, follow_redirects=True
    )
    assert revoked.status_code == 200
    assert "no longer works" in main_text(revoked.get_data(as_text=True))
    assert api.get("/api/v1/me", headers=bearer(secret)).status_code == 401
    with db.session() as session:
        assert "token.revoked" in session.scalars(select(AuditEvent.kind)).all()


def test_revoking_needs_the_form_token(
    browser: Callable[..., Browser], db: Database, clock: Clock, board_member: Participant
) -> None:
    make_token(db, clock, "board-al")
    with db.session() as session:
        token = session.scalars(select(ApiToken)).one()
    response = browser("board-al").client.post(f"/account/tokens/{token.id}/revoke")
    assert response.status_code == 400
    with db.session() as session:
        assert session.scalars(select(ApiToken.revoked_at)).one() is None


def test_a_token_needs_a_name(browser: Callable[..., Browser], board_member: Participant) -> None:
    response = browser("board-al").submit("/account/tokens", "/account/tokens", {"name": " "})
    assert response.status_code == 400
    assert "No token was created" in main_text(response.get_data(as_text=True))


def test_the_token_pages_need_a_login(browser: Callable[..., Browser]) -> None:
    response = browser().get("/account/tokens")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_command_line_prints_a_token_once(
    api: FlaskClient,
    db: Database,
    board_member: Participant,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("IISG_DATABASE_URL", db.url)
    result = CliRunner().invoke(
        main, ["token", "create", "board-al", "--name", "nightly"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()
    assert secret.startswith("iisg_")
    response = api.get("/api/v1/me", headers=bearer(secret))
    assert response.status_code == 200 and response.get_json()["username"] == "board-al"
    with db.session() as session:
        token = session.scalars(select(ApiToken)).one()
        assert token.name == "nightly" and token.token_hash == token_hash(secret)


def test_the_command_line_refuses_an_unknown_user(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IISG_DATABASE_URL", db.url)
    result = CliRunner().invoke(main, ["token", "create", "nobody"])
    assert result.exit_code == 1 and "no user 'nobody'" in result.output


def test_the_rate_limit_and_its_store_come_from_the_environment(tmp_path: Path) -> None:
    config = read_settings(
        {
            "IISG_INSTANCE_DIR": str(tmp_path),
            "IISG_API_RATE_LIMIT": "600/hour",
            "IISG_RATELIMIT_STORAGE_URI": "redis://cache:6379",
        }
    ).app_config()
    assert config["API_RATE_LIMIT"] == "600/hour"
    assert config["RATELIMIT_STORAGE_URI"] == "redis://cache:6379"


def test_a_failure_inside_is_a_500_problem_without_a_trace(
    app: Flask,
    db: Database,
    clock: Clock,
    board_member: Participant,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken() -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr("webui.api.me.api_person", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    secret = make_token(db, clock, "board-al")
    response = app.test_client().get("/api/v1/me", headers=bearer(secret))
    assert response.status_code == 500 and response.mimetype == PROBLEM
    text = response.get_data(as_text=True)
    assert "secret internals" not in text and "Traceback" not in text
    assert "tell the Secretariat" in response.get_json()["detail"]


def test_the_api_answers_after_the_database_server_ended_its_connections(
    app: Flask, api: FlaskClient, db: Database, clock: Clock, board_member: Participant
) -> None:
    # A restarted server leaves the web process's pooled connections dead; a connection
    # used within the last second is not pinged again, so the token check finds it dead
    # itself, and runs once more on a fresh connection.
    if not db.is_postgresql:
        pytest.skip("SQLite has no server whose connections could die")
    secret = make_token(db, clock, "board-al")
    assert api.get("/api/v1/me", headers=bearer(secret)).status_code == 200
    engine = app.extensions["iisg"].engine
    with engine.connect() as connection:
        used = connection.scalar(text("SELECT pg_backend_pid()"))
    with db.engine.connect() as admin:
        assert admin.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": used})

    response = api.get("/api/v1/me", headers=bearer(secret))

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["username"] == "board-al"
