"""Per-member hourly limits on what a member writes (posts, comments, messages).

Counted from the rows themselves (their author and creation time), so the limit holds across
every app process with no shared counter; the message says how long to wait.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import Session, col, select

from backend.db import utcnow
from backend.errors import RateLimited

HOUR = timedelta(hours=1)


def check_hourly(
    *, session: Session, created_at: Any, author: Any, author_id: int, limit: int, what: str
) -> None:
    """RateLimited when ``author_id`` wrote ``limit`` rows (``created_at`` and ``author``
    columns of one table) in the last hour; ``what`` names them ("messages")."""
    since = utcnow() - HOUR
    times = session.exec(
        select(created_at)
        .where(author == author_id)
        .where(created_at > since)
        .order_by(col(created_at))
    ).all()
    if len(times) >= limit:
        oldest = times[-limit]
        retry = max(int((oldest + HOUR - utcnow()).total_seconds()) + 1, 1)
        minutes = max(retry // 60, 1)
        raise RateLimited(
            f"You can add {limit} {what} an hour. Please wait about {minutes} "
            f"minute{'s' if minutes != 1 else ''} and try again.",
            retry_after=retry,
        )
