"""The limits hold when requests race: many clients at once, repeated, on each database."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

import pytest
from sqlmodel import select

from backend.db import session_factory
from backend.errors import DomainError
from backend.members.models import Member, MentoringOffer
from backend.mentoring import service as mentoring
from backend.mentoring.models import MentorRequest, Mentorship
from tests.factories import make_member

CLIENTS = 20
REPEATS = 3


def race(engine, session, jobs: list[Callable]) -> Counter:
    """Run each job in its own thread and database session, all released at once."""
    # The test's own session must hold no transaction (SQLite locks the file for it), and
    # what it set up must be committed. Jobs must capture plain ids beforehand: touching an
    # expired ORM object in a thread would quietly use this session from there.
    session.commit()
    session.expire_all()  # what the test reads afterwards comes from the database
    barrier = threading.Barrier(len(jobs))
    outcomes: Counter = Counter()
    lock = threading.Lock()

    def run(job: Callable) -> None:
        with session_factory(engine)() as session:
            barrier.wait()
            try:
                job(session)
                session.commit()  # each job is one unit of work, like a request
                outcome = "ok"
            except DomainError as error:
                outcome = type(error).__name__
            except Exception as error:  # anything else is a bug the test must show
                outcome = f"unexpected {type(error).__name__}: {error}"
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


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
