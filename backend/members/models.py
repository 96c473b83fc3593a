"""Member tables (account identity and profile) and their shapes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from backend.db import utcnow
from backend.sqltypes import one_of
from vocabulary import BANDS, MEETING_FORMATS, PROFESSIONS, REGIONS, ROLE_FAMILIES

ROLES: tuple[str, ...] = ("organiser", "admin")
SKILL_KINDS: tuple[str, ...] = ("sought", "offered")
VISIBILITY: tuple[str, ...] = ("members", "nobody")


class Member(SQLModel, table=True):
    """A person: the account (email, password) and the profile the network sees."""

    __tablename__ = "member"
    __table_args__ = (
        UniqueConstraint("email", name="uq_member_email"),
        UniqueConstraint("external_id", name="uq_member_external_id"),
        # Emails are stored folded, so uniqueness is case-insensitive in both databases.
        CheckConstraint("email = lower(email)", name="ck_member_email_lower"),
        CheckConstraint("management_years BETWEEN 0 AND 60", name="ck_member_management_years"),
        CheckConstraint("open_requests BETWEEN 0 AND 3", name="ck_member_open_requests"),
        CheckConstraint(
            "line_manager_id IS NULL OR line_manager_id <> id", name="ck_member_not_own_manager"
        ),
        one_of("region", REGIONS, name="ck_member_region"),
        one_of("role_family", ROLE_FAMILIES, name="ck_member_role_family"),
        one_of("band", BANDS, name="ck_member_band"),
        one_of("profession", PROFESSIONS, name="ck_member_profession"),
        one_of("meeting_format", MEETING_FORMATS, name="ck_member_meeting_format"),
        one_of("contact_visibility", VISIBILITY, name="ck_member_contact_visibility"),
    )

    id: int = Field(default=None, primary_key=True)
    email: str = Field(max_length=254)
    password_hash: str | None = Field(default=None, max_length=255)
    email_verified_at: datetime | None = None
    external_id: str | None = Field(default=None, max_length=100)
    name: str = Field(max_length=200)
    job_title: str = Field(default="", max_length=200)
    organisation_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("organisation.id", ondelete="RESTRICT"), nullable=False, index=True
        )
    )
    region: str = Field(max_length=40)
    role_family: str = Field(max_length=40)
    band: str = Field(max_length=4)
    profession: str = Field(max_length=40)
    management_years: int = Field(default=0)
    line_manager_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("member.id", ondelete="SET NULL"), nullable=True, index=True
        ),
    )
    bio: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    goals: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    meeting_format: str = Field(
        default="either", sa_column=Column(String(10), nullable=False, server_default="either")
    )
    seeking_mentor: bool = Field(default=False)
    outside_organisation_only: bool = Field(default=False)
    priority_access: bool = Field(default=False)
    contact_visibility: str = Field(
        default="members", sa_column=Column(String(10), nullable=False, server_default="members")
    )
    # Open mentor requests sent: at most 3, kept by conditional updates so racing sends agree.
    open_requests: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    is_active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    @property
    def is_verified(self) -> bool:
        """True once the member has followed the link in the verification email."""
        return self.email_verified_at is not None


class MemberSkill(SQLModel, table=True):
    """A skill a member seeks to develop or offers to others."""

    __tablename__ = "member_skill"
    __table_args__ = (one_of("kind", SKILL_KINDS, name="ck_member_skill_kind"),)

    member_id: int = Field(
        sa_column=Column(Integer, ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    )
    skill_id: str = Field(
        sa_column=Column(
            String(60), ForeignKey("skill.id", ondelete="CASCADE"), primary_key=True, index=True
        )
    )
    kind: str = Field(sa_column=Column(String(10), primary_key=True))


class MemberRole(SQLModel, table=True):
    """An extra role beyond member: organiser or admin."""

    __tablename__ = "member_role"
    __table_args__ = (one_of("role", ROLES, name="ck_member_role_role"),)

    member_id: int = Field(
        sa_column=Column(Integer, ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    )
    role: str = Field(sa_column=Column(String(20), primary_key=True))
    granted_at: datetime = Field(default_factory=utcnow)


class MentoringOffer(SQLModel, table=True):
    """How many mentees a member will take at once (0 = not mentoring), and whether paused."""

    __tablename__ = "mentoring_offer"
    __table_args__ = (
        CheckConstraint("capacity BETWEEN 0 AND 10", name="ck_mentoring_offer_capacity"),
        # The capacity promise, held by the database itself: accepts increment this with a
        # conditional UPDATE, and no race can push it past capacity.
        CheckConstraint(
            "active_mentees >= 0 AND active_mentees <= capacity",
            name="ck_mentoring_offer_active_within_capacity",
        ),
    )

    member_id: int = Field(
        sa_column=Column(Integer, ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    )
    capacity: int = Field(default=0)
    active_mentees: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    paused: bool = Field(default=False)
    note: str = Field(default="", max_length=500)
    updated_at: datetime = Field(default_factory=utcnow)
