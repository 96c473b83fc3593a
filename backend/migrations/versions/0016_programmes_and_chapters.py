"""programmes and chapters: every mentorship belongs to a programme

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01

Chapters (regional, or an integrated care system) cover regions and organisations; an
``organiser_scope`` row makes a member an organiser of one chapter. Programmes have dates,
eligibility, places, application questions and applications.

Migrated in place: the open, always-on mentoring of before becomes the network's default
programme ("Open mentoring"), and every existing request, round and mentorship belongs to it.
"One mentor at a time" becomes one active mentorship per mentee *per programme*.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

PROGRAMMED = ("matching_round", "mentor_request", "mentorship")
DEFAULT_NAME = "Open mentoring"
DEFAULT_DESCRIPTION = (
    "The network's open mentoring, all year round: find a mentor from another organisation "
    "and ask them, or be matched in a round run by the organisers."
)


def upgrade() -> None:
    op.create_table(
        "chapter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('region', 'integrated-care-system')", name="ck_chapter_kind"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key", name="uq_chapter_key"),
    )
    op.create_table(
        "chapter_organisation",
        sa.Column("chapter_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["chapter_id"], ["chapter.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("chapter_id", "organisation_id"),
    )
    with op.batch_alter_table("chapter_organisation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_chapter_organisation_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "chapter_region",
        sa.Column("chapter_id", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=40), nullable=False),
        sa.CheckConstraint(
            "region IN ('North East and Yorkshire', 'North West', 'Midlands', 'East of England', 'London', 'South East', 'South West')",
            name="ck_chapter_region_region",
        ),
        sa.ForeignKeyConstraint(["chapter_id"], ["chapter.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("chapter_id", "region"),
    )
    with op.batch_alter_table("chapter_region", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chapter_region_region"), ["region"], unique=False)

    op.create_table(
        "organiser_scope",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("chapter_id", sa.Integer(), nullable=False),
        sa.Column("granted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("granted_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["chapter_id"], ["chapter.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["granted_by_id"], ["member.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("member_id", "chapter_id"),
    )
    with op.batch_alter_table("organiser_scope", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_organiser_scope_chapter_id"), ["chapter_id"], unique=False
        )

    op.create_table(
        "programme",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("pairing", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("is_default", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("chapter_id", sa.Integer(), nullable=True),
        sa.Column("applications_open_on", sa.Date(), nullable=True),
        sa.Column("applications_close_on", sa.Date(), nullable=True),
        sa.Column("matching_on", sa.Date(), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("eligible_bands", sa.Text(), server_default="[]", nullable=False),
        sa.Column("eligible_regions", sa.Text(), server_default="[]", nullable=False),
        sa.Column("eligible_role_families", sa.Text(), server_default="[]", nullable=False),
        sa.Column("eligible_professions", sa.Text(), server_default="[]", nullable=False),
        sa.Column("widening_access_only", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("widening_categories", sa.Text(), server_default="[]", nullable=False),
        sa.Column("places", sa.Integer(), nullable=True),
        sa.Column("group_size", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("ended_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.CheckConstraint("pairing IN ('requests', 'round', 'both')", name="ck_programme_pairing"),
        sa.CheckConstraint("status IN ('draft', 'published', 'ended')", name="ck_programme_status"),
        sa.CheckConstraint(
            "type IN ('one-to-one', 'reciprocal', 'group')", name="ck_programme_type"
        ),
        sa.CheckConstraint(
            "group_size IS NULL OR group_size BETWEEN 2 AND 12", name="ck_programme_group_size"
        ),
        sa.CheckConstraint("places IS NULL OR places >= 1", name="ck_programme_places"),
        sa.ForeignKeyConstraint(["chapter_id"], ["chapter.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["created_by_id"], ["member.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("programme", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_programme_chapter_id"), ["chapter_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_programme_status"), ["status"], unique=False)
        batch_op.create_index(
            "uq_programme_default",
            ["is_default"],
            unique=True,
            sqlite_where=sa.text("is_default"),
            postgresql_where=sa.text("is_default"),
        )

    op.create_table(
        "programme_application",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column(
            "decision_message", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False
        ),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.CheckConstraint("role IN ('mentee', 'mentor')", name="ck_programme_application_role"),
        sa.CheckConstraint(
            "status IN ('submitted', 'accepted', 'waitlisted', 'declined', 'withdrawn')",
            name="ck_programme_application_status",
        ),
        sa.ForeignKeyConstraint(["decided_by_id"], ["member.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["programme_id"], ["programme.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("programme_id", "member_id", name="uq_programme_application_member"),
    )
    with op.batch_alter_table("programme_application", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_programme_application_member_id"), ["member_id"], unique=False
        )
        batch_op.create_index(
            "ix_programme_application_status", ["programme_id", "status"], unique=False
        )

    op.create_table(
        "programme_question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("hint", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("choices", sa.Text(), server_default="[]", nullable=False),
        sa.CheckConstraint(
            "kind IN ('short-text', 'long-text', 'single-choice', 'multiple-choice')",
            name="ck_programme_question_kind",
        ),
        sa.ForeignKeyConstraint(["programme_id"], ["programme.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("programme_question", schema=None) as batch_op:
        batch_op.create_index(
            "ix_programme_question_order", ["programme_id", "position"], unique=False
        )

    op.create_table(
        "programme_answer",
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Text(), server_default="", nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"], ["programme_application.id"], ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["question_id"], ["programme_question.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("application_id", "question_id"),
    )
    for table in PROGRAMMED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("programme_id", sa.Integer(), nullable=True))
    default_id = _default_programme()
    for table in PROGRAMMED:
        fill = sa.table(table, sa.column("programme_id"))
        op.execute(fill.update().values(programme_id=default_id))
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("programme_id", existing_type=sa.Integer(), nullable=False)
            batch_op.create_index(f"ix_{table}_programme_id", ["programme_id"], unique=False)
            batch_op.create_foreign_key(
                f"fk_{table}_programme_id",
                "programme",
                ["programme_id"],
                ["id"],
                ondelete="RESTRICT",
            )
    with op.batch_alter_table("mentorship", schema=None) as batch_op:
        batch_op.drop_index("uq_mentorship_active_mentee")
        batch_op.create_index(
            "uq_mentorship_active_mentee",
            ["mentee_id", "programme_id"],
            unique=True,
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )


def _default_programme() -> int:
    """Insert the default programme (the open mentoring of before) and return its id."""
    bind = op.get_bind()
    now = datetime.now(UTC)
    bind.execute(
        sa.text(
            "INSERT INTO programme (name, description, type, pairing, status, is_default, "
            "eligible_bands, eligible_regions, eligible_role_families, eligible_professions, "
            "widening_access_only, widening_categories, created_at, updated_at) VALUES "
            "(:name, :description, 'one-to-one', 'both', 'published', :yes, '[]', '[]', '[]', "
            "'[]', :no, '[]', :now, :now)"
        ).bindparams(
            name=DEFAULT_NAME, description=DEFAULT_DESCRIPTION, yes=True, no=False, now=now
        )
    )
    return int(bind.execute(sa.text("SELECT id FROM programme WHERE is_default")).scalar_one())


def downgrade() -> None:
    with op.batch_alter_table("mentorship", schema=None) as batch_op:
        batch_op.drop_index("uq_mentorship_active_mentee")
    for table in PROGRAMMED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"fk_{table}_programme_id", type_="foreignkey")
            batch_op.drop_index(f"ix_{table}_programme_id")
            batch_op.drop_column("programme_id")
    # Before, one mentor at a time across the network: keep the newest active mentorship of
    # a mentee who had several (one per programme) and close the others as completed.
    op.execute(
        "UPDATE mentorship SET status = 'completed' WHERE status = 'active' AND id NOT IN "
        "(SELECT MAX(id) FROM mentorship WHERE status = 'active' GROUP BY mentee_id)"
    )
    with op.batch_alter_table("mentorship", schema=None) as batch_op:
        batch_op.create_index(
            "uq_mentorship_active_mentee",
            ["mentee_id"],
            unique=True,
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )

    op.drop_table("programme_answer")
    with op.batch_alter_table("programme_question", schema=None) as batch_op:
        batch_op.drop_index("ix_programme_question_order")

    op.drop_table("programme_question")
    with op.batch_alter_table("programme_application", schema=None) as batch_op:
        batch_op.drop_index("ix_programme_application_status")
        batch_op.drop_index(batch_op.f("ix_programme_application_member_id"))

    op.drop_table("programme_application")
    with op.batch_alter_table("programme", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_programme_default",
            sqlite_where=sa.text("is_default"),
            postgresql_where=sa.text("is_default"),
        )
        batch_op.drop_index(batch_op.f("ix_programme_status"))
        batch_op.drop_index(batch_op.f("ix_programme_chapter_id"))

    op.drop_table("programme")
    with op.batch_alter_table("organiser_scope", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organiser_scope_chapter_id"))

    op.drop_table("organiser_scope")
    with op.batch_alter_table("chapter_region", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chapter_region_region"))

    op.drop_table("chapter_region")
    with op.batch_alter_table("chapter_organisation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chapter_organisation_organisation_id"))

    op.drop_table("chapter_organisation")
    op.drop_table("chapter")
