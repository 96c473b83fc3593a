"""Survey tables: a programme's surveys, their questions, invitations, responses and answers.

A survey belongs to a programme and a stage of each mentorship in it (``start``: soon after it
starts; ``middle``: half-way through its planned months; ``end``: when it ends). It is drafted,
published (its questions are then frozen) and closed. The periodic step invites each side of a
mentorship once per survey (an invitation row, claimed by a conditional update); each side
answers once per survey and mentorship (a unique index).
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Text, false, text
from sqlmodel import Field, SQLModel

from backend.db import utcnow
from backend.sqltypes import one_of

SURVEY_STAGES: tuple[str, ...] = ("start", "middle", "end")
SURVEY_STATUSES: tuple[str, ...] = ("draft", "published", "closed")
# agreement: a 5-point scale (strongly disagree .. strongly agree, stored 1-5); recommend: 0-10
# likelihood to recommend (NPS); choice: one of the question's options; text: free text.
SURVEY_QUESTION_KINDS: tuple[str, ...] = ("agreement", "recommend", "choice", "text")
SURVEY_ROLES: tuple[str, ...] = ("mentor", "mentee")


def _fk(table: str, *, ondelete: str = "CASCADE", nullable: bool = False) -> Column:
    return Column(
        Integer, ForeignKey(f"{table}.id", ondelete=ondelete), nullable=nullable, index=True
    )


class Survey(SQLModel, table=True):
    """A short survey of a programme's mentorships at one stage."""

    __tablename__ = "survey"
    __table_args__ = (
        one_of("stage", SURVEY_STAGES, name="ck_survey_stage"),
        one_of("status", SURVEY_STATUSES, name="ck_survey_status"),
        # One published survey per programme and stage, however publishing races.
        Index(
            "uq_survey_published_stage",
            "programme_id",
            "stage",
            unique=True,
            sqlite_where=text("status = 'published'"),
            postgresql_where=text("status = 'published'"),
        ),
    )

    id: int = Field(default=None, primary_key=True)
    programme_id: int = Field(sa_column=_fk("programme"))
    stage: str = Field(sa_column=Column(String(10), nullable=False))
    title: str = Field(max_length=200)
    introduction: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    status: str = Field(default="draft", sa_column=Column(String(10), nullable=False, index=True))
    created_by_id: int | None = Field(
        default=None, sa_column=_fk("member", ondelete="SET NULL", nullable=True)
    )
    created_at: datetime = Field(default_factory=utcnow)
    published_at: datetime | None = None
    closed_at: datetime | None = None


class SurveyQuestion(SQLModel, table=True):
    """One question of a survey."""

    __tablename__ = "survey_question"
    __table_args__ = (
        one_of("kind", SURVEY_QUESTION_KINDS, name="ck_survey_question_kind"),
        Index("ix_survey_question_order", "survey_id", "position"),
    )

    id: int = Field(default=None, primary_key=True)
    survey_id: int = Field(
        sa_column=Column(Integer, ForeignKey("survey.id", ondelete="CASCADE"), nullable=False)
    )
    position: int = Field(default=0)
    kind: str = Field(sa_column=Column(String(10), nullable=False))
    text: str = Field(max_length=500)
    hint: str = Field(default="", max_length=500)
    required: bool = Field(default=True)
    # JSON list of the options, for ``choice`` questions.
    choices: str = Field(default="[]", sa_column=Column(Text, nullable=False, server_default="[]"))

    @property
    def choice_list(self) -> list[str]:
        """The options offered ([] for the other kinds)."""
        value = json.loads(self.choices or "[]")
        return [str(item) for item in value] if isinstance(value, list) else []


class SurveyInvitation(SQLModel, table=True):
    """One side of a mentorship invited to one survey; ``sent_at`` is set by the claim."""

    __tablename__ = "survey_invitation"
    __table_args__ = (
        Index("uq_survey_invitation", "survey_id", "mentorship_id", "member_id", unique=True),
    )

    id: int = Field(default=None, primary_key=True)
    survey_id: int = Field(sa_column=_fk("survey"))
    mentorship_id: int = Field(sa_column=_fk("mentorship"))
    member_id: int = Field(sa_column=_fk("member"))
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None


class SurveyResponse(SQLModel, table=True):
    """A member's answers to one survey about one mentorship (once each)."""

    __tablename__ = "survey_response"
    __table_args__ = (
        one_of("role", SURVEY_ROLES, name="ck_survey_response_role"),
        Index("uq_survey_response", "survey_id", "mentorship_id", "member_id", unique=True),
    )

    id: int = Field(default=None, primary_key=True)
    survey_id: int = Field(sa_column=_fk("survey"))
    mentorship_id: int = Field(sa_column=_fk("mentorship"))
    member_id: int = Field(sa_column=_fk("member"))
    role: str = Field(sa_column=Column(String(6), nullable=False))
    submitted_at: datetime = Field(default_factory=utcnow)


class SurveyAnswer(SQLModel, table=True):
    """One answer: a scale point or score as digits, an option, or free text."""

    __tablename__ = "survey_answer"

    response_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("survey_response.id", ondelete="CASCADE"), primary_key=True
        )
    )
    question_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("survey_question.id", ondelete="CASCADE"), primary_key=True
        )
    )
    value: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    # Free text only: the member agreed that organisers may read it (without their name).
    shareable: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false())
    )
