"""Schemathesis against the live API: every operation of the OpenAPI document, a bounded
number of generated requests each, on a real server with the demo data and a Secretariat
token; no server error, and every response as the document says."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import schemathesis
from argon2 import PasswordHasher
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy.orm import Session

from tests.conftest import Database
from tests.webui.conftest import serving
from webui import create_app
from webui.api.openapi import document
from workflows import accounts
from workflows.accounts import find_user
from workflows.demo import load_demo, start_demo_procedures
from workflows.methodology import BPMN_DIR, deploy_directory
from workflows.tokens import create_token

# Enough to reach every status an operation documents, short enough for every CI run.
EXAMPLES_PER_OPERATION = 20


def token_for_now(db: Database, username: str) -> str:
    """A new personal access token for the user, made now."""

    def work(session: Session) -> str:
        user = find_user(session, username)
        assert user is not None
        return create_token(session, user, "schemathesis", now=datetime.now(UTC))[1]

    secret: str = db.run(work)
    return secret


@pytest.fixture
def demo_app(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """The app on a demo database (procedures deployed and started), no rate limit to hit."""
    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )
    now = datetime.now(UTC)
    db.run(lambda s: deploy_directory(s, BPMN_DIR, actor="tests", now=now))
    db.run(lambda s: load_demo(s, "demo-password", now=now))
    db.run(lambda s: start_demo_procedures(s, now=now))
    app = create_app(
        {
            "DATABASE_URL": db.url,
            "SECRET_KEY": "test",
            "TESTING": True,
            "DOCUMENTS_DIR": str(tmp_path / "documents"),
            "API_RATE_LIMIT": "100000/minute",
        }
    )
    yield app
    app.extensions["iisg"].engine.dispose()


@pytest.fixture
def served(demo_app: Flask) -> Iterator[str]:
    """The demo app on a real server on a free port; the API's base URL."""
    with serving(demo_app) as url:
        yield url


@pytest.mark.slow
def test_every_operation_answers_as_the_openapi_document_says(db: Database, served: str) -> None:
    schema = schemathesis.openapi.from_dict(document())
    headers = {"Authorization": f"Bearer {token_for_now(db, 'secretariat')}"}
    results = list(schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results), "schemathesis cannot read some operations"
    assert len(operations) == len(
        [method for path in document()["paths"].values() for method in path]
    )
    for operation in operations:

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(data=st.data())
        def check(data: st.DataObject) -> None:
            case = data.draw(operation.as_strategy())  # noqa: B023 (run at once, in the loop)
            response = case.call(base_url=served, headers=headers)
            assert response.status_code < 500, response.text
            # A generated id names nothing most of the time: a 404 is right, not a failure.
            case.validate_response(response, excluded_checks=[positive_data_acceptance])

        check()
