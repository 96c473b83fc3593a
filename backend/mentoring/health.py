"""Relationship health: when a pair last met, nudging quiet pairs, and the organisers'
"needs attention" list.

``last_activity_many`` is the one place that says when a mentorship was last active. Today it
reads logged sessions (``MentoringSession.held_on``) and the mentorship's start.

Booked sessions count too (``_booked_sessions``): a pair with a session in the diary is not
quiet. Each source in ``ACTIVITY_SOURCES`` returns ``{mentorship_id: date}``; everything else
(nudges, the list, the insights figures) follows from them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, or_, update
from sqlmodel import Session, col, select

from backend.accounts.models import UserSession
from backend.chapters import service as chapter_service
from backend.db import utcnow
from backend.errors import NotFound
from backend.london import as_utc, london_today
from backend.members.models import Member
from backend.mentoring import lifecycle
from backend.mentoring.models import CheckIn, MentoringSession, Mentorship, SessionBooking
from backend.programmes.models import Programme
from backend.settings import get_settings

LOW_SCORE = 2  # a check-in at or below this puts the pair on the list
SIGNED_IN_WEEKS = 6  # a side not signed in for this long is named as a reason


def _logged_sessions(session: Session, ids: Sequence[int]) -> dict[int, date]:
    rows = session.exec(
        select(MentoringSession.mentorship_id, func.max(MentoringSession.held_on))
        .where(col(MentoringSession.mentorship_id).in_(ids))
        .group_by(col(MentoringSession.mentorship_id))
    ).all()
    return {mentorship_id: day for mentorship_id, day in rows if day is not None}


def _booked_sessions(session: Session, ids: Sequence[int]) -> dict[int, date]:
    """The latest booked (not cancelled) session's London day; one still to come counts as
    today (the pair have a plan), so no figure ever says "for -2 weeks"."""
    rows = session.exec(
        select(SessionBooking.mentorship_id, func.max(SessionBooking.starts_at))
        .where(col(SessionBooking.mentorship_id).in_(ids))
        .where(col(SessionBooking.status) == "booked")
        .group_by(col(SessionBooking.mentorship_id))
    ).all()
    today = london_today()
    return {
        mentorship_id: min(london_today(as_utc(starts_at)), today)
        for mentorship_id, starts_at in rows
        if starts_at is not None
    }


# Each source gives the latest activity date per mentorship; the latest of all sources wins.
ACTIVITY_SOURCES: list[Callable[[Session, Sequence[int]], dict[int, date]]] = [
    _logged_sessions,
    _booked_sessions,
]


def last_session_many(*, session: Session, mentorship_ids: Sequence[int]) -> dict[int, date]:
    """The latest session (logged, or booked once bookings plug in) of each mentorship that
    has one; mentorships with none are left out."""
    ids = list(dict.fromkeys(mentorship_ids))
    latest: dict[int, date] = {}
    if not ids:
        return latest
    for source in ACTIVITY_SOURCES:
        for mentorship_id, day in source(session, ids).items():
            if mentorship_id not in latest or day > latest[mentorship_id]:
                latest[mentorship_id] = day
    return latest


def last_activity_many(*, session: Session, mentorship_ids: Sequence[int]) -> dict[int, date]:
    """When each mentorship was last active: its latest session, else the day it started."""
    ids = list(dict.fromkeys(mentorship_ids))
    if not ids:
        return {}
    started = dict(
        session.exec(
            select(Mentorship.id, Mentorship.started_at).where(col(Mentorship.id).in_(ids))
        ).all()
    )
    latest: dict[int, date] = {i: london_today(as_utc(at)) for i, at in started.items()}
    for mentorship_id, day in last_session_many(session=session, mentorship_ids=ids).items():
        if mentorship_id in latest and day > latest[mentorship_id]:
            latest[mentorship_id] = day
    return latest


def last_activity(*, session: Session, mentorship_id: int) -> date:
    """When one mentorship was last active (NotFound for no such mentorship)."""
    found = last_activity_many(session=session, mentorship_ids=[mentorship_id])
    if mentorship_id not in found:
        raise NotFound("No such mentorship.", field="mentorship_id")
    return found[mentorship_id]


def _quiet(session: Session, now: datetime, weeks: int) -> list[tuple[Mentorship, date]]:
    """Active mentorships with no activity for ``weeks`` weeks, each with its last activity."""
    cutoff = london_today(now) - timedelta(weeks=weeks)
    # A pair nudged since (a little after) the cutoff cannot have had a new quiet spell begin
    # since its nudge: new activity after the nudge would be too recent to be quiet yet. So it
    # need not be read at all (2 days of margin for London's date against UTC's).
    recently_nudged = now - timedelta(weeks=weeks) + timedelta(days=2)
    candidates = session.exec(
        select(Mentorship)
        .where(Mentorship.status == "active")
        .where(col(Mentorship.started_at) <= now - timedelta(weeks=weeks))
        .where(
            or_(
                col(Mentorship.quiet_nudged_at).is_(None),
                col(Mentorship.quiet_nudged_at) < recently_nudged,
            )
        )
        .order_by(col(Mentorship.id))
    ).all()
    last = last_activity_many(session=session, mentorship_ids=[m.id for m in candidates])
    return [(m, last[m.id]) for m in candidates if last[m.id] <= cutoff]


def nudge_quiet(*, session: Session, now: datetime | None = None) -> int:
    """Nudge both sides of each pair quiet for ``mentorship_quiet_weeks``, once per quiet
    spell (claimed with a conditional UPDATE, so racing workers nudge once); returns pairs."""
    now = now or utcnow()
    weeks = get_settings().mentorship_quiet_weeks
    nudged = 0
    for mentorship, last in _quiet(session, now, weeks):
        spell_began = datetime.combine(last, time(), tzinfo=UTC)
        already = mentorship.quiet_nudged_at
        if already is not None and as_utc(already) >= spell_began:
            continue  # nudged in this spell: no claim to try (most quiet pairs, most passes)
        claimed = session.exec(
            update(Mentorship)
            .where(col(Mentorship.id) == mentorship.id)
            .where(
                or_(
                    col(Mentorship.quiet_nudged_at).is_(None),
                    col(Mentorship.quiet_nudged_at) < spell_began,
                )
            )
            .values(quiet_nudged_at=now)
        ).rowcount
        if not claimed:
            continue
        nudged += 1
        mentor = session.get(Member, mentorship.mentor_id) if mentorship.mentor_id else None
        mentee = session.get(Member, mentorship.mentee_id) if mentorship.mentee_id else None
        for member, other in ((mentor, mentee), (mentee, mentor)):
            if member is None or not member.is_active:
                continue
            name = other.name if other is not None and other.is_active else "your partner"
            lifecycle.tell(
                session,
                member,
                "checkin",
                f"It has been a while since you met {name}",
                f"No session has been booked or logged for {weeks} weeks. Book your next "
                "session, or log the last one if you have met.",
                f"/mentoring/mentorships/{mentorship.id}",
            )
    session.flush()
    return nudged


@dataclass(frozen=True)
class NeedsAttention:
    """A pair on the organisers' list, with why (plain words) — never notes or check-in text."""

    mentorship_id: int
    programme_id: int
    programme_name: str
    mentor: Member | None
    mentee: Member | None
    started_at: datetime
    last_activity: date
    weeks_quiet: int
    reasons: list[str] = field(default_factory=list)


def _weeks(days: int) -> str:
    weeks = days // 7
    return f"{weeks} week{'s' if weeks != 1 else ''}"


def _last_signed_in(session: Session, member_ids: Sequence[int]) -> dict[int, datetime]:
    if not member_ids:
        return {}
    rows = session.exec(
        select(UserSession.member_id, func.max(UserSession.last_seen_at))
        .where(col(UserSession.member_id).in_(member_ids))
        .group_by(col(UserSession.member_id))
    ).all()
    return {mid: as_utc(at) for mid, at in rows if mid is not None and at is not None}


def _latest_scores(session: Session, ids: Sequence[int]) -> dict[tuple[int, str], int]:
    """The latest answered check-in score of each side of each mentorship."""
    if not ids:
        return {}
    rows = session.exec(
        select(CheckIn.mentorship_id, CheckIn.role, CheckIn.score)
        .where(col(CheckIn.mentorship_id).in_(ids))
        .where(col(CheckIn.answered_at).is_not(None))
        .order_by(col(CheckIn.answered_at), col(CheckIn.id))
    ).all()
    return {(m, role): score for m, role, score in rows if score is not None}


def needing_attention(
    *,
    session: Session,
    organiser: Member | None,
    programme_id: int | None = None,
    now: datetime | None = None,
) -> list[NeedsAttention]:
    """Active pairs the organiser's scope covers that need attention, quietest first: no
    session for both periods (``mentorship_quiet_weeks`` + ``mentorship_attention_weeks``),
    or a side's latest check-in at 1 or 2.

    A network organiser sees every pair; a chapter organiser the pairs of their chapters'
    programmes and the pairs with a side their chapters cover. ``programme_id`` narrows it.
    """
    _, scope = chapter_service.require_scope(session=session, member=organiser)
    now = now or utcnow()
    settings = get_settings()
    weeks = settings.mentorship_quiet_weeks + settings.mentorship_attention_weeks
    conditions: list[Any] = []
    if programme_id is not None:
        if session.get(Programme, programme_id) is None:
            raise NotFound("There is no programme with that id.", field="programme_id")
        conditions.append(col(Mentorship.programme_id) == programme_id)
    if not scope.network:
        covered = chapter_service.member_ids_in(session=session, scope=scope)
        assert covered is not None  # None only for the network scope
        conditions.append(
            or_(
                chapter_service.programmes_in(scope=scope, programme_id=Mentorship.programme_id),
                col(Mentorship.mentor_id).in_(covered),
                col(Mentorship.mentee_id).in_(covered),
            )
        )
    active = session.exec(
        select(Mentorship).where(Mentorship.status == "active").where(*conditions)
    ).all()
    ids = [m.id for m in active]
    last = last_activity_many(session=session, mentorship_ids=ids)
    scores = _latest_scores(session, ids)
    today = london_today(now)
    quiet_cutoff = today - timedelta(weeks=weeks)
    flagged = [
        m
        for m in active
        if (last[m.id] <= quiet_cutoff and as_utc(m.started_at) <= now - timedelta(weeks=weeks))
        or any(scores.get((m.id, role), 5) <= LOW_SCORE for role in ("mentor", "mentee"))
    ]
    people_ids = [i for m in flagged for i in (m.mentor_id, m.mentee_id) if i is not None]
    people = {
        p.id: p for p in session.exec(select(Member).where(col(Member.id).in_(people_ids))).all()
    }
    seen = _last_signed_in(session, people_ids)
    names = dict(
        session.exec(
            select(Programme.id, Programme.name).where(
                col(Programme.id).in_({m.programme_id for m in flagged})
            )
        ).all()
    )
    out: list[NeedsAttention] = []
    for m in flagged:
        quiet_days = (today - last[m.id]).days
        reasons: list[str] = []
        if last[m.id] <= quiet_cutoff:
            started = london_today(as_utc(m.started_at))
            if last[m.id] == started:
                reasons.append(f"No session since it started {_weeks(quiet_days)} ago")
            else:
                reasons.append(f"No session for {_weeks(quiet_days)}")
        for role in ("mentee", "mentor"):
            score = scores.get((m.id, role))
            if score is not None and score <= LOW_SCORE:
                reasons.append(f"{role.capitalize()}'s check-in: {score}/5")
        for role, member_id in (("Mentor", m.mentor_id), ("Mentee", m.mentee_id)):
            if member_id is None:
                continue
            at = seen.get(member_id)
            if at is None or now - at >= timedelta(weeks=SIGNED_IN_WEEKS):
                since = "has not signed in"
                if at is not None:
                    since += f" for {_weeks((now - at).days)}"
                reasons.append(f"{role} {since}")
        out.append(
            NeedsAttention(
                mentorship_id=m.id,
                programme_id=m.programme_id,
                programme_name=names.get(m.programme_id, ""),
                mentor=people.get(m.mentor_id) if m.mentor_id else None,
                mentee=people.get(m.mentee_id) if m.mentee_id else None,
                started_at=m.started_at,
                last_activity=last[m.id],
                weeks_quiet=quiet_days // 7,
                reasons=reasons,
            )
        )
    out.sort(key=lambda item: (item.last_activity, item.mentorship_id))
    return out
