"""A notification that asked for something is marked read once the member has done it."""

from __future__ import annotations

from sqlmodel import select

from backend.mentoring import service as mentoring
from backend.notifications import service as notifications
from backend.notifications.models import Notification
from backend.rounds import service as rounds
from backend.rounds.models import MatchProposal
from tests.factories import make_member
from tests.rounds.test_rounds import run


def _unread(session, member_id):  # type: ignore[no-untyped-def]
    session.expire_all()
    return [
        n.link
        for n in session.exec(
            select(Notification)
            .where(Notification.member_id == member_id)
            .where(Notification.read_at.is_(None))  # type: ignore[union-attr]
        ).all()
    ]


def test_answering_a_request_marks_its_notification_read_and_no_other(session):
    mentor = make_member(session, band="8a", capacity=2)
    first, second = make_member(session, band="4"), make_member(session, band="4")
    asked = mentoring.request_mentor(
        session=session, mentee=first, mentor_id=mentor.id, message="Hi"
    )
    other = mentoring.request_mentor(
        session=session, mentee=second, mentor_id=mentor.id, message="Hello"
    )
    assert sorted(_unread(session, mentor.id)) == sorted(
        [f"/mentoring/requests/{asked.id}", f"/mentoring/requests/{other.id}"]
    )

    mentoring.respond_to_request(session=session, mentor=mentor, request_id=asked.id, accept=False)

    assert _unread(session, mentor.id) == [f"/mentoring/requests/{other.id}"]
    assert notifications.unread_count(session=session, member_id=mentor.id) == 1


def test_answering_a_proposal_marks_the_offer_read(session, engine, network):
    organiser, _, _ = network
    matching_round = run(session, engine, organiser)
    rounds.publish_round(session=session, organiser=organiser, round_id=matching_round.id)
    session.commit()
    proposal = session.exec(select(MatchProposal).where(MatchProposal.status == "offered")).first()
    assert proposal is not None
    link = f"/mentoring/proposals/{proposal.id}"
    assert link in _unread(session, proposal.mentee_id)

    from backend.members.models import Member

    mentee = session.get(Member, proposal.mentee_id)
    rounds.respond_to_proposal(session=session, member=mentee, proposal_id=proposal.id, accept=True)

    assert link not in _unread(session, proposal.mentee_id)
    assert link in _unread(session, proposal.mentor_id)  # the other side has not answered


def test_answering_a_check_in_marks_its_notification_read_and_not_the_partners(session):
    from datetime import timedelta

    from backend.db import utcnow
    from backend.members.models import Member
    from backend.mentoring import check_ins
    from tests.factories import make_mentorship

    mentorship = make_mentorship(session, started_at=utcnow() - timedelta(days=31))
    assert check_ins.create_due(session=session) == 2
    mentee = session.get(Member, mentorship.mentee_id)
    (mine,) = check_ins.mine(session=session, member=mentee, pending_only=True)
    link = f"/mentoring/check-ins/{mine.id}"
    assert link in _unread(session, mentee.id)

    check_ins.answer(
        session=session,
        member=mentee,
        check_in_id=mine.id,
        given=check_ins.CheckInAnswer(score=4),
    )

    assert link not in _unread(session, mentee.id)
    assert any(
        n.startswith("/mentoring/check-ins/") for n in _unread(session, mentorship.mentor_id)
    )


def _proposed(session):  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from backend.db import utcnow
    from backend.london import london_today
    from backend.members.models import Member
    from backend.mentoring import bookings
    from tests.factories import make_mentorship

    mentorship = make_mentorship(session, started_at=utcnow() - timedelta(days=30))
    mentee = session.get(Member, mentorship.mentee_id)
    mentor = session.get(Member, mentorship.mentor_id)
    proposal = bookings.propose_times(
        session=session,
        member=mentee,
        mentorship_id=mentorship.id,
        times=[
            bookings.TimeChoice(
                day=london_today() + timedelta(days=7),
                start="10am",
                duration_minutes=60,
                format="video",
            )
        ],
    )
    link = bookings.page_link(proposal)
    assert link in _unread(session, mentor.id)
    return bookings, mentor, proposal, link


def test_picking_a_proposed_time_marks_the_proposal_read(session):
    bookings, mentor, proposal, link = _proposed(session)
    [option] = bookings.options_for(session=session, booking_ids=[proposal.id])[proposal.id]

    bookings.pick_time(session=session, member=mentor, booking_id=proposal.id, option_id=option.id)

    # The proposal is read; the booking's own notice to the mentor, on the same page, is not.
    assert _unread(session, mentor.id) == [link]
    [notice] = session.exec(
        select(Notification)
        .where(Notification.member_id == mentor.id)
        .where(Notification.read_at.is_(None))  # type: ignore[union-attr]
    ).all()
    assert notice.title.startswith("Mentoring session booked")
    assert link in _unread(session, proposal.proposed_by_id)  # the mentee's booking notice


def test_declining_proposed_times_marks_the_proposal_read(session):
    bookings, mentor, proposal, link = _proposed(session)

    bookings.decline_times(session=session, member=mentor, booking_id=proposal.id)

    assert link not in _unread(session, mentor.id)
    assert link in _unread(session, proposal.proposed_by_id)  # told of the decline


def test_logging_a_session_marks_the_quiet_nudge_read_for_both_and_nothing_else(session):
    from datetime import timedelta

    from backend.db import utcnow
    from backend.london import london_today
    from backend.members.models import Member
    from backend.mentoring import health
    from tests.factories import make_mentorship

    mentorship = make_mentorship(session, started_at=utcnow() - timedelta(weeks=10))
    assert health.nudge_quiet(session=session) == 1
    link = f"/mentoring/mentorships/{mentorship.id}"
    assert link in _unread(session, mentorship.mentor_id)
    assert link in _unread(session, mentorship.mentee_id)

    mentee = session.get(Member, mentorship.mentee_id)
    mentoring.log_session(
        session=session,
        member=mentee,
        mentorship_id=mentorship.id,
        log=mentoring.SessionLog(held_on=london_today(), duration_minutes=45),
    )

    assert link not in _unread(session, mentorship.mentee_id)
    # The mentor's nudge is read; what is left is the news that a session was logged.
    [left] = session.exec(
        select(Notification)
        .where(Notification.member_id == mentorship.mentor_id)
        .where(Notification.read_at.is_(None))  # type: ignore[union-attr]
    ).all()
    assert left.kind == "mentorship" and left.link == link
