"""The limits hold when requests race: many clients at once, repeated, on each database."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest
from sqlmodel import select

from backend.members.models import Member, MentoringOffer
from backend.mentoring import service as mentoring
from backend.mentoring.models import MentorRequest, Mentorship
from tests.factories import make_member
from tests.races import race

CLIENTS = 20
REPEATS = 3


@pytest.mark.parametrize("attempt", range(REPEATS))
def test_twenty_parallel_accepts_at_a_capacity_three_mentor_give_exactly_three(
    engine, session, attempt
):
    helper_id = make_member(session, band="8b", organisation="Other Trust", capacity=3).id
    request_ids = []
    for _ in range(CLIENTS):
        mentee = make_member(session)
        request = mentoring.request_mentor(
            session=session, mentee=mentee, mentor_id=helper_id, message="Hello"
        )
        request_ids.append(request.id)

    def accept(request_id: int) -> Callable:
        def job(own_session) -> None:
            me = own_session.get(Member, helper_id)
            mentoring.respond_to_request(
                session=own_session, mentor=me, request_id=request_id, accept=True
            )

        return job

    outcomes = race(engine, session, [accept(r) for r in request_ids])

    assert outcomes == Counter({"ok": 3, "CapacityReached": CLIENTS - 3})
    assert session.get(MentoringOffer, helper_id).active_mentees == 3
    mentorships = session.exec(select(Mentorship).where(Mentorship.mentor_id == helper_id)).all()
    assert len(mentorships) == 3
    statuses = Counter(r.status for r in session.exec(select(MentorRequest)).all())
    assert statuses == Counter({"accepted": 3, "open": CLIENTS - 3})


@pytest.mark.parametrize("attempt", range(REPEATS))
def test_parallel_duplicate_requests_leave_one_open_request(engine, session, attempt):
    helper_id = make_member(session, band="8b", organisation="Other Trust", capacity=3).id
    mentee_id = make_member(session).id

    def job(own_session) -> None:
        me = own_session.get(Member, mentee_id)
        mentoring.request_mentor(
            session=own_session, mentee=me, mentor_id=helper_id, message="Hello"
        )

    outcomes = race(engine, session, [job] * 10)

    assert outcomes == Counter({"ok": 1, "DuplicateRequest": 9})
    assert len(session.exec(select(MentorRequest)).all()) == 1
    assert session.get(Member, mentee_id).open_requests == 1


@pytest.mark.parametrize("attempt", range(REPEATS))
def test_parallel_requests_to_many_mentors_never_exceed_three_open(engine, session, attempt):
    mentee_id = make_member(session).id
    helper_ids = [
        make_member(session, band="8b", organisation=f"Trust {i}", capacity=2).id for i in range(8)
    ]

    def ask(mentor_id: int) -> Callable:
        def job(own_session) -> None:
            me = own_session.get(Member, mentee_id)
            mentoring.request_mentor(
                session=own_session, mentee=me, mentor_id=mentor_id, message="Hi"
            )

        return job

    outcomes = race(engine, session, [ask(h) for h in helper_ids])

    assert outcomes == Counter({"ok": 3, "TooManyOpenRequests": 5})
    open_requests = session.exec(select(MentorRequest).where(MentorRequest.status == "open")).all()
    assert len(open_requests) == 3
    assert session.get(Member, mentee_id).open_requests == 3
