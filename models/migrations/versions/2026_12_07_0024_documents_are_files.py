"""documents are files: uploaded before their procedure, frozen with a Board decision

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 21:00:00.000000

A document may be uploaded before the procedure it goes with exists (its instance is then
empty until a start attaches it), so each row says which folder its file is in. A Board
decision keeps one more hash, over its text and each document's SHA-256 (see
workflows/board/frozen.py). Records made before have documents that are names, not files:
only those without any document get the new hash (of their text alone); the others keep it
empty, and their text's hash means what it always meant.
"""

from __future__ import annotations

import hashlib
import json

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def _frozen(text_sha256: str) -> str:
    # The definition in workflows/board/frozen.py, for a decision without documents.
    return hashlib.sha256(f"{text_sha256}\n".encode("ascii")).hexdigest()


def upgrade() -> None:
    with op.batch_alter_table("document") as batch_op:
        batch_op.add_column(sa.Column("stored_in", sa.String(16), nullable=True))
    op.execute("UPDATE document SET stored_in = CAST(instance_id AS VARCHAR(16))")
    with op.batch_alter_table("document") as batch_op:
        batch_op.alter_column("stored_in", existing_type=sa.String(16), nullable=False)
        batch_op.alter_column("instance_id", existing_type=sa.Integer(), nullable=True)
    with op.batch_alter_table("decision") as batch_op:
        batch_op.add_column(sa.Column("frozen_sha256", sa.String(64), nullable=True))
    bind = op.get_bind()
    decision = sa.table(
        "decision",
        sa.column("id", sa.Integer),
        sa.column("text_sha256", sa.String),
        sa.column("documents", sa.Text),
        sa.column("frozen_sha256", sa.String),
    )
    rows = bind.execute(sa.select(decision.c.id, decision.c.text_sha256, decision.c.documents))
    for decision_id, text_sha256, documents in rows.all():
        listed = json.loads(documents) if isinstance(documents, str) else documents
        if listed:
            continue  # named documents: no file, so no hash can cover them
        bind.execute(
            decision.update()
            .where(decision.c.id == decision_id)
            .values(frozen_sha256=_frozen(text_sha256))
        )


def downgrade() -> None:
    with op.batch_alter_table("decision") as batch_op:
        batch_op.drop_column("frozen_sha256")
    # Documents not attached to any procedure have nowhere to go in the older shape.
    op.execute("DELETE FROM document WHERE instance_id IS NULL")
    with op.batch_alter_table("document") as batch_op:
        batch_op.alter_column("instance_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("stored_in")
