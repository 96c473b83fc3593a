"""the Healthcare Leadership Model self-assessment: a member's sittings and their levels

Revision ID: 0024
Revises: 0026
Create Date: 2026-12-02

``self_assessment``: one sitting by one member, when, for which mentorship (start or end; none
when taken by choice). ``self_assessment_rating``: its level (1-4) for each of the nine
dimensions.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0024"
down_revision = "0026"
branch_labels = None
depends_on = None

# The model's dimensions when this revision was written (frozen here).
DIMENSIONS = (
    "inspiring-shared-purpose",
    "leading-with-care",
    "evaluating-information",
    "connecting-our-service",
    "sharing-the-vision",
    "engaging-the-team",
    "holding-to-account",
    "developing-capability",
    "influencing-for-results",
)


def upgrade() -> None:
    op.create_table(
        "self_assessment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("mentorship_id", sa.Integer(), nullable=True),
        sa.Column("occasion", sa.String(length=10), nullable=False),
        sa.Column("taken_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "occasion IN ('start', 'end', 'own_choice')", name="ck_self_assessment_occasion"
        ),
        sa.CheckConstraint(
            "occasion <> 'own_choice' OR mentorship_id IS NULL",
            name="ck_self_assessment_own_choice",
        ),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["mentorship_id"], ["mentorship.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("self_assessment", schema=None) as batch_op:
        batch_op.create_index("ix_self_assessment_member_id", ["member_id"], unique=False)
        batch_op.create_index("ix_self_assessment_mentorship_id", ["mentorship_id"], unique=False)
        batch_op.create_index(
            "uq_self_assessment_occasion", ["member_id", "mentorship_id", "occasion"], unique=True
        )
    quoted = ", ".join(f"'{d}'" for d in DIMENSIONS)
    op.create_table(
        "self_assessment_rating",
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("dimension", sa.String(length=40), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.CheckConstraint(f"dimension IN ({quoted})", name="ck_self_assessment_rating_dimension"),
        sa.CheckConstraint("level BETWEEN 1 AND 4", name="ck_self_assessment_rating_level"),
        sa.ForeignKeyConstraint(["assessment_id"], ["self_assessment.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("assessment_id", "dimension"),
    )


def downgrade() -> None:
    op.drop_table("self_assessment_rating")
    with op.batch_alter_table("self_assessment", schema=None) as batch_op:
        batch_op.drop_index("uq_self_assessment_occasion")
        batch_op.drop_index("ix_self_assessment_mentorship_id")
        batch_op.drop_index("ix_self_assessment_member_id")
    op.drop_table("self_assessment")
