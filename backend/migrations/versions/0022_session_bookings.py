"""sessions booked, not only logged: proposals, bookings and their calendar invitations

Revision ID: 0022
Revises: 0019
Create Date: 2026-12-02

``session_booking``: a session being arranged by a mentorship's pair, from the times one side
proposed to the one the other picked (then rescheduled or cancelled, ``sequence`` counting the
changes for calendars), with the day-before reminder's claim and the session logged after it.
``session_time_option``: the (up to three) times proposed. ``outbox_email`` gains the
iCalendar invitation sent with an email and its METHOD.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0022"
down_revision = "0019"
branch_labels = None
depends_on = None

# Frozen here as they were when this revision was written.
STATUSES = ("proposed", "booked", "declined", "cancelled")
FORMATS = ("video", "in_person", "phone")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString
    when = sqlmodel.sql.sqltypes.UTCDateTime
    op.create_table(
        "session_booking",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mentorship_id", sa.Integer(), nullable=False),
        sa.Column("proposed_by_id", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), server_default="", nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("starts_at", when(), nullable=True),
        sa.Column("duration_minutes", sa.Integer(), nullable=True),
        sa.Column("format", text(length=10), nullable=True),
        sa.Column("location", text(length=300), nullable=False),
        sa.Column("video_link", text(length=500), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("created_at", when(), nullable=False),
        sa.Column("updated_at", when(), nullable=False),
        sa.Column("booked_at", when(), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("close_reason", text(length=1000), nullable=False),
        sa.Column("reminder_sent_at", when(), nullable=True),
        sa.Column("logged_session_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(_in("status", STATUSES), name="ck_session_booking_status"),
        sa.CheckConstraint(
            "duration_minutes IS NULL OR duration_minutes BETWEEN 15 AND 180",
            name="ck_session_booking_duration",
        ),
        sa.ForeignKeyConstraint(["mentorship_id"], ["mentorship.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["proposed_by_id"], ["member.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["closed_by_id"], ["member.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(
            ["logged_session_id"], ["mentoring_session.id"], ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("session_booking", schema=None) as batch_op:
        batch_op.create_index("ix_session_booking_mentorship_id", ["mentorship_id"])
        batch_op.create_index("ix_session_booking_proposed_by_id", ["proposed_by_id"])
        batch_op.create_index("ix_session_booking_closed_by_id", ["closed_by_id"])
        batch_op.create_index(
            "ix_session_booking_reminder", ["status", "reminder_sent_at", "starts_at"]
        )
    op.create_table(
        "session_time_option",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", when(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=10), nullable=False),
        sa.Column("location", text(length=300), nullable=False),
        sa.Column("video_link", text(length=500), nullable=False),
        sa.CheckConstraint(_in("format", FORMATS), name="ck_session_time_option_format"),
        sa.CheckConstraint(
            "duration_minutes BETWEEN 15 AND 180", name="ck_session_time_option_duration"
        ),
        sa.ForeignKeyConstraint(["booking_id"], ["session_booking.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("session_time_option", schema=None) as batch_op:
        batch_op.create_index("ix_session_time_option_booking_id", ["booking_id"])
    with op.batch_alter_table("outbox_email", schema=None) as batch_op:
        batch_op.add_column(sa.Column("calendar_ics", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("calendar_method", text(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox_email", schema=None) as batch_op:
        batch_op.drop_column("calendar_method")
        batch_op.drop_column("calendar_ics")
    with op.batch_alter_table("session_time_option", schema=None) as batch_op:
        batch_op.drop_index("ix_session_time_option_booking_id")
    op.drop_table("session_time_option")
    with op.batch_alter_table("session_booking", schema=None) as batch_op:
        batch_op.drop_index("ix_session_booking_reminder")
        batch_op.drop_index("ix_session_booking_closed_by_id")
        batch_op.drop_index("ix_session_booking_proposed_by_id")
        batch_op.drop_index("ix_session_booking_mentorship_id")
    op.drop_table("session_booking")
