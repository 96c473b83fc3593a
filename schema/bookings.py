"""Sessions booked, not only logged: propose times, pick one, reschedule, cancel.

Who may do what is decided by ``backend.mentoring.bookings`` (only the pair); times go in as
London wall-clock date and start time and come out both as UTC and as London time.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import strawberry
from strawberry import relay

from backend import london
from backend.errors import Invalid
from backend.members import service as member_service
from backend.mentoring import bookings
from backend.mentoring.models import SessionBooking as BookingModel
from backend.mentoring.models import SessionTimeOption as OptionModel
from backend.settings import get_settings
from schema import errors
from schema.context import Info
from schema.enums import SessionBookingStatus, SessionFormat, from_enum, to_enum
from schema.ids import decode
from schema.inputs import check_text


def _global(type_name: str, value: int) -> strawberry.ID:
    return strawberry.ID(relay.to_base64(type_name, value))


@strawberry.type(description="One of the times proposed for a session.")
class SessionTimeOption:
    id: strawberry.ID = strawberry.field(description="Pass it to `pickSessionTime`.")
    starts_at: datetime = strawberry.field(description="The start, in UTC.")
    starts_at_london: str = strawberry.field(
        description="The start in London time with its offset, like 2026-11-03T10:30+00:00."
    )
    duration_minutes: int
    format: SessionFormat
    location: str
    video_link: str

    @classmethod
    def from_model(cls, option: OptionModel) -> SessionTimeOption:
        """The GraphQL view of a proposed time."""
        return cls(
            id=_global("SessionTimeOption", option.id),
            starts_at=london.as_utc(option.starts_at),
            starts_at_london=london.iso_london(option.starts_at),
            duration_minutes=option.duration_minutes,
            format=to_enum(SessionFormat, option.format),
            location=option.location,
            video_link=option.video_link,
        )


@strawberry.type(description="A session being arranged or booked by the two of a mentorship.")
class BookedSession:
    id: strawberry.ID
    status: SessionBookingStatus
    message: str
    starts_at: datetime | None = strawberry.field(description="The booked start, in UTC.")
    starts_at_london: str | None = strawberry.field(
        description="The booked start in London time with its offset."
    )
    duration_minutes: int | None
    format: SessionFormat | None
    location: str
    video_link: str
    sequence: int = strawberry.field(description="The calendar event's SEQUENCE: its changes.")
    calendar_uid: str = strawberry.field(description="The calendar event's UID; never changes.")
    ics_url: str = strawberry.field(description="Where to download the .ics (the pair only).")
    logged: bool = strawberry.field(description="True once the session has been logged.")
    can_be_logged: bool = strawberry.field(description="Booked, its time has come, not logged.")
    model: strawberry.Private[BookingModel]

    @classmethod
    def from_model(cls, booking: BookingModel) -> BookedSession:
        """The GraphQL view of a booking."""
        base = get_settings().base_url.rstrip("/")
        return cls(
            id=_global("BookedSession", booking.id),
            status=to_enum(SessionBookingStatus, booking.status),
            message=booking.message,
            starts_at=london.as_utc(booking.starts_at) if booking.starts_at else None,
            starts_at_london=london.iso_london(booking.starts_at) or None,
            duration_minutes=booking.duration_minutes,
            format=to_enum(SessionFormat, booking.format),
            location=booking.location,
            video_link=booking.video_link,
            sequence=booking.sequence,
            calendar_uid=bookings.calendar.uid_for(booking.id, base),
            ics_url=f"{base}{bookings.ics_link(booking)}",
            logged=booking.logged_session_id is not None,
            can_be_logged=bookings.loggable(booking),
            model=booking,
        )

    @strawberry.field(description="True when you proposed the times.")
    def proposed_by_me(self, info: Info) -> bool:
        """Whether the caller proposed this session's times."""
        member = info.context.member
        return member is not None and self.model.proposed_by_id == member.id

    @strawberry.field(description="The times proposed, soonest first.")
    async def options(self, info: Info) -> list[SessionTimeOption]:
        """Through the options loader."""
        found = await info.context.loaders.booking_options.load(self.model.id)
        return [SessionTimeOption.from_model(o) for o in found]


async def bookings_of_mentorship(info: Info, mentorship_id: int) -> list[BookingModel]:
    """A mentorship's bookings through the loader (the viewer's own mentorships only)."""
    return await info.context.loaders.session_bookings.load(mentorship_id)


# Inputs and payloads --------------------------------------------------------------------------


@strawberry.input(description="A time in London: the date, the start, how long and how.")
class SessionTimeInput:
    date: date = strawberry.field(description="The London date, like 2026-11-03.")
    start_time: str = strawberry.field(description="London time, like 14:30 or 2:30pm.")
    duration_minutes: int = strawberry.field(description="15 to 180.")
    format: SessionFormat
    location: str = strawberry.field(default="", description="Needed in person: where.")
    video_link: str = strawberry.field(default="", description="Optional, starting https://.")


@strawberry.input(description="Propose one to three times to the other side of a mentorship.")
class ProposeSessionTimesInput:
    mentorship_id: strawberry.ID
    times: list[SessionTimeInput] = strawberry.field(description="One to three times.")
    message: str = ""
    replaces_id: strawberry.ID | None = strawberry.field(
        default=None, description="The other side's proposal these times answer (declined)."
    )


@strawberry.input(description="Pick one of the times the other side proposed.")
class PickSessionTimeInput:
    booking_id: strawberry.ID
    option_id: strawberry.ID


@strawberry.input(description="Turn down every time the other side proposed.")
class DeclineSessionTimesInput:
    booking_id: strawberry.ID
    reason: str = ""


@strawberry.input(description="Move a booked session to a new time (the same calendar event).")
class RescheduleSessionInput:
    booking_id: strawberry.ID
    time: SessionTimeInput
    reason: str = ""


@strawberry.input(description="Cancel a booked session, or withdraw your own proposed times.")
class CancelSessionInput:
    booking_id: strawberry.ID
    reason: str = ""


@strawberry.type(description="The session as it now stands; both sides have been told.")
class SessionBookingSuccess:
    booked_session: BookedSession


SessionBookingResult = Annotated[
    SessionBookingSuccess | errors.Problem,
    errors.result_named("SessionBookingResult", SessionBookingSuccess),
]


def _choice(time: SessionTimeInput) -> bookings.TimeChoice:
    check_text(start_time=time.start_time, location=time.location, video_link=time.video_link)
    return bookings.TimeChoice(
        day=time.date,
        start=time.start_time,
        duration_minutes=time.duration_minutes,
        format=from_enum(time.format),
        location=time.location,
        video_link=time.video_link,
    )


def _booking_id(raw: strawberry.ID) -> int:
    return decode(raw, type_name="BookedSession", field="bookingId")


def _success(info: Info, booking: BookingModel) -> SessionBookingSuccess:
    info.context.reset_loaders()
    return SessionBookingSuccess(booked_session=BookedSession.from_model(booking))


@strawberry.type
class BookingMutation:
    """Arranging sessions: propose, pick, decline, reschedule, cancel."""

    @strawberry.mutation(description="Propose one to three times (London time) for a session.")
    def propose_session_times(
        self, info: Info, input: ProposeSessionTimesInput
    ) -> SessionBookingResult:
        """Propose times; the other side is told."""
        context = info.context

        def propose() -> SessionBookingSuccess:
            member_service.require_member(context.member)
            check_text(message=input.message)
            if len(input.times) > bookings.MAX_TIMES:
                raise Invalid(f"Propose at most {bookings.MAX_TIMES} times.", field="times")
            booking = bookings.propose_times(
                session=context.session,
                member=context.member,
                mentorship_id=decode(
                    input.mentorship_id, type_name="Mentorship", field="mentorshipId"
                ),
                times=[_choice(t) for t in input.times],
                message=input.message,
                replaces_id=_booking_id(input.replaces_id) if input.replaces_id else None,
            )
            return _success(info, booking)

        return errors.outcome(propose)

    @strawberry.mutation(description="Pick one proposed time: the session is booked, both invited.")
    def pick_session_time(self, info: Info, input: PickSessionTimeInput) -> SessionBookingResult:
        """Book the picked time."""
        context = info.context

        def pick() -> SessionBookingSuccess:
            booking = bookings.pick_time(
                session=context.session,
                member=context.member,
                booking_id=_booking_id(input.booking_id),
                option_id=decode(input.option_id, type_name="SessionTimeOption", field="optionId"),
            )
            return _success(info, booking)

        return errors.outcome(pick)

    @strawberry.mutation(description="Turn down every time the other side proposed.")
    def decline_session_times(
        self, info: Info, input: DeclineSessionTimesInput
    ) -> SessionBookingResult:
        """Decline the proposed times."""
        context = info.context

        def decline() -> SessionBookingSuccess:
            check_text(reason=input.reason)
            booking = bookings.decline_times(
                session=context.session,
                member=context.member,
                booking_id=_booking_id(input.booking_id),
                reason=input.reason,
            )
            return _success(info, booking)

        return errors.outcome(decline)

    @strawberry.mutation(description="Move a booked session: the same event, SEQUENCE + 1.")
    def reschedule_session(self, info: Info, input: RescheduleSessionInput) -> SessionBookingResult:
        """Reschedule a booked session."""
        context = info.context

        def move() -> SessionBookingSuccess:
            check_text(reason=input.reason)
            booking = bookings.reschedule(
                session=context.session,
                member=context.member,
                booking_id=_booking_id(input.booking_id),
                new_time=_choice(input.time),
                reason=input.reason,
            )
            return _success(info, booking)

        return errors.outcome(move)

    @strawberry.mutation(description="Cancel a booked session (both get a CANCEL) or withdraw.")
    def cancel_session(self, info: Info, input: CancelSessionInput) -> SessionBookingResult:
        """Cancel a session or withdraw proposed times."""
        context = info.context

        def cancel() -> SessionBookingSuccess:
            check_text(reason=input.reason)
            booking = bookings.cancel(
                session=context.session,
                member=context.member,
                booking_id=_booking_id(input.booking_id),
                reason=input.reason,
            )
            return _success(info, booking)

        return errors.outcome(cancel)
