"""a broken silent procedure goes to the Board meeting: the final outcome and the meeting
decision that followed (the withdrawal's reason is 0023's column); each item of a list
decided on its own

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 21:00:00.000000

Every decision recorded so far was final when it closed (an objection ended a procedure as
not adopted), so its final outcome is its outcome.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.add_column(sa.Column("final_outcome", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("followed_by_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_decision_followed_by_id"), ["followed_by_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_decision_followed_by_id_decision"),
            "decision",
            ["followed_by_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.execute("UPDATE decision SET final_outcome = outcome WHERE outcome IS NOT NULL")
    with op.batch_alter_table("decision_answer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("concerns", _JSON, nullable=True))
    op.create_table(
        "decision_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["decision.id"],
            name=op.f("fk_decision_item_decision_id_decision"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decision_item")),
        sa.UniqueConstraint("decision_id", "key", name=op.f("uq_decision_item_decision_id")),
    )


def downgrade() -> None:
    op.drop_table("decision_item")
    with op.batch_alter_table("decision_answer", schema=None) as batch_op:
        batch_op.drop_column("concerns")
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_decision_followed_by_id_decision"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_decision_followed_by_id"))
        batch_op.drop_column("followed_by_id")
        batch_op.drop_column("final_outcome")
