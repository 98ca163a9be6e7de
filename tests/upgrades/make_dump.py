"""Make the database a release leaves behind: `iisg demo` plus procedures half-way, timers waiting.

Run it on the commit before a schema change (the previous release), from that commit's
checkout, and keep its output in tests/upgrades/dumps/ of the branch that changes the schema:

    git worktree add /tmp/previous <commit before the change>
    cd /tmp/previous && PYTHONPATH=$PWD python tests/upgrades/make_dump.py OUT_DIR
    cp OUT_DIR/<revision>.backup <your checkout>/tests/upgrades/dumps/

The file is an `iisg backup` (a zip, already compressed), named after the database's Alembic
revision; test_upgrade_from_previous_release.py upgrades every dump in that folder to head.
Everything happens on a fixed clock, in a scratch SQLite database, through the engine's own
functions, so the same commit makes the same procedures.
"""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import time_machine
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from commands.cli import main
from engine.instances.claims import claim_task
from engine.instances.steps import complete_task, start_instance
from engine.instances.unit_of_work import run_in_transaction
from models import Decision, HumanTask, ProcessInstance, make_engine, make_session_factory
from models.backup import database_revision
from workflows.board.membership_demo import DEMO_MEMBERSHIP_KEY
from workflows.mappings.response_mapping import DEMO_RESPONSE_MAPPING_KEY
from workflows.people.accounts import find_user, participant

MADE_AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday morning
PASSWORD = "previous-release"
ASSESSMENT = {
    "like_minded_partner": "meets",
    "like_minded_partner_comment": "Shares the IISG's aims in the region.",
    "regional_cooperation": "meets",
    "regional_cooperation_comment": "Funds regional projects in all six WB partners.",
    "eu_values": "meets",
    "eu_values_comment": "Supports the EU perspective of the region.",
}


def _iisg(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    if result.exit_code != 0:
        raise SystemExit(f"iisg {' '.join(args)} failed:\n{result.output}")
    return result.output


def _open_task(
    session: Session, instance_id: int, bpmn_id: str, organisation: str | None
) -> HumanTask | None:
    query = select(HumanTask).where(
        HumanTask.instance_id == instance_id,
        HumanTask.bpmn_id == bpmn_id,
        HumanTask.status == "open",
    )
    if organisation is not None:
        query = query.where(HumanTask.organisation == organisation)
    return session.scalars(query.order_by(HumanTask.id)).first()


def _complete(
    session: Session,
    instance_id: int,
    bpmn_id: str,
    username: str,
    data: dict[str, Any],
    now: datetime,
    organisation: str | None = None,
) -> None:
    user = find_user(session, username)
    task = _open_task(session, instance_id, bpmn_id, organisation)
    assert user is not None and task is not None, (username, bpmn_id)
    complete_task(session, task.id, data, participant=participant(user), now=now)


def _key(session: Session, business_key: str) -> int:
    found = session.scalars(
        select(ProcessInstance.id).where(ProcessInstance.business_key == business_key)
    ).one()
    return int(found)


def _half_way(session: Session, now: datetime) -> None:
    """Drive the demo's procedures on and start a few more, so every kind of wait is there."""
    # The membership goes to the Board by silent procedure; two seats have answered.
    membership = _key(session, DEMO_MEMBERSHIP_KEY)
    _complete(session, membership, "assess_application", "secretariat", ASSESSMENT, now)
    _complete(session, membership, "send_list_to_board", "secretariat", {}, now)
    _complete(
        session, membership, "choose_method", "secretariat", {"method": "silent_procedure"}, now
    )
    for seat in ("AL", "BA"):
        _complete(
            session,
            membership,
            "answer_silent_procedure",
            f"board-{seat.lower()}",
            {"answer": "no_objection"},
            now,
            organisation=seat,
        )

    # A silent procedure whose deadline the Secretariat extended, one seat having answered.
    silent = start_instance(
        session,
        "silent_procedure",
        {
            "subject": "Terms of reference of the Support Group",
            "proposal": "The Board adopts the revised terms of reference of the Support Group.",
        },
        actor="secretariat",
        now=now,
    ).id
    _complete(
        session,
        silent,
        "answer_silent_procedure",
        "board-me",
        {"answer": "no_objection"},
        now,
        organisation="ME",
    )
    deadline = session.scalars(
        select(Decision.deadline).where(Decision.instance_id == silent)
    ).one()
    assert deadline is not None
    extended = (deadline + timedelta(days=7)).isoformat()
    _complete(session, silent, "extend_deadline", "secretariat", {"new_deadline": extended}, now)

    # A Board decision taken at a meeting, its outcome still to be recorded.
    meeting = start_instance(
        session,
        "board_decision",
        {"subject": "Venue of the 2027 annual meeting", "proposal": "Tirana, in May 2027."},
        actor="secretariat",
        now=now,
    ).id
    _complete(session, meeting, "choose_method", "secretariat", {"method": "meeting"}, now)

    # The response mapping: one partner's focal point has claimed their task.
    mapping = _key(session, DEMO_RESPONSE_MAPPING_KEY)
    task = session.scalars(
        select(HumanTask)
        .where(
            HumanTask.instance_id == mapping,
            HumanTask.status == "open",
            HumanTask.organisation.is_not(None),
            HumanTask.pillar.is_not(None),
        )
        .order_by(HumanTask.id)
    ).first()
    assert task is not None, "the demo's response mapping waits for the partners"
    user = find_user(session, f"fp-{task.organisation}-{task.pillar}".lower())
    assert user is not None
    claim_task(session, task.id, participant=participant(user), now=now)


def make_dump(out_dir: Path) -> Path:
    """Write `<revision>.backup` of a database as this commit leaves it; returns its path."""
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch) / 'previous.sqlite3'}"
        environment = {"IISG_DATABASE_URL": url, "IISG_INSTANCE_DIR": scratch}
        with time_machine.travel(MADE_AT, tick=False) as traveller:
            os.environ.update(environment)
            _iisg("db", "upgrade")
            _iisg("deploy")
            _iisg("demo", "--password", PASSWORD)
            engine = make_engine(url)
            factory = make_session_factory(engine)
            run_in_transaction(factory, lambda s: _half_way(s, MADE_AT))
            # A day later the scheduler has run: reminders and deadlines are still ahead.
            traveller.shift(timedelta(days=1))
            _iisg("scheduler", "--once")
            with engine.connect() as connection:
                revision = database_revision(connection)
            engine.dispose()
            target = out_dir / f"{revision}.backup"
            target.unlink(missing_ok=True)
            print(_iisg("backup", str(target)), end="")
    return target


if __name__ == "__main__":
    make_dump(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "dumps")
