"""PostgreSQL refuses a guarded write whose row changed, so a step's writes need not wait

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 17:00:00.000000

A step writes its rows only if they still hold what the step read (engine/guarded_writes.py).
On PostgreSQL the check is the server's: the UPDATE sits in a WITH, and
iisg_one_row_written() raises SQLSTATE 40001 (serialization_failure, which the unit of work
retries like any conflict) unless it wrote exactly one row. Then no write waits for its
answer, and a step's writes went to the server together with the commit (since dropped, 0015).
SQLite checks the row count in Python, as before.
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
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
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION IF EXISTS iisg_one_row_written(bigint, text)")
