"""`/health` for monitoring: is the database reachable and is a scheduler passing?

Open to anyone (no login, no form): it tells only the state of the machinery, never anything
about people or procedures.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from engine.scheduler.status import scheduler_status
from webui.database import request_session
from webui.settings import procedure_settings

bp = Blueprint("health", __name__)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()


@bp.get("/health")
def health() -> ResponseReturnValue:
    """200 when the database answers and a scheduler passed lately; 503 otherwise."""
    now = datetime.now(UTC)
    body: dict[str, Any] = {
        "status": "degraded",
        "database": "ok",
        "scheduler": {"alive": False, "last_pass_at": None, "worker": None},
        "next_due_timer": None,
    }
    try:
        session = request_session()
        session.execute(text("SELECT 1"))
        status = scheduler_status(
            session,
            now,
            safety_interval_seconds=procedure_settings().safety_interval_seconds,
            timers=1,
            passes=1,
        )
    except SQLAlchemyError as err:
        # The kind of failure only: the message may name the server, which is not for the public.
        current_app.logger.error("/health: the database does not answer: %s", err)
        body["database"] = f"failed ({type(err).__name__})"
        return jsonify(body), 503
    last = status.last_pass
    body["scheduler"] = {
        "alive": status.alive,
        "last_pass_at": _iso(last.finished_at if last else None),
        "worker": last.worker if last else None,
    }
    body["next_due_timer"] = _iso(status.next_timers[0].due_at if status.next_timers else None)
    if status.alive:
        body["status"] = "ok"
    return jsonify(body), 200 if status.alive else 503
