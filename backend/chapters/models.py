"""Chapter tables: a chapter covers regions and/or organisations; organisers hold scopes.

A member belongs to a chapter when their region is one of the chapter's regions or their
organisation one of its organisations (derived, so never stale). The network itself is the
widest scope: the ``organiser`` role (``member_role``) is an organiser of the whole network;
an ``organiser_scope`` row makes a member an organiser of one chapter only.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from backend.db import utcnow
from backend.sqltypes import one_of
from vocabulary import REGIONS

CHAPTER_KINDS: tuple[str, ...] = ("region", "integrated-care-system")


class Chapter(SQLModel, table=True):
    """A regional chapter or an integrated care system's chapter of the network."""

    __tablename__ = "chapter"
    __table_args__ = (
        UniqueConstraint("key", name="uq_chapter_key"),
        one_of("kind", CHAPTER_KINDS, name="ck_chapter_kind"),
    )

    id: int = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    # The name folded for case- and space-insensitive uniqueness.
    key: str = Field(sa_column=Column(String(200), nullable=False))
    kind: str = Field(default="region", sa_column=Column(String(30), nullable=False))
    description: str = Field(default="", max_length=1000)
    created_at: datetime = Field(default_factory=utcnow)


class ChapterRegion(SQLModel, table=True):
    """One NHS England region a chapter covers."""

    __tablename__ = "chapter_region"
    __table_args__ = (one_of("region", REGIONS, name="ck_chapter_region_region"),)

    chapter_id: int = Field(
        sa_column=Column(Integer, ForeignKey("chapter.id", ondelete="CASCADE"), primary_key=True)
    )
    region: str = Field(sa_column=Column(String(40), primary_key=True, index=True))


class ChapterOrganisation(SQLModel, table=True):
    """One organisation a chapter covers (an integrated care system's trusts and practices)."""

    __tablename__ = "chapter_organisation"

    chapter_id: int = Field(
        sa_column=Column(Integer, ForeignKey("chapter.id", ondelete="CASCADE"), primary_key=True)
    )
    organisation_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("organisation.id", ondelete="CASCADE"),
            primary_key=True,
            index=True,
        )
    )


class OrganiserScope(SQLModel, table=True):
    """A member is an organiser of one chapter: they see and act only within it."""

    __tablename__ = "organiser_scope"

    member_id: int = Field(
        sa_column=Column(Integer, ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    )
    chapter_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("chapter.id", ondelete="CASCADE"),
            primary_key=True,
            index=True,
        )
    )
    granted_at: datetime = Field(default_factory=utcnow)
    granted_by_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("member.id", ondelete="SET NULL"), nullable=True),
    )
