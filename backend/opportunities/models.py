"""Development opportunity tables: the catalogue, the skills each develops, who may apply,
and each member's saved and "I'm interested" marks."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlmodel import Field, SQLModel

from backend.db import utcnow
from backend.sqltypes import one_of

KINDS: tuple[str, ...] = (
    "accredited-programme",
    "course",
    "shadowing",
    "secondment",
    "job-swap",
    "stretch-project",
    "apprenticeship",
)
KIND_NAMES: dict[str, str] = {
    "accredited-programme": "Accredited programme",
    "course": "Course",
    "shadowing": "Shadowing",
    "secondment": "Secondment",
    "job-swap": "Job swap",
    "stretch-project": "Stretch project",
    "apprenticeship": "Apprenticeship",
}
FORMATS: tuple[str, ...] = ("online", "in-person", "blended")
FORMAT_NAMES: dict[str, str] = {
    "online": "Online",
    "in-person": "In person",
    "blended": "Blended (online and in person)",
}
# Who may apply, by one of the member's profile fields; no row of a dimension means everyone.
ELIGIBILITY_DIMENSIONS: tuple[str, ...] = ("band", "region", "role_family", "profession")


class Opportunity(SQLModel, table=True):
    """One development opportunity, open until ``closes_on`` (inclusive, a London day).

    Network-wide (no chapter, no organisation), for one chapter's members (posted by an
    organiser of that chapter), or for one organisation's members (posted by a member of it).
    """

    __tablename__ = "opportunity"
    __table_args__ = (
        one_of("kind", KINDS, name="ck_opportunity_kind"),
        one_of("format", FORMATS, name="ck_opportunity_format"),
        CheckConstraint("cost_pence >= 0", name="ck_opportunity_cost"),
        CheckConstraint(
            "chapter_id IS NULL OR organisation_id IS NULL", name="ck_opportunity_one_audience"
        ),
    )

    id: int = Field(default=None, primary_key=True)
    kind: str = Field(sa_column=Column(String(30), nullable=False))
    title: str = Field(max_length=200)
    provider: str = Field(max_length=200)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    url: str = Field(default="", max_length=500)
    # 0 is free.
    cost_pence: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    format: str = Field(sa_column=Column(String(10), nullable=False))
    closes_on: date = Field(sa_column=Column(Date, nullable=False, index=True))
    posted_by_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("member.id", ondelete="SET NULL"), nullable=True, index=True
        ),
    )
    chapter_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("chapter.id", ondelete="CASCADE"), nullable=True, index=True
        ),
    )
    organisation_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("organisation.id", ondelete="CASCADE"), nullable=True, index=True
        ),
    )
    created_at: datetime = Field(default_factory=utcnow)
    withdrawn_at: datetime | None = None


class OpportunitySkill(SQLModel, table=True):
    """A skill of the framework that an opportunity develops."""

    __tablename__ = "opportunity_skill"

    opportunity_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("opportunity.id", ondelete="CASCADE"), primary_key=True
        )
    )
    skill_id: str = Field(
        sa_column=Column(
            String(60), ForeignKey("skill.id", ondelete="CASCADE"), primary_key=True, index=True
        )
    )


class OpportunityEligibility(SQLModel, table=True):
    """One value a member's profile may hold to apply (bands 2 to 4, say); a dimension with
    no row is open to all."""

    __tablename__ = "opportunity_eligibility"
    __table_args__ = (
        one_of("dimension", ELIGIBILITY_DIMENSIONS, name="ck_opportunity_eligibility_dimension"),
    )

    opportunity_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("opportunity.id", ondelete="CASCADE"), primary_key=True
        )
    )
    dimension: str = Field(sa_column=Column(String(20), primary_key=True))
    value: str = Field(sa_column=Column(String(60), primary_key=True))


class OpportunitySave(SQLModel, table=True):
    """A member's marks on an opportunity: saved (their list, and a reminder before it
    closes) and "I'm interested" (the poster sees a count, never who)."""

    __tablename__ = "opportunity_save"
    __table_args__ = (CheckConstraint("saved OR interested", name="ck_opportunity_save_marked"),)

    opportunity_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("opportunity.id", ondelete="CASCADE"), primary_key=True
        )
    )
    member_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("member.id", ondelete="CASCADE"), primary_key=True, index=True
        )
    )
    saved: bool = Field(default=False)
    interested: bool = Field(default=False)
    saved_at: datetime | None = None
    interested_at: datetime | None = None
    reminded_at: datetime | None = None
