"""The command line an operator uses: validate, deploy, demo, users, the scheduler, audit."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select, text

from commands.cli import main
from engine.instances.steps import start_instance
from models import ProcessDefinition, ProcessInstance, User
from tests.conftest import TEST_BPMN, Clock, Database
from workflows.methodology.diagrams import BPMN_DIR
from workflows.people.accounts import check_password, find_user


@pytest.fixture
def iisg(db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.setenv("IISG_DATABASE_URL", db.url)
    # The demo writes its documents there: the test's folder, not the working copy's.
    monkeypatch.setenv("IISG_INSTANCE_DIR", str(tmp_path / "instance"))
    return CliRunner()


def run(runner: CliRunner, *args: str) -> Result:
    return runner.invoke(main, list(args), catch_exceptions=False)


def test_validate_accepts_the_methodology_diagrams(iisg: CliRunner) -> None:
    result = run(iisg, "validate", *[str(p) for p in sorted(BPMN_DIR.glob("*.bpmn"))])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output


def test_validate_names_each_problem_and_fails(iisg: CliRunner, tmp_path: Path) -> None:
    diagram = (TEST_BPMN / "lane_task.bpmn").read_text()
    broken = tmp_path / "broken.bpmn"
    broken.write_text(diagram.replace('name="Board member"', 'name="Treasurer"'))
    (tmp_path / "review.json").write_text((TEST_BPMN / "review.json").read_text())
    hostile = TEST_BPMN / "hostile" / "external_entity.bpmn"
    result = run(iisg, "validate", str(broken), str(hostile))
    assert result.exit_code == 1
    assert (
        "broken.bpmn" in result.output and "[acknowledge 'Acknowledge the review']" in result.output
    )
    assert "'Treasurer' is not a known role" in result.output
    assert "external_entity.bpmn" in result.output and "DOCTYPE" in result.output


def test_deploy_twice_keeps_the_version(iisg: CliRunner, db: Database) -> None:
    first = run(iisg, "deploy")
    assert first.exit_code == 0 and "board_decision: deployed as version 1" in first.output
    second = run(iisg, "deploy")
    assert "board_decision: unchanged, still version 1" in second.output
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(ProcessDefinition)) == len(
            first.output.strip().splitlines()
        )


def test_deploy_refuses_a_directory_with_a_bad_diagram(
    iisg: CliRunner, tmp_path: Path, db: Database
) -> None:
    (tmp_path / "lol.bpmn").write_text((TEST_BPMN / "hostile" / "billion_laughs.bpmn").read_text())
    result = iisg.invoke(main, ["deploy", str(tmp_path)])
    assert result.exit_code != 0
    assert "nothing was deployed" in result.output
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(ProcessDefinition)) == 0


def test_demo_data_is_idempotent_and_prints_the_logins(iisg: CliRunner, db: Database) -> None:
    run(iisg, "deploy")
    first = run(iisg, "demo", "--password", "demo-password")
    assert first.exit_code == 0, first.output
    for login in (
        "secretariat",
        "board-al",
        "board-ba",
        "board-xk",
        "board-me",
        "board-mk",
        "board-rs",
        "board-ec",
        "fp-rs-wbbsi",
        "sg-wbcti",
        "applicant",
        "applicant-cepol",
    ):
        assert f"  {login} " in first.output
    assert "Started 'Board decision: IISG work programme 2027'." in first.output
    assert "Started 'Silent procedure: summaries of the 2026" in first.output
    assert "Started 'Board decision: calendar of the 2027 response mapping'." in first.output
    assert "Started 'Membership: CEPOL (EU JHA agency, by notification)'." in first.output
    assert "Started 'Board decision: venue of the 2027 annual meeting'." in first.output
    assert "Started 'Membership application: UNODC'." in first.output
    assert "Kosovo*" in first.output and "in line with UNSCR 1244/1999" in first.output
    with db.session() as s:
        users = s.scalar(select(func.count()).select_from(User))
    second = run(iisg, "demo", "--password", "another-password")
    assert second.exit_code == 0
    assert "Started" not in second.output
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(User)) == users
        assert s.scalar(select(func.count()).select_from(ProcessInstance)) == 11
        secretariat = find_user(s, "secretariat")
        assert secretariat is not None and check_password(secretariat, "demo-password")


def test_user_create_gives_a_login_with_its_roles(iisg: CliRunner, db: Database) -> None:
    run(iisg, "demo", "--password", "demo-password")  # organisations exist
    result = run(
        iisg,
        "user",
        "create",
        "vesna",
        "--password",
        "long enough pw",
        "--name",
        "Vesna",
        "--role",
        "focal_point:ME:WBCSCi",
    )
    assert result.exit_code == 0, result.output
    with db.session() as s:
        vesna = find_user(s, "vesna")
        assert vesna is not None and check_password(vesna, "long enough pw")
        assert [(g.role, g.organisation, g.pillar) for g in vesna.grants] == [
            ("focal_point", "ME", "WBCSCi")
        ]
    again = iisg.invoke(main, ["user", "create", "vesna", "--password", "long enough pw"])
    assert again.exit_code != 0 and "is taken" in again.output


def test_scheduler_once_fires_what_is_due(
    iisg: CliRunner, db: Database, clock: Clock, test_diagrams: None
) -> None:
    db.run(
        lambda s: start_instance(
            s, "timers", {"reminders": 0, "deadline_in": "PT2H"}, actor="tests", now=clock.now()
        )
    )
    assert "Fired 0 timer(s)" in run(iisg, "scheduler", "--once").output
    clock.move(hours=3)
    result = run(iisg, "scheduler", "--once")
    assert "Fired 1 timer(s) in 1 instance(s)." in result.output


def test_audit_verify_names_the_tampered_event(iisg: CliRunner, db: Database) -> None:
    run(iisg, "deploy")
    run(iisg, "demo", "--password", "demo-password")
    intact = run(iisg, "audit", "verify")
    assert intact.exit_code == 0 and "Audit chain intact" in intact.output
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE audit_event SET actor = 'mallory' WHERE seq = 2"))
    broken = iisg.invoke(main, ["audit", "verify"])
    assert broken.exit_code == 1
    assert "BROKEN at event 2" in broken.output


def test_db_upgrade_is_safe_to_repeat(iisg: CliRunner) -> None:
    assert "up to date" in run(iisg, "db", "upgrade").output
    assert "up to date" in run(iisg, "db", "upgrade").output
