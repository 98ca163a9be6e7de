"""an audit event's payload is stored as the canonical text its hash covers

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 10:00:00.000000

The hash of an event covered the canonical JSON text of its payload, but the payload was
stored in a JSON column, which the database re-renders: PostgreSQL reads 1e300 back as a
301-digit integer, and `iisg audit verify` then said the event had changed. The payload now
lives in `payload_text`, the very text the hash covers (engine/audit.py).

Each existing event gets exactly the text its hash was computed over until now (the payload
as stored, dumped with sorted keys, no spaces, ensure_ascii=False, default=str), so a chain
that verified before verifies after. Downgrade parses the text back into a JSON column.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_BATCH = 2000


def _as_hashed(payload: Any) -> str:
    """The text an event's hash covered before this revision (engine/audit.py at 0012)."""
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )


def _events(column: sa.ColumnClause[Any]) -> Iterator[list[sa.Row[Any]]]:
    """Every event's sequence number and `column`, a batch at a time in sequence order."""
    table = sa.table("audit_event", sa.column("seq", sa.BigInteger()), column)
    bind, last = op.get_bind(), 0
    while True:
        rows = bind.execute(
            sa.select(table.c.seq, column)
            .where(table.c.seq > last)
            .order_by(table.c.seq)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def _copy(
    source: sa.ColumnClause[Any], target: sa.ColumnClause[Any], convert: Callable[[Any], Any]
) -> None:
    table = sa.table("audit_event", sa.column("seq", sa.BigInteger()), target)
    statement = (
        sa.update(table)
        .where(table.c.seq == sa.bindparam("event_seq"))
        .values({target.name: sa.bindparam("value", type_=target.type)})
    )
    for rows in _events(source):
        op.get_bind().execute(
            statement, [{"event_seq": seq, "value": convert(value)} for seq, value in rows]
        )


def upgrade() -> None:
    with op.batch_alter_table("audit_event") as batch_op:
        batch_op.add_column(sa.Column("payload_text", sa.Text(), nullable=True))
    _copy(sa.column("payload", _JSON), sa.column("payload_text", sa.Text()), _as_hashed)
    with op.batch_alter_table("audit_event") as batch_op:
        batch_op.alter_column("payload_text", existing_type=sa.Text(), nullable=False)
        batch_op.drop_column("payload")


def downgrade() -> None:
    with op.batch_alter_table("audit_event") as batch_op:
        batch_op.add_column(sa.Column("payload", _JSON, nullable=True))
    _copy(sa.column("payload_text", sa.Text()), sa.column("payload", _JSON), json.loads)
    with op.batch_alter_table("audit_event") as batch_op:
        batch_op.alter_column("payload", existing_type=_JSON, nullable=False)
        batch_op.drop_column("payload_text")
