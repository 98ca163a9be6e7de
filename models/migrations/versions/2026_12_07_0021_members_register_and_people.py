"""the members register and its people: members by right, Board seats, a person's
organisation, a seat's alternate

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 22:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

# The Board's seats (`002_*`, section 1): the six WB partners and the European Commission.
BOARD_SEATS = ("AL", "BA", "XK", "ME", "MK", "RS", "EC")


def upgrade() -> None:
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("by_right", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("board_seat", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("organisation", sa.String(length=32), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_user_account_organisation_organisation"),
            "organisation",
            ["organisation"],
            ["code"],
        )
    with op.batch_alter_table("role_grant", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("alternate", sa.Boolean(), server_default=sa.false(), nullable=False)
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
    with op.batch_alter_table("role_grant", schema=None) as batch_op:
        batch_op.drop_column("alternate")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_user_account_organisation_organisation"), type_="foreignkey"
        )
        batch_op.drop_column("organisation")
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.drop_column("board_seat")
        batch_op.drop_column("by_right")
