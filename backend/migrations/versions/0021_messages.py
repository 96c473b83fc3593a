"""messages: threads per mentorship or circle, messages, read state, privacy, reports

Revision ID: 0021
Revises: 0023
Create Date: 2026-12-02

A ``message_thread`` belongs to exactly one mentorship or one peer circle (a CHECK); a
mentoring group can be added later as one more nullable column in that CHECK. Messages keep
their row when the author erases their account (body emptied, status ``erased``), so the
thread stays coherent for the other side.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0021"
down_revision = "0023"
branch_labels = None
depends_on = None

ONE_OWNER = (
    "(CASE WHEN mentorship_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN circle_id IS NULL THEN 0 ELSE 1 END) = 1"
)


def upgrade() -> None:
    op.create_table(
        "message_thread",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mentorship_id", sa.Integer(), nullable=True),
        sa.Column("circle_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("last_message_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.CheckConstraint(ONE_OWNER, name="ck_message_thread_one_owner"),
        sa.ForeignKeyConstraint(["mentorship_id"], ["mentorship.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["circle_id"], ["community_circle.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("mentorship_id"),
        sa.UniqueConstraint("circle_id"),
    )
    op.create_index(
        "ix_message_thread_last_message_at", "message_thread", ["last_message_at"], unique=False
    )
    op.create_table(
        "message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("reply_to_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=10), server_default="visible", nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.CheckConstraint("status IN ('visible', 'hidden', 'erased')", name="ck_message_status"),
        sa.ForeignKeyConstraint(["thread_id"], ["message_thread.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["author_id"], ["member.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["reply_to_id"], ["message.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_message_thread_id", "message", ["thread_id", "id"], unique=False)
    op.create_index(
        "ix_message_author_created", "message", ["author_id", "created_at"], unique=False
    )
    op.create_table(
        "message_read_state",
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("last_read_message_id", sa.Integer(), nullable=False),
        sa.Column("notified_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["thread_id"], ["message_thread.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("thread_id", "member_id"),
    )
    op.create_index(
        "ix_message_read_state_member_id", "message_read_state", ["member_id"], unique=False
    )
    op.create_table(
        "message_preference",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("show_text_in_emails", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("member_id"),
    )
    op.create_table(
        "message_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("reporter_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), server_default="open", nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("resolved_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("status IN ('open', 'resolved')", name="ck_message_report_status"),
        sa.ForeignKeyConstraint(["message_id"], ["message.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["reporter_id"], ["member.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["resolved_by_id"], ["member.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_message_report_message_id", "message_report", ["message_id"])
    op.create_index("ix_message_report_reporter_id", "message_report", ["reporter_id"])
    op.create_index("ix_message_report_resolved_by_id", "message_report", ["resolved_by_id"])
    op.create_index(
        "uq_message_report_open",
        "message_report",
        ["reporter_id", "message_id"],
        unique=True,
        sqlite_where=sa.text("status = 'open'"),
        postgresql_where=sa.text("status = 'open'"),
    )


def downgrade() -> None:
    op.drop_table("message_report")
    op.drop_table("message_preference")
    op.drop_table("message_read_state")
    op.drop_table("message")
    op.drop_table("message_thread")
