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
