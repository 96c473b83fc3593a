"""Programme tables: a programme, its application questions, applications and answers.

Eligibility lists are JSON arrays of vocabulary values; an empty list means "anyone". Dates are
calendar days in Europe/London. The default programme (``is_default``) is the network's open,
always-on mentoring: members request mentors and organisers run rounds in it as before; there
is exactly one (a partial unique index), created by migration 0016 or on first use.
"""

from __future__ import annotations

import json
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlmodel import Field, SQLModel

from backend.db import utcnow
from backend.sqltypes import one_of

PROGRAMME_TYPES: tuple[str, ...] = ("one-to-one", "reciprocal", "group")
PAIRING_MODES: tuple[str, ...] = ("requests", "round", "both")
PROGRAMME_STATUSES: tuple[str, ...] = ("draft", "published", "ended")
QUESTION_KINDS: tuple[str, ...] = ("short-text", "long-text", "single-choice", "multiple-choice")
APPLICATION_ROLES: tuple[str, ...] = ("mentee", "mentor")
APPLICATION_STATUSES: tuple[str, ...] = (
    "submitted",  # waiting for the organiser
    "accepted",
    "waitlisted",
    "declined",
    "withdrawn",  # by the applicant
)
DEFAULT_PROGRAMME_NAME = "Open mentoring"


def _json_list(raw: str) -> list[str]:
    value = json.loads(raw or "[]")
    return [str(item) for item in value] if isinstance(value, list) else []


class Programme(SQLModel, table=True):
    """A mentoring programme: who may apply, when, how pairs form, how many places."""

    __tablename__ = "programme"
    __table_args__ = (
        one_of("type", PROGRAMME_TYPES, name="ck_programme_type"),
        one_of("pairing", PAIRING_MODES, name="ck_programme_pairing"),
        one_of("status", PROGRAMME_STATUSES, name="ck_programme_status"),
        CheckConstraint("places IS NULL OR places >= 1", name="ck_programme_places"),
        CheckConstraint(
            "group_size IS NULL OR group_size BETWEEN 2 AND 12", name="ck_programme_group_size"
        ),
        # Exactly one default programme, however first uses race.
        Index(
            "uq_programme_default",
            "is_default",
            unique=True,
            sqlite_where=text("is_default"),
            postgresql_where=text("is_default"),
        ),
    )

    id: int = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    type: str = Field(default="one-to-one", sa_column=Column(String(20), nullable=False))
    pairing: str = Field(default="both", sa_column=Column(String(10), nullable=False))
    status: str = Field(default="draft", sa_column=Column(String(10), nullable=False, index=True))
    is_default: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    # None: the whole network; otherwise the chapter whose organisers run it.
    chapter_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("chapter.id", ondelete="RESTRICT"), nullable=True, index=True
        ),
    )
    applications_open_on: date | None = None
    applications_close_on: date | None = None
    matching_on: date | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    # Eligibility: JSON lists of vocabulary values; [] means anyone.
    eligible_bands: str = Field(
        default="[]", sa_column=Column(Text, nullable=False, server_default="[]")
    )
    eligible_regions: str = Field(
        default="[]", sa_column=Column(Text, nullable=False, server_default="[]")
    )
    eligible_role_families: str = Field(
        default="[]", sa_column=Column(Text, nullable=False, server_default="[]")
    )
    eligible_professions: str = Field(
        default="[]", sa_column=Column(Text, nullable=False, server_default="[]")
    )
    widening_access_only: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    # The widening-access reason categories that count in this programme ([]: every one).
    widening_categories: str = Field(
        default="[]", sa_column=Column(Text, nullable=False, server_default="[]")
    )
    places: int | None = None
    group_size: int | None = None
    created_by_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("member.id", ondelete="SET NULL"), nullable=True),
    )
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    # Set when the programme's end closed its mentorships.
    ended_at: datetime | None = None

    @property
    def bands(self) -> list[str]:
        """Eligible bands ([] for any)."""
        return _json_list(self.eligible_bands)

    @property
    def regions(self) -> list[str]:
        """Eligible regions ([] for any)."""
        return _json_list(self.eligible_regions)

    @property
    def role_families(self) -> list[str]:
        """Eligible role families ([] for any)."""
        return _json_list(self.eligible_role_families)

    @property
    def professions(self) -> list[str]:
        """Eligible professions ([] for any)."""
        return _json_list(self.eligible_professions)

    @property
    def widening_category_list(self) -> list[str]:
        """Widening-access categories that count here ([] for every one)."""
        return _json_list(self.widening_categories)


class ProgrammeQuestion(SQLModel, table=True):
    """One question of a programme's application form."""

    __tablename__ = "programme_question"
    __table_args__ = (
        one_of("kind", QUESTION_KINDS, name="ck_programme_question_kind"),
        Index("ix_programme_question_order", "programme_id", "position"),
    )

    id: int = Field(default=None, primary_key=True)
    programme_id: int = Field(
        sa_column=Column(Integer, ForeignKey("programme.id", ondelete="CASCADE"), nullable=False)
    )
    position: int = Field(default=0)
    kind: str = Field(default="short-text", sa_column=Column(String(20), nullable=False))
    text: str = Field(max_length=500)
    hint: str = Field(default="", max_length=500)
    required: bool = Field(default=True)
    # JSON list of the choices, for the choice kinds.
    choices: str = Field(default="[]", sa_column=Column(Text, nullable=False, server_default="[]"))

    @property
    def choice_list(self) -> list[str]:
        """The choices offered ([] for text questions)."""
        return _json_list(self.choices)


class ProgrammeApplication(SQLModel, table=True):
    """A member applies to a programme, as a mentee or a mentor; the organiser decides."""

    __tablename__ = "programme_application"
    __table_args__ = (
        UniqueConstraint("programme_id", "member_id", name="uq_programme_application_member"),
        one_of("role", APPLICATION_ROLES, name="ck_programme_application_role"),
        one_of("status", APPLICATION_STATUSES, name="ck_programme_application_status"),
        Index("ix_programme_application_status", "programme_id", "status"),
    )

    id: int = Field(default=None, primary_key=True)
    programme_id: int = Field(
        sa_column=Column(Integer, ForeignKey("programme.id", ondelete="CASCADE"), nullable=False)
    )
    member_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("member.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    role: str = Field(default="mentee", sa_column=Column(String(10), nullable=False))
    status: str = Field(default="submitted", sa_column=Column(String(12), nullable=False))
    # The organiser's message with the decision (shown to the applicant).
    decision_message: str = Field(default="", max_length=2000)
    decided_by_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("member.id", ondelete="SET NULL"), nullable=True),
    )
    decided_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ProgrammeAnswer(SQLModel, table=True):
    """An applicant's answer to one question (a JSON list for multiple choice)."""

    __tablename__ = "programme_answer"

    application_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("programme_application.id", ondelete="CASCADE"),
            primary_key=True,
        )
    )
    question_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("programme_question.id", ondelete="CASCADE"), primary_key=True
        )
    )
    value: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
