"""What every process needs to agree on about the matcher: the network version and exposure.

``MatchmakingState`` is one row: ``version`` moves in the same transaction as every change
that affects matching (profiles, skills, offers, capacity, mentorships, erasure), so each
process can tell with one cheap query whether its fitted suggester is stale; ``token`` is
new whenever the row is (re)created, so a rebuilt database never looks like an old version.
``requests`` counts suggestion requests, the clock of the exposure half-life.

``SuggestionExposure`` is the suggester's memory of whom it offered, shared by all
processes: per mentor, a decayed count of offers as of request number ``at_request``.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, Float, ForeignKey, Integer
from sqlmodel import Field, SQLModel


class MatchmakingState(SQLModel, table=True):
    """The one row telling every process which network its matcher state must reflect."""

    __tablename__ = "matchmaking_state"
    __table_args__ = (CheckConstraint("id = 1", name="ck_matchmaking_state_one_row"),)

    id: int = Field(default=1, primary_key=True)
    token: str = Field(max_length=32)
    version: int = Field(default=0)
    requests: int = Field(default=0)


class SuggestionExposure(SQLModel, table=True):
    """Decayed count of suggestions that showed a mentor, as of request ``at_request``."""

    __tablename__ = "suggestion_exposure"

    mentor_id: int = Field(
        sa_column=Column(Integer, ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    )
    offers: float = Field(sa_column=Column(Float, nullable=False))
    at_request: int = Field(sa_column=Column(Integer, nullable=False, index=True))
