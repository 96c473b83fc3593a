"""Changing and cancelling events through GraphQL: updateEvent and cancelEvent, with their
authorisation, and members' own events when the network allows."""

from __future__ import annotations

from strawberry import relay

from backend.settings import get_settings
from tests.factories import make_event, make_event_rsvp, make_member, make_organiser

UPDATE = """
mutation($id: ID!, $input: CreateEventInput!) { updateEvent(eventId: $id, input: $input) {
  __typename ... on UpdateEventSuccess { event { when capacity placesLeft status } }
  ... on Error { message }
  ... on InvalidInput { errors { field message } }
} }
"""
CANCEL = """
mutation($id: ID!, $reason: String!) { cancelEvent(eventId: $id, reason: $reason) {
  __typename ... on CancelEventSuccess { event { status cancelReason myRsvp { status } } }
  ... on Error { message }
} }
"""
INPUT = {
    "kind": "meetup",
    "title": "Rota planning meetup",
    "day": "2027-07-14",
    "start": "18:30",
    "end": "8pm",
    "capacity": 10,
    "location": "Room 4, Leeds General Infirmary",
}


def gid(event) -> str:
    return relay.to_base64("Event", event.id)


def test_the_organiser_changes_then_cancels_and_others_are_refused(run, session):
    organiser = make_organiser(session)
    event = make_event(session, organiser=organiser, capacity=3)
    attendee = make_member(session)
    make_event_rsvp(session, event=event, member=attendee)
    make_event_rsvp(session, event=event)
    event.places_taken = 2
    session.add(event)
    session.commit()

    member = run(UPDATE, {"id": gid(event), "input": INPUT}, member=attendee)
    too_small = run(UPDATE, {"id": gid(event), "input": {**INPUT, "capacity": 1}}, member=organiser)
    changed = run(UPDATE, {"id": gid(event), "input": INPUT}, member=organiser)
    refused = run(CANCEL, {"id": gid(event), "reason": "Ill"}, member=attendee)
    anonymous = run(CANCEL, {"id": gid(event), "reason": "Ill"})
    cancelled = run(CANCEL, {"id": gid(event), "reason": "The room is flooded."}, member=organiser)
    again = run(CANCEL, {"id": gid(event), "reason": "Again"}, member=organiser)
    seen = run(
        "query($id: ID!) { event(id: $id) { status myRsvp { status } } }",
        {"id": gid(event)},
        member=attendee,
    )

    assert member["data"]["updateEvent"]["__typename"] != "UpdateEventSuccess"
    assert "created it" in member["data"]["updateEvent"]["message"]
    assert too_small["data"]["updateEvent"]["errors"] == [
        {"field": "capacity", "message": "Capacity cannot be less than the 2 people already going."}
    ]
    assert changed["data"]["updateEvent"]["event"] == {
        "when": "14 July 2027, 6:30pm to 8pm (London time)",
        "capacity": 10,
        "placesLeft": 8,
        "status": "scheduled",
    }
    assert refused["data"]["cancelEvent"]["__typename"] != "CancelEventSuccess"
    assert "errors" in anonymous or anonymous["data"]["cancelEvent"]["__typename"] != (
        "CancelEventSuccess"
    )
    assert cancelled["data"]["cancelEvent"]["event"]["status"] == "cancelled"
    assert cancelled["data"]["cancelEvent"]["event"]["cancelReason"] == "The room is flooded."
    assert again["data"]["cancelEvent"]["message"] == "This event has already been cancelled."
    assert seen["data"]["event"] == {"status": "cancelled", "myRsvp": {"status": "going"}}


def test_a_member_changes_their_own_event_only_when_members_may_create(run, session, monkeypatch):
    member = make_member(session)
    session.commit()
    create = "mutation($input: CreateEventInput!) { createEvent(input: $input) { __typename } }"

    refused = run(create, {"input": INPUT}, member=member)["data"]["createEvent"]
    monkeypatch.setattr(get_settings(), "members_create_events", True)
    made = run(
        "mutation($input: CreateEventInput!) { createEvent(input: $input) {"
        " ... on CreateEventSuccess { event { id } } } }",
        {"input": INPUT},
        member=member,
    )["data"]["createEvent"]["event"]
    changed = run(UPDATE, {"id": made["id"], "input": {**INPUT, "capacity": 4}}, member=member)
    cancelled = run(CANCEL, {"id": made["id"], "reason": "Double booked"}, member=member)

    assert refused["__typename"] != "CreateEventSuccess"
    assert changed["data"]["updateEvent"]["event"]["capacity"] == 4
    assert cancelled["data"]["cancelEvent"]["event"]["status"] == "cancelled"
