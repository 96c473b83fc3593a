"""Steps of the periodic pass that need not run every pass: when each last ran, claimed.

The worker's pass runs every few seconds (``PEERBRIDGE_JOBS_INTERVAL_SECONDS``), which suits
email and expiries; but the steps that scan every active mentorship (check-ins, quiet-pair
nudges) or pair the month's peers work on a scale of days, and reading thousands of pairs
every two seconds is waste. Such a step runs when its row here says it last ran at least
``PEERBRIDGE_SCAN_INTERVAL_SECONDS`` ago; the claim is a conditional UPDATE (or the first
INSERT), so of several workers only one runs it in each interval.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col

from backend.db import utcnow


class PeriodicStep(SQLModel, table=True):
    """When a throttled step of the periodic pass last ran (by any worker)."""

    __tablename__ = "periodic_step"

    name: str = Field(primary_key=True, max_length=60)
    last_run_at: datetime


def claim(*, session: Session, name: str, every: timedelta, now: datetime | None = None) -> bool:
    """True (and the step's time moved to now) when ``name`` last ran ``every`` or more ago, or
    never; False when it ran more recently, or another worker has just claimed it."""
    now = now or utcnow()
    claimed = session.exec(
        update(PeriodicStep)
        .where(col(PeriodicStep.name) == name)
        .where(col(PeriodicStep.last_run_at) <= now - every)
        .values(last_run_at=now)
    ).rowcount
    if claimed:
        return True
    if session.get(PeriodicStep, name) is not None:
        return False
    try:
        with session.begin_nested():  # the first run: a racing worker may insert it first
            session.add(PeriodicStep(name=name, last_run_at=now))
            session.flush()
    except IntegrityError:
        return False
    return True
