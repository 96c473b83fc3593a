"""Message tables: threads (one per mentorship, circle or mentoring group), messages, read
state, reports.

A thread belongs to exactly one owner: a mentorship, a peer circle or a mentoring group (one
nullable column each, and the CHECK below); who reads it is ``service._participations``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer, String, Text, text
from sqlmodel import Field, SQLModel

from backend.db import utcnow
from backend.sqltypes import one_of

MESSAGE_STATUSES: tuple[str, ...] = (
    "visible",
    "hidden",  # an organiser hid it after a report
    "erased",  # the author erased their account: the body is gone
)
REPORT_STATUSES: tuple[str, ...] = ("open", "resolved")
MAX_MESSAGE = 5_000
MAX_REASON = 1_000

# Exactly one owner; written so that both databases read it the same way.
ONE_OWNER = (
    "(CASE WHEN mentorship_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN circle_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN mentoring_group_id IS NULL THEN 0 ELSE 1 END) = 1"
)


def _member_fk(*, nullable: bool = False, ondelete: str = "CASCADE") -> Column:
    return Column(
        Integer, ForeignKey("member.id", ondelete=ondelete), nullable=nullable, index=True
    )


class MessageThread(SQLModel, table=True):
    """The conversation of one mentorship, circle or mentoring group (made when first opened)."""

    __tablename__ = "message_thread"
    __table_args__ = (CheckConstraint(ONE_OWNER, name="ck_message_thread_one_owner"),)

    id: int = Field(default=None, primary_key=True)
    mentorship_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer,
            ForeignKey("mentorship.id", ondelete="CASCADE"),
            nullable=True,
            unique=True,
        ),
    )
    circle_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer,
            ForeignKey("community_circle.id", ondelete="CASCADE"),
            nullable=True,
            unique=True,
        ),
    )
    mentoring_group_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer,
            ForeignKey("mentoring_group.id", ondelete="CASCADE"),
            nullable=True,
            unique=True,
        ),
    )
    created_at: datetime = Field(default_factory=utcnow)
    last_message_at: datetime | None = Field(default=None, index=True)


class Message(SQLModel, table=True):
    """One message in a thread, oldest first; plain text with line breaks."""

    __tablename__ = "message"
    __table_args__ = (
        one_of("status", MESSAGE_STATUSES, name="ck_message_status"),
        Index("ix_message_thread_id", "thread_id", "id"),
        Index("ix_message_author_created", "author_id", "created_at"),
    )

    id: int = Field(default=None, primary_key=True)
    thread_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("message_thread.id", ondelete="CASCADE"), nullable=False
        )
    )
    # NULL once the author has left the network (the row stays, its body emptied).
    author_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("member.id", ondelete="SET NULL"), nullable=True),
    )
    body: str = Field(sa_column=Column(Text, nullable=False))
    reply_to_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("message.id", ondelete="SET NULL"), nullable=True),
    )
    status: str = Field(
        default="visible", sa_column=Column(String(10), nullable=False, server_default="visible")
    )
    created_at: datetime = Field(default_factory=utcnow)


class MessageReadState(SQLModel, table=True):
    """How far a member has read a thread, and whether they were told of unread messages."""

    __tablename__ = "message_read_state"

    thread_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("message_thread.id", ondelete="CASCADE"), primary_key=True
        )
    )
    member_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("member.id", ondelete="CASCADE"), primary_key=True, index=True
        )
    )
    last_read_message_id: int = Field(default=0)
    # Set when a notice of unread messages went out; cleared when the member reads the thread,
    # so a burst of messages gives one notice (and at most one email) per thread.
    notified_at: datetime | None = None


class MessagePreference(SQLModel, table=True):
    """A member's privacy choice for message emails (default: never the text)."""

    __tablename__ = "message_preference"

    member_id: int = Field(
        sa_column=Column(Integer, ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    )
    show_text_in_emails: bool = Field(default=False)
    updated_at: datetime = Field(default_factory=utcnow)


class MessageReport(SQLModel, table=True):
    """A member reports a message in their thread; only then may an organiser read it."""

    __tablename__ = "message_report"
    __table_args__ = (
        one_of("status", REPORT_STATUSES, name="ck_message_report_status"),
        # One open report per reporter and message: a double click files one report.
        Index(
            "uq_message_report_open",
            "reporter_id",
            "message_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )

    id: int = Field(default=None, primary_key=True)
    message_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("message.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    reporter_id: int | None = Field(
        default=None, sa_column=_member_fk(nullable=True, ondelete="SET NULL")
    )
    reason: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(
        default="open", sa_column=Column(String(10), nullable=False, server_default="open")
    )
    created_at: datetime = Field(default_factory=utcnow)
    resolved_at: datetime | None = None
    resolved_by_id: int | None = Field(
        default=None, sa_column=_member_fk(nullable=True, ondelete="SET NULL")
    )
