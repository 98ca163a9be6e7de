"""Schemathesis against the live API: every operation of the OpenAPI document, a bounded
number of generated requests each, valid and invalid, on a real server with the demo data,
as the Secretariat and as a Board member; every check schemathesis has (no server error,
statuses, media types, headers and bodies as documented, invalid data refused, valid data
accepted), on whichever database the suite runs on."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from argon2 import PasswordHasher
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import Case, CheckContext, GenerationMode, Response
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import positive_data_acceptance
from schemathesis.specs.openapi.schemas import OpenApiSchema
from sqlalchemy.orm import Session

from tests.conftest import Database
from tests.webui.conftest import serving
from webui import create_app
from webui.api.openapi import document
from webui.api.problems import FORM_MISFIT
from workflows.demo import load_demo, start_demo_procedures
from workflows.methodology.diagrams import BPMN_DIR, deploy_directory
from workflows.people import accounts
from workflows.people.accounts import find_user
from workflows.people.tokens import create_token

# Enough to reach every status an operation documents, short enough for every CI run.
EXAMPLES_PER_OPERATION = 60


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


def accepted_unless_the_form_refuses(
    ctx: CheckContext, response: Response, case: Case[Any]
) -> None:
    """Schemathesis's positive_data_acceptance, but for what no static document can hold:
    the fields each task's own form takes (a 400 titled so), and a rule of the procedure
    (422, e.g. a procedure nobody has deployed)."""
    if response.status_code == 422 or (
        response.status_code == 400 and response.json().get("title") == FORM_MISFIT
    ):
        return
    positive_data_acceptance(ctx, response, case)


def answers_as_documented(schema: OpenApiSchema, served: str, token: str) -> list[str]:
    """Every operation, with valid and with invalid data, checked with every check."""
    headers = {"Authorization": f"Bearer {token}"}
    failures: list[str] = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok)
        operation = result.ok()
        definition = document()["paths"][operation.path][operation.method.lower()]
        # An operation that takes nothing has nothing to get wrong.
        negatable = "parameters" in definition or "requestBody" in definition
        modes = [GenerationMode.POSITIVE] + ([GenerationMode.NEGATIVE] if negatable else [])
        for mode in modes:

            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                derandomize=True,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(data=st.data())
            def check(data: st.DataObject) -> None:
                # The token is fixed, not generated: a request without it is simply a 401.
                case = data.draw(operation.as_strategy(mode, headers=headers))  # noqa: B023
                response = case.call(base_url=served)
                case.validate_response(
                    response,
                    headers=headers,
                    excluded_checks=[positive_data_acceptance],
                    additional_checks=[accepted_unless_the_form_refuses],
                )

            try:
                check()
            except (AssertionError, Failure, FailureGroup) as found:
                failures.append(f"{operation.label} with {mode.value} data: {found}")
    return failures


@pytest.mark.slow
@pytest.mark.parametrize("username", ["secretariat", "board-al"])
def test_every_operation_answers_as_the_openapi_document_says(
    db: Database, served: str, username: str
) -> None:
    schema = schemathesis.openapi.from_dict(document())
    operations = list(schema.get_all_operations())
    assert all(isinstance(result, Ok) for result in operations), "some cannot be read"
    assert len(operations) == len([m for path in document()["paths"].values() for m in path])

    failures = answers_as_documented(schema, served, token_for_now(db, username))

    assert not failures, "\n\n".join(failures)
