"""Sessions booked, not only logged: propose, pick, invite, reschedule, cancel, remind, log.

The invitations are read back from the mail files by ``icalendar`` and, independently, by a
few lines that read the raw text, across the October 2026 change from BST to GMT.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes
from email import policy as email_policy
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlmodel import col, delete, select

from backend import jobs
from backend.errors import Conflict, FieldErrors, Forbidden, NotFound
from backend.mentoring import bookings
from backend.mentoring import service as mentoring
from backend.mentoring.models import MentoringSession, SessionBooking, SessionTimeOption
from backend.notifications import service as notifications
from backend.notifications.models import Notification, OutboxEmail
from backend.privacy import service as privacy
from tests.factories import PASSWORD, make_member, make_mentee, make_mentor, make_mentorship

OCTOBER = datetime(2026, 10, 20, 12, 0, tzinfo=UTC)  # BST, five days before the clocks go back


class Clock:
    """The booking service's idea of now, moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock(OCTOBER)
    monkeypatch.setattr(bookings, "utcnow", clock)
    monkeypatch.setattr("backend.mentoring.calendar.utcnow", clock)
    return clock


@pytest.fixture
def pair(session):
    mentor = make_mentor(session, name="Maya Mentor", email="maya@example.nhs.uk")
    mentee = make_mentee(session, name="Mo Mentee", email="mo@example.nhs.uk")
    mentorship = make_mentorship(
        session, mentor=mentor, mentee=mentee, started_at=OCTOBER - timedelta(days=30)
    )
    return mentor, mentee, mentorship


def at(day: date, start: str, minutes: int = 60, **more: str) -> bookings.TimeChoice:
    more.setdefault("format", "video")
    return bookings.TimeChoice(day=day, start=start, duration_minutes=minutes, **more)


def book(session, pair, day: date, start: str, **more: str) -> SessionBooking:
    """The mentee proposes ``day`` at ``start`` (and one other time); the mentor picks it."""
    mentor, mentee, mentorship = pair
    proposal = bookings.propose_times(
        session=session,
        member=mentee,
        mentorship_id=mentorship.id,
        times=[at(day, start, **more), at(date(2026, 12, 1), "9am")],
        message="Shall we talk about the business case?",
    )
    first = bookings.options_for(session=session, booking_ids=[proposal.id])[proposal.id]
    wanted = next(o for o in first if o.starts_at.replace(tzinfo=None).date() == day)
    return bookings.pick_time(
        session=session, member=mentor, booking_id=proposal.id, option_id=wanted.id
    )


def sent_invites(session, mail_dir) -> list[tuple[str, str, bytes]]:
    """Deliver the outbox to the mail folder; each email's recipient, its calendar
    alternative's content type, and its invite.ics attachment's bytes."""
    session.commit()
    notifications.deliver_pending(session=session)
    found = []
    for path in sorted(mail_dir.glob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=email_policy.default)
        assert message["Date"], "every email carries a Date header"
        calendars = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
        if not calendars:
            continue
        alternative = next(p for p in calendars if p.get_filename() is None)
        attachment = next(p for p in calendars if p.get_filename() == "invite.ics")
        content = attachment.get_content()
        ics = content.encode() if isinstance(content, str) else content
        found.append((str(message["To"]), str(alternative["Content-Type"]), ics))
    return found


def event_of(ics: bytes):
    [event] = Calendar.from_ical(ics).walk("VEVENT")
    return event


def raw_start_utc(ics: bytes) -> datetime:
    """A second reading, without icalendar: the DTSTART line and the zone database."""
    unfolded = re.sub(r"\r?\n[ \t]", "", ics.decode("utf-8"))
    match = re.search(r"^DTSTART;TZID=([^:;]+):(\d{8}T\d{6})\r?$", unfolded, re.MULTILINE)
    assert match is not None, unfolded
    wall = datetime.strptime(match.group(2), "%Y%m%dT%H%M%S")
    return wall.replace(tzinfo=ZoneInfo(match.group(1))).astimezone(UTC)


@pytest.mark.parametrize(
    ("day", "start", "utc_hour"),
    [
        (date(2026, 10, 22), "10:30", 9),  # British Summer Time: 10:30 in London is 09:30 UTC
        (date(2026, 11, 3), "10:30am", 10),  # after the clocks went back: GMT, the same hour
    ],
)
def test_both_sides_get_an_invitation_a_calendar_reads_back_at_the_london_time(
    session, pair, clock, mail_dir, day, start, utc_hour
):
    mentor, mentee, _ = pair

    booking = book(session, pair, day, start, video_link="https://meet.example.org/abc")

    invites = sent_invites(session, mail_dir)
    assert sorted(to for to, _, _ in invites) == sorted([mentor.email, mentee.email])
    expected = datetime(day.year, day.month, day.day, utc_hour, 30, tzinfo=UTC)
    for _, content_type, ics in invites:
        assert "method=REQUEST" in content_type.replace('"', "")
        calendar = Calendar.from_ical(ics)
        assert calendar["METHOD"] == "REQUEST"
        assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/London"]
        event = event_of(ics)
        assert event.decoded("DTSTART").astimezone(UTC) == expected
        assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(minutes=60)
        assert event["DTSTART"].params["TZID"] == "Europe/London"
        assert raw_start_utc(ics) == expected
        assert str(event["UID"]) == f"session-{booking.id}@testserver"
        assert int(event["SEQUENCE"]) == 0
        assert str(event["URL"]) == "https://meet.example.org/abc"
        attendees = sorted(str(a).lower() for a in event["ATTENDEE"])
        assert attendees == sorted(f"mailto:{m.email}" for m in (mentor, mentee))
        assert "ORGANIZER" in event and "DTSTAMP" in event
        assert f"/mentoring/mentorships/{booking.mentorship_id}" in str(event["DESCRIPTION"])
    kinds = session.exec(select(Notification.kind, Notification.member_id)).all()
    assert sorted(kinds) == sorted(
        [("session", mentor.id), ("session", mentee.id), ("session", mentor.id)]
    )  # the proposal, then the booking to both


def test_reschedule_keeps_the_uid_and_raises_the_sequence_and_cancel_sends_cancel(
    session, pair, clock, mail_dir
):
    mentor, mentee, _ = pair
    booking = book(
        session, pair, date(2026, 10, 23), "14:00", format="in_person", location="Room 4"
    )
    first = event_of(sent_invites(session, mail_dir)[0][2])
    for old in mail_dir.glob("*.eml"):
        old.unlink()

    moved = bookings.reschedule(
        session=session,
        member=mentee,
        booking_id=booking.id,
        new_time=at(date(2026, 11, 10), "2pm", 45, format="phone"),
    ).sequence
    update = event_of(sent_invites(session, mail_dir)[0][2])
    for old in mail_dir.glob("*.eml"):
        old.unlink()
    bookings.cancel(session=session, member=mentor, booking_id=booking.id, reason="Off sick")
    [(_, content_type, ics), _other] = sent_invites(session, mail_dir)

    assert moved == 1
    assert str(update["UID"]) == str(first["UID"])
    assert int(update["SEQUENCE"]) == 1 > int(first["SEQUENCE"])
    assert update.decoded("DTSTART").astimezone(UTC) == datetime(2026, 11, 10, 14, 0, tzinfo=UTC)
    assert str(first["LOCATION"]) == "Room 4"
    cancelled = Calendar.from_ical(ics)
    assert cancelled["METHOD"] == "CANCEL" and "method=CANCEL" in content_type.replace('"', "")
    assert str(event_of(ics)["STATUS"]) == "CANCELLED"
    assert str(event_of(ics)["UID"]) == str(first["UID"])
    assert int(event_of(ics)["SEQUENCE"]) == 2
    assert session.get(SessionBooking, booking.id).status == "cancelled"
    with pytest.raises(Conflict):
        bookings.cancel(session=session, member=mentee, booking_id=booking.id)


def test_only_future_london_times_that_exist_can_be_proposed_all_or_nothing(session, pair, clock):
    _, mentee, mentorship = pair

    with pytest.raises(FieldErrors) as refused:
        bookings.propose_times(
            session=session,
            member=mentee,
            mentorship_id=mentorship.id,
            times=[
                at(date(2026, 10, 19), "10:00"),  # yesterday
                at(date(2027, 3, 28), "1:30am"),  # the hour London skips
                at(date(2026, 11, 2), "25:00", 10, format="in_person"),
            ],
        )

    errors = refused.value.errors
    assert errors["time_1_date"] == "Choose a time in the future."
    assert "does not exist in London" in errors["time_2_start"]
    assert "clocks go forward" in errors["time_2_start"]
    assert set(errors) >= {"time_3_start", "time_3_duration", "time_3_location"}
    assert session.exec(select(SessionBooking)).all() == []
    assert session.exec(select(SessionTimeOption)).all() == []
    with pytest.raises(FieldErrors):
        bookings.propose_times(
            session=session, member=mentee, mentorship_id=mentorship.id, times=[]
        )


def test_no_one_outside_the_pair_can_propose_pick_change_or_download(session, pair, clock):
    mentor, mentee, mentorship = pair
    outsider = make_member(session, name="Nosy Neighbour")
    proposal = bookings.propose_times(
        session=session,
        member=mentee,
        mentorship_id=mentorship.id,
        times=[at(date(2026, 11, 4), "9:15")],
    )
    [option] = bookings.options_for(session=session, booking_ids=[proposal.id])[proposal.id]

    with pytest.raises(NotFound):
        bookings.propose_times(
            session=session,
            member=outsider,
            mentorship_id=mentorship.id,
            times=[at(date(2026, 11, 4), "9:15")],
        )
    with pytest.raises(NotFound):
        bookings.pick_time(
            session=session, member=outsider, booking_id=proposal.id, option_id=option.id
        )
    with pytest.raises(Forbidden):  # the proposer cannot pick their own time
        bookings.pick_time(
            session=session, member=mentee, booking_id=proposal.id, option_id=option.id
        )
    booked = bookings.pick_time(
        session=session, member=mentor, booking_id=proposal.id, option_id=option.id
    )
    for attempt in (
        lambda: bookings.download_ics(
            session=session, member=outsider, mentorship_id=mentorship.id, booking_id=booked.id
        ),
        lambda: bookings.reschedule(
            session=session,
            member=outsider,
            booking_id=booked.id,
            new_time=at(date(2026, 11, 5), "9:15"),
        ),
        lambda: bookings.cancel(session=session, member=outsider, booking_id=booked.id),
        lambda: bookings.bookings_of(session=session, member=outsider, mentorship_id=mentorship.id),
    ):
        with pytest.raises(NotFound):
            attempt()
    with pytest.raises(Conflict):  # picked already: a second pick changes nothing
        bookings.pick_time(
            session=session, member=mentor, booking_id=proposal.id, option_id=option.id
        )
    ics = bookings.download_ics(
        session=session, member=mentor, mentorship_id=mentorship.id, booking_id=booked.id
    )
    assert "BEGIN:VTIMEZONE" in ics and "DTSTART;TZID=Europe/London:20261104T091500" in ics


def test_declining_and_proposing_other_times_instead(session, pair, clock):
    mentor, mentee, mentorship = pair
    first = bookings.propose_times(
        session=session,
        member=mentee,
        mentorship_id=mentorship.id,
        times=[at(date(2026, 11, 4), "9:15")],
    )

    counter = bookings.propose_times(
        session=session,
        member=mentor,
        mentorship_id=mentorship.id,
        times=[at(date(2026, 11, 6), "16:00"), at(date(2026, 11, 9), "16:00")],
        replaces_id=first.id,
    )
    bookings.decline_times(session=session, member=mentee, booking_id=counter.id, reason="Away")

    session.refresh(first)
    assert (first.status, first.closed_by_id) == ("declined", mentor.id)
    assert session.get(SessionBooking, counter.id).status == "declined"
    told = session.exec(select(Notification.title).where(Notification.member_id == mentor.id)).all()
    assert any("cannot make any of the times" in t for t in told)


def test_reminder_goes_once_the_day_before_however_often_the_job_runs(
    session, engine, pair, clock, mail_dir
):
    mentor, mentee, _ = pair
    booking = book(session, pair, date(2026, 10, 22), "10:30")
    session.commit()

    clock.now = datetime(2026, 10, 21, 8, 0, tzinfo=UTC)  # a day and a bit ahead: not yet
    assert jobs.run_once(engine)["session_reminders"] == 0
    clock.now = datetime(2026, 10, 21, 10, 0, tzinfo=UTC)
    first = jobs.run_once(engine)
    second = jobs.run_once(engine)

    assert (first["session_reminders"], second["session_reminders"]) == (1, 0)
    session.expire_all()
    reminders = session.exec(
        select(Notification).where(col(Notification.title).startswith("Reminder:"))
    ).all()
    assert sorted(r.member_id for r in reminders) == sorted([mentor.id, mentee.id])
    assert "22 October 2026 at 10:30am" in reminders[0].title
    emails = session.exec(
        select(OutboxEmail).where(col(OutboxEmail.subject).startswith("Reminder:"))
    ).all()
    assert len(emails) == 2 and all(e.sent_at is not None for e in emails)
    assert session.get(SessionBooking, booking.id).reminder_sent_at is not None


def test_a_booked_session_is_logged_after_its_time_once_and_counts_as_activity(
    session, pair, clock
):
    mentor, mentee, mentorship = pair
    assert bookings.last_activity(session=session, mentorship_id=mentorship.id) is None
    booking = book(session, pair, date(2026, 11, 3), "10:30")
    assert bookings.last_activity(session=session, mentorship_id=mentorship.id) == datetime(
        2026, 11, 3, 10, 30, tzinfo=UTC
    )
    assert not bookings.loggable(booking)

    clock.now = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)
    assert bookings.loggable(booking)
    assert bookings.prefill(booking) == {
        "held_on-day": "3",
        "held_on-month": "11",
        "held_on-year": "2026",
        "duration_minutes": "60",
        "booking_id": str(booking.id),
    }
    record = mentoring.log_session(
        session=session,
        member=mentor,
        mentorship_id=mentorship.id,
        log=mentoring.SessionLog(
            held_on=date(2026, 11, 3), duration_minutes=60, notes="Good", booking_id=booking.id
        ),
    )
    with pytest.raises(Conflict):
        mentoring.log_session(
            session=session,
            member=mentee,
            mentorship_id=mentorship.id,
            log=mentoring.SessionLog(
                held_on=date(2026, 11, 3), duration_minutes=60, booking_id=booking.id
            ),
        )

    session.refresh(booking)
    assert booking.logged_session_id == record.id
    assert not bookings.loggable(booking)
    assert len(session.exec(select(MentoringSession)).all()) == 1


def test_ending_the_mentorship_cancels_its_future_sessions_in_both_calendars(
    session, pair, clock, mail_dir
):
    mentor, mentee, mentorship = pair
    booking = book(session, pair, date(2026, 11, 3), "10:30")
    session.commit()
    for old in mail_dir.glob("*.eml"):
        old.unlink()
    session.exec(delete(OutboxEmail))

    mentoring.end_mentorship(
        session=session,
        member=mentee,
        mentorship_id=mentorship.id,
        ending=mentoring.MentorshipEnding(outcome="completed"),
    )

    invites = sent_invites(session, mail_dir)
    assert sorted(to for to, _, _ in invites) == sorted([mentor.email, mentee.email])
    assert all(Calendar.from_ical(ics)["METHOD"] == "CANCEL" for _, _, ics in invites)
    assert session.get(SessionBooking, booking.id).status == "cancelled"


def test_export_has_the_bookings_and_erasure_cancels_them_for_the_partner(session, pair, clock):
    mentor, mentee, _ = pair
    booking = book(session, pair, date(2026, 11, 3), "10:30", format="in_person", location="Café")

    exported = privacy.export_my_data(session=session, member=mentee)
    [row] = exported["session_bookings"]
    assert row["id"] == booking.id and len(row["times"]) == 2

    privacy.erase_my_account(session=session, member=mentee, password=PASSWORD, confirm=True)
    session.expire_all()
    kept = session.get(SessionBooking, booking.id)
    assert (kept.status, kept.proposed_by_id) == ("cancelled", None)
    cancel = session.exec(
        select(OutboxEmail).where(col(OutboxEmail.calendar_method) == "CANCEL")
    ).all()
    assert [e.to_address for e in cancel] == [mentor.email]
    assert "Mo Mentee" not in (cancel[0].calendar_ics or "") and "mo@example" not in (
        cancel[0].calendar_ics or ""
    )
    assert "Mo Mentee" not in kept.message
