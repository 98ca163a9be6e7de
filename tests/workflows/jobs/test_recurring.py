"""The annual response mapping and the biennial needs mapping start on their schedule, once
per period, whatever the scheduler's restarts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from engine.instances.loading import load
from engine.instances.task_lookup import current_data
from engine.scheduler.passes import run_pass
from models import ProcessInstance, RecurringStart, SchedulerPass, make_engine, make_session_factory
from tests.conftest import Clock, Database
from tests.workflows.conftest import Iisg
from workflows.jobs.recurring import current_period, next_period, recurring_job
from workflows.settings import ProcedureSettings, parse_settings

# The schedules the methodologies set: the response mapping each year from 15 January 2027,
# the needs mapping every second year from 1 February 2027, both at 08:00 UTC.
SETTINGS = ProcedureSettings()
ANNUAL, BIENNIAL = SETTINGS.recurring


def _travel_to(clock: Clock, moment: datetime) -> None:
    clock.move(seconds=(moment - clock.now()).total_seconds())


def _pass(db: Database, settings: ProcedureSettings = SETTINGS) -> int:
    result = run_pass(db.factory, jobs=[recurring_job(settings)])
    assert not result.errors, result.errors
    return result.other


def _started(db: Database, process: str) -> list[tuple[str | None, dict[str, Any]]]:
    """Each instance of the process: its business key and its data as it stands."""
    with db.session() as s:
        rows = s.scalars(
            select(ProcessInstance)
            .where(ProcessInstance.process_key == process)
            .order_by(ProcessInstance.id)
        ).all()
        return [(r.business_key, current_data(load(s, r.id).workflow)) for r in rows]


def _count(db: Database, process: str) -> int:
    with db.session() as s:
        return int(
            s.scalar(
                select(func.count())
                .select_from(ProcessInstance)
                .where(ProcessInstance.process_key == process)
            )
            or 0
        )


def test_periods_follow_the_schedule() -> None:
    assert (ANNUAL.process_key, BIENNIAL.process_key) == ("response_mapping", "needs_mapping")
    assert current_period(ANNUAL, datetime(2027, 1, 15, 7, 59, tzinfo=UTC)) is None
    assert current_period(ANNUAL, datetime(2027, 1, 15, 8, 0, tzinfo=UTC)) == 2027
    assert current_period(ANNUAL, datetime(2028, 1, 14, tzinfo=UTC)) == 2027
    assert current_period(BIENNIAL, datetime(2028, 12, 31, tzinfo=UTC)) == 2027
    assert current_period(BIENNIAL, datetime(2029, 2, 1, 8, tzinfo=UTC)) == 2029
    assert next_period(BIENNIAL, datetime(2027, 6, 1, tzinfo=UTC)) == datetime(
        2029, 2, 1, 8, tzinfo=UTC
    )


def test_nothing_starts_before_the_first_period_and_the_scheduler_plans_to_wake_for_it(
    iisg: Iisg,
) -> None:
    result = run_pass(iisg.db.factory, jobs=[recurring_job(SETTINGS)])
    assert result.other == 0
    assert result.next_due == datetime(2027, 1, 15, 8, tzinfo=UTC)
    assert _count(iisg.db, "response_mapping") == 0


def test_the_annual_response_mapping_starts_once_a_year_across_a_restart(
    iisg: Iisg, db: Database, clock: Clock
) -> None:
    annual_only = ProcedureSettings(recurring=(ANNUAL,))
    _travel_to(clock, datetime(2027, 1, 15, 8, tzinfo=UTC))
    assert _pass(db, annual_only) == 1
    assert _pass(db, annual_only) == 0

    # The scheduler process restarts: a new engine and sessions, the same database.
    engine = make_engine(db.url)
    try:
        restarted = make_session_factory(engine)
        again = run_pass(restarted, jobs=[recurring_job(annual_only)])
        assert again.other == 0 and not again.errors
    finally:
        engine.dispose()
    assert _count(db, "response_mapping") == 1
    business_key, data = _started(db, "response_mapping")[0]
    assert business_key == "annual_response_mapping:2027"
    assert data["report_year"] == 2027

    _travel_to(clock, datetime(2027, 12, 31, tzinfo=UTC))
    assert _pass(db, annual_only) == 0
    _travel_to(clock, datetime(2028, 1, 15, 8, tzinfo=UTC))
    assert _pass(db, annual_only) == 1
    assert [key for key, _ in _started(db, "response_mapping")] == [
        "annual_response_mapping:2027",
        "annual_response_mapping:2028",
    ]


def test_the_needs_mapping_starts_every_second_year(iisg: Iisg, db: Database, clock: Clock) -> None:
    for year in (2027, 2028, 2029, 2030):
        _travel_to(clock, datetime(year, 3, 1, tzinfo=UTC))
        _pass(db)
    assert [key for key, _ in _started(db, "needs_mapping")] == [
        "biennial_needs_mapping:2027-2028",
        "biennial_needs_mapping:2029-2030",
    ]
    with db.session() as s:
        titles = s.scalars(
            select(ProcessInstance.title).where(ProcessInstance.process_key == "needs_mapping")
        ).all()
    assert all(title.endswith(": 2027-2028") or title.endswith(": 2029-2030") for title in titles)


def test_a_period_begun_while_the_system_was_down_starts_late_but_only_the_latest(
    iisg: Iisg, db: Database, clock: Clock
) -> None:
    _travel_to(clock, datetime(2029, 3, 10, tzinfo=UTC))
    _pass(db)
    assert [key for key, _ in _started(db, "response_mapping")] == ["annual_response_mapping:2029"]
    with db.session() as s:
        record = s.scalars(select(RecurringStart)).all()
        assert {(r.schedule, r.period) for r in record} == {
            ("annual_response_mapping", "2029"),
            ("biennial_needs_mapping", "2029-2030"),
        }


def test_a_schedule_for_a_procedure_not_deployed_is_reported_on_the_pass(
    db: Database, clock: Clock
) -> None:
    _travel_to(clock, datetime(2027, 1, 16, tzinfo=UTC))
    result = run_pass(db.factory, jobs=[recurring_job(SETTINGS)])
    assert any("annual response mapping for 2027 could not start" in e for e in result.errors)
    with db.session() as s:
        recorded = s.scalars(select(SchedulerPass)).one()
        assert recorded.error is not None and "no active procedure" in recorded.error
        assert s.scalar(select(func.count()).select_from(RecurringStart)) == 0


def test_the_schedules_are_settings() -> None:
    settings = parse_settings(
        {
            "recurring": {
                "response_mapping": {
                    "process_key": "response_mapping",
                    "every_years": 1,
                    "first_year": 2028,
                    "month": 3,
                    "day": 1,
                    "year_field": "report_year",
                }
            }
        }
    )
    assert [s.name for s in settings.recurring] == ["response_mapping"]
    assert settings.recurring[0].first_year == 2028
