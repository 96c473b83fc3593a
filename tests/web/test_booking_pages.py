"""The booked-sessions pages: errors in London words, the .ics for the pair only, logging a
past booking with its date filled in, and cancelling after confirmation."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from backend import london
from backend.db import utcnow
from backend.mentoring.models import MentoringSession, SessionBooking
from tests.factories import make_member, make_mentee, make_mentor, make_mentorship
from tests.web.conftest import another_client, error_summary, log_in, post_form


def _pair_with_booking(session, *, starts_in: timedelta):
    mentor = make_mentor(session, name="Pat Mentor")
    mentee = make_mentee(session, name="Rae Mentee")
    mentorship = make_mentorship(session, mentor=mentor, mentee=mentee)
    booking = SessionBooking(
        mentorship_id=mentorship.id,
        proposed_by_id=mentee.id,
        status="booked",
        starts_at=utcnow() + starts_in,
        duration_minutes=45,
        format="phone",
        booked_at=utcnow(),
    )
    session.add(booking)
    session.commit()
    return mentor, mentee, mentorship, booking


def test_the_calendar_file_is_for_the_pair_only(session, engine, client):
    _, mentee, mentorship, booking = _pair_with_booking(session, starts_in=timedelta(days=3))
    outsider = make_member(session, name="Sam Outsider")
    session.commit()
    path = f"/mentoring/mentorships/{mentorship.id}/sessions/{booking.id}.ics"

    log_in(client, mentee.email)
    mine = client.get(path)
    other = another_client(engine)
    log_in(other, outsider.email)
    theirs = other.get(path)

    assert mine.status_code == 200
    assert mine.headers["content-type"].startswith("text/calendar")
    assert "BEGIN:VTIMEZONE" in mine.text and "TZID=Europe/London" in mine.text
    assert f"UID:session-{booking.id}@testserver" in mine.text
    assert theirs.status_code == 404 and "BEGIN:VCALENDAR" not in theirs.text


def test_a_time_london_skips_is_refused_in_words_and_nothing_is_saved(session, client):
    _, mentee, mentorship, _ = _pair_with_booking(session, starts_in=timedelta(days=3))
    log_in(client, mentee.email)
    path = f"/mentoring/mentorships/{mentorship.id}/sessions/propose"

    response = post_form(
        client,
        path,
        {
            "time_1_date-day": "28",
            "time_1_date-month": "3",
            "time_1_date-year": "2027",
            "time_1_start": "1:30am",
            "time_1_duration": "60",
            "time_1_format": "video",
            "time_2_duration": "60",
        },
    )

    assert response.status_code == 400
    [message] = error_summary(response.text)
    assert "1:30am on 28 March 2027 does not exist in London" in message
    assert len(session.exec(select(SessionBooking)).all()) == 1


def test_a_past_booking_offers_log_this_session_filled_in_and_is_logged_once(session, client):
    _, mentee, mentorship, booking = _pair_with_booking(session, starts_in=-timedelta(hours=2))
    log_in(client, mentee.email)
    page = client.get(f"/mentoring/mentorships/{mentorship.id}")
    assert "Log this session" in page.text
    filled = client.get(f"/mentoring/mentorships/{mentorship.id}?log={booking.id}")
    assert f'name="booking_id" value="{booking.id}"' in filled.text
    assert (
        'name="duration_minutes" type="text" value="45"' in filled.text
        or 'value="45"' in filled.text
    )
    day = london.in_london(booking.starts_at).date()
    response = post_form(
        client,
        f"/mentoring/mentorships/{mentorship.id}/sessions",
        {
            "held_on-day": str(day.day),
            "held_on-month": str(day.month),
            "held_on-year": str(day.year),
            "duration_minutes": "45",
            "notes": "Went well",
            "booking_id": str(booking.id),
        },
        page=f"/mentoring/mentorships/{mentorship.id}",
    )

    assert response.status_code == 303
    session.expire_all()
    [logged] = session.exec(select(MentoringSession)).all()
    assert session.get(SessionBooking, booking.id).logged_session_id == logged.id
    assert "Log this session" not in client.get(f"/mentoring/mentorships/{mentorship.id}").text


def test_cancelling_asks_first_then_cancels(session, client):
    mentor, _, mentorship, booking = _pair_with_booking(session, starts_in=timedelta(days=3))
    log_in(client, mentor.email)
    path = f"/mentoring/mentorships/{mentorship.id}/sessions/{booking.id}/cancel"

    confirm = client.get(path)
    assert confirm.status_code == 200 and "Yes, cancel the session" in confirm.text
    assert session.get(SessionBooking, booking.id).status == "booked"
    response = post_form(client, path, {"reason": "Clash"})

    assert response.status_code == 303
    assert "session-cancelled" in response.headers["location"]
    session.expire_all()
    assert session.get(SessionBooking, booking.id).status == "cancelled"
