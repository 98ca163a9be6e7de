"""The API's door: bearer tokens, their user's roles only, problems, rate limits, 413."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from engine.assignment import Grant, Participant
from tests.conftest import Clock, Database
from workflows.accounts import find_user
from workflows.tokens import create_token

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
def board_member(make_person: Callable[..., Participant]) -> Participant:
    return make_person("board-al", Grant("board_member", "AL"))


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
