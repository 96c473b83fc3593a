"""Mentoring tables: requests, mentorships, logged sessions and end-of-mentorship feedback;
mentoring groups (group mentoring programmes) and their group sessions."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer, String, Text, text
from sqlmodel import Field, SQLModel

from backend.db import utcnow
from backend.sqltypes import one_of

REQUEST_STATUSES: tuple[str, ...] = (
    "open",
    "accepted",
    "declined",
    "withdrawn",  # by the mentee, or automatically when another request was accepted
    "expired",  # unanswered for too long
    "released",  # the mentor paused mentoring while it was open
)
# Why an open request closed other than by the mentor's answer (``MentorRequest.closed_reason``).
REQUEST_CLOSED_REASONS: tuple[str, ...] = (
    "by_mentee",  # the mentee withdrew it
    "no_answer",  # the mentor did not answer in time (status expired)
    "mentored_elsewhere",  # the mentee started a mentorship another way
    "mentee_inactive",  # the mentee's account was suspended or closed
    "mentor_unavailable",  # the mentor paused mentoring or left (status released)
    "programme_ended",  # its programme ended while it was open (status expired)
)
MENTORSHIP_STATUSES: tuple[str, ...] = ("active", "completed", "ended_early")
GROUP_STATUSES: tuple[str, ...] = ("active", "closed")
MAX_OPEN_REQUESTS = 3
GOAL_STATUSES: tuple[str, ...] = ("open", "achieved", "dropped")
# Why a mentorship ended early, as a category organisers can count (the words stay free text).
END_CATEGORIES: tuple[str, ...] = (
    "goals_met_early",
    "no_time",
    "not_a_good_fit",
    "changed_job",
    "mentor_unavailable",
    "other",
)
CHECK_IN_ROLES: tuple[str, ...] = ("mentor", "mentee")


def _member_fk(*, nullable: bool = False, ondelete: str = "CASCADE") -> Column:
    return Column(
        Integer, ForeignKey("member.id", ondelete=ondelete), nullable=nullable, index=True
    )


class MentorRequest(SQLModel, table=True):
    """A mentee asks a mentor; the mentor accepts or declines, or it expires."""

    __tablename__ = "mentor_request"
    __table_args__ = (
        one_of("status", REQUEST_STATUSES, name="ck_mentor_request_status"),
        one_of(
            "closed_reason",
            REQUEST_CLOSED_REASONS,
            name="ck_mentor_request_closed_reason",
            nullable=True,
        ),
        CheckConstraint("mentee_id <> mentor_id", name="ck_mentor_request_not_self"),
        # Never two open requests from one mentee to one mentor, however requests race.
        Index(
            "uq_mentor_request_open_pair",
            "mentee_id",
            "mentor_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
        # A retried mutation with the same key creates nothing new.
        Index("uq_mentor_request_idempotency", "mentee_id", "idempotency_key", unique=True),
    )

    id: int = Field(default=None, primary_key=True)
    mentee_id: int = Field(sa_column=_member_fk())
    mentor_id: int = Field(sa_column=_member_fk())
    message: str = Field(sa_column=Column(Text, nullable=False))
    # The programme the mentorship would belong to (the default programme for open requests).
    programme_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("programme.id", ondelete="RESTRICT"), nullable=False, index=True
        )
    )
    skills: str = Field(default="", max_length=1000)  # ';'-separated skill ids
    status: str = Field(default="open", sa_column=Column(String(10), nullable=False, index=True))
    decline_reason: str = Field(default="", max_length=1000)
    closed_reason: str | None = Field(default=None, max_length=20)
    idempotency_key: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)
    responded_at: datetime | None = None
    nudged_at: datetime | None = None

    @property
    def skill_ids(self) -> list[str]:
        """The skills the mentee wants to work on."""
        return [s for s in self.skills.split(";") if s]


class Mentorship(SQLModel, table=True):
    """A mentor and a mentee working together, with their agreement."""

    __tablename__ = "mentorship"
    __table_args__ = (
        one_of("status", MENTORSHIP_STATUSES, name="ck_mentorship_status"),
        one_of("end_category", END_CATEGORIES, name="ck_mentorship_end_category", nullable=True),
        CheckConstraint("mentee_id <> mentor_id", name="ck_mentorship_not_self"),
        CheckConstraint("planned_months BETWEEN 1 AND 24", name="ck_mentorship_planned_months"),
        Index(
            "uq_mentorship_active_pair",
            "mentee_id",
            "mentor_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
        # One mentor at a time in a programme: never two active mentorships of one mentee in
        # one programme, whichever path (a request, a round's offer) started them.
        Index(
            "uq_mentorship_active_mentee",
            "mentee_id",
            "programme_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: int = Field(default=None, primary_key=True)
    mentor_id: int | None = Field(
        default=None, sa_column=_member_fk(nullable=True, ondelete="SET NULL")
    )
    mentee_id: int | None = Field(
        default=None, sa_column=_member_fk(nullable=True, ondelete="SET NULL")
    )
    request_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("mentor_request.id", ondelete="SET NULL"), nullable=True
        ),
    )
    status: str = Field(default="active", sa_column=Column(String(12), nullable=False, index=True))
    programme_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("programme.id", ondelete="RESTRICT"), nullable=False, index=True
        )
    )
    # Group mentoring: the group this mentee's mentorship belongs to (each mentee keeps their
    # own mentorship row, so the lifecycle and its indexes hold for groups too).
    group_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer,
            ForeignKey("mentoring_group.id", ondelete="SET NULL"),
            nullable=True,
            index=True,
        ),
    )
    # Deprecated: goals are tracked rows (MentorshipGoal) since migration 0023, which moved
    # this text into them; kept empty for a release so older clients do not break.
    goals: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    meeting_rhythm: str = Field(default="", max_length=200)
    planned_months: int = Field(default=6)
    started_at: datetime = Field(default_factory=utcnow)
    ended_at: datetime | None = None
    ended_by_id: int | None = Field(
        default=None, sa_column=_member_fk(nullable=True, ondelete="SET NULL")
    )
    end_reason: str = Field(default="", max_length=1000)
    # Why it ended early, one of END_CATEGORIES (None: completed, or ended before categories).
    end_category: str | None = Field(default=None, max_length=30)
    # When both sides were last nudged because the pair had gone quiet: once per quiet spell
    # (a session after this starts a new spell).
    quiet_nudged_at: datetime | None = None


class MentoringSession(SQLModel, table=True):
    """One meeting of a mentorship; notes are private to the pair."""

    __tablename__ = "mentoring_session"
    __table_args__ = (
        CheckConstraint("duration_minutes BETWEEN 5 AND 480", name="ck_mentoring_session_duration"),
    )

    id: int = Field(default=None, primary_key=True)
    mentorship_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("mentorship.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    held_on: date
    duration_minutes: int
    notes: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    logged_by_id: int | None = Field(
        default=None, sa_column=_member_fk(nullable=True, ondelete="SET NULL")
    )
    created_at: datetime = Field(default_factory=utcnow)


class MentorshipFeedback(SQLModel, table=True):
    """Each side's rating and words at the end of a mentorship (they feed the matcher)."""

    __tablename__ = "mentorship_feedback"
    __table_args__ = (
        CheckConstraint("rating BETWEEN 1 AND 5", name="ck_mentorship_feedback_rating"),
        Index("uq_mentorship_feedback_author", "mentorship_id", "author_role", unique=True),
        one_of("author_role", ("mentor", "mentee"), name="ck_mentorship_feedback_role"),
    )

    id: int = Field(default=None, primary_key=True)
    mentorship_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("mentorship.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    author_role: str = Field(sa_column=Column(String(6), nullable=False))
    rating: int
    text: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    created_at: datetime = Field(default_factory=utcnow)


BOOKING_STATUSES: tuple[str, ...] = (
    "proposed",  # times offered, waiting for the other side to pick one
    "booked",  # a time picked: the session is in both calendars
    "declined",  # the other side turned every time down (perhaps proposing others)
    "cancelled",  # withdrawn before a pick, or a booked session called off
)
SESSION_FORMATS: tuple[str, ...] = ("video", "in_person", "phone")


class SessionBooking(SQLModel, table=True):
    """A session being arranged: times proposed by one side, then one picked and booked.

    One row from proposal to the meeting itself, so its calendar event keeps one UID; each
    change (a new time, a cancellation) raises ``sequence`` for the calendars to follow.
    """

    __tablename__ = "session_booking"
    __table_args__ = (
        one_of("status", BOOKING_STATUSES, name="ck_session_booking_status"),
        CheckConstraint(
            "duration_minutes IS NULL OR duration_minutes BETWEEN 15 AND 180",
            name="ck_session_booking_duration",
        ),
        Index("ix_session_booking_reminder", "status", "reminder_sent_at", "starts_at"),
    )

    id: int = Field(default=None, primary_key=True)
    mentorship_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("mentorship.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    proposed_by_id: int | None = Field(
        default=None, sa_column=_member_fk(nullable=True, ondelete="SET NULL")
    )
    message: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    status: str = Field(default="proposed", sa_column=Column(String(10), nullable=False))
    # The time picked (UTC), copied from the option, and changed when rescheduled.
    starts_at: datetime | None = None
    duration_minutes: int | None = None
    format: str | None = Field(default=None, max_length=10)
    location: str = Field(default="", max_length=300)
    video_link: str = Field(default="", max_length=500)
    sequence: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    booked_at: datetime | None = None
    closed_by_id: int | None = Field(
        default=None, sa_column=_member_fk(nullable=True, ondelete="SET NULL")
    )
    close_reason: str = Field(default="", max_length=1000)
    reminder_sent_at: datetime | None = None
    logged_session_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("mentoring_session.id", ondelete="SET NULL"), nullable=True
        ),
    )


class SessionTimeOption(SQLModel, table=True):
    """One of the (up to three) times proposed for a booking."""

    __tablename__ = "session_time_option"
    __table_args__ = (
        one_of("format", SESSION_FORMATS, name="ck_session_time_option_format"),
        CheckConstraint(
            "duration_minutes BETWEEN 15 AND 180", name="ck_session_time_option_duration"
        ),
    )

    id: int = Field(default=None, primary_key=True)
    booking_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("session_booking.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    starts_at: datetime
    duration_minutes: int
    format: str = Field(sa_column=Column(String(10), nullable=False))
    location: str = Field(default="", max_length=300)
    video_link: str = Field(default="", max_length=500)


class MentoringGroup(SQLModel, table=True):
    """One mentor and a group of mentees in a group mentoring programme (formed by a round)."""

    __tablename__ = "mentoring_group"
    __table_args__ = (
        one_of("status", GROUP_STATUSES, name="ck_mentoring_group_status"),
        # One active group per mentor per programme: a round adds to it rather than split it.
        Index(
            "uq_mentoring_group_active_mentor",
            "programme_id",
            "mentor_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: int = Field(default=None, primary_key=True)
    programme_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("programme.id", ondelete="RESTRICT"), nullable=False, index=True
        )
    )
    mentor_id: int | None = Field(
        default=None, sa_column=_member_fk(nullable=True, ondelete="SET NULL")
    )
    status: str = Field(default="active", sa_column=Column(String(10), nullable=False))
    name: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow)


class GroupSession(SQLModel, table=True):
    """One meeting of a mentoring group; its notes are shared with the group's members."""

    __tablename__ = "group_session"
    __table_args__ = (
        CheckConstraint("duration_minutes BETWEEN 5 AND 480", name="ck_group_session_duration"),
    )

    id: int = Field(default=None, primary_key=True)
    group_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("mentoring_group.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    held_on: date
    duration_minutes: int
    notes: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    logged_by_id: int | None = Field(
        default=None, sa_column=_member_fk(nullable=True, ondelete="SET NULL")
    )
    created_at: datetime = Field(default_factory=utcnow)


class GroupSessionAttendance(SQLModel, table=True):
    """Who came to a group session."""

    __tablename__ = "group_session_attendance"

    session_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("group_session.id", ondelete="CASCADE"), primary_key=True
        )
    )
    member_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("member.id", ondelete="CASCADE"), primary_key=True, index=True
        )
    )


# Goals, check-ins and relationship health (issue 13) ------------------------------------------


class MentorshipGoal(SQLModel, table=True):
    """One tracked goal of a mentorship: what, by when, how we'll know; read by the pair only."""

    __tablename__ = "mentorship_goal"
    __table_args__ = (one_of("status", GOAL_STATUSES, name="ck_mentorship_goal_status"),)

    id: int = Field(default=None, primary_key=True)
    mentorship_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("mentorship.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    title: str = Field(sa_column=Column(Text, nullable=False))
    due_on: date | None = None
    measure: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    status: str = Field(
        default="open", sa_column=Column(String(10), nullable=False, server_default="open")
    )
    created_by_id: int | None = Field(
        default=None, sa_column=_member_fk(nullable=True, ondelete="SET NULL")
    )
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class GoalNote(SQLModel, table=True):
    """A dated progress note on a goal, by either side of the pair."""

    __tablename__ = "goal_note"

    id: int = Field(default=None, primary_key=True)
    goal_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("mentorship_goal.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    author_id: int | None = Field(
        default=None, sa_column=_member_fk(nullable=True, ondelete="SET NULL")
    )
    text: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class CheckIn(SQLModel, table=True):
    """A monthly "How is it going?" to one side of an active mentorship, and their answer.

    Private to the answerer: organisers see scores only in aggregates (and a low score on the
    needs-attention list); the words only when ``shared_with_organisers`` is ticked.
    ``period`` counts the months since the mentorship started (1, 2, ...): one check-in per
    side per period, however many workers race to create it.
    """

    __tablename__ = "check_in"
    __table_args__ = (
        one_of("role", CHECK_IN_ROLES, name="ck_check_in_role"),
        CheckConstraint("score IS NULL OR score BETWEEN 1 AND 5", name="ck_check_in_score"),
        Index("uq_check_in_period", "mentorship_id", "member_id", "period", unique=True),
    )

    id: int = Field(default=None, primary_key=True)
    mentorship_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("mentorship.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    member_id: int = Field(sa_column=_member_fk())
    role: str = Field(sa_column=Column(String(6), nullable=False))
    period: int
    created_at: datetime = Field(default_factory=utcnow)
    notified_at: datetime | None = None
    answered_at: datetime | None = None
    score: int | None = None
    comment: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    shared_with_organisers: bool = Field(default=False)
