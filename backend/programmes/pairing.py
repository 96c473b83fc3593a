"""Pairing inside a programme: who may be paired, how, and the programme's end.

A programme's pairing mode says how its pairs form: members ask mentors (``requests``), the
organiser runs a round (``round``), or ``both``. In a programme other than the default one,
only accepted applicants take part: the accepted mentee applicants are its mentees; its mentors
are its accepted mentor applicants, or, when it has none, the network's mentors offering places.
Eligibility was checked when each application was decided, so nothing here checks it again.

The default programme (the network's open mentoring) takes everyone, as before, and never ends.
When another programme's last day (``ends_on``, Europe/London) has passed, ``end_programmes``
(a step of the worker's periodic pass) completes its active mentorships through the one
lifecycle, closes its open requests and offers and its mentoring groups, tells both sides, and
marks it ended.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from backend import london
from backend.db import utcnow
from backend.errors import Conflict, NotFound
from backend.matchmaking.version import network_changed
from backend.members.models import Member
from backend.mentoring import lifecycle
from backend.mentoring.models import MentorRequest, Mentorship
from backend.programmes import service as programmes
from backend.programmes.models import Programme, ProgrammeApplication
from backend.rounds import figures
from backend.rounds.models import MatchingRound, MatchProposal

log = logging.getLogger("peerbridge.programmes")
REQUEST_MODES = ("requests", "both")
ROUND_MODES = ("round", "both")


def today_in_london(now: datetime | None = None) -> date:
    """The calendar day in Europe/London (programme dates are London days)."""
    return london.london_today(now or utcnow())


def get_programme(*, session: Session, programme_id: int | None) -> Programme:
    """The programme (None: the default programme); NotFound naming ``programme_id``."""
    if programme_id is None:
        programme_id = programmes.default_programme_id(session=session)
    programme = session.get(Programme, programme_id)
    if programme is None:
        raise NotFound("No such programme.", field="programme_id")
    return programme


def has_ended(programme: Programme, *, today: date | None = None) -> bool:
    """True when the programme is ended, or its last day has passed (never the default)."""
    if programme.is_default:
        return False
    if programme.status == "ended":
        return True
    return programme.ends_on is not None and programme.ends_on < (today or today_in_london())


def accepted_applicants(*, session: Session, programme_id: int, role: str) -> list[int]:
    """The member ids of the programme's accepted applicants in ``role`` (mentee or mentor)."""
    return list(
        session.exec(
            select(ProgrammeApplication.member_id)
            .where(ProgrammeApplication.programme_id == programme_id)
            .where(ProgrammeApplication.role == role)
            .where(ProgrammeApplication.status == "accepted")
            .order_by(col(ProgrammeApplication.member_id))
        ).all()
    )


def is_accepted(*, session: Session, programme_id: int, member_id: int, role: str) -> bool:
    """True when the member is an accepted applicant of the programme in ``role``."""
    found = session.exec(
        select(ProgrammeApplication.id)
        .where(ProgrammeApplication.programme_id == programme_id)
        .where(ProgrammeApplication.member_id == member_id)
        .where(ProgrammeApplication.role == role)
        .where(ProgrammeApplication.status == "accepted")
    ).first()
    return found is not None


def programme_mentors(*, session: Session, programme: Programme) -> set[int] | None:
    """The programme's mentors: its accepted mentor applicants, or None for "every mentor
    of the network offering places" (the default programme, or a programme with none)."""
    if programme.is_default:
        return None
    mentors = accepted_applicants(session=session, programme_id=programme.id, role="mentor")
    return set(mentors) if mentors else None


def check_requests_allowed(
    *, session: Session, programme: Programme, mentee: Member, mentor: Member
) -> None:
    """Refuse a request in ``programme`` unless its rules allow it (the default always does).

    The programme must be published and not ended, its pairing must let members ask mentors,
    the mentee must be one of its accepted mentees, and, when it has accepted mentors, the
    mentor must be one of them.
    """
    if programme.is_default:
        return
    name = programme.name
    if programme.status != "published" or has_ended(programme):
        state = "has ended" if has_ended(programme) else "is not open yet"
        raise Conflict(f"{name} {state}: you cannot ask a mentor in it.", field="programme_id")
    if programme.pairing not in REQUEST_MODES:
        raise Conflict(
            f"In {name} the organisers pair mentees in a matching round: members do not ask "
            "mentors themselves.",
            field="programme_id",
        )
    if programme.type == "group":
        raise Conflict(
            f"{name} is group mentoring: the organisers' matching round forms its groups, so "
            "members do not ask mentors themselves.",
            field="programme_id",
        )
    if not is_accepted(
        session=session, programme_id=programme.id, member_id=mentee.id, role="mentee"
    ):
        raise Conflict(
            f"You can ask a mentor in {name} once your application as a mentee is accepted.",
            field="programme_id",
        )
    mentors = programme_mentors(session=session, programme=programme)
    if mentors is not None and mentor.id not in mentors:
        raise Conflict(f"{mentor.name} is not one of the mentors of {name}.", field="mentor_id")


def check_round_allowed(*, programme: Programme) -> None:
    """Refuse a round in ``programme`` unless it is published, not ended, and pairs by rounds."""
    if programme.is_default:
        return
    name = programme.name
    if has_ended(programme):
        raise Conflict(f"{name} has ended: it cannot have another round.", field="programme_id")
    if programme.status != "published":
        raise Conflict(
            f"{name} is not published yet: publish it before running a round.",
            field="programme_id",
        )
    if programme.pairing not in ROUND_MODES:
        raise Conflict(
            f"In {name} members ask mentors themselves: its pairing does not include rounds.",
            field="programme_id",
        )


def programmes_for_rounds(*, session: Session, chapter_ids: set[int] | None) -> list[Programme]:
    """Programmes a round can be run in now, for an organiser of ``chapter_ids`` (None: the
    network, every programme): published, not ended, pairing by rounds; the default first."""
    rows = session.exec(
        select(Programme)
        .where(Programme.status == "published")
        .where(col(Programme.pairing).in_(ROUND_MODES))
        .order_by(col(Programme.is_default).desc(), col(Programme.name), col(Programme.id))
    ).all()
    today = today_in_london()
    return [
        p
        for p in rows
        if not has_ended(p, today=today)
        and (chapter_ids is None or (p.chapter_id is not None and p.chapter_id in chapter_ids))
    ]


def names_of(*, session: Session, programme_ids: set[int]) -> dict[int, str]:
    """Programme names by id."""
    if not programme_ids:
        return {}
    return dict(
        session.exec(
            select(Programme.id, Programme.name).where(col(Programme.id).in_(programme_ids))
        ).all()
    )


# The programme's end ---------------------------------------------------------------------------


def _due(session: Session, today: date) -> list[int]:
    return list(
        session.exec(
            select(Programme.id)
            .where(col(Programme.is_default).is_(False))
            .where(Programme.status != "ended")
            .where(col(Programme.ends_on).is_not(None))
            .where(col(Programme.ends_on) < today)
            .order_by(col(Programme.id))
        ).all()
    )


def end_programmes(*, session: Session, now: datetime | None = None) -> int:
    """The worker's step: end each programme whose last day has passed; returns how many.

    Each programme is claimed with a conditional UPDATE (status becomes 'ended'), so when two
    workers run at once only one ends it, and a second pass finds nothing to do. In the same
    transaction its active mentorships are completed through the lifecycle (freeing each
    mentor's place, telling both sides with a link to the feedback form), its open requests
    expire and its open offers are withdrawn. Each programme is committed on its own.
    """
    from backend import db

    moment = now or utcnow()
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    due = _due(session, today_in_london(moment))
    db.commit_for_job(session)
    ended = 0
    for programme_id in due:
        try:
            if _end_one(session, programme_id, moment):
                ended += 1
            db.commit_for_job(session)
        except Exception:
            db.rollback_for_job(session)
            log.exception("ending programme %s failed", programme_id)
    return ended


def _end_one(session: Session, programme_id: int, moment: datetime) -> bool:
    claimed = session.exec(
        update(Programme)
        .where(col(Programme.id) == programme_id)
        .where(col(Programme.is_default).is_(False))
        .where(col(Programme.status) != "ended")
        .values(status="ended", ended_at=moment, updated_at=moment)
    ).rowcount
    if not claimed:
        return False
    programme = session.get(Programme, programme_id)
    assert programme is not None
    session.refresh(programme)
    active = session.exec(
        select(Mentorship)
        .where(Mentorship.programme_id == programme_id)
        .where(Mentorship.status == "active")
        .order_by(col(Mentorship.id))
    ).all()
    for mentorship in active:
        if not lifecycle.close_mentorship(
            session=session, mentorship=mentorship, to="completed", ended_at=moment
        ):
            continue
        link = f"/mentoring/mentorships/{mentorship.id}#feedback-heading"
        for member_id in (mentorship.mentee_id, mentorship.mentor_id):
            member = session.get(Member, member_id) if member_id else None
            if member is None:
                continue
            lifecycle.tell(
                session,
                member,
                "mentorship",
                f"{programme.name} has ended",
                f"{programme.name} has come to its end, so your mentorship in it is now "
                "complete. Tell us how it went: your feedback helps match future pairs well.",
                link,
            )
    _close_open_pairing(session, programme_id)
    # Its mentoring groups close with it (those whose last mentorship ended just now closed
    # already; this also closes a group left without members).
    lifecycle.close_groups_of_programme(session=session, programme_id=programme_id)
    network_changed(session=session)  # places were freed: the matcher's view moved
    return True


def _close_open_pairing(session: Session, programme_id: int) -> None:
    requests = session.exec(
        select(MentorRequest)
        .where(MentorRequest.programme_id == programme_id)
        .where(MentorRequest.status == "open")
    ).all()
    for request in requests:
        if lifecycle.move_request(
            session=session,
            request_id=request.id,
            to="expired",
            strict=False,
            closed_reason="programme_ended",
        ):
            lifecycle.recount_open_requests(session=session, mentee_id=request.mentee_id)
    offers = session.exec(
        select(MatchProposal)
        .join(MatchingRound, col(MatchingRound.id) == col(MatchProposal.round_id))
        .where(MatchingRound.programme_id == programme_id)
        .where(col(MatchProposal.status).in_(("offered", "proposed")))
    ).all()
    rounds: set[int] = set()
    for offer in offers:
        if lifecycle.move_offer(
            session=session,
            proposal_id=offer.id,
            to="withdrawn",
            strict=False,
            decline_reason="The programme has ended.",
        ):
            rounds.add(offer.round_id)
    for round_id in sorted(rounds):
        figures.mark_stale(session=session, round_id=round_id)


def count_active(*, session: Session, programme_id: int) -> int:
    """Active mentorships in the programme."""
    return int(
        session.exec(
            select(func.count())
            .select_from(Mentorship)
            .where(Mentorship.programme_id == programme_id)
            .where(Mentorship.status == "active")
        ).one()
    )
