"""the IISG database: need history, response providers, report documents

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 23:59:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import models.base

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "need_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("need_id", sa.Integer(), nullable=False),
        sa.Column("changed_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(length=64), nullable=False),
        sa.Column(
            "changes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["need_id"], ["need.id"], name=op.f("fk_need_change_need_id_need"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_need_change")),
    )
    with op.batch_alter_table("need_change", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_need_change_need_id"), ["need_id", "changed_at"], unique=False
        )

    with op.batch_alter_table("need", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "source_kind", sa.String(length=16), server_default="needs_mapping", nullable=False
            )
        )
        batch_op.add_column(sa.Column("updated_by", sa.String(length=64), nullable=True))
        batch_op.alter_column(
            "status",
            existing_type=sa.VARCHAR(length=16),
            type_=sa.String(length=24),
            existing_nullable=False,
        )

    with op.batch_alter_table("need_response", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "provider_kind", sa.String(length=16), server_default="partner", nullable=False
            )
        )
        batch_op.add_column(sa.Column("year", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("updated_by", sa.String(length=64), nullable=True))

    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.add_column(sa.Column("document_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_report_document_id_document"),
            "document",
            ["document_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:

    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_report_document_id_document"), type_="foreignkey")
        batch_op.drop_column("document_id")

    with op.batch_alter_table("need_response", schema=None) as batch_op:
        batch_op.drop_column("updated_by")
        batch_op.drop_column("year")
        batch_op.drop_column("provider_kind")

    with op.batch_alter_table("need", schema=None) as batch_op:
        batch_op.alter_column(
            "status",
            existing_type=sa.String(length=24),
            type_=sa.VARCHAR(length=16),
            existing_nullable=False,
        )
        batch_op.drop_column("updated_by")
        batch_op.drop_column("source_kind")

    with op.batch_alter_table("need_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_need_change_need_id"))

    op.drop_table("need_change")
