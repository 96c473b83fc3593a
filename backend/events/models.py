"""Event tables: an event, the RSVPs to it (going, waiting or cancelled), the links shared
after it (slides, recordings) and its discussion."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer, String, Text
from sqlmodel import Field, SQLModel

from backend.db import utcnow
from backend.sqltypes import one_of
from vocabulary import BANDS

EVENT_KINDS: tuple[str, ...] = ("webinar", "meetup", "learning_set")
EVENT_STATUSES: tuple[str, ...] = ("scheduled", "cancelled")
RSVP_STATUSES: tuple[str, ...] = ("going", "waiting", "cancelled")


def _fk(table: str, *, nullable: bool = False, ondelete: str = "CASCADE") -> Column:
    return Column(
        Integer, ForeignKey(f"{table}.id", ondelete=ondelete), nullable=nullable, index=True
    )


class Event(SQLModel, table=True):
    """A webinar, meetup or learning set for an audience: the network, a chapter or a
    programme, optionally only some bands."""

    __tablename__ = "event"
    __table_args__ = (
        one_of("kind", EVENT_KINDS, name="ck_event_kind"),
        one_of("status", EVENT_STATUSES, name="ck_event_status"),
        one_of("band_min", BANDS, name="ck_event_band_min", nullable=True),
        one_of("band_max", BANDS, name="ck_event_band_max", nullable=True),
        CheckConstraint("capacity BETWEEN 1 AND 10000", name="ck_event_capacity"),
        # The conditional update that takes a place can never overfill the event.
        CheckConstraint("places_taken BETWEEN 0 AND capacity", name="ck_event_places_taken"),
        CheckConstraint("ends_at > starts_at", name="ck_event_ends_after_start"),
    )

    id: int = Field(default=None, primary_key=True)
    kind: str = Field(sa_column=Column(String(20), nullable=False))
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    starts_at: datetime = Field(index=True)  # UTC
    ends_at: datetime  # UTC
    location: str = Field(default="", max_length=300)
    video_link: str = Field(default="", max_length=500)
    capacity: int
    places_taken: int = Field(default=0)
    # The audience: a chapter's members, a programme's accepted participants, or (both None)
    # the whole network; then, if given, only bands band_min to band_max.
    chapter_id: int | None = Field(default=None, sa_column=_fk("chapter", nullable=True))
    programme_id: int | None = Field(default=None, sa_column=_fk("programme", nullable=True))
    band_min: str | None = Field(default=None, sa_column=Column(String(4), nullable=True))
    band_max: str | None = Field(default=None, sa_column=Column(String(4), nullable=True))
    organiser_id: int | None = Field(
        default=None, sa_column=_fk("member", nullable=True, ondelete="SET NULL")
    )
    status: str = Field(
        default="scheduled", sa_column=Column(String(10), nullable=False, index=True)
    )
    # Raised on each change of the event, for the invitations' SEQUENCE.
    sequence: int = Field(default=0)
    notes: str = Field(default="", sa_column=Column(Text, nullable=False))  # after the event
    # Set when it is called off: the reason the organiser gave, shown on its page.
    cancel_reason: str = Field(
        default="", sa_column=Column(Text, nullable=False, server_default="")
    )
    cancelled_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class EventRsvp(SQLModel, table=True):
    """One member's answer to one event: going, on the waiting list, or cancelled."""

    __tablename__ = "event_rsvp"
    __table_args__ = (
        one_of("status", RSVP_STATUSES, name="ck_event_rsvp_status"),
        Index("uq_event_rsvp_member", "event_id", "member_id", unique=True),
        Index("ix_event_rsvp_queue", "event_id", "status", "joined_at"),
    )

    id: int = Field(default=None, primary_key=True)
    event_id: int = Field(sa_column=_fk("event"))
    member_id: int = Field(sa_column=_fk("member"))
    status: str = Field(sa_column=Column(String(10), nullable=False))
    # When they last said they would come: the waiting list is in this order.
    joined_at: datetime = Field(default_factory=utcnow)
    # Raised on each invitation or cancellation sent to them, for the SEQUENCE.
    sequence: int = Field(default=0)
    attended: bool | None = None  # recorded by the organiser after the event
    reminder_sent_at: datetime | None = None


class EventLink(SQLModel, table=True):
    """A link shared after the event: slides, a recording, a reading."""

    __tablename__ = "event_link"

    id: int = Field(default=None, primary_key=True)
    event_id: int = Field(sa_column=_fk("event"))
    title: str = Field(max_length=200)
    url: str = Field(max_length=500)
    added_by_id: int | None = Field(
        default=None, sa_column=_fk("member", nullable=True, ondelete="SET NULL")
    )
    created_at: datetime = Field(default_factory=utcnow)


class EventComment(SQLModel, table=True):
    """A comment in the discussion after the event."""

    __tablename__ = "event_comment"

    id: int = Field(default=None, primary_key=True)
    event_id: int = Field(sa_column=_fk("event"))
    member_id: int = Field(sa_column=_fk("member"))
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class EventSkill(SQLModel, table=True):
    """A skill of the framework that an event develops (it shows on that skill's page)."""

    __tablename__ = "event_skill"

    event_id: int = Field(
        sa_column=Column(Integer, ForeignKey("event.id", ondelete="CASCADE"), primary_key=True)
    )
    skill_id: str = Field(
        sa_column=Column(
            String(60), ForeignKey("skill.id", ondelete="CASCADE"), primary_key=True, index=True
        )
    )
