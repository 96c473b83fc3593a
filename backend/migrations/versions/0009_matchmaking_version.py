"""matchmaking version and shared suggestion exposure

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01

One row tells every process which version of the network its fitted suggester must reflect;
a table of decayed suggestion counts per mentor shares exposure control between processes;
an index lets the round review read a page of proposals best score first.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    state = op.create_table(
        "matchmaking_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_matchmaking_state_one_row"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(state, [{"id": 1, "token": uuid.uuid4().hex, "version": 0, "requests": 0}])
    op.create_table(
        "suggestion_exposure",
        sa.Column("mentor_id", sa.Integer(), nullable=False),
        sa.Column("offers", sa.Float(), nullable=False),
        sa.Column("at_request", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["mentor_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("mentor_id"),
    )
    with op.batch_alter_table("suggestion_exposure", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_suggestion_exposure_at_request"), ["at_request"], unique=False
        )

    with op.batch_alter_table("match_proposal", schema=None) as batch_op:
        batch_op.create_index(
            "ix_match_proposal_round_score", ["round_id", "score", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("match_proposal", schema=None) as batch_op:
        batch_op.drop_index("ix_match_proposal_round_score")
    with op.batch_alter_table("suggestion_exposure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_suggestion_exposure_at_request"))
    op.drop_table("suggestion_exposure")
    op.drop_table("matchmaking_state")
