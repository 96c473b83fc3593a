"""One mentoring lifecycle: whichever path starts a mentorship, a mentee has one mentor.

A mentorship starts when a mentor accepts a request, or when both sides accept a round's
offer. Both paths go through one ``start_mentorship``, and the database refuses what must
never hold (two active mentorships of one mentee, two open offers to one mentee).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from backend.errors import Conflict
from backend.members.models import Member, MentoringOffer
from backend.mentoring import service as mentoring
from backend.mentoring.models import MentorRequest, Mentorship
from backend.notifications.models import Notification
from backend.programmes.service import default_programme_id
from backend.rounds import service as rounds
from backend.rounds.models import MatchProposal
from tests.factories import make_member, make_organiser, make_proposal, make_round
from tests.races import race

RACES = 20


def titles(session, member_id: int) -> list[str]:
    return [
        n.title
        for n in session.exec(select(Notification).where(Notification.member_id == member_id))
    ]


def published_offer(session, *, mentee, mentor, mentor_answer: str | None = "accepted"):
    """A published round holding one offer of ``mentor`` to ``mentee``."""
    organiser = make_organiser(session, band="8c", organisation="Organiser Trust")
    matching_round = make_round(session, organiser=organiser, name="Spring", status="published")
    proposal = make_proposal(
        session,
        matching_round=matching_round,
        mentee=mentee,
        mentor=mentor,
        status="offered",
        mentor_answer=mentor_answer,
    )
    return organiser, matching_round, proposal


@pytest.fixture
def people(session):
    """A mentee, the round's mentor A and a mentor B the mentee asked directly."""
    mentee = make_member(session, band="4", organisation="Mentee Trust")
    offer_mentor = make_member(session, band="8a", organisation="Trust A", capacity=2)
    request_mentor = make_member(session, band="8b", organisation="Trust B", capacity=2)
    return mentee, offer_mentor, request_mentor


def ask(session, mentee, mentor):
    return mentoring.request_mentor(
        session=session, mentee=mentee, mentor_id=mentor.id, message="Could you help me?"
    )


def test_accepted_directly_then_accepting_an_offer_is_refused(session, people):
    mentee, offer_mentor, request_mentor = people
    _, _, proposal = published_offer(session, mentee=mentee, mentor=offer_mentor)
    request = ask(session, mentee, request_mentor)
    mentoring.respond_to_request(
        session=session, mentor=request_mentor, request_id=request.id, accept=True
    )
    session.commit()

    with pytest.raises(Conflict):
        rounds.respond_to_proposal(
            session=session, member=mentee, proposal_id=proposal.id, accept=True
        )

    session.rollback()
    active = session.exec(
        select(Mentorship).where(Mentorship.mentee_id == mentee.id, Mentorship.status == "active")
    ).all()
    assert [m.mentor_id for m in active] == [request_mentor.id]
    assert session.get(MentoringOffer, offer_mentor.id).active_mentees == 0


def test_a_direct_accept_closes_the_mentees_open_offer_and_tells_its_mentor(session, people):
    mentee, offer_mentor, request_mentor = people
    _, _, proposal = published_offer(session, mentee=mentee, mentor=offer_mentor)
    request = ask(session, mentee, request_mentor)

    mentoring.respond_to_request(
        session=session, mentor=request_mentor, request_id=request.id, accept=True
    )

    session.expire_all()
    assert session.get(MatchProposal, proposal.id).status == "withdrawn"
    assert f"{mentee.name} has found a mentor" in titles(session, offer_mentor.id)
    assert rounds.my_proposals(session=session, member=mentee) == []


def test_an_accepted_offer_closes_open_requests_tells_those_mentors_and_recounts(session, people):
    mentee, offer_mentor, request_mentor = people
    _, _, proposal = published_offer(session, mentee=mentee, mentor=offer_mentor)
    ask(session, mentee, request_mentor)

    done = rounds.respond_to_proposal(
        session=session, member=mentee, proposal_id=proposal.id, accept=True
    )

    session.expire_all()
    assert done.status == "accepted" and done.mentorship_id
    request = session.exec(select(MentorRequest).where(MentorRequest.mentee_id == mentee.id)).one()
    assert request.status == "withdrawn"
    assert f"{mentee.name} has found a mentor" in titles(session, request_mentor.id)
    assert session.get(Member, mentee.id).open_requests == 0
    assert session.get(MentoringOffer, offer_mentor.id).active_mentees == 1


def test_an_offer_accept_when_the_mentor_has_no_place_left_closes_it_for_a_reoffer(session, people):
    mentee, offer_mentor, _ = people
    _, _, proposal = published_offer(session, mentee=mentee, mentor=offer_mentor)
    offer = session.get(MentoringOffer, offer_mentor.id)
    offer.active_mentees = offer.capacity
    session.add(offer)
    session.commit()

    done = rounds.respond_to_proposal(
        session=session, member=mentee, proposal_id=proposal.id, accept=True
    )

    assert done.status == "declined" and done.mentorship_id is None
    assert session.exec(select(Mentorship)).all() == []


def test_the_database_refuses_a_second_active_mentorship_for_one_mentee(session, people):
    mentee, offer_mentor, request_mentor = people
    programme_id = default_programme_id(session=session)
    session.add(
        Mentorship(programme_id=programme_id, mentor_id=offer_mentor.id, mentee_id=mentee.id)
    )
    session.commit()

    session.add(
        Mentorship(programme_id=programme_id, mentor_id=request_mentor.id, mentee_id=mentee.id)
    )
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_the_database_refuses_a_second_open_offer_for_one_mentee(session, people):
    mentee, offer_mentor, request_mentor = people
    _, matching_round, _ = published_offer(session, mentee=mentee, mentor=offer_mentor)

    session.add(
        MatchProposal(
            round_id=matching_round.id,
            mentee_id=mentee.id,
            mentor_id=request_mentor.id,
            status="offered",
        )
    )
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_illegal_transitions_are_refused_with_a_clear_conflict(session, people):
    from backend.mentoring import lifecycle

    mentee, _, request_mentor = people
    request = ask(session, mentee, request_mentor)
    mentoring.respond_to_request(
        session=session, mentor=request_mentor, request_id=request.id, accept=True
    )

    with pytest.raises(Conflict) as raised:
        lifecycle.move_request(session=session, request_id=request.id, to="withdrawn")

    assert "accepted" in raised.value.message
    assert session.get(MentorRequest, request.id).status == "accepted"
    with pytest.raises(ValueError):
        lifecycle.move_request(session=session, request_id=request.id, to="open")


def test_the_state_tables_cover_every_status():
    from backend.mentoring import lifecycle
    from backend.mentoring.models import MENTORSHIP_STATUSES, REQUEST_STATUSES
    from backend.rounds.models import PROPOSAL_STATUSES

    for table, statuses in (
        (lifecycle.REQUEST_TRANSITIONS, REQUEST_STATUSES),
        (lifecycle.OFFER_TRANSITIONS, PROPOSAL_STATUSES),
        (lifecycle.MENTORSHIP_TRANSITIONS, MENTORSHIP_STATUSES),
    ):
        assert set(table) == set(statuses)
        assert all(set(targets) <= set(statuses) for targets in table.values())


# Racing the two paths ---------------------------------------------------------------------


def the_two_accepts(
    mentee_id: int, request_mentor_id: int, request_id: int, proposal_id: int
) -> list[Callable]:
    """The mentor B accepting the request, and the mentee accepting the round's offer."""

    def direct(own) -> None:
        mentoring.respond_to_request(
            session=own,
            mentor=own.get(Member, request_mentor_id),
            request_id=request_id,
            accept=True,
        )

    def offer(own) -> None:
        rounds.respond_to_proposal(
            session=own, member=own.get(Member, mentee_id), proposal_id=proposal_id, accept=True
        )

    return [direct, offer]


def test_a_direct_accept_racing_an_offer_accept_starts_exactly_one_mentorship(engine, session):
    for attempt in range(RACES):
        mentee = make_member(session, band="4", organisation=f"Mentee Trust {attempt}")
        offer_mentor = make_member(session, band="8a", organisation=f"A {attempt}", capacity=2)
        request_mentor = make_member(session, band="8b", organisation=f"B {attempt}", capacity=2)
        _, _, proposal = published_offer(session, mentee=mentee, mentor=offer_mentor)
        request = ask(session, mentee, request_mentor)
        mentee_id = mentee.id

        outcomes = race(
            engine,
            session,
            the_two_accepts(mentee_id, request_mentor.id, request.id, proposal.id),
        )

        assert outcomes == Counter({"ok": 1, "Conflict": 1}), (attempt, outcomes)
        count = session.execute(
            text("SELECT count(*) FROM mentorship WHERE mentee_id = :m AND status = 'active'"),
            {"m": mentee_id},
        ).scalar()
        assert count == 1, attempt
        places = session.execute(
            text("SELECT sum(active_mentees) FROM mentoring_offer WHERE member_id IN (:a, :b)"),
            {"a": offer_mentor.id, "b": request_mentor.id},
        ).scalar()
        assert places == 1, attempt
        session.rollback()
