"""Special-category data (demographics) and the consent records behind it, stored apart."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer, String, text
from sqlmodel import Field, SQLModel

from backend.db import utcnow
from backend.sqltypes import one_of
from vocabulary import AGE_BANDS, DISABILITY_ANSWERS, ETHNICITIES, GENDERS, WIDENING_CATEGORIES

CONSENT_PURPOSES: tuple[str, ...] = ("demographics",)
CONSENT_SOURCES: tuple[str, ...] = ("self", "import")
# Bump when the words on the diversity page change; each consent records the version shown.
DEMOGRAPHICS_WORDING_VERSION = "2026-11-v1"


class DemographicRecord(SQLModel, table=True):
    """One member's answers to the diversity questions: only with a live consent record."""

    __tablename__ = "demographic_record"
    __table_args__ = (
        one_of("ethnicity", ETHNICITIES, name="ck_demographic_record_ethnicity", nullable=True),
        one_of("gender", GENDERS, name="ck_demographic_record_gender", nullable=True),
        one_of(
            "disability", DISABILITY_ANSWERS, name="ck_demographic_record_disability", nullable=True
        ),
        one_of("age_band", AGE_BANDS, name="ck_demographic_record_age_band", nullable=True),
    )

    member_id: int = Field(
        sa_column=Column(Integer, ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    )
    consent_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("consent_record.id", ondelete="CASCADE"), nullable=False
        )
    )
    ethnicity: str | None = Field(default=None, sa_column=Column(String(20), nullable=True))
    gender: str | None = Field(default=None, sa_column=Column(String(20), nullable=True))
    disability: str | None = Field(default=None, sa_column=Column(String(20), nullable=True))
    age_band: str | None = Field(default=None, sa_column=Column(String(20), nullable=True))
    updated_at: datetime = Field(default_factory=utcnow)


class ConsentRecord(SQLModel, table=True):
    """When a member consented (and to which wording), and when they withdrew."""

    __tablename__ = "consent_record"
    __table_args__ = (
        one_of("purpose", CONSENT_PURPOSES, name="ck_consent_record_purpose"),
        one_of("source", CONSENT_SOURCES, name="ck_consent_record_source"),
        CheckConstraint(
            "withdrawn_at IS NULL OR withdrawn_at >= given_at", name="ck_consent_record_order"
        ),
        # At most one live consent per member and purpose.
        Index(
            "uq_consent_record_live",
            "member_id",
            "purpose",
            unique=True,
            sqlite_where=text("withdrawn_at IS NULL"),
            postgresql_where=text("withdrawn_at IS NULL"),
        ),
    )

    id: int = Field(default=None, primary_key=True)
    member_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("member.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    purpose: str = Field(default="demographics", sa_column=Column(String(20), nullable=False))
    wording_version: str = Field(max_length=40)
    source: str = Field(default="self", sa_column=Column(String(10), nullable=False))
    # Who recorded it for an import (an organiser); an id, never a name, so erasing that
    # organiser leaves no trace of them here.
    recorded_by_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("member.id", ondelete="SET NULL"), nullable=True, index=True
        ),
    )
    given_at: datetime = Field(default_factory=utcnow)
    withdrawn_at: datetime | None = None


# Bump when the words on the widening-access page change; each claim records the version shown.
WIDENING_WORDING_VERSION = "2026-12-v1"


class WideningAccessClaim(SQLModel, table=True):
    """A member's own request for widening-access priority, with its reason category.

    The category is special-category data for some reasons (disability, ethnic group), so it
    lives here, apart from the profile: only the member reads it; the matcher gets a yes/no
    flag (``backend.privacy.widening.flags_for``); insights count it under disclosure
    control. The consent is the row itself: which wording the member agreed to and when.
    Withdrawing deletes the row, category and all.
    """

    __tablename__ = "widening_access_claim"
    __table_args__ = (
        one_of("category", WIDENING_CATEGORIES, name="ck_widening_access_claim_category"),
        Index("ix_widening_access_claim_category", "category"),
    )

    member_id: int = Field(
        sa_column=Column(Integer, ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    )
    category: str = Field(sa_column=Column(String(40), nullable=False))
    wording_version: str = Field(max_length=40)
    consented_at: datetime = Field(default_factory=utcnow)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
