"""outbox notices recurring starts scheduler passes

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 22:45:07.853436
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice")),
        sa.UniqueConstraint("key", name=op.f("uq_notice_key")),
    )
    op.create_table(
        "scheduler_pass",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=128), nullable=False),
        sa.Column("started_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("fired", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("other", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduler_pass")),
    )
    with op.batch_alter_table("scheduler_pass", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_scheduler_pass_started_at"), ["started_at"], unique=False
        )

    op.create_table(
        "outbox_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("recipient", sa.String(length=255), nullable=True),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("digest_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["digest_id"],
            ["outbox_message.id"],
            name=op.f("fk_outbox_message_digest_id_outbox_message"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["process_instance.id"],
            name=op.f("fk_outbox_message_instance_id_process_instance"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_outbox_message_user_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_message")),
    )
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbox_message_status"), ["status", "next_attempt_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_outbox_message_user_id"), ["user_id", "status"], unique=False
        )

    op.create_table(
        "recurring_start",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("schedule", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=32), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.Column("started_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["process_instance.id"],
            name=op.f("fk_recurring_start_instance_id_process_instance"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recurring_start")),
        sa.UniqueConstraint("schedule", "period", name=op.f("uq_recurring_start_schedule")),
    )
    with op.batch_alter_table("human_task", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("optional", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("mail_mode", sa.String(length=16), server_default="immediate", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("human_task", schema=None) as batch_op:
        batch_op.drop_column("optional")

    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("mail_mode")

    op.drop_table("recurring_start")
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_message_user_id"))
        batch_op.drop_index(batch_op.f("ix_outbox_message_status"))

    op.drop_table("outbox_message")
    with op.batch_alter_table("scheduler_pass", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scheduler_pass_started_at"))

    op.drop_table("scheduler_pass")
    op.drop_table("notice")
