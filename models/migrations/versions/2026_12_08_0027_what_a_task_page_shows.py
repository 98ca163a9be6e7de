"""what a task's page shows: the `shows` property of its step, kept on the inbox row

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-08 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN: open tasks of diagrams deployed before it show no matter until
    # their step opens again, as with any other property.
    op.add_column("human_task", sa.Column("shows", sa.String(length=32), nullable=True))


def downgrade() -> None:
    op.drop_column("human_task", "shows")
