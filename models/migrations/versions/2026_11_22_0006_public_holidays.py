"""public holidays

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 22:03:57.880094
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "public_holiday",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("partner", sa.String(length=32), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_public_holiday")),
        sa.UniqueConstraint("day", "partner", name=op.f("uq_public_holiday_day")),
    )
    with op.batch_alter_table("public_holiday", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_public_holiday_day"), ["day"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("public_holiday", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_public_holiday_day"))

    op.drop_table("public_holiday")
