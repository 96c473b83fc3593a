"""widening access as self-service: a member's own claim, with its reason category

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01

``widening_access_claim``: one row per member who asked for widening-access priority, with
the reason category and the consent (wording version and when). The matcher and programmes
see only a yes/no flag; the category is the member's.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

# The vocabulary's widening-access categories when this revision was written (frozen here).
CATEGORIES = (
    "first-in-family-into-management",
    "bands-2-to-4",
    "under-represented-ethnic-group",
    "disabled",
    "lgbtq-plus",
    "career-break-or-caring",
    "other-under-represented-group",
)


def upgrade() -> None:
    quoted = ", ".join(f"'{c}'" for c in CATEGORIES)
    op.create_table(
        "widening_access_claim",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("wording_version", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("consented_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.CheckConstraint(f"category IN ({quoted})", name="ck_widening_access_claim_category"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("member_id"),
    )
    with op.batch_alter_table("widening_access_claim", schema=None) as batch_op:
        batch_op.create_index("ix_widening_access_claim_category", ["category"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("widening_access_claim", schema=None) as batch_op:
        batch_op.drop_index("ix_widening_access_claim_category")
    op.drop_table("widening_access_claim")
