"""The network version: one row that moves with every change affecting matching.

Each process compares the version its fitted matcher state reflects with this row (one
cheap query) and refits only when it moved. Services call ``network_changed`` in the same
transaction as the change: profile saves, skills, offers, capacity and pause, mentorships
starting and ending, round offers, member erasure.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from backend.matchmaking.models import MatchmakingState
from backend.sqltypes import table_of


@dataclass(frozen=True)
class NetworkState:
    """The network version a fitted suggester must reflect, and the request clock."""

    token: str
    version: int
    requests: int


def dialect_insert(
    session_or_engine: Session | Engine,
) -> Callable[[Table], postgresql.Insert | sqlite.Insert]:
    """The INSERT of the session's database (both have ON CONFLICT)."""
    bind = (
        session_or_engine.get_bind()
        if isinstance(session_or_engine, Session)
        else session_or_engine
    )
    return postgresql.insert if bind.dialect.name == "postgresql" else sqlite.insert


def network_changed(*, session: Session) -> None:
    """Tell every process that matching's view of the network changed (same transaction)."""
    table = table_of(MatchmakingState)
    statement = dialect_insert(session)(table).values(
        id=1, token=uuid.uuid4().hex, version=1, requests=0
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[table.c.id], set_={"version": table.c.version + 1}
        )
    )


def network_state(*, session: Session) -> NetworkState | None:
    """The current version row, or ``None`` when no change was ever recorded."""
    row = session.execute(
        select(
            col(MatchmakingState.token),
            col(MatchmakingState.version),
            col(MatchmakingState.requests),
        )
    ).first()
    return None if row is None else NetworkState(*row)
