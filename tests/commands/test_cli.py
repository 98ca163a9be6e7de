"""The command line an operator uses: validate, deploy, demo, users, the scheduler, audit."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select, text

from commands import cli
from commands.cli import main
from engine.instances.steps import start_instance
from models import AuditEvent, ProcessDefinition, ProcessInstance, User
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


def changed_methodology(tmp_path: Path) -> Path:
    """bpmn/ with the silent procedure's default deadline changed to 15 working days."""
    folder = tmp_path / "bpmn"
    shutil.copytree(BPMN_DIR, folder)
    diagram = folder / "silent_procedure.bpmn"
    ten = 'name="default_deadline_working_days" value="10"'
    assert ten in diagram.read_text()
    diagram.write_text(diagram.read_text().replace(ten, ten.replace("10", "15")))
    return folder


def in_force(db: Database, process_key: str) -> int:
    with db.session() as s:
        return s.scalars(
            select(ProcessDefinition.version).where(
                ProcessDefinition.process_key == process_key,
                ProcessDefinition.status == "active",
            )
        ).one()


def test_deploy_keeps_a_changed_diagram_as_a_draft_until_the_board_adopts_it(
    iisg: CliRunner, db: Database, tmp_path: Path
) -> None:
    """Response Mapping Methodology 2022, III: "The IISG Response Mapping Methodology and any
    modification thereof are to be adopted by the IISG Board": after the first deployment,
    `iisg deploy` saves a changed diagram as a draft, says how to have it adopted, and
    exits 1; the version in force stays."""
    assert run(iisg, "deploy").exit_code == 0

    result = iisg.invoke(main, ["deploy", str(changed_methodology(tmp_path))])

    assert result.exit_code == 1
    assert (
        "silent_procedure: changed; saved as draft version 2, not in force (version 1 stays "
        "in force until the Board adopts it)" in result.output
    )
    assert "start 'Amending a methodology' for its procedure" in result.output
    assert "--without-board-adoption --reason" in result.output
    assert in_force(db, "silent_procedure") == 1

    # Unchanged diagrams stay as they are, and say so.
    again = run(iisg, "deploy")
    assert again.exit_code == 0, again.output
    assert "silent_procedure: unchanged, still version 1" in again.output


def test_deploy_bypasses_the_board_only_when_told_why_and_the_audit_says_so(
    iisg: CliRunner, db: Database, tmp_path: Path
) -> None:
    """Response Mapping Methodology 2022, III: the Board adopts modifications; an operator
    who must put one in force without it says so explicitly, with the reason, and the audit
    trail records who and why."""
    assert run(iisg, "deploy").exit_code == 0
    changed = str(changed_methodology(tmp_path))
    no_reason = iisg.invoke(main, ["deploy", changed, "--without-board-adoption"])
    assert no_reason.exit_code == 2
    assert "--without-board-adoption needs --reason" in no_reason.output
    with_draft = iisg.invoke(
        main, ["deploy", changed, "--draft", "--without-board-adoption", "--reason", "x"]
    )
    assert with_draft.exit_code == 2 and "give one of them" in with_draft.output
    assert in_force(db, "silent_procedure") == 1

    result = run(
        iisg, "deploy", changed, "--without-board-adoption", "--reason", "Release 1.4 needs it."
    )

    assert result.exit_code == 0, result.output
    assert "silent_procedure: deployed as version 2" in result.output
    assert "Put in force without the Board's adoption by " in result.output
    assert in_force(db, "silent_procedure") == 2
    with db.session() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.kind == "definition.deployed"))
        (event,) = [
            e
            for e in events
            if (e.payload["process"], e.payload["version"]) == ("silent_procedure", 2)
        ]
    assert event.payload["without_board_adoption"] == "Release 1.4 needs it."
    assert event.payload["by"]


def test_init_again_keeps_changed_diagrams_out_of_force(
    iisg: CliRunner, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Response Mapping Methodology 2022, III: `iisg init` run again on a database in use
    (after an upgrade that changed a diagram) puts nothing changed in force without the
    Board: it saves the drafts and says how to have them adopted."""
    assert run(iisg, "deploy").exit_code == 0
    monkeypatch.setattr(cli, "BPMN_DIR", changed_methodology(tmp_path))
    run(iisg, "user", "create", "sec", "--password", "long enough pw", "--role", "secretariat")

    result = run(iisg, "init")

    assert result.exit_code == 0, result.output
    assert "silent_procedure: changed; saved as draft version 2, not in force" in result.output
    assert "start 'Amending a methodology'" in result.output
    assert in_force(db, "silent_procedure") == 1


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
