"""messages within a mentoring group: a thread may belong to a mentoring group

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-02

``message_thread.mentoring_group_id`` (nullable, unique, cascades with the group) and the
CHECK widened so that exactly one of a mentorship, a circle or a mentoring group owns a thread.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

TWO_OWNERS = (
    "(CASE WHEN mentorship_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN circle_id IS NULL THEN 0 ELSE 1 END) = 1"
)
THREE_OWNERS = (
    "(CASE WHEN mentorship_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN circle_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN mentoring_group_id IS NULL THEN 0 ELSE 1 END) = 1"
)


def upgrade() -> None:
    with op.batch_alter_table("message_thread", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mentoring_group_id", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(
            "uq_message_thread_mentoring_group_id", ["mentoring_group_id"]
        )
        batch_op.create_foreign_key(
            "fk_message_thread_mentoring_group_id_mentoring_group",
            "mentoring_group",
            ["mentoring_group_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.drop_constraint("ck_message_thread_one_owner", type_="check")
        batch_op.create_check_constraint("ck_message_thread_one_owner", THREE_OWNERS)


def downgrade() -> None:
    # A group's conversation has no place in the older schema: it goes with the column.
    op.execute("DELETE FROM message_thread WHERE mentoring_group_id IS NOT NULL")
    with op.batch_alter_table("message_thread", schema=None) as batch_op:
        batch_op.drop_constraint("ck_message_thread_one_owner", type_="check")
        batch_op.create_check_constraint("ck_message_thread_one_owner", TWO_OWNERS)
        batch_op.drop_constraint(
            "fk_message_thread_mentoring_group_id_mentoring_group", type_="foreignkey"
        )
        batch_op.drop_constraint("uq_message_thread_mentoring_group_id", type_="unique")
        batch_op.drop_column("mentoring_group_id")
