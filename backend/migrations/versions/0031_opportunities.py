"""development opportunities: the catalogue, skills developed, eligibility, saves

Revision ID: 0031_opportunities
Revises: 0030_events
Create Date: 2026-12-02

``opportunity``: one opportunity (kind, provider, cost, format, closing date; network-wide, a
chapter's or one organisation's). ``opportunity_skill``: the framework skills it develops.
``opportunity_eligibility``: who may apply, by band, region, role family or profession (none
of a dimension: open to all). ``opportunity_save``: a member's saved and "I'm interested"
marks, with when the closing reminder went.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0031_opportunities"
down_revision = "0030_events"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "opportunity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("provider", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("cost_pence", sa.Integer(), server_default="0", nullable=False),
        sa.Column("format", sa.String(length=10), nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=False),
        sa.Column("posted_by_id", sa.Integer(), nullable=True),
        sa.Column("chapter_id", sa.Integer(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("withdrawn_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "format IN ('online', 'in-person', 'blended')", name="ck_opportunity_format"
        ),
        sa.CheckConstraint(
            "kind IN ('accredited-programme', 'course', 'shadowing', 'secondment', 'job-swap', 'stretch-project', 'apprenticeship')",
            name="ck_opportunity_kind",
        ),
        sa.CheckConstraint(
            "chapter_id IS NULL OR organisation_id IS NULL", name="ck_opportunity_one_audience"
        ),
        sa.CheckConstraint("cost_pence >= 0", name="ck_opportunity_cost"),
        sa.ForeignKeyConstraint(["chapter_id"], ["chapter.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["posted_by_id"], ["member.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("opportunity", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_opportunity_chapter_id"), ["chapter_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_opportunity_closes_on"), ["closes_on"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_opportunity_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_opportunity_posted_by_id"), ["posted_by_id"], unique=False
        )

    op.create_table(
        "opportunity_eligibility",
        sa.Column("opportunity_id", sa.Integer(), nullable=False),
        sa.Column("dimension", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=60), nullable=False),
        sa.CheckConstraint(
            "dimension IN ('band', 'region', 'role_family', 'profession')",
            name="ck_opportunity_eligibility_dimension",
        ),
        sa.ForeignKeyConstraint(["opportunity_id"], ["opportunity.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("opportunity_id", "dimension", "value"),
    )
    op.create_table(
        "opportunity_save",
        sa.Column("opportunity_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("saved", sa.Boolean(), nullable=False),
        sa.Column("interested", sa.Boolean(), nullable=False),
        sa.Column("saved_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("interested_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("reminded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.CheckConstraint("saved OR interested", name="ck_opportunity_save_marked"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["opportunity_id"], ["opportunity.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("opportunity_id", "member_id"),
    )
    with op.batch_alter_table("opportunity_save", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_opportunity_save_member_id"), ["member_id"], unique=False
        )

    op.create_table(
        "opportunity_skill",
        sa.Column("opportunity_id", sa.Integer(), nullable=False),
        sa.Column("skill_id", sa.String(length=60), nullable=False),
        sa.ForeignKeyConstraint(["opportunity_id"], ["opportunity.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["skill_id"], ["skill.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("opportunity_id", "skill_id"),
    )
    with op.batch_alter_table("opportunity_skill", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_opportunity_skill_skill_id"), ["skill_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("opportunity_skill", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_opportunity_skill_skill_id"))

    op.drop_table("opportunity_skill")
    with op.batch_alter_table("opportunity_save", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_opportunity_save_member_id"))

    op.drop_table("opportunity_save")
    op.drop_table("opportunity_eligibility")
    with op.batch_alter_table("opportunity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_opportunity_posted_by_id"))
        batch_op.drop_index(batch_op.f("ix_opportunity_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_opportunity_closes_on"))
        batch_op.drop_index(batch_op.f("ix_opportunity_chapter_id"))

    op.drop_table("opportunity")
