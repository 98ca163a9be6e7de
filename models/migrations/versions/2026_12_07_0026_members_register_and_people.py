"""the members register and its people: members by right, Board seats, a person's
organisation, a seat's alternate

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 22:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

# The Board's seats (`002_*`, section 1): the six WB partners and the European Commission.
BOARD_SEATS = ("AL", "BA", "XK", "ME", "MK", "RS", "EC")


def upgrade() -> None:
    # Plain ADD COLUMNs: a batch would make SQLite rebuild these tables, and dropping the old
    # organisation or user_account table fails while other tables' rows refer to it.
    op.add_column("organisation", sa.Column("by_right", sa.String(length=32), nullable=True))
    op.add_column(
        "organisation",
        sa.Column("board_seat", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column("user_account", sa.Column("organisation", sa.String(length=32), nullable=True))
    op.add_column(
        "role_grant",
        sa.Column("alternate", sa.Boolean(), server_default=sa.false(), nullable=False),
    )

    organisation = sa.table(
        "organisation",
        sa.column("code", sa.String),
        sa.column("member_group", sa.String),
        sa.column("by_right", sa.String),
        sa.column("board_seat", sa.Boolean),
    )
    op.execute(
        organisation.update()
        .where(organisation.c.code.in_(BOARD_SEATS))
        .values(board_seat=sa.true())
    )
    # The host of the Secretariat was a member group of its own; the methodology counts it
    # among the international partners, a member by right.
    op.execute(
        organisation.update()
        .where(organisation.c.member_group == "host")
        .values(member_group="international_partner", by_right="secretariat_host")
    )
    # A person's organisation: the one they read as a member of, else any their roles name.
    op.execute(
        sa.text(
            "UPDATE user_account SET organisation = ("
            " SELECT role_grant.organisation FROM role_grant"
            " WHERE role_grant.user_id = user_account.id"
            " AND role_grant.organisation IS NOT NULL"
            " ORDER BY CASE WHEN role_grant.role = 'member' THEN 0 ELSE 1 END, role_grant.id"
            " LIMIT 1)"
        )
    )


def downgrade() -> None:
    op.execute(
        sa.text("UPDATE organisation SET member_group = 'host' WHERE by_right = 'secretariat_host'")
    )
    op.drop_column("role_grant", "alternate")
    op.drop_column("user_account", "organisation")
    op.drop_column("organisation", "board_seat")
    op.drop_column("organisation", "by_right")
