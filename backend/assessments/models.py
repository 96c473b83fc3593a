"""Self-assessment tables, and the model's nine dimensions and four levels (plain words)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer, String
from sqlmodel import Field, SQLModel

from backend.db import utcnow
from backend.sqltypes import one_of
from vocabulary import SKILL_NAMES


@dataclass(frozen=True)
class Dimension:
    """One dimension of the Healthcare Leadership Model; its id is also a skill's id."""

    id: str
    name: str
    description: str


@dataclass(frozen=True)
class Level:
    """One of the four levels a dimension is rated at (1 to 4)."""

    value: int
    id: str
    name: str
    description: str


# Our own plain-English summaries (not the Leadership Academy's wording), shown on the form.
_DESCRIPTIONS: dict[str, str] = {
    "inspiring-shared-purpose": (
        "Standing up for what is right for patients and colleagues, and helping people feel "
        "that their work matters beyond their own team."
    ),
    "leading-with-care": (
        "Noticing how people are doing, yourself included, and building a team where people "
        "look after each other."
    ),
    "evaluating-information": (
        "Gathering facts and views from different places, weighing them fairly, and using "
        "them to decide and to improve."
    ),
    "connecting-our-service": (
        "Understanding how your team fits into the wider health and care system, and working "
        "across boundaries with other teams and organisations."
    ),
    "sharing-the-vision": (
        "Explaining clearly where the team is heading and why, so that people can see a "
        "realistic and hopeful future."
    ),
    "engaging-the-team": (
        "Involving people in decisions, valuing their ideas and making it easy for everyone "
        "to contribute."
    ),
    "holding-to-account": (
        "Agreeing clear expectations, giving honest feedback and following through when "
        "work falls short."
    ),
    "developing-capability": (
        "Helping people, and yourself, learn and grow: coaching, giving stretching work and "
        "planning for the skills the team will need."
    ),
    "influencing-for-results": (
        "Building relationships and adapting how you make your case, so that you win support "
        "for changes that matter."
    ),
}
DIMENSIONS: tuple[Dimension, ...] = tuple(
    Dimension(id=skill_id, name=SKILL_NAMES[skill_id], description=text)
    for skill_id, text in _DESCRIPTIONS.items()
)
DIMENSION_IDS: tuple[str, ...] = tuple(d.id for d in DIMENSIONS)
DIMENSION_NAMES: dict[str, str] = {d.id: d.name for d in DIMENSIONS}

LEVELS: tuple[Level, ...] = (
    Level(
        1, "essential", "Essential", "You do this in your everyday work, when it is asked of you."
    ),
    Level(
        2,
        "proficient",
        "Proficient",
        "You do this reliably, including when things are busy or difficult.",
    ),
    Level(
        3,
        "strong",
        "Strong",
        "You do this as a habit, and you help the people around you do it too.",
    ),
    Level(
        4,
        "exemplary",
        "Exemplary",
        "You do this across teams and organisations, and others learn from how you do it.",
    ),
)
LEVEL_NAMES: dict[int, str] = {level.value: level.name for level in LEVELS}

OCCASIONS: tuple[str, ...] = ("start", "end", "own_choice")
OCCASION_NAMES: dict[str, str] = {
    "start": "Start of a mentorship",
    "end": "End of a mentorship",
    "own_choice": "Taken when I chose",
}


class SelfAssessment(SQLModel, table=True):
    """One sitting of the self-assessment by one member: when, why, and for which mentorship.

    Only the member reads it; organisers see paired changes in aggregate, never a sitting.
    A start or an end belongs to a mentorship, once per member (the unique index; NULLs are
    distinct, so taking it of one's own choice is never limited).
    """

    __tablename__ = "self_assessment"
    __table_args__ = (
        one_of("occasion", OCCASIONS, name="ck_self_assessment_occasion"),
        CheckConstraint(
            "occasion <> 'own_choice' OR mentorship_id IS NULL",
            name="ck_self_assessment_own_choice",
        ),
        Index("uq_self_assessment_occasion", "member_id", "mentorship_id", "occasion", unique=True),
    )

    id: int = Field(default=None, primary_key=True)
    member_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("member.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    mentorship_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("mentorship.id", ondelete="SET NULL"), nullable=True, index=True
        ),
    )
    occasion: str = Field(sa_column=Column(String(10), nullable=False))
    taken_at: datetime = Field(default_factory=utcnow)


class SelfAssessmentRating(SQLModel, table=True):
    """A sitting's level (1 essential to 4 exemplary) for one dimension."""

    __tablename__ = "self_assessment_rating"
    __table_args__ = (
        one_of("dimension", DIMENSION_IDS, name="ck_self_assessment_rating_dimension"),
        CheckConstraint("level BETWEEN 1 AND 4", name="ck_self_assessment_rating_level"),
    )

    assessment_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("self_assessment.id", ondelete="CASCADE"),
            primary_key=True,
        )
    )
    dimension: str = Field(sa_column=Column(String(40), primary_key=True))
    level: int
