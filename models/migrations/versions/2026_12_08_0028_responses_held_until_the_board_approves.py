"""responses held as their response mapping's draft until the Board approves the reports

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-08 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every response already in the database was readable by the members: it stays approved.
    op.add_column(
        "need_response",
        sa.Column("state", sa.String(length=16), server_default="approved", nullable=False),
    )


def downgrade() -> None:
    op.drop_column("need_response", "state")
