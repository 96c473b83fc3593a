"""Events: upcoming events for the caller, one event, my events; create, change and cancel an
event; RSVP and cancel an RSVP.

Who may see, create and RSVP is decided by ``backend.events.service``; the list is built from
a fixed number of queries (the caller's belonging, the events, the caller's RSVPs).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import strawberry
from strawberry import relay

from backend.errors import NotFound
from backend.events import service as events
from backend.events.models import Event as EventModel
from backend.events.models import EventRsvp
from schema import errors
from schema.context import Info
from schema.ids import decode
from schema.inputs import check_lists, check_text
from schema.permissions import IsAuthenticated
from schema.reference import Skill


@strawberry.type(description="Your answer to an event.")
class Rsvp:
    status: str = strawberry.field(description="going, waiting or cancelled.")
    waiting_position: int | None = strawberry.field(
        description="Where you are on the waiting list (1 is next); null unless waiting."
    )


@strawberry.type(description="A webinar, meetup or learning set. Times are UTC.")
class Event:
    id: strawberry.ID = strawberry.field(description="The Event's global id.")
    kind: str = strawberry.field(description="webinar, meetup or learning_set.")
    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    when: str = strawberry.field(description="When, in words, in London time.")
    location: str
    video_link: str
    capacity: int
    places_left: int
    places: str = strawberry.field(description="The places left in words.")
    status: str = strawberry.field(description="scheduled or cancelled.")
    cancel_reason: str | None = strawberry.field(
        description="Why it was cancelled, as its organiser said; null unless cancelled."
    )
    cancelled_at: datetime | None = strawberry.field(description="When it was cancelled.")
    my_rsvp: Rsvp | None = strawberry.field(description="Your RSVP; null if you have none.")
    database_id: strawberry.Private[int]

    @strawberry.field(description="The skills of the framework it develops.")
    async def skills(self, info: Info) -> list[Skill]:
        """Through the event-skills and skill loaders (one query each per request)."""
        ids = await info.context.loaders.event_skills.load(self.database_id)
        found = await info.context.loaders.skill_by_id.load_many(ids)
        return [Skill.from_model(s) for s in found if s is not None]

    @classmethod
    def from_model(cls, event: EventModel, rsvp: Rsvp | None) -> Event:
        """The GraphQL view of an event, with the caller's RSVP."""
        return cls(
            id=strawberry.ID(relay.to_base64("Event", event.id)),
            kind=event.kind,
            title=event.title,
            description=event.description,
            starts_at=event.starts_at,
            ends_at=event.ends_at,
            when=events.when_words(event),
            location=event.location,
            video_link=event.video_link,
            capacity=event.capacity,
            places_left=events.places_left(event),
            places=events.places_words(event),
            status=event.status,
            cancel_reason=event.cancel_reason if event.status == "cancelled" else None,
            cancelled_at=event.cancelled_at,
            my_rsvp=rsvp,
            database_id=event.id,
        )


def _rsvps(info: Info, rows: list[EventRsvp]) -> dict[int, Rsvp]:
    """The GraphQL views of RSVPs by event id, their waiting positions in one query."""
    positions = events.waiting_positions(info.context.session, rows)
    return {r.event_id: Rsvp(status=r.status, waiting_position=positions.get(r.id)) for r in rows}


def _rsvp(info: Info, row: EventRsvp | None) -> Rsvp | None:
    return None if row is None else _rsvps(info, [row])[row.event_id]


@strawberry.input(
    description="A new event, or an event's new details; date and times are London wall-clock time."
)
class CreateEventInput:
    kind: str = strawberry.field(description="webinar, meetup or learning_set.")
    title: str
    day: date = strawberry.field(description="The day, like 2027-07-14.")
    start: str = strawberry.field(description="London time, like 18:00 or 6pm.")
    end: str = strawberry.field(description="London time, like 19:30 or 7:30pm.")
    capacity: int
    description: str = ""
    location: str = ""
    video_link: str = ""
    chapter_id: strawberry.ID | None = None
    programme_id: strawberry.ID | None = None
    band_min: str | None = None
    band_max: str | None = None
    skill_ids: list[strawberry.ID] | None = strawberry.field(
        default=None,
        description="Framework skills it develops (up to 5): the event is listed on their "
        "pages. Left out when changing an event: its skills stay as they are.",
    )


@strawberry.type(description="The event, created.")
class CreateEventSuccess:
    event: Event


@strawberry.type(description="The event, changed: everyone going has the updated invitation.")
class UpdateEventSuccess:
    event: Event


@strawberry.type(description="The event, cancelled: everyone going or waiting has been told.")
class CancelEventSuccess:
    event: Event


@strawberry.type(description="Your RSVP, saved: a place, or a place on the waiting list.")
class RsvpSuccess:
    event: Event


CreateEventResult = Annotated[
    CreateEventSuccess | errors.Problem,
    errors.result_named("CreateEventResult", CreateEventSuccess),
]
UpdateEventResult = Annotated[
    UpdateEventSuccess | errors.Problem,
    errors.result_named("UpdateEventResult", UpdateEventSuccess),
]
CancelEventResult = Annotated[
    CancelEventSuccess | errors.Problem,
    errors.result_named("CancelEventResult", CancelEventSuccess),
]
RsvpEventResult = Annotated[
    RsvpSuccess | errors.Problem, errors.result_named("RsvpEventResult", RsvpSuccess)
]


def _settings(input: CreateEventInput) -> events.EventSettings:
    """The event the input describes (its text checked, its ids decoded)."""
    check_text(
        title=input.title,
        description=input.description,
        location=input.location,
        video_link=input.video_link,
        start=input.start,
        end=input.end,
    )
    check_lists(skillIds=input.skill_ids)
    chapter_id = (
        decode(input.chapter_id, type_name="Chapter", field="chapterId")
        if input.chapter_id
        else None
    )
    programme_id = (
        decode(input.programme_id, type_name="Programme", field="programmeId")
        if input.programme_id
        else None
    )
    return events.EventSettings(
        kind=input.kind,
        title=input.title,
        description=input.description,
        day=input.day,
        start=input.start,
        end=input.end,
        capacity=input.capacity,
        location=input.location,
        video_link=input.video_link,
        chapter_id=chapter_id,
        programme_id=programme_id,
        band_min=input.band_min,
        band_max=input.band_max,
        skill_ids=None if input.skill_ids is None else tuple(str(s) for s in input.skill_ids),
    )


def _with_rsvp(info: Info, found: EventModel) -> Event:
    """The event with the caller's RSVP."""
    context = info.context
    mine = events.rsvps_for(session=context.session, member=context.member, event_ids=[found.id])
    return Event.from_model(found, _rsvp(info, mine.get(found.id)))


@strawberry.type
class EventQuery:
    """Events for the signed-in member."""

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Events to come whose audience includes you, soonest first.",
    )
    def events(self, info: Info) -> list[Event]:
        """Upcoming events, with your RSVPs, in a fixed number of queries."""
        context = info.context
        found = events.upcoming_for(session=context.session, member=context.member)
        mine = events.rsvps_for(
            session=context.session, member=context.member, event_ids=[e.id for e in found]
        )
        views = _rsvps(info, list(mine.values()))
        return [Event.from_model(e, views.get(e.id)) for e in found]

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="One event you may see (null for any other).",
    )
    def event(self, info: Info, id: strawberry.ID) -> Event | None:
        """One event, for its audience, its organisers and anyone who RSVPed."""
        context = info.context
        try:
            found = events.get_event(
                session=context.session,
                member=context.member,
                event_id=decode(id, type_name="Event"),
            )
        except NotFound:
            return None
        return _with_rsvp(info, found)

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Events to come you are going to or waiting for, soonest first.",
    )
    def my_events(self, info: Info) -> list[Event]:
        """Your events, with your RSVPs."""
        context = info.context
        rows = events.my_events(session=context.session, member=context.member)
        views = _rsvps(info, [r for _, r in rows])
        return [Event.from_model(e, views.get(e.id)) for e, _ in rows]


@strawberry.type
class EventMutation:
    """Creating, changing and cancelling events, and answering them."""

    @strawberry.mutation(
        description="Create an event (organisers, for an audience in their scope)."
    )
    def create_event(self, info: Info, input: CreateEventInput) -> CreateEventResult:
        """A new event."""
        context = info.context

        def create() -> CreateEventSuccess:
            made = events.create_event(
                session=context.session, organiser=context.member, settings=_settings(input)
            )
            return CreateEventSuccess(event=Event.from_model(made, None))

        return errors.outcome(create)

    @strawberry.mutation(
        description="Change an event before it starts (its organisers, or the member who "
        "created it). The capacity cannot go below the places taken; everyone going gets the "
        "updated invitation."
    )
    def update_event(
        self, info: Info, event_id: strawberry.ID, input: CreateEventInput
    ) -> UpdateEventResult:
        """Change an event."""
        context = info.context

        def change() -> UpdateEventSuccess:
            the_id = decode(event_id, type_name="Event", field="eventId")
            changed = events.update_event(
                session=context.session,
                organiser=context.member,
                event_id=the_id,
                settings=_settings(input),
            )
            return UpdateEventSuccess(event=_with_rsvp(info, changed))

        return errors.outcome(change)

    @strawberry.mutation(
        description="Cancel an event before it starts, saying why (its organisers, or the "
        "member who created it). Everyone going gets the calendar cancellation."
    )
    def cancel_event(self, info: Info, event_id: strawberry.ID, reason: str) -> CancelEventResult:
        """Cancel an event."""
        context = info.context

        def call_off() -> CancelEventSuccess:
            check_text(reason=reason)
            the_id = decode(event_id, type_name="Event", field="eventId")
            cancelled = events.cancel_event(
                session=context.session, organiser=context.member, event_id=the_id, reason=reason
            )
            return CancelEventSuccess(event=_with_rsvp(info, cancelled))

        return errors.outcome(call_off)

    @strawberry.mutation(
        description="Say you are going; when the event is full, join the waiting list."
    )
    def rsvp_event(self, info: Info, event_id: strawberry.ID) -> RsvpEventResult:
        """RSVP to an event."""
        context = info.context

        def answer() -> RsvpSuccess:
            the_id = decode(event_id, type_name="Event", field="eventId")
            row = events.rsvp(session=context.session, member=context.member, event_id=the_id)
            found = events.get_event(
                session=context.session, member=context.member, event_id=the_id
            )
            return RsvpSuccess(event=Event.from_model(found, _rsvp(info, row)))

        return errors.outcome(answer)

    @strawberry.mutation(
        description="Say you are not going after all; the next person waiting gets the place."
    )
    def cancel_rsvp(self, info: Info, event_id: strawberry.ID) -> RsvpEventResult:
        """Cancel an RSVP."""
        context = info.context

        def cancel() -> RsvpSuccess:
            the_id = decode(event_id, type_name="Event", field="eventId")
            row = events.cancel_rsvp(
                session=context.session, member=context.member, event_id=the_id
            )
            found = events.get_event(
                session=context.session, member=context.member, event_id=the_id
            )
            return RsvpSuccess(event=Event.from_model(found, _rsvp(info, row)))

        return errors.outcome(cancel)
