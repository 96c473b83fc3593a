"""programme types: mentoring groups and group sessions; one open offer per mentee per programme

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-02

- ``mentoring_group`` (one mentor and a group of mentees in a group mentoring programme, one
  active group per mentor per programme), ``mentorship.group_id`` (each mentee keeps their own
  mentorship), ``group_session`` and ``group_session_attendance``.
- ``match_proposal.programme_id`` (the round's programme, backfilled) and the one-open-offer
  index ``uq_match_proposal_open_mentee`` on (mentee, programme) instead of the mentee alone.
  Downgrade withdraws all but the earliest open offer of a mentee with several.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

OFFERED = sa.text("status = 'offered'")
ACTIVE = sa.text("status = 'active'")


def upgrade() -> None:
    op.create_table(
        "mentoring_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("mentor_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.CheckConstraint("status IN ('active', 'closed')", name="ck_mentoring_group_status"),
        sa.ForeignKeyConstraint(["programme_id"], ["programme.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["mentor_id"], ["member.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("mentoring_group", schema=None) as batch_op:
        batch_op.create_index("ix_mentoring_group_programme_id", ["programme_id"], unique=False)
        batch_op.create_index("ix_mentoring_group_mentor_id", ["mentor_id"], unique=False)
        batch_op.create_index(
            "uq_mentoring_group_active_mentor",
            ["programme_id", "mentor_id"],
            unique=True,
            sqlite_where=ACTIVE,
            postgresql_where=ACTIVE,
        )
    op.create_table(
        "group_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("notes", sa.Text(), server_default="", nullable=False),
        sa.Column("logged_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.CheckConstraint("duration_minutes BETWEEN 5 AND 480", name="ck_group_session_duration"),
        sa.ForeignKeyConstraint(["group_id"], ["mentoring_group.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["logged_by_id"], ["member.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("group_session", schema=None) as batch_op:
        batch_op.create_index("ix_group_session_group_id", ["group_id"], unique=False)
        batch_op.create_index("ix_group_session_logged_by_id", ["logged_by_id"], unique=False)
    op.create_table(
        "group_session_attendance",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["group_session.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("session_id", "member_id"),
    )
    with op.batch_alter_table("group_session_attendance", schema=None) as batch_op:
        batch_op.create_index("ix_group_session_attendance_member_id", ["member_id"], unique=False)
    with op.batch_alter_table("mentorship", schema=None) as batch_op:
        batch_op.add_column(sa.Column("group_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_mentorship_group_id", ["group_id"], unique=False)
        batch_op.create_foreign_key(
            "fk_mentorship_group_id", "mentoring_group", ["group_id"], ["id"], ondelete="SET NULL"
        )

    with op.batch_alter_table("match_proposal", schema=None) as batch_op:
        batch_op.add_column(sa.Column("programme_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE match_proposal SET programme_id = (SELECT r.programme_id FROM matching_round r "
        "WHERE r.id = match_proposal.round_id)"
    )
    with op.batch_alter_table("match_proposal", schema=None) as batch_op:
        batch_op.alter_column("programme_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_index("ix_match_proposal_programme_id", ["programme_id"], unique=False)
        batch_op.create_foreign_key(
            "fk_match_proposal_programme_id",
            "programme",
            ["programme_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.drop_index("uq_match_proposal_open_mentee")
        batch_op.create_index(
            "uq_match_proposal_open_mentee",
            ["mentee_id", "programme_id"],
            unique=True,
            sqlite_where=OFFERED,
            postgresql_where=OFFERED,
        )


def downgrade() -> None:
    # Before, one open offer per mentee across programmes: keep each mentee's earliest.
    op.execute(
        "UPDATE match_proposal SET status = 'withdrawn', "
        "decline_reason = 'Closed: this member had an earlier open offer.' "
        "WHERE status = 'offered' AND mentee_id IS NOT NULL AND id > (SELECT min(p.id) "
        "FROM match_proposal p WHERE p.mentee_id = match_proposal.mentee_id "
        "AND p.status = 'offered')"
    )
    with op.batch_alter_table("match_proposal", schema=None) as batch_op:
        batch_op.drop_index("uq_match_proposal_open_mentee")
        batch_op.create_index(
            "uq_match_proposal_open_mentee",
            ["mentee_id"],
            unique=True,
            sqlite_where=OFFERED,
            postgresql_where=OFFERED,
        )
        batch_op.drop_constraint("fk_match_proposal_programme_id", type_="foreignkey")
        batch_op.drop_index("ix_match_proposal_programme_id")
        batch_op.drop_column("programme_id")
    with op.batch_alter_table("mentorship", schema=None) as batch_op:
        batch_op.drop_constraint("fk_mentorship_group_id", type_="foreignkey")
        batch_op.drop_index("ix_mentorship_group_id")
        batch_op.drop_column("group_id")
    op.drop_table("group_session_attendance")
    op.drop_table("group_session")
    op.drop_table("mentoring_group")
