"""The dry run: a diagram run from start to end with made-up answers, nothing kept."""

from __future__ import annotations

from sqlalchemy import func, select

from engine.diagrams.bundle import DiagramBundle, read_directory, require_bundle
from engine.instances.dry_run import DryRunReport, dry_run
from models import AuditEvent, HumanTask, ProcessDefinition, ProcessInstance, Timer
from tests.conftest import TEST_BPMN, Clock, Database
from workflows.people.roles import known_roles

EDITOR_DIAGRAMS = TEST_BPMN / "editor"


def diagrams() -> DiagramBundle:
    """The editor's test diagrams that can run (stray_steps.bpmn is refused for its steps
    no path reaches, by the same checks as any diagram)."""
    files = read_directory(EDITOR_DIAGRAMS)
    del files["stray_steps.bpmn"]
    return require_bundle(files, known_roles())


def run(db: Database, clock: Clock, process_key: str, max_steps: int = 500) -> DryRunReport:
    bundle = diagrams()
    with db.session() as session:
        report = dry_run(
            session,
            process_key,
            bundle.spec(process_key),
            bundle.files,
            now=clock.now(),
            max_steps=max_steps,
        )
        session.commit()  # whatever the run wrote would be committed now, if it had kept any
    return report


def rows(db: Database) -> dict[str, int]:
    with db.session() as session:
        return {
            model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (ProcessDefinition, ProcessInstance, HumanTask, Timer, AuditEvent)
        }


def test_the_dry_run_answers_each_step_fires_the_timer_and_ends(db: Database, clock: Clock) -> None:
    report = run(db, clock, "wait_then_act")

    assert report.finished
    assert report.findings == []
    assert report.steps == [
        "A matter comes in",
        "Take a note",
        "Two days pass",
        "Record the outcome",
        "Recorded",
    ]


def test_the_dry_run_keeps_nothing(db: Database, clock: Clock) -> None:
    before = rows(db)

    run(db, clock, "wait_then_act")

    assert rows(db) == before


def test_a_loop_made_up_answers_never_leave_is_stopped_by_the_step_bound(
    db: Database, clock: Clock
) -> None:
    report = run(db, clock, "never_satisfied", max_steps=20)

    assert not report.finished
    [finding] = report.findings
    assert finding.severity == "warning"
    assert "did not reach an end within 20 steps" in finding.message
    assert report.steps.count("Take a note") == 20


def test_a_script_that_fails_is_an_error_naming_the_step(db: Database, clock: Clock) -> None:
    report = run(db, clock, "broken_script")

    [finding] = report.findings
    assert (finding.element_id, finding.severity) == ("summarise", "error")
    assert "'Summarise the matter' failed" in finding.message
    assert "the_secretarys_note" in finding.message


def test_an_operation_refusing_made_up_data_is_a_warning(db: Database, clock: Clock) -> None:
    report = run(db, clock, "refused_operation")

    [finding] = report.findings
    assert (finding.element_id, finding.severity) == ("move_a_timer", "warning")
    assert "refused the made-up answers (no timer 'no_such_timer' is waiting" in finding.message


def test_a_wait_for_a_signal_is_where_the_dry_run_stops(db: Database, clock: Clock) -> None:
    bundle = require_bundle(read_directory(TEST_BPMN), known_roles())
    with db.session() as session:
        report = dry_run(
            session, "signal_wait", bundle.spec("signal_wait"), bundle.files, now=clock.now()
        )

    [finding] = report.findings
    assert (finding.element_id, finding.severity) == ("meeting_held", "warning")
    assert "waits at 'Board meeting held'" in finding.message
