"""One unit of work: run, commit once; on a conflict with another writer, reload and retry."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from engine.errors import ConcurrentUpdate

T = TypeVar("T")
# PostgreSQL: serialization failure, deadlock detected, lock not available.
_RETRY_SQLSTATES = {"40001", "40P01", "55P03"}


def is_conflict(err: BaseException) -> bool:
    """True for errors that mean 'someone else wrote first; try again'."""
    if isinstance(err, StaleDataError | ConcurrentUpdate):
        return True
    if isinstance(err, OperationalError) and "database is locked" in str(err.orig):
        return True
    if isinstance(err, DBAPIError):
        return getattr(err.orig, "sqlstate", None) in _RETRY_SQLSTATES
    return False


def lost_connection_before_commit(err: BaseException, committing: bool) -> bool:
    """True when the database connection was found dead before the commit was sent: nothing
    of the unit of work can have been stored, so it may run again on a fresh connection. (A
    connection lost during the commit leaves its outcome unknown: that is never retried.)"""
    return not committing and isinstance(err, DBAPIError) and err.connection_invalidated


def run_in_transaction(
    factory: sessionmaker[Session],
    work: Callable[[Session], T],
    *,
    attempts: int = 8,
) -> T:
    """Run `work` in a fresh session and commit; retry from scratch on a write conflict, or
    when the connection turned out dead before anything was committed."""
    for attempt in range(1, attempts + 1):
        with factory() as session:
            committing = False
            try:
                result = work(session)
                committing = True
                session.commit()
                return result
            except Exception as err:
                session.rollback()
                if lost_connection_before_commit(err, committing) and attempt < attempts:
                    continue  # the pool has replaced its dead connections meanwhile
                if not is_conflict(err) or attempt == attempts:
                    if is_conflict(err):
                        raise ConcurrentUpdate(
                            "the procedure is being changed by someone else right now; "
                            "please try again in a moment"
                        ) from err
                    raise
            # Back off a little, with jitter, so competing writers do not collide again.
            time.sleep(random.uniform(0, 0.01 * attempt))  # noqa: S311 - jitter, not security
    raise AssertionError("unreachable")
