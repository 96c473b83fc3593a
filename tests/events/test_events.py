"""Events: organisers create them in their scope; members in the audience RSVP, wait, cancel;
invitations a calendar reads back; the day-before reminder, once; the last place goes once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes
from email import policy as email_policy

import pytest
from icalendar import Calendar
from sqlmodel import col, select

from backend import jobs
from backend.errors import Conflict, FieldErrors, Forbidden, NotFound
from backend.events import service as events
from backend.events.models import Event, EventRsvp
from backend.members.models import Member
from backend.notifications import service as notifications
from backend.notifications.models import Notification
from tests.factories import (
    make_chapter,
    make_event,
    make_member,
    make_organiser,
    make_organiser_scope,
    make_programme,
    make_programme_application,
)
from tests.races import race

SUMMER = date(2027, 7, 14)  # British Summer Time: 6pm in London is 5pm UTC
WINTER = date(2027, 1, 20)  # GMT: 6pm in London is 6pm UTC


def settings(**more) -> events.EventSettings:
    values = {
        "kind": "webinar",
        "title": "Getting started with quality improvement",
        "description": "An hour with the QI team, for new managers.",
        "day": SUMMER,
        "start": "18:00",
        "end": "7:30pm",
        "capacity": 30,
        "video_link": "https://meet.example.org/qi",
    }
    values.update(more)
    return events.EventSettings(**values)  # type: ignore[arg-type]


def invites(session, mail_dir) -> list[tuple[str, str, Calendar]]:
    """Deliver the outbox; each calendar email's recipient, its METHOD and its invite."""
    session.commit()
    notifications.deliver_pending(session=session)
    found = []
    for path in sorted(mail_dir.glob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=email_policy.default)
        for part in message.walk():
            if part.get_content_type() == "text/calendar" and part.get_filename() == "invite.ics":
                content = part.get_content()
                ics = content.encode() if isinstance(content, str) else content
                parsed = Calendar.from_ical(ics)
                found.append((str(message["To"]), str(parsed["METHOD"]), parsed))
        path.unlink()
    return found


# Creating -----------------------------------------------------------------------------------


def test_an_organiser_creates_an_event_stored_in_utc_from_london_time(session):
    organiser = make_organiser(session)

    summer = events.create_event(session=session, organiser=organiser, settings=settings())
    winter = events.create_event(
        session=session, organiser=organiser, settings=settings(day=WINTER)
    )

    assert summer.starts_at.astimezone(UTC) == datetime(2027, 7, 14, 17, 0, tzinfo=UTC)
    assert summer.ends_at.astimezone(UTC) == datetime(2027, 7, 14, 18, 30, tzinfo=UTC)
    assert winter.starts_at.astimezone(UTC) == datetime(2027, 1, 20, 18, 0, tzinfo=UTC)
    assert events.when_words(summer) == "14 July 2027, 6pm to 7:30pm (London time)"
    assert events.places_words(summer) == "30 places left"


def test_a_time_london_skips_is_refused_naming_the_field(session):
    organiser = make_organiser(session)

    with pytest.raises(FieldErrors) as error:
        events.create_event(
            session=session,
            organiser=organiser,
            settings=settings(day=date(2027, 3, 28), start="1:30am", end="3am"),
        )

    assert "does not exist in London" in error.value.errors["start"]


@pytest.mark.parametrize(
    ("more", "field"),
    [
        ({"kind": "party"}, "kind"),
        ({"title": "  "}, "title"),
        ({"day": None}, "day"),
        ({"start": "soon"}, "start"),
        ({"end": "5pm"}, "end"),
        ({"capacity": 0}, "capacity"),
        ({"video_link": "", "location": ""}, "location"),
        ({"video_link": "http://meet.example.org"}, "video_link"),
        ({"band_min": "7", "band_max": "4"}, "band_max"),
        ({"band_min": "11"}, "band_min"),
        ({"day": date(2020, 1, 1)}, "day"),
    ],
)
def test_bad_input_is_refused_naming_the_field(session, more, field):
    organiser = make_organiser(session)

    with pytest.raises(FieldErrors) as error:
        events.create_event(session=session, organiser=organiser, settings=settings(**more))

    assert field in error.value.errors


def test_a_chapter_organiser_creates_events_only_for_their_chapter(session):
    mine, other = make_chapter(session), make_chapter(session, regions=("London",))
    organiser = make_organiser_scope(session, chapter=mine).member_id
    person = session.get(Member, organiser)

    made = events.create_event(
        session=session, organiser=person, settings=settings(chapter_id=mine.id)
    )

    assert made.chapter_id == mine.id
    with pytest.raises(Forbidden):
        events.create_event(session=session, organiser=person, settings=settings())
    with pytest.raises(Forbidden):
        events.create_event(
            session=session, organiser=person, settings=settings(chapter_id=other.id)
        )
    with pytest.raises(Forbidden):
        events.create_event(session=session, organiser=make_member(session), settings=settings())


# Audience --------------------------------------------------------------------------------------


def test_the_audience_is_the_chapter_programme_and_band_range(session):
    chapter = make_chapter(session, regions=("London",))
    programme = make_programme(session)
    londoner = make_member(session, region="London", band="4")
    northerner = make_member(session, region="North West", band="4")
    senior_londoner = make_member(session, region="London", band="8a")
    make_programme_application(session, programme=programme, member=northerner, status="accepted")
    for_chapter = make_event(session, chapter_id=chapter.id, band_min="2", band_max="5")
    for_programme = make_event(session, programme_id=programme.id)
    for_all = make_event(session)

    def ids(member):
        return {e.id for e in events.upcoming_for(session=session, member=member)}

    assert ids(londoner) == {for_chapter.id, for_all.id}
    assert ids(northerner) == {for_programme.id, for_all.id}
    assert ids(senior_londoner) == {for_all.id}
    with pytest.raises(NotFound):
        events.get_event(session=session, member=senior_londoner, event_id=for_chapter.id)
    with pytest.raises(NotFound):
        events.rsvp(session=session, member=senior_londoner, event_id=for_chapter.id)
    assert (
        events.audience_words(session, for_chapter) == f"Members of {chapter.name} (bands 2 to 5)"
    )


# RSVP, waiting list, cancel -----------------------------------------------------------------


def test_rsvp_takes_a_place_then_the_waiting_list_and_a_cancellation_promotes_the_first(
    session, mail_dir
):
    event = make_event(session, capacity=1)
    first, second, third = (make_member(session) for _ in range(3))

    going = events.rsvp(session=session, member=first, event_id=event.id)
    waiting = events.rsvp(session=session, member=second, event_id=event.id)
    later = events.rsvp(session=session, member=third, event_id=event.id)
    again = events.rsvp(session=session, member=first, event_id=event.id)

    assert (going.status, waiting.status, later.status) == ("going", "waiting", "waiting")
    assert again.id == going.id
    session.refresh(event)
    assert event.places_taken == 1
    assert events.places_words(event) == "Full: you can join the waiting list"
    assert events.waiting_position(session, waiting) == 1
    assert events.waiting_position(session, later) == 2

    events.cancel_rsvp(session=session, member=first, event_id=event.id)

    session.refresh(waiting)
    session.refresh(later)
    session.refresh(event)
    assert (waiting.status, later.status, event.places_taken) == ("going", "waiting", 1)
    assert events.waiting_position(session, later) == 1
    told = session.exec(select(Notification.title).where(Notification.member_id == second.id)).all()
    assert any(title.startswith("A place for you") for title in told)
    sent = invites(session, mail_dir)
    assert sorted((to, method) for to, method, _ in sent) == sorted(
        [(first.email, "REQUEST"), (first.email, "CANCEL"), (second.email, "REQUEST")]
    )


def test_cancelling_twice_or_without_an_rsvp_is_a_clear_conflict(session):
    event = make_event(session)
    member = make_member(session)

    with pytest.raises(Conflict):
        events.cancel_rsvp(session=session, member=member, event_id=event.id)
    events.rsvp(session=session, member=member, event_id=event.id)
    events.cancel_rsvp(session=session, member=member, event_id=event.id)
    with pytest.raises(Conflict):
        events.cancel_rsvp(session=session, member=member, event_id=event.id)
    session.refresh(event)
    assert event.places_taken == 0


def test_rsvps_close_when_the_event_starts(session):
    event = make_event(session)

    with pytest.raises(Conflict):
        events.rsvp(
            session=session,
            member=make_member(session),
            event_id=event.id,
            now=event.starts_at + timedelta(minutes=1),
        )


# Invitations ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("day", "utc_hour"), [(SUMMER, 17), (WINTER, 18)])
def test_the_invitation_parses_back_at_the_utc_time_and_the_cancellation_keeps_the_uid(
    session, mail_dir, day, utc_hour
):
    organiser = make_organiser(session)
    event = events.create_event(session=session, organiser=organiser, settings=settings(day=day))
    member = make_member(session, band="4")

    row = events.rsvp(session=session, member=member, event_id=event.id)
    [(to, method, invite)] = invites(session, mail_dir)
    events.cancel_rsvp(session=session, member=member, event_id=event.id)
    [(_, cancel_method, cancel)] = invites(session, mail_dir)

    assert (to, method, cancel_method) == (member.email, "REQUEST", "CANCEL")
    [vevent] = invite.walk("VEVENT")
    [cancelled] = cancel.walk("VEVENT")
    start = datetime(day.year, day.month, day.day, utc_hour, 0, tzinfo=UTC)
    assert vevent.decoded("DTSTART").astimezone(UTC) == start
    assert vevent.decoded("DTEND").astimezone(UTC) == start + timedelta(minutes=90)
    assert str(vevent["UID"]) == f"event-{event.id}-rsvp-{row.id}@testserver"
    assert str(cancelled["UID"]) == str(vevent["UID"])
    assert int(cancelled["SEQUENCE"]) > int(vevent["SEQUENCE"])
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert str(vevent["SUMMARY"]) == "Webinar: Getting started with quality improvement"


def test_the_reminder_goes_once_the_day_before_to_those_going(session):
    event = make_event(session)
    going, waiting = make_member(session), make_member(session)
    events.rsvp(session=session, member=going, event_id=event.id)
    event.capacity = 1
    session.add(event)
    events.rsvp(session=session, member=waiting, event_id=event.id)
    day_before = event.starts_at - timedelta(hours=20)

    assert events.send_reminders(session=session, now=event.starts_at - timedelta(days=3)) == 0
    assert events.send_reminders(session=session, now=day_before) == 1
    assert events.send_reminders(session=session, now=day_before + timedelta(hours=1)) == 0
    reminded = session.exec(
        select(Notification.member_id).where(col(Notification.title).startswith("Reminder"))
    ).all()
    assert reminded == [going.id]


def test_the_job_pass_sends_event_reminders(engine, session):
    event = make_event(session, starts_at=datetime.now(UTC) + timedelta(hours=3))
    event.ends_at = event.starts_at + timedelta(hours=1)
    events.rsvp(session=session, member=make_member(session), event_id=event.id)
    session.commit()

    done = jobs.run_once(engine)

    assert done["event_reminders"] == 1


# Races ------------------------------------------------------------------------------------------


def test_two_rsvps_for_the_last_place_never_both_get_it(engine, session):
    event = make_event(session, capacity=1)
    members = [make_member(session).id for _ in range(2)]
    event_id = event.id

    def job(member_id: int):
        def run(own):
            member = own.get(Member, member_id)
            events.rsvp(session=own, member=member, event_id=event_id)

        return run

    outcomes = race(engine, session, [job(m) for m in members])

    assert outcomes == {"ok": 2}
    statuses = sorted(
        session.exec(select(EventRsvp.status).where(EventRsvp.event_id == event_id)).all()
    )
    assert statuses == ["going", "waiting"]
    assert session.get(Event, event_id).places_taken == 1  # type: ignore[union-attr]


def test_a_cancellation_racing_an_rsvp_leaves_no_place_idle_and_none_overfilled(engine, session):
    event = make_event(session, capacity=1)
    leaving, arriving = make_member(session), make_member(session)
    events.rsvp(session=session, member=leaving, event_id=event.id)
    ids = (event.id, leaving.id, arriving.id)

    def cancel(own):
        events.cancel_rsvp(session=own, member=own.get(Member, ids[1]), event_id=ids[0])

    def join(own):
        events.rsvp(session=own, member=own.get(Member, ids[2]), event_id=ids[0])

    outcomes = race(engine, session, [cancel, join])

    assert outcomes == {"ok": 2}
    row = session.exec(select(EventRsvp).where(EventRsvp.member_id == arriving.id)).one()
    assert row.status == "going"
    assert session.get(Event, ids[0]).places_taken == 1  # type: ignore[union-attr]


# Their data -------------------------------------------------------------------------------------


def test_export_holds_rsvps_and_comments_and_erasure_frees_the_place_for_the_next(session):
    from backend.privacy import service as privacy
    from tests.factories import PASSWORD, make_event_comment

    event = make_event(session, capacity=1)
    leaving, waiting = make_member(session), make_member(session)
    events.rsvp(session=session, member=leaving, event_id=event.id)
    events.rsvp(session=session, member=waiting, event_id=event.id)
    make_event_comment(session, event=event, member=leaving, body="See you there")

    exported = privacy.export_my_data(session=session, member=leaving)
    privacy.erase_my_account(session=session, member=leaving, password=PASSWORD, confirm=True)

    assert [r["status"] for r in exported["event_rsvps"]] == ["going"]
    assert [c["body"] for c in exported["event_comments"]] == ["See you there"]
    session.expire_all()
    rows = session.exec(select(EventRsvp.member_id, EventRsvp.status)).all()
    assert rows == [(waiting.id, "going")]
    assert session.get(Event, event.id).places_taken == 1  # type: ignore[union-attr]


def test_the_demo_events_are_upcoming_and_for_their_bands(session):
    from backend.events.demo import seed_demo_events

    made = seed_demo_events(session, organiser=make_organiser(session))
    band_4 = make_member(session, band="4")

    shown = {e.title for e in events.upcoming_for(session=session, member=band_4)}

    assert len(made) == 4
    assert "Band 2 to 4 administrators' meetup" in shown
    assert "Action learning set: leading through winter pressures" not in shown
