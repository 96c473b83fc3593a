"""Mentorships: the agreement, logged sessions private to the pair, and ending well."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from backend.errors import Conflict, FieldErrors, NotFound
from backend.london import london_today
from backend.members.models import MentoringOffer
from backend.mentoring import service as mentoring
from backend.mentoring.models import MentorshipFeedback
from tests.factories import make_member, make_mentorship


@pytest.fixture
def pair(session):
    mentor = make_member(session, band="8a", organisation="Northfield Community Trust", capacity=1)
    mentee = make_member(session, goals="Move from rota co-ordinator to service manager")
    request = mentoring.request_mentor(
        session=session, mentee=mentee, mentor_id=mentor.id, message="Please help"
    )
    mentoring.respond_to_request(session=session, mentor=mentor, request_id=request.id, accept=True)
    [mentorship] = mentoring.list_mentorships(session=session, member=mentee)
    return mentor, mentee, mentorship


def test_both_sides_see_the_mentorship_with_the_mentees_goals(session, pair):
    mentor, _mentee, mentorship = pair

    assert [m.id for m in mentoring.list_mentorships(session=session, member=mentor)] == [
        mentorship.id
    ]
    from backend.mentoring import goals

    tracked = goals.goals_for(session=session, member=mentor, mentorship_ids=[mentorship.id])
    assert [g.title for g in tracked[mentorship.id]] == [
        "Move from rota co-ordinator to service manager"
    ]
    assert mentoring.list_mentorships(session=session, member=mentor, status="completed") == []


def test_the_pair_records_an_agreement_of_six_to_twelve_months(session, pair):
    mentor, _, mentorship = pair

    updated = mentoring.update_agreement(
        session=session,
        member=mentor,
        mentorship_id=mentorship.id,
        agreement=mentoring.AgreementUpdate(
            goals="Lead a QI project",
            meeting_rhythm="Monthly, 45 minutes, on Teams",
            planned_months=9,
        ),
    )

    assert (updated.planned_months, updated.meeting_rhythm) == (9, "Monthly, 45 minutes, on Teams")
    with pytest.raises(FieldErrors) as raised:
        mentoring.update_agreement(
            session=session,
            member=mentor,
            mentorship_id=mentorship.id,
            agreement=mentoring.AgreementUpdate(goals="", meeting_rhythm="", planned_months=18),
        )
    assert "planned_months" in raised.value.errors


def test_sessions_are_logged_and_private_to_the_pair(session, pair):
    mentor, mentee, mentorship = pair
    stranger = make_member(session)

    mentoring.log_session(
        session=session,
        member=mentee,
        mentorship_id=mentorship.id,
        log=mentoring.SessionLog(
            held_on=london_today(), duration_minutes=50, notes="Talked about the rota review."
        ),
    )

    [logged] = mentoring.sessions_of(session=session, member=mentor, mentorship_id=mentorship.id)
    assert (logged.duration_minutes, logged.notes) == (50, "Talked about the rota review.")
    with pytest.raises(NotFound):
        mentoring.sessions_of(session=session, member=stranger, mentorship_id=mentorship.id)
    with pytest.raises(NotFound):
        mentoring.get_mentorship(session=session, member=stranger, mentorship_id=mentorship.id)


def test_a_session_in_the_future_or_of_silly_length_is_refused(session, pair):
    _, mentee, mentorship = pair

    with pytest.raises(FieldErrors) as raised:
        mentoring.log_session(
            session=session,
            member=mentee,
            mentorship_id=mentorship.id,
            log=mentoring.SessionLog(held_on=date.today() + timedelta(days=3), duration_minutes=0),
        )

    assert set(raised.value.errors) == {"held_on", "duration_minutes"}
    assert mentoring.sessions_of(session=session, member=mentee, mentorship_id=mentorship.id) == []


def test_a_session_before_the_mentorship_started_is_refused_and_its_first_day_is_not(session):
    mentee = make_member(session)
    started = datetime(2026, 3, 5, 0, 30, tzinfo=UTC)  # 5 March in London, 00:30 UTC
    mentorship = make_mentorship(
        session, mentor=make_member(session), mentee=mentee, started_at=started
    )

    with pytest.raises(FieldErrors) as raised:
        mentoring.log_session(
            session=session,
            member=mentee,
            mentorship_id=mentorship.id,
            log=mentoring.SessionLog(held_on=date(2026, 3, 4), duration_minutes=45),
        )
    assert raised.value.errors == {
        "held_on": "The date of the session must be on or after 5 March 2026, "
        "when the mentorship started."
    }
    assert mentoring.sessions_of(session=session, member=mentee, mentorship_id=mentorship.id) == []

    logged = mentoring.log_session(
        session=session,
        member=mentee,
        mentorship_id=mentorship.id,
        log=mentoring.SessionLog(held_on=date(2026, 3, 5), duration_minutes=45),
    )
    assert logged.held_on == date(2026, 3, 5)


def test_ending_early_frees_the_mentors_place_and_records_feedback(session, pair):
    mentor, mentee, mentorship = pair

    ended = mentoring.end_mentorship(
        session=session,
        member=mentee,
        mentorship_id=mentorship.id,
        ending=mentoring.MentorshipEnding(
            outcome="ended_early",
            rating=4,
            feedback="Helpful, but I changed jobs.",
            reason="New role",
        ),
    )

    assert ended.status == "ended_early" and ended.ended_at is not None
    session.expire_all()
    assert session.get(MentoringOffer, mentor.id).active_mentees == 0
    mentoring.give_feedback(
        session=session,
        member=mentor,
        mentorship_id=mentorship.id,
        given=mentoring.FeedbackGiven(rating=5, feedback="Great"),
    )
    ratings = {f.author_role: f.rating for f in session.exec(select(MentorshipFeedback)).all()}
    assert ratings == {"mentee": 4, "mentor": 5}
    with pytest.raises(Conflict):
        mentoring.give_feedback(
            session=session,
            member=mentor,
            mentorship_id=mentorship.id,
            given=mentoring.FeedbackGiven(rating=3),
        )
    with pytest.raises(Conflict):
        mentoring.end_mentorship(
            session=session,
            member=mentor,
            mentorship_id=mentorship.id,
            ending=mentoring.MentorshipEnding(outcome="completed"),
        )


def test_after_ending_the_mentor_can_accept_someone_new(session, pair):
    mentor, _mentee, mentorship = pair
    mentoring.end_mentorship(
        session=session,
        member=mentor,
        mentorship_id=mentorship.id,
        ending=mentoring.MentorshipEnding(outcome="completed", rating=5),
    )
    newcomer = make_member(session)

    request = mentoring.request_mentor(
        session=session, mentee=newcomer, mentor_id=mentor.id, message="Hello"
    )
    mentoring.respond_to_request(session=session, mentor=mentor, request_id=request.id, accept=True)

    assert len(mentoring.list_mentorships(session=session, member=mentor, status="active")) == 1


def test_bad_outcome_and_rating_are_named(session, pair):
    _, mentee, mentorship = pair

    with pytest.raises(FieldErrors) as raised:
        mentoring.end_mentorship(
            session=session,
            member=mentee,
            mentorship_id=mentorship.id,
            ending=mentoring.MentorshipEnding(outcome="done", rating=9),
        )

    assert set(raised.value.errors) == {"outcome", "rating"}
    assert (
        mentoring.get_mentorship(session=session, member=mentee, mentorship_id=mentorship.id).status
        == "active"
    )


def test_an_unknown_outcome_names_the_choices_in_words(session, pair):
    _mentor, mentee, mentorship = pair

    with pytest.raises(FieldErrors) as raised:
        mentoring.end_mentorship(
            session=session,
            member=mentee,
            mentorship_id=mentorship.id,
            ending=mentoring.MentorshipEnding(outcome="finished"),
        )

    message = raised.value.errors["outcome"]
    assert message == "Choose how the mentorship ended: completed, or ended early."
    assert "ended_early" not in message
