"""Round tables: a round, its proposals (one per mentee), and each side's answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    Connection,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    event,
    false,
    select,
    text,
)
from sqlmodel import Field, SQLModel, col

from backend.db import utcnow
from backend.sqltypes import one_of

ROUND_STATUSES: tuple[str, ...] = ("queued", "running", "ready", "published", "failed")
PROPOSAL_STATUSES: tuple[str, ...] = (
    "proposed",  # in review by the organiser
    "unmatched",  # nobody could be found; reasons say why
    "removed",  # the organiser took it out before publishing
    "offered",  # published: waiting for both sides
    "accepted",  # both accepted: a mentorship started
    "declined",  # one side declined (a new offer may follow)
    "expired",  # not answered in time
    "withdrawn",  # closed unanswered: the mentee started a mentorship another way
)
ANSWERS: tuple[str, ...] = ("accepted", "declined")
COHORTS: tuple[str, ...] = ("seeking", "members")


class MatchingRound(SQLModel, table=True):
    """One round: who is in it, the organiser's weights and priority, progress and figures."""

    __tablename__ = "matching_round"
    __table_args__ = (
        one_of("status", ROUND_STATUSES, name="ck_matching_round_status"),
        one_of("cohort", COHORTS, name="ck_matching_round_cohort"),
        CheckConstraint("progress BETWEEN 0 AND 1", name="ck_matching_round_progress"),
        CheckConstraint("respond_days BETWEEN 1 AND 60", name="ck_matching_round_respond_days"),
    )

    id: int = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    created_by_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("member.id", ondelete="SET NULL"), nullable=True),
    )
    status: str = Field(default="queued", sa_column=Column(String(10), nullable=False, index=True))
    # The programme whose accepted applicants (or, in the default programme, whose seeking
    # members) the round pairs; its mentorships belong to that programme.
    programme_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("programme.id", ondelete="RESTRICT"), nullable=False, index=True
        )
    )
    cohort: str = Field(default="seeking", sa_column=Column(String(10), nullable=False))
    # Member ids of a chosen cohort (cohort 'members', e.g. imported from a CSV), as JSON.
    cohort_ids: str = Field(
        default="[]", sa_column=Column(Text, nullable=False, server_default="[]")
    )
    weights: str = Field(default="{}", sa_column=Column(Text, nullable=False, server_default="{}"))
    priority: bool = Field(default=False)
    # Score pairs with the acceptance model learned from past outcomes, when it beats the
    # fixed weights on held-out outcomes (the round's figures say which was used and why).
    learn_from_outcomes: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    seed: int = Field(default=0)
    respond_days: int = Field(default=7)
    progress: float = Field(default=0.0)
    stage: str = Field(default="", max_length=100)
    summary: str = Field(default="{}", sa_column=Column(Text, nullable=False, server_default="{}"))
    # Set when a member's answer changed who is matched; the worker recomputes the figures, so
    # a member's request never pays for aggregating the whole round.
    figures_stale: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    error: str = Field(default="", max_length=1000)
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    published_at: datetime | None = None
    respond_by: datetime | None = None
    # The running job touches this while it works; a running round whose heartbeat stops is
    # marked failed by the periodic pass, and can be run again (attempts counts the runs).
    heartbeat_at: datetime | None = None
    attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class MatchProposal(SQLModel, table=True):
    """A proposed pair in a round (or a mentee nobody could be found for, with reasons)."""

    __tablename__ = "match_proposal"
    __table_args__ = (
        one_of("status", PROPOSAL_STATUSES, name="ck_match_proposal_status"),
        one_of("mentee_answer", ANSWERS, name="ck_match_proposal_mentee_answer", nullable=True),
        one_of("mentor_answer", ANSWERS, name="ck_match_proposal_mentor_answer", nullable=True),
        CheckConstraint("score BETWEEN 0 AND 100", name="ck_match_proposal_score"),
        CheckConstraint(
            "mentor_id IS NULL OR mentor_id <> mentee_id", name="ck_match_proposal_not_self"
        ),
        Index("ix_match_proposal_round_status", "round_id", "status"),
        # One open offer per mentee per programme, whichever rounds race to offer them a mentor
        # (a mentee may be offered a mentor in two programmes at once: one mentor in each).
        Index(
            "uq_match_proposal_open_mentee",
            "mentee_id",
            "programme_id",
            unique=True,
            sqlite_where=text("status = 'offered'"),
            postgresql_where=text("status = 'offered'"),
        ),
        # The review pages read a round best score first, a page at a time (migration 0010).
        Index("ix_match_proposal_round_score", "round_id", "score", "id"),
    )

    id: int = Field(default=None, primary_key=True)
    round_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("matching_round.id", ondelete="CASCADE"), nullable=False
        )
    )
    # The round's programme, copied on insert (``_programme_of_round``) so the one-open-offer
    # index can name it.
    programme_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("programme.id", ondelete="CASCADE"), nullable=False, index=True
        ),
    )
    mentee_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("member.id", ondelete="CASCADE"), nullable=True, index=True
        ),
    )
    mentor_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("member.id", ondelete="CASCADE"), nullable=True, index=True
        ),
    )
    score: float = Field(default=0.0)
    reasons: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    status: str = Field(default="proposed", sa_column=Column(String(10), nullable=False))
    mentee_answer: str | None = Field(default=None, sa_column=Column(String(10), nullable=True))
    mentor_answer: str | None = Field(default=None, sa_column=Column(String(10), nullable=True))
    decline_reason: str = Field(default="", max_length=1000)
    # When a declined offer is re-offered to the next best mentor, the new offer points back.
    replaces_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("match_proposal.id", ondelete="SET NULL"), nullable=True
        ),
    )
    mentorship_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("mentorship.id", ondelete="SET NULL"), nullable=True),
    )
    created_at: datetime = Field(default_factory=utcnow)
    offered_at: datetime | None = None
    answered_at: datetime | None = None
    # Each offer has its own time to answer (a re-offer gets a fresh one), one reminder
    # before it, and a flag the worker's re-offer step claims after a decline or expiry.
    respond_by: datetime | None = None
    reminded_at: datetime | None = None
    reoffer_pending: bool = Field(default=False, sa_column_kwargs={"server_default": false()})

    @property
    def reason_list(self) -> list[str]:
        """The plain-English reasons, one per item."""
        return [r.strip() for r in self.reasons.split(";") if r.strip()]


@event.listens_for(MatchProposal, "before_insert")
def _programme_of_round(mapper: Any, connection: Connection, target: MatchProposal) -> None:
    """Copy the round's programme onto a new proposal (every insert path, one rule)."""
    if target.programme_id is None:
        target.programme_id = connection.execute(
            select(col(MatchingRound.programme_id)).where(col(MatchingRound.id) == target.round_id)
        ).scalar_one()
