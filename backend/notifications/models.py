"""The email outbox: rows written in the same transaction as the change that causes them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Text
from sqlmodel import Field, SQLModel

from backend.db import utcnow
from backend.sqltypes import one_of


class OutboxEmail(SQLModel, table=True):
    """An email waiting to be sent (or sent: ``sent_at``), retried with back-off on failure."""

    __tablename__ = "outbox_email"

    id: int = Field(default=None, primary_key=True)
    to_address: str = Field(max_length=254, index=True)
    subject: str = Field(max_length=200)
    body_text: str = Field(sa_column=Column(Text, nullable=False))
    kind: str = Field(default="account", max_length=40)
    created_at: datetime = Field(default_factory=utcnow)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(default_factory=utcnow, index=True)
    sent_at: datetime | None = None
    last_error: str | None = Field(default=None, max_length=500)
    # A worker sending this email holds it until then (a lease): others leave it alone, and
    # if that worker dies mid-send the email becomes due again once the lease runs out.
    claimed_until: datetime | None = None
    # An iCalendar invitation sent with the text (a session booked, changed or cancelled), and
    # its METHOD (REQUEST or CANCEL), which the calendar part's content type must repeat.
    calendar_ics: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    calendar_method: str | None = Field(default=None, max_length=10)


NOTIFICATION_KINDS: tuple[str, ...] = (
    "request_received",  # someone asked you to mentor them
    "request_answered",  # your request was accepted or declined
    "request_closed",  # a request expired, was withdrawn or released
    "request_reminder",  # you have a request waiting for an answer
    "mentorship",  # a mentorship started, ended, or had a session logged
    "round",  # a matching round proposed a match to you
    "community",  # peer connect, circles, replies
    "programme",  # an organiser decided on your application to a programme
    "message",  # a message from the other side of a mentorship, a group or a circle
    "session",  # a mentoring session proposed, booked, changed, cancelled or due tomorrow
    "checkin",  # a monthly check-in, or a nudge when a mentorship has gone quiet
    "survey",  # a programme survey waiting for your answers
    "event",  # an event you RSVPed to: invitation, waiting list, cancellation, reminder
    "opportunity",  # an opportunity you saved: closing soon, or withdrawn by its provider
)
DELIVERY_MODES: tuple[str, ...] = ("immediate", "digest", "off")


class Notification(SQLModel, table=True):
    """Something a member should know, shown in the app and, per preference, emailed."""

    __tablename__ = "notification"
    __table_args__ = (
        one_of("kind", NOTIFICATION_KINDS, name="ck_notification_kind"),
        Index("ix_notification_member_unread", "member_id", "read_at"),
    )

    id: int = Field(default=None, primary_key=True)
    member_id: int = Field(
        sa_column=Column(Integer, ForeignKey("member.id", ondelete="CASCADE"), nullable=False)
    )
    kind: str = Field(sa_column=Column(String(20), nullable=False))
    title: str = Field(max_length=200)
    body: str = Field(sa_column=Column(Text, nullable=False, server_default=""))
    link: str = Field(default="", max_length=300)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    read_at: datetime | None = None
    # Set once the notification went out by email, immediately or in a digest.
    emailed_at: datetime | None = None


class NotificationPreference(SQLModel, table=True):
    """How a member wants each kind of notification emailed: immediately, weekly, or not."""

    __tablename__ = "notification_preference"
    __table_args__ = (
        one_of("kind", NOTIFICATION_KINDS, name="ck_notification_preference_kind"),
        one_of("mode", DELIVERY_MODES, name="ck_notification_preference_mode"),
    )

    member_id: int = Field(
        sa_column=Column(Integer, ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    )
    kind: str = Field(sa_column=Column(String(20), primary_key=True))
    mode: str = Field(sa_column=Column(String(10), nullable=False))
