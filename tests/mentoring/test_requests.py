"""Asking for a mentor, and the mentor's answer: every rule of the request journey."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from backend.db import utcnow
from backend.errors import Conflict, FieldErrors, Forbidden, Invalid, NotFound
from backend.members import service as member_service
from backend.members.models import Member, MentoringOffer
from backend.mentoring import service as mentoring
from backend.mentoring.models import MentorRequest, Mentorship
from backend.notifications.models import Notification, OutboxEmail
from tests.factories import make_member


def mentor(session, **fields):
    defaults = {
        "band": "8a",
        "organisation": "Northfield Community Trust",
        "capacity": 2,
        "skills_offered": ("quality-improvement",),
    }
    defaults.update(fields)
    return make_member(session, **defaults)


def ask(session, mentee, mentor_member, **kwargs):
    return mentoring.request_mentor(
        session=session,
        mentee=mentee,
        mentor_id=mentor_member.id,
        message=kwargs.pop("message", "I would like help with quality improvement."),
        skills=kwargs.pop("skills", ["quality-improvement"]),
        **kwargs,
    )


def notices(session, member):
    return [
        n.title
        for n in session.exec(select(Notification).where(Notification.member_id == member.id))
    ]


def test_a_verified_member_asks_and_the_mentor_is_told(session):
    mentee = make_member(session)
    helper = mentor(session)

    request = ask(session, mentee, helper)

    assert request.status == "open"
    assert request.skill_ids == ["quality-improvement"]
    assert request.expires_at - request.created_at == timedelta(days=14)
    assert notices(session, helper) == [f"{mentee.name} has asked you to be their mentor"]
    assert session.exec(select(OutboxEmail).where(OutboxEmail.to_address == helper.email)).first()
    session.refresh(mentee)
    assert mentee.open_requests == 1


def test_an_unverified_member_cannot_ask_yet(session):
    mentee = make_member(session, verified=False)

    with pytest.raises(Forbidden, match="Confirm your email"):
        ask(session, mentee, mentor(session))
    assert session.exec(select(MentorRequest)).all() == []


def test_nobody_asks_themselves(session):
    member = mentor(session)

    with pytest.raises(Invalid, match="yourself"):
        ask(session, member, member)


def test_nobody_asks_within_their_line_management_chain(session):
    top = mentor(session, band="8c")
    middle = mentor(session, band="8a", line_manager_id=top.id)
    junior = make_member(session, line_manager_id=middle.id)

    with pytest.raises(Forbidden, match="line-management chain"):
        ask(session, junior, top)  # two levels up
    with pytest.raises(Forbidden, match="line-management chain"):
        ask(session, middle, top)  # my own manager


def test_a_second_open_request_to_the_same_mentor_is_refused(session):
    mentee = make_member(session)
    helper = mentor(session)
    ask(session, mentee, helper)

    with pytest.raises(mentoring.DuplicateRequest):
        ask(session, mentee, helper)
    assert len(session.exec(select(MentorRequest)).all()) == 1


def test_a_retried_request_with_the_same_key_creates_one_row(session):
    mentee = make_member(session)
    helper = mentor(session)

    first = ask(session, mentee, helper, idempotency_key="form-123")
    again = ask(session, mentee, helper, idempotency_key="form-123")

    assert first.id == again.id
    assert len(session.exec(select(MentorRequest)).all()) == 1


def test_at_most_three_open_requests(session):
    mentee = make_member(session)
    mentors = [mentor(session) for _ in range(4)]
    for helper in mentors[:3]:
        ask(session, mentee, helper)

    with pytest.raises(mentoring.TooManyOpenRequests, match="3 open requests"):
        ask(session, mentee, mentors[3])

    mentoring.withdraw_request(
        session=session,
        mentee=mentee,
        request_id=session.exec(select(MentorRequest.id)).first(),
    )
    assert ask(session, mentee, mentors[3]).status == "open"


def test_bad_input_is_named_and_nothing_is_written(session):
    mentee = make_member(session)
    helper = mentor(session)

    with pytest.raises(FieldErrors) as raised:
        ask(session, mentee, helper, message=" ", skills=["not-a-skill"])

    assert set(raised.value.errors) == {"message", "skills"}
    with pytest.raises(NotFound):
        mentoring.request_mentor(session=session, mentee=mentee, mentor_id=999999, message="Hi")
    assert session.exec(select(MentorRequest)).all() == []
    session.refresh(mentee)
    assert mentee.open_requests == 0


def test_accepting_starts_a_mentorship_and_withdraws_the_others(session):
    mentee = make_member(session)
    chosen, other = mentor(session), mentor(session)
    first = ask(session, mentee, chosen)
    second = ask(session, mentee, other)

    mentoring.respond_to_request(session=session, mentor=chosen, request_id=first.id, accept=True)

    session.expire_all()
    assert session.get(MentorRequest, first.id).status == "accepted"
    assert session.get(MentorRequest, second.id).status == "withdrawn"
    [mentorship] = session.exec(select(Mentorship)).all()
    assert (mentorship.mentor_id, mentorship.mentee_id, mentorship.status) == (
        chosen.id,
        mentee.id,
        "active",
    )
    assert session.get(MentoringOffer, chosen.id).active_mentees == 1
    assert session.get(Member, mentee.id).open_requests == 0
    assert f"{mentee.name} has found a mentor" in notices(session, other)
    assert f"{chosen.name} has agreed to mentor you" in notices(session, mentee)


def test_declining_tells_the_mentee_kindly_with_the_reason(session):
    mentee = make_member(session)
    helper = mentor(session)
    request = ask(session, mentee, helper)

    mentoring.respond_to_request(
        session=session, mentor=helper, request_id=request.id, accept=False, reason="Too busy"
    )

    session.expire_all()
    assert session.get(MentorRequest, request.id).decline_reason == "Too busy"
    [notice] = session.exec(select(Notification).where(Notification.member_id == mentee.id)).all()
    assert "Too busy" in notice.body and notice.link == "/mentoring/suggestions"


def test_only_the_mentor_asked_can_answer(session):
    mentee = make_member(session)
    helper, stranger = mentor(session), mentor(session)
    request = ask(session, mentee, helper)

    with pytest.raises(NotFound):
        mentoring.respond_to_request(
            session=session, mentor=stranger, request_id=request.id, accept=True
        )
    with pytest.raises(NotFound):
        mentoring.get_request(session=session, member=stranger, request_id=request.id)


def test_a_full_mentor_cannot_accept_more(session):
    helper = mentor(session, capacity=1)
    first, second = make_member(session), make_member(session)
    r1, r2 = ask(session, first, helper), ask(session, second, helper)
    mentoring.respond_to_request(session=session, mentor=helper, request_id=r1.id, accept=True)

    with pytest.raises(mentoring.CapacityReached):
        mentoring.respond_to_request(session=session, mentor=helper, request_id=r2.id, accept=True)

    session.expire_all()
    assert session.get(MentorRequest, r2.id).status == "open"
    assert session.get(MentoringOffer, helper.id).active_mentees == 1


def test_pausing_releases_open_requests_with_a_kind_message(session):
    helper = mentor(session)
    mentee = make_member(session)
    request = ask(session, mentee, helper)

    member_service.set_mentoring_offer(
        session=session,
        member=helper,
        offer=member_service.OfferUpdate(
            capacity=2, paused=True, skills_offered=["quality-improvement"]
        ),
    )

    session.expire_all()
    assert session.get(MentorRequest, request.id).status == "released"
    assert session.get(Member, mentee.id).open_requests == 0
    assert f"{helper.name} is taking a break from mentoring" in notices(session, mentee)
    with pytest.raises(Conflict, match="paused"):
        ask(session, mentee, helper)


def test_unanswered_requests_expire_and_both_sides_are_told(session):
    mentee = make_member(session)
    helper = mentor(session)
    request = ask(session, mentee, helper)

    assert mentoring.expire_requests(session=session, now=utcnow() + timedelta(days=13)) == 0
    assert mentoring.expire_requests(session=session, now=utcnow() + timedelta(days=15)) == 1

    session.expire_all()
    assert session.get(MentorRequest, request.id).status == "expired"
    assert session.get(Member, mentee.id).open_requests == 0
    assert any("expired" in title for title in notices(session, mentee))
    assert any("expired" in title for title in notices(session, helper))


def test_mentors_are_nudged_once_after_a_week(session):
    mentee = make_member(session)
    helper = mentor(session)
    ask(session, mentee, helper)

    assert mentoring.nudge_mentors(session=session, now=utcnow() + timedelta(days=6)) == 0
    assert mentoring.nudge_mentors(session=session, now=utcnow() + timedelta(days=8)) == 1
    assert mentoring.nudge_mentors(session=session, now=utcnow() + timedelta(days=9)) == 0
    assert notices(session, helper).count(f"{mentee.name} is waiting for your answer") == 1
