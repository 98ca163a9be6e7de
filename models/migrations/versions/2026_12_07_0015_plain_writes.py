"""a step's writes are plain statements: the guarded-write function and the head's prev_hash go

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 20:00:00.000000

Every write now waits for its answer and checks it in Python, and an audit event's hash is
computed in Python on every database, so PostgreSQL needs neither the function
iisg_one_row_written nor the chain head's copy of the hash before the last event.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_ONE_ROW_WRITTEN = """
CREATE OR REPLACE FUNCTION iisg_one_row_written(written bigint, refusal text)
RETURNS bigint
LANGUAGE plpgsql
AS $$
BEGIN
    IF written <> 1 THEN
        RAISE EXCEPTION USING ERRCODE = 'serialization_failure', MESSAGE = refusal;
    END IF;
    RETURN written;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS iisg_one_row_written(bigint, text)")
    with op.batch_alter_table("audit_chain_head") as batch_op:
        batch_op.drop_column("prev_hash")


def downgrade() -> None:
    # (Left empty, as after migration 0011: the next append fills it.)
    with op.batch_alter_table("audit_chain_head") as batch_op:
        batch_op.add_column(sa.Column("prev_hash", sa.String(64), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_ONE_ROW_WRITTEN)
