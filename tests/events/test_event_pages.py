"""Event pages: the list with places in words, the organiser's form with its error summary,
RSVP and cancel through the page with the waiting list position, the page after the event."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from backend.events.models import Event, EventComment, EventRsvp
from tests.factories import make_event, make_member, make_organiser
from tests.web.conftest import error_summary, log_in, post_form


def test_the_list_shows_upcoming_events_with_places_left_in_words(client, session):
    member = make_member(session)
    make_event(session, title="Rota planning meetup", capacity=12)
    session.commit()
    log_in(client, member.email)

    page = client.get("/events")

    assert page.status_code == 200
    assert "Rota planning meetup" in page.text
    assert "12 places left" in page.text
    assert 'href="/events">Events</a>' in page.text


def test_the_organiser_form_names_each_bad_field_in_the_error_summary(client, session):
    organiser = make_organiser(session)
    session.commit()
    log_in(client, organiser.email)

    page = post_form(
        client,
        "/events/new",
        {
            "kind": "webinar",
            "title": "",
            "day-day": "31",
            "day-month": "2",
            "day-year": "2027",
            "start": "6pm",
            "end": "7pm",
            "capacity": "x",
            "audience": "network",
        },
    )

    assert page.status_code == 400
    summary = error_summary(page.text)
    assert "Enter your title." in summary
    assert any("real date" in line for line in summary)
    assert any("number of places" in line for line in summary)
    assert any("place, a video link" in line for line in summary)


def test_an_organiser_creates_an_event_and_a_member_rsvps_then_waits_then_cancels(
    client,
    session,
):
    organiser = make_organiser(session)
    first, second = make_member(session), make_member(session)
    session.commit()
    log_in(client, organiser.email)

    made = post_form(
        client,
        "/events/new",
        {
            "kind": "meetup",
            "title": "Band 4 network meetup",
            "day-day": "14",
            "day-month": "7",
            "day-year": "2027",
            "start": "18:00",
            "end": "19:30",
            "capacity": "1",
            "location": "Room 4, Leeds General Infirmary",
            "audience": "network",
        },
    )

    assert made.status_code == 303, made.text
    event_id = int(made.headers["location"].split("/")[2].split("?")[0])
    client.cookies.clear()
    log_in(client, first.email)
    assert (
        post_form(client, f"/events/{event_id}/rsvp", {}, page=f"/events/{event_id}").status_code
        == 303
    )
    client.cookies.clear()
    log_in(client, second.email)
    post_form(client, f"/events/{event_id}/rsvp", {}, page=f"/events/{event_id}")
    page = client.get(f"/events/{event_id}")
    assert "You are number 1 on the waiting list." in page.text
    assert "Leave the waiting list" in page.text
    client.cookies.clear()
    log_in(client, first.email)
    post_form(client, f"/events/{event_id}/cancel", {}, page=f"/events/{event_id}")
    session.expire_all()
    statuses = dict(session.exec(select(EventRsvp.member_id, EventRsvp.status)).all())
    assert statuses == {first.id: "cancelled", second.id: "going"}


def test_after_the_event_the_organiser_records_attendance_and_members_discuss(client, session):
    organiser = make_organiser(session)
    member = make_member(session)
    event = make_event(session, organiser=organiser)
    from backend.events import service as events

    events.rsvp(session=session, member=member, event_id=event.id)
    event.starts_at = event.starts_at - timedelta(days=8)
    event.ends_at = event.starts_at + timedelta(hours=1)
    session.add(event)
    session.commit()
    log_in(client, organiser.email)

    saved = post_form(
        client,
        f"/events/{event.id}/attendance",
        {"attended_ids": str(member.id)},
        page=f"/events/{event.id}",
    )
    post_form(
        client,
        f"/events/{event.id}/links",
        {"link_title": "Slides", "link_url": "https://slides.example.org/qi"},
        page=f"/events/{event.id}",
    )
    client.cookies.clear()
    log_in(client, member.email)
    post_form(
        client,
        f"/events/{event.id}/comments",
        {"body": "Thanks, really useful."},
        page=f"/events/{event.id}",
    )
    page = client.get(f"/events/{event.id}")

    assert saved.status_code == 303
    assert "you came" in page.text
    assert 'href="https://slides.example.org/qi"' in page.text
    assert "Thanks, really useful." in page.text
    assert session.exec(select(EventComment)).one().member_id == member.id
    assert session.get(Event, event.id) is not None
