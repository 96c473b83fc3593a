"""events: webinars, meetups and learning sets with RSVPs, a waiting list and a page after

Revision ID: 0030_events
Revises: 0029_closed_reason
Create Date: 2026-12-02

``event``: what, when (UTC), where, how many places (``places_taken`` counts them, so a
conditional update gives the last place once), for whom (network, a chapter, a programme,
a band range). ``event_rsvp``: one row per member and event, going, waiting or cancelled,
with the SEQUENCE of their invitation, attendance and the day-before reminder's claim.
``event_link`` and ``event_comment``: slides and the discussion after the event.
``notification.kind`` and ``notification_preference.kind`` may be ``event``.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0030_events"
down_revision = "0029_closed_reason"
branch_labels = None
depends_on = None

# Frozen here as they were when this revision was written.
KINDS = ("webinar", "meetup", "learning_set")
STATUSES = ("scheduled", "cancelled")
RSVP_STATUSES = ("going", "waiting", "cancelled")
BANDS = ("2", "3", "4", "5", "6", "7", "8a", "8b", "8c", "8d", "9", "VSM")
NOTIFICATION_BEFORE = (
    "request_received",
    "request_answered",
    "request_closed",
    "request_reminder",
    "mentorship",
    "round",
    "community",
    "programme",
    "message",
    "session",
    "checkin",
    "survey",
)
NOTIFICATION_AFTER = (*NOTIFICATION_BEFORE, "event")
NOTIFICATION_TABLES = {
    "notification": "ck_notification_kind",
    "notification_preference": "ck_notification_preference_kind",
}


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def _kinds(kinds: tuple[str, ...]) -> None:
    for table, name in NOTIFICATION_TABLES.items():
        with op.batch_alter_table(table, schema=None, recreate="auto") as batch_op:
            batch_op.drop_constraint(name, type_="check")
            batch_op.create_check_constraint(name, _in("kind", kinds))


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString
    when = sqlmodel.sql.sqltypes.UTCDateTime
    op.create_table(
        "event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", text(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("starts_at", when(), nullable=False),
        sa.Column("ends_at", when(), nullable=False),
        sa.Column("location", text(length=300), nullable=False),
        sa.Column("video_link", text(length=500), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("places_taken", sa.Integer(), nullable=False),
        sa.Column("chapter_id", sa.Integer(), nullable=True),
        sa.Column("programme_id", sa.Integer(), nullable=True),
        sa.Column("band_min", sa.String(length=4), nullable=True),
        sa.Column("band_max", sa.String(length=4), nullable=True),
        sa.Column("organiser_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", when(), nullable=False),
        sa.CheckConstraint(_in("kind", KINDS), name="ck_event_kind"),
        sa.CheckConstraint(_in("status", STATUSES), name="ck_event_status"),
        sa.CheckConstraint(
            "band_min IS NULL OR " + _in("band_min", BANDS), name="ck_event_band_min"
        ),
        sa.CheckConstraint(
            "band_max IS NULL OR " + _in("band_max", BANDS), name="ck_event_band_max"
        ),
        sa.CheckConstraint("capacity BETWEEN 1 AND 10000", name="ck_event_capacity"),
        sa.CheckConstraint("places_taken BETWEEN 0 AND capacity", name="ck_event_places_taken"),
        sa.CheckConstraint("ends_at > starts_at", name="ck_event_ends_after_start"),
        sa.ForeignKeyConstraint(["chapter_id"], ["chapter.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["programme_id"], ["programme.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organiser_id"], ["member.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.create_index("ix_event_starts_at", ["starts_at"])
        batch_op.create_index("ix_event_chapter_id", ["chapter_id"])
        batch_op.create_index("ix_event_programme_id", ["programme_id"])
        batch_op.create_index("ix_event_organiser_id", ["organiser_id"])
        batch_op.create_index("ix_event_status", ["status"])
    op.create_table(
        "event_rsvp",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("joined_at", when(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("attended", sa.Boolean(), nullable=True),
        sa.Column("reminder_sent_at", when(), nullable=True),
        sa.CheckConstraint(_in("status", RSVP_STATUSES), name="ck_event_rsvp_status"),
        sa.ForeignKeyConstraint(["event_id"], ["event.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("event_rsvp", schema=None) as batch_op:
        batch_op.create_index("ix_event_rsvp_event_id", ["event_id"])
        batch_op.create_index("ix_event_rsvp_member_id", ["member_id"])
        batch_op.create_index("uq_event_rsvp_member", ["event_id", "member_id"], unique=True)
        batch_op.create_index("ix_event_rsvp_queue", ["event_id", "status", "joined_at"])
    op.create_table(
        "event_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("title", text(length=200), nullable=False),
        sa.Column("url", text(length=500), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", when(), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["event.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["added_by_id"], ["member.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("event_link", schema=None) as batch_op:
        batch_op.create_index("ix_event_link_event_id", ["event_id"])
        batch_op.create_index("ix_event_link_added_by_id", ["added_by_id"])
    op.create_table(
        "event_comment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", when(), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["event.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("event_comment", schema=None) as batch_op:
        batch_op.create_index("ix_event_comment_event_id", ["event_id"])
        batch_op.create_index("ix_event_comment_member_id", ["member_id"])
    _kinds(NOTIFICATION_AFTER)


def downgrade() -> None:
    op.execute("DELETE FROM notification WHERE kind = 'event'")
    op.execute("DELETE FROM notification_preference WHERE kind = 'event'")
    _kinds(NOTIFICATION_BEFORE)
    op.drop_table("event_comment")
    op.drop_table("event_link")
    op.drop_table("event_rsvp")
    op.drop_table("event")
