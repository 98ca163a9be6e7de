"""Who holds a credential (a login session or an API token): the person and the roles they
hold now, read with the credential in one statement of plain columns, on every request."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, Select, bindparam, select
from sqlalchemy.orm import InstrumentedAttribute

from engine.instances.assignment import Grant, Participant
from models import RoleGrant, User


@dataclass(frozen=True)
class Holder:
    """The person a live credential belongs to, with the roles they hold now."""

    user_id: int
    username: str
    display_name: str
    participant: Participant


def holder_query(
    key: InstrumentedAttribute[str], *columns: InstrumentedAttribute[Any]
) -> Select[Any]:
    """The credential's `columns`, its user and the user's roles, for the credential whose
    `key` equals the bound parameter `digest` (one row per role, or one row without)."""
    return (
        select(
            *columns,
            User.id.label("user_id"),
            User.username,
            User.display_name,
            User.active,
            RoleGrant.role,
            RoleGrant.organisation,
            RoleGrant.pillar,
        )
        .join(User, User.id == key.class_.user_id)
        .outerjoin(RoleGrant, RoleGrant.user_id == User.id)
        .where(key == bindparam("digest"))
    )


def holder_of(rows: Sequence[Row[Any]]) -> Holder:
    """The holder the rows of `holder_query` describe."""
    first = rows[0]
    grants = frozenset(Grant(r.role, r.organisation, r.pillar) for r in rows if r.role is not None)
    return Holder(
        first.user_id, first.username, first.display_name, Participant(first.username, grants)
    )
