"""a decision withdrawn with its procedure keeps the reason given

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 21:00:00.000000

A silent procedure withdrawn while the Board is deciding closes with the outcome `withdrawn`;
the reason the Secretariat (or the applicant) gave is part of its record.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("decision") as batch_op:
        batch_op.add_column(sa.Column("withdrawal_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("decision") as batch_op:
        batch_op.drop_column("withdrawal_reason")
