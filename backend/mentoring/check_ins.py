"""Monthly check-ins: each side of an active mentorship is asked "How is it going?".

An answer (1-5 and an optional line) is private to the one who gave it. Organisers see the
scores only as a disclosure-controlled mean per programme and, where a score is 1 or 2, as a
reason on the "needs attention" list; the words only when the member ticked "share with
organisers" (off unless ticked).

Created by the periodic pass (``create_due``): one row per side per period (a period is
``check_in_days`` of the mentorship, counted from its start), kept unique by the database, and
each row claimed for its notification by a conditional UPDATE, so two workers never send twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from backend.db import utcnow
from backend.errors import Conflict, FieldErrors, NotFound
from backend.london import as_utc
from backend.members import service as member_service
from backend.members.models import Member
from backend.mentoring import lifecycle
from backend.mentoring.models import CheckIn, Mentorship
from backend.notifications import service as notifications
from backend.settings import get_settings

MAX_COMMENT = 280  # a line of text
SCORE = "Choose a score from 1 (not well) to 5 (very well)."


def _period(started_at: datetime, now: datetime, days: int) -> int:
    return (as_utc(now) - as_utc(started_at)).days // days


def create_due(*, session: Session, now: datetime | None = None) -> int:
    """Create the check-ins now due for every side of every active mentorship, and tell each
    member once (kind ``checkin``); returns how many notifications went out."""
    now = now or utcnow()
    days = get_settings().check_in_days
    active = session.exec(
        select(Mentorship)
        .where(Mentorship.status == "active")
        .where(col(Mentorship.started_at) <= now - timedelta(days=days))
    ).all()
    if active:
        # The latest period each side was asked for (one row per side, however old the pair).
        latest: dict[tuple[int, int], int] = {
            (mentorship_id, member_id): period
            for mentorship_id, member_id, period in session.exec(
                select(CheckIn.mentorship_id, CheckIn.member_id, func.max(CheckIn.period))
                .where(col(CheckIn.mentorship_id).in_([m.id for m in active]))
                .group_by(col(CheckIn.mentorship_id), col(CheckIn.member_id))
            ).all()
        }
        for mentorship in active:
            period = _period(mentorship.started_at, now, days)
            for role, member_id in (
                ("mentor", mentorship.mentor_id),
                ("mentee", mentorship.mentee_id),
            ):
                if member_id is None or latest.get((mentorship.id, member_id), 0) >= period:
                    continue
                try:
                    with session.begin_nested():  # a racing worker may have made it first
                        session.add(
                            CheckIn(
                                mentorship_id=mentorship.id,
                                member_id=member_id,
                                role=role,
                                period=period,
                                created_at=now,
                            )
                        )
                        session.flush()
                except IntegrityError:
                    continue
    return _notify_unsent(session, now)


def _notify_unsent(session: Session, now: datetime) -> int:
    waiting = session.exec(
        select(CheckIn)
        .where(col(CheckIn.notified_at).is_(None))
        .where(col(CheckIn.answered_at).is_(None))
        .order_by(col(CheckIn.id))
    ).all()
    sent = 0
    for check_in in waiting:
        claimed = session.exec(
            update(CheckIn)
            .where(col(CheckIn.id) == check_in.id)
            .where(col(CheckIn.notified_at).is_(None))
            .values(notified_at=now)
        ).rowcount
        member = session.get(Member, check_in.member_id)
        if not claimed or member is None or not member.is_active:
            continue
        mentorship = session.get(Mentorship, check_in.mentorship_id)
        partner_id = None
        if mentorship is not None:
            partner_id = mentorship.mentee_id if check_in.role == "mentor" else mentorship.mentor_id
        partner = session.get(Member, partner_id) if partner_id else None
        with_whom = f" with {partner.name}" if partner is not None and partner.is_active else ""
        lifecycle.tell(
            session,
            member,
            "checkin",
            f"How is your mentorship{with_whom} going?",
            "Your monthly check-in: a score from 1 to 5 and a line if you like. Your answer is "
            "private to you; organisers see scores only added up with others'.",
            f"/mentoring/check-ins/{check_in.id}",
        )
        sent += 1
    session.flush()
    return sent


def _own(session: Session, member: Member, check_in_id: int) -> CheckIn:
    check_in = session.get(CheckIn, check_in_id)
    if check_in is None or check_in.member_id != member.id:
        raise NotFound("No such check-in.", field="check_in_id")
    return check_in


def get_own(*, session: Session, member: Member | None, check_in_id: int) -> CheckIn:
    """One of the member's own check-ins (nobody else's, the partner's included)."""
    return _own(session, member_service.require_member(member), check_in_id)


@dataclass(frozen=True)
class CheckInAnswer:
    """An answer to "How is it going?" (a command, typed by the edge that read it)."""

    score: int
    comment: str = ""
    share_with_organisers: bool = False


def answer(
    *,
    session: Session,
    member: Member | None,
    check_in_id: int,
    given: CheckInAnswer,
    now: datetime | None = None,
) -> CheckIn:
    """Answer one of your check-ins, once: 1-5 and an optional line."""
    member = member_service.require_member(member)
    check_in = _own(session, member, check_in_id)
    problems: dict[str, str] = {}
    if not 1 <= given.score <= 5:
        problems["score"] = SCORE
    comment = (given.comment or "").strip()
    if len(comment) > MAX_COMMENT:
        problems["comment"] = f"Keep it to one line: {MAX_COMMENT} characters or fewer."
    elif "\n" in comment or "\r" in comment:
        problems["comment"] = "Keep it to one line."
    if problems:
        raise FieldErrors(problems)
    answered = session.exec(
        update(CheckIn)
        .where(col(CheckIn.id) == check_in.id)
        .where(col(CheckIn.answered_at).is_(None))
        .values(
            answered_at=now or utcnow(),
            score=given.score,
            comment=comment,
            shared_with_organisers=bool(given.share_with_organisers),
        )
    ).rowcount
    if not answered:
        raise Conflict("You have already answered this check-in.")
    notifications.mark_read_about(
        session=session, member_id=member.id, link=f"/mentoring/check-ins/{check_in.id}"
    )
    session.flush()
    session.refresh(check_in)
    return check_in


def mine(*, session: Session, member: Member | None, pending_only: bool = False) -> list[CheckIn]:
    """The member's own check-ins, newest first; ``pending_only``: unanswered ones of
    mentorships still active."""
    member = member_service.require_member(member)
    statement = select(CheckIn).where(CheckIn.member_id == member.id)
    if pending_only:
        statement = (
            statement.join(Mentorship, col(Mentorship.id) == col(CheckIn.mentorship_id))
            .where(col(CheckIn.answered_at).is_(None))
            .where(Mentorship.status == "active")
        )
    return list(session.exec(statement.order_by(col(CheckIn.id).desc())).all())


def pending_for(
    *, session: Session, member: Member | None, mentorship_ids: Sequence[int]
) -> dict[int, list[CheckIn]]:
    """The member's own unanswered check-ins of each mentorship (never the partner's)."""
    result: dict[int, list[CheckIn]] = {i: [] for i in mentorship_ids}
    for check_in in mine(session=session, member=member, pending_only=True):
        if check_in.mentorship_id in result:
            result[check_in.mentorship_id].append(check_in)
    return result
