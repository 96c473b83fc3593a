"""Events through GraphQL: events, event(id), myEvents, createEvent, rsvpEvent, cancelRsvp,
with their authorisation, and the events list in a fixed number of statements."""

from __future__ import annotations

from strawberry import relay

from backend.events.models import EventSkill
from tests.factories import make_chapter, make_event, make_event_rsvp, make_member, make_organiser

LIST = "{ events { id title places skills { name } myRsvp { status waitingPosition } } }"
CREATE = """
mutation($input: CreateEventInput!) { createEvent(input: $input) {
  __typename ... on CreateEventSuccess { event { id title when places } }
  ... on Error { message }
} }
"""
RSVP = """
mutation($id: ID!) { rsvpEvent(eventId: $id) {
  __typename ... on RsvpSuccess { event { placesLeft myRsvp { status waitingPosition } } }
  ... on Error { message }
} }
"""
CANCEL = RSVP.replace("rsvpEvent", "cancelRsvp")


def gid(event) -> str:
    return relay.to_base64("Event", event.id)


def test_an_organiser_creates_an_event_and_members_rsvp_wait_and_cancel(run, session):
    organiser = make_organiser(session)
    first, second = make_member(session), make_member(session)
    made = run(
        CREATE,
        {
            "input": {
                "kind": "webinar",
                "title": "Demand and capacity basics",
                "day": "2027-01-20",
                "start": "12:30",
                "end": "1:30pm",
                "capacity": 1,
                "videoLink": "https://meet.example.org/dc",
            }
        },
        member=organiser,
    )["data"]["createEvent"]
    assert made["__typename"] == "CreateEventSuccess", made
    assert made["event"]["when"] == "20 January 2027, 12:30pm to 1:30pm (London time)"
    event_id = made["event"]["id"]

    going = run(RSVP, {"id": event_id}, member=first)["data"]["rsvpEvent"]
    waiting = run(RSVP, {"id": event_id}, member=second)["data"]["rsvpEvent"]
    cancelled = run(CANCEL, {"id": event_id}, member=first)["data"]["cancelRsvp"]
    mine = run("{ myEvents { id myRsvp { status } } }", member=second)["data"]["myEvents"]

    assert going["event"]["myRsvp"] == {"status": "going", "waitingPosition": None}
    assert waiting["event"]["myRsvp"] == {"status": "waiting", "waitingPosition": 1}
    assert cancelled["event"]["myRsvp"]["status"] == "cancelled"
    assert mine == [{"id": event_id, "myRsvp": {"status": "going"}}]


def test_only_organisers_create_and_only_the_audience_sees_and_rsvps(run, session):
    member = make_member(session, region="North West")
    chapter = make_chapter(session, regions=("London",))
    theirs = make_event(session, chapter_id=chapter.id)

    refused = run(
        CREATE,
        {
            "input": {
                "kind": "meetup",
                "title": "x",
                "day": "2027-01-20",
                "start": "6pm",
                "end": "7pm",
                "capacity": 5,
                "location": "Leeds",
            }
        },
        member=member,
    )["data"]["createEvent"]
    seen = run("query($id: ID!) { event(id: $id) { id } }", {"id": gid(theirs)}, member=member)
    answered = run(RSVP, {"id": gid(theirs)}, member=member)["data"]["rsvpEvent"]
    anonymous = run(LIST)

    assert refused["__typename"] != "CreateEventSuccess"
    assert seen["data"]["event"] is None
    assert answered["__typename"] != "RsvpSuccess"
    assert "errors" in anonymous


def test_the_events_list_costs_the_same_statements_for_2_or_12_events(run, session, count_queries):
    member = make_member(session)

    def statements(how_many: int) -> int:
        for _ in range(how_many):
            event = make_event(session, capacity=1)
            session.add(EventSkill(event_id=event.id, skill_id="quality-improvement"))
            make_event_rsvp(session, event=event, member=make_member(session))
            make_event_rsvp(session, event=event, member=member, status="waiting")
        session.commit()
        count_queries.statements.clear()
        result = run(LIST, member=member)
        assert "errors" not in result, result
        return len([s for s in count_queries.statements if s.lstrip().upper().startswith("SELECT")])

    few = statements(2)
    many = statements(10)

    assert few == many
