"""Community tables: posts, comments, reactions, follows, reports, circles and pairings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

from backend.db import utcnow
from backend.sqltypes import one_of

CONTENT_STATUSES: tuple[str, ...] = ("visible", "hidden")
REPORT_STATUSES: tuple[str, ...] = ("open", "resolved")
CIRCLE_STATUSES: tuple[str, ...] = ("active", "closed")
MAX_TITLE = 200
MAX_BODY = 20_000
MAX_COMMENT = 5_000
MAX_REASON = 1_000
MAX_NOTE = 1_000


def _member_fk(*, nullable: bool = False, ondelete: str = "CASCADE") -> Column:
    return Column(
        Integer, ForeignKey("member.id", ondelete=ondelete), nullable=nullable, index=True
    )


class Circle(SQLModel, table=True):
    """A peer circle (action learning set) of 4-6 members, with its own discussion."""

    __tablename__ = "community_circle"
    __table_args__ = (one_of("status", CIRCLE_STATUSES, name="ck_community_circle_status"),)

    id: int = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    status: str = Field(
        default="active", sa_column=Column(String(10), nullable=False, server_default="active")
    )
    created_by_id: int | None = Field(
        default=None, sa_column=_member_fk(nullable=True, ondelete="SET NULL")
    )
    created_at: datetime = Field(default_factory=utcnow)


class CircleMember(SQLModel, table=True):
    """A member's place in a circle; the unique member id keeps each in one circle at most."""

    __tablename__ = "community_circle_member"
    __table_args__ = (UniqueConstraint("member_id", name="uq_community_circle_member_member"),)

    circle_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("community_circle.id", ondelete="CASCADE"), primary_key=True
        )
    )
    member_id: int = Field(
        sa_column=Column(Integer, ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    )
    joined_at: datetime = Field(default_factory=utcnow)


class Post(SQLModel, table=True):
    """Learning shared by a member: a title and a Markdown body, in the feed or a circle."""

    __tablename__ = "community_post"
    __table_args__ = (
        one_of("status", CONTENT_STATUSES, name="ck_community_post_status"),
        Index("ix_community_post_author_created", "author_id", "created_at"),
    )

    id: int = Field(default=None, primary_key=True)
    author_id: int = Field(sa_column=_member_fk())
    circle_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer,
            ForeignKey("community_circle.id", ondelete="CASCADE"),
            nullable=True,
            index=True,
        ),
    )
    title: str = Field(max_length=MAX_TITLE)
    body: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(
        default="visible", sa_column=Column(String(10), nullable=False, server_default="visible")
    )
    moderation_note: str = Field(default="", max_length=MAX_NOTE)
    moderated_by_id: int | None = Field(
        default=None, sa_column=_member_fk(nullable=True, ondelete="SET NULL")
    )
    moderated_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    edited_at: datetime | None = None
    deleted_at: datetime | None = None


class PostSkill(SQLModel, table=True):
    """A skill a post is about (its tags)."""

    __tablename__ = "community_post_skill"

    post_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("community_post.id", ondelete="CASCADE"), primary_key=True
        )
    )
    skill_id: str = Field(
        sa_column=Column(
            String(60), ForeignKey("skill.id", ondelete="CASCADE"), primary_key=True, index=True
        )
    )


class Comment(SQLModel, table=True):
    """A reply to a post."""

    __tablename__ = "community_comment"
    __table_args__ = (
        one_of("status", CONTENT_STATUSES, name="ck_community_comment_status"),
        Index("ix_community_comment_author_created", "author_id", "created_at"),
    )

    id: int = Field(default=None, primary_key=True)
    post_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("community_post.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    author_id: int = Field(sa_column=_member_fk())
    body: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(
        default="visible", sa_column=Column(String(10), nullable=False, server_default="visible")
    )
    moderation_note: str = Field(default="", max_length=MAX_NOTE)
    moderated_by_id: int | None = Field(
        default=None, sa_column=_member_fk(nullable=True, ondelete="SET NULL")
    )
    moderated_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    deleted_at: datetime | None = None


class Reaction(SQLModel, table=True):
    """A member found a post useful (one per member per post)."""

    __tablename__ = "community_reaction"

    post_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("community_post.id", ondelete="CASCADE"), primary_key=True
        )
    )
    member_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("member.id", ondelete="CASCADE"), primary_key=True, index=True
        )
    )
    created_at: datetime = Field(default_factory=utcnow)


class Follow(SQLModel, table=True):
    """A member follows another member's posts."""

    __tablename__ = "community_follow"
    __table_args__ = (
        CheckConstraint("follower_id <> followed_id", name="ck_community_follow_not_self"),
    )

    follower_id: int = Field(
        sa_column=Column(Integer, ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    )
    followed_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("member.id", ondelete="CASCADE"), primary_key=True, index=True
        )
    )
    created_at: datetime = Field(default_factory=utcnow)


class Report(SQLModel, table=True):
    """A member reports a post or a comment to the organisers, with a reason."""

    __tablename__ = "community_report"
    __table_args__ = (
        one_of("status", REPORT_STATUSES, name="ck_community_report_status"),
        CheckConstraint(
            "(post_id IS NULL) <> (comment_id IS NULL)", name="ck_community_report_one_target"
        ),
        # One open report per reporter and target: a double click files one report.
        Index(
            "uq_community_report_open_post",
            "reporter_id",
            "post_id",
            unique=True,
            sqlite_where=text("status = 'open' AND post_id IS NOT NULL"),
            postgresql_where=text("status = 'open' AND post_id IS NOT NULL"),
        ),
        Index(
            "uq_community_report_open_comment",
            "reporter_id",
            "comment_id",
            unique=True,
            sqlite_where=text("status = 'open' AND comment_id IS NOT NULL"),
            postgresql_where=text("status = 'open' AND comment_id IS NOT NULL"),
        ),
    )

    id: int = Field(default=None, primary_key=True)
    reporter_id: int | None = Field(
        default=None, sa_column=_member_fk(nullable=True, ondelete="SET NULL")
    )
    post_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("community_post.id", ondelete="CASCADE"), nullable=True, index=True
        ),
    )
    comment_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer,
            ForeignKey("community_comment.id", ondelete="CASCADE"),
            nullable=True,
            index=True,
        ),
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


class CommunityPreference(SQLModel, table=True):
    """What a member opts in to: a peer circle, monthly peer connect pairings."""

    __tablename__ = "community_preference"

    member_id: int = Field(
        sa_column=Column(Integer, ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    )
    circles: bool = Field(default=False)
    peer_connect: bool = Field(default=False)
    updated_at: datetime = Field(default_factory=utcnow)


class PeerPairing(SQLModel, table=True):
    """Two members paired by peer connect in a month; a pair is never made twice."""

    __tablename__ = "community_peer_pairing"
    __table_args__ = (
        CheckConstraint("member_a_id < member_b_id", name="ck_community_peer_pairing_order"),
        UniqueConstraint("member_a_id", "member_b_id", name="uq_community_peer_pairing_pair"),
    )

    id: int = Field(default=None, primary_key=True)
    period: str = Field(max_length=7, index=True)  # YYYY-MM
    member_a_id: int = Field(sa_column=_member_fk())
    member_b_id: int = Field(sa_column=_member_fk())
    created_at: datetime = Field(default_factory=utcnow)
