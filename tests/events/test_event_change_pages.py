"""Changing and cancelling an event through its pages: the form filled in, its error summary,
the notices; the cancelled event's page; 'Create an event' for members when the network allows.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from backend.events import service as events
from backend.events.models import Event
from backend.settings import get_settings
from tests.factories import make_event, make_event_rsvp, make_member, make_organiser
from tests.web.conftest import error_summary, log_in, post_form

# 14 July 2027, 6pm to 7pm in London (BST).
STARTS = datetime(2027, 7, 14, 17, 0, tzinfo=UTC)
FORM = {
    "kind": "webinar",
    "title": "Rota planning basics",
    "day-day": "14",
    "day-month": "7",
    "day-year": "2027",
    "start": "19:00",
    "end": "20:00",
    "location": "",
    "video_link": "https://meet.example.org/rota",
    "capacity": "20",
    "audience": "network",
}


@pytest.fixture
def event(session):
    made = make_event(
        session,
        organiser=make_organiser(session),
        title="Rota planning basics",
        starts_at=STARTS,
        ends_at=STARTS.replace(hour=18),
        video_link="https://meet.example.org/rota",
    )
    make_event_rsvp(session, event=made)
    made.places_taken = 1
    session.add(made)
    session.commit()
    return made


def organiser_of(session, event: Event):
    return session.get(events.Member, event.organiser_id)


def test_the_organiser_changes_the_event_through_the_form_filled_in(client, session, event):
    member = make_member(session)
    session.commit()
    log_in(client, member.email)
    assert "Change this event" not in client.get(f"/events/{event.id}").text
    assert client.get(f"/events/{event.id}/edit").status_code == 403
    client.cookies.clear()
    log_in(client, organiser_of(session, event).email)

    shown = client.get(f"/events/{event.id}")
    form = client.get(f"/events/{event.id}/edit")
    refused = post_form(client, f"/events/{event.id}/edit", {**FORM, "capacity": "0", "title": ""})
    saved = post_form(client, f"/events/{event.id}/edit", FORM, page=f"/events/{event.id}/edit")

    assert f'href="/events/{event.id}/edit">Change this event' in shown.text
    assert form.status_code == 200
    assert 'value="Rota planning basics"' in form.text
    assert 'value="18:00"' in form.text and 'value="14"' in form.text
    assert refused.status_code == 400
    summary = error_summary(refused.text)
    assert "Enter your title." in summary
    assert any("number of places" in line for line in summary)
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == f"/events/{event.id}?notice=event-updated"
    page = client.get(saved.headers["location"])
    assert "updated invitation" in page.text
    assert "14 July 2027, 7pm to 8pm (London time)" in page.text


def test_the_capacity_below_those_going_is_named_in_the_error_summary(client, session, event):
    log_in(client, organiser_of(session, event).email)
    event.capacity = 2
    session.add(event)
    make_event_rsvp(session, event=event)
    event.places_taken = 2
    session.add(event)
    session.commit()

    refused = post_form(
        client, f"/events/{event.id}/edit", {**FORM, "capacity": "1"}, page=f"/events/{event.id}"
    )

    assert refused.status_code == 400
    assert error_summary(refused.text) == [
        "Capacity cannot be less than the 2 people already going."
    ]


def test_cancelling_needs_a_reason_then_the_page_says_it_is_cancelled(client, session, event):
    attendee = make_member(session)
    events.rsvp(session=session, member=attendee, event_id=event.id)
    session.commit()
    log_in(client, organiser_of(session, event).email)

    empty = post_form(
        client, f"/events/{event.id}/cancel-event", {"reason": " "}, page=f"/events/{event.id}"
    )
    done = post_form(
        client,
        f"/events/{event.id}/cancel-event",
        {"reason": "The speaker is ill."},
        page=f"/events/{event.id}",
    )
    again = post_form(
        client, f"/events/{event.id}/cancel-event", {"reason": "x"}, page=f"/events/{event.id}"
    )
    client.cookies.clear()
    log_in(client, attendee.email)
    page = client.get(f"/events/{event.id}")
    listed = client.get("/events")

    assert empty.status_code == 400
    assert error_summary(empty.text) == ["Enter why the event is cancelled."]
    assert done.headers["location"] == f"/events/{event.id}?notice=event-cancelled"
    assert again.status_code == 400
    assert error_summary(again.text) == ["This event has already been cancelled."]
    assert "This event has been cancelled (" in page.text  # with the day it was
    assert 'The reason given: <span class="pb-free-text">The speaker is ill.</span>' in page.text
    assert "I'm going" not in page.text and "Cancel my place" not in page.text
    assert "Change this event" not in page.text
    assert "Rota planning basics" not in listed.text


@pytest.mark.parametrize("allowed", [False, True])
def test_members_see_create_an_event_only_when_the_network_allows(
    client, session, monkeypatch, allowed
):
    monkeypatch.setattr(get_settings(), "members_create_events", allowed)
    member = make_member(session)
    session.commit()
    log_in(client, member.email)

    listed = client.get("/events")
    form = client.get("/events/new")
    made = post_form(
        client, "/events/new", {**FORM, "kind": "meetup", "title": "Our meetup"}, page="/events"
    )

    assert ("Create an event" in listed.text) is allowed
    if allowed:
        assert form.status_code == 200
        assert "Learning set" not in form.text
        assert made.status_code == 303, made.text
        event_id = int(made.headers["location"].split("/")[2].split("?")[0])
        assert "Change this event" in client.get(f"/events/{event_id}").text
    else:
        assert form.status_code == 403
        assert made.status_code == 403
