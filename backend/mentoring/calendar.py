"""iCalendar invitations for booked sessions, as Outlook and Google Calendar accept them.

One event per booking: its UID never changes, SEQUENCE counts the changes, times are written
in Europe/London with the VTIMEZONE that defines it (built from zoneinfo by ``icalendar``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

from icalendar import Calendar, Event, vCalAddress, vText

from backend import london
from backend.db import utcnow

PRODUCT = "-//peerbridge//Mentoring sessions//EN"
METHODS = ("REQUEST", "CANCEL")


@dataclass(frozen=True)
class Attendee:
    """Someone in the event: their name and email address."""

    name: str
    email: str


@dataclass(frozen=True)
class SessionEvent:
    """What a booked session's calendar event says (built by ``backend.mentoring.bookings``)."""

    booking_id: int
    sequence: int
    starts_at: datetime  # UTC
    duration_minutes: int
    summary: str
    description: str
    link: str  # the page, back in peerbridge
    organizer: Attendee
    attendees: tuple[Attendee, ...]
    location: str = ""
    video_link: str = ""
    cancelled: bool = False
    # The UID when the event is not a booking's (an event's RSVP): stable across its changes.
    uid: str = ""


def uid_for(booking_id: int, base_url: str) -> str:
    """The booking's event UID, the same for every invitation, update and cancellation."""
    host = urlsplit(base_url).hostname or "peerbridge.invalid"
    return f"session-{booking_id}@{host}"


def _address(person: Attendee, **params: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{person.email}")
    address.params["CN"] = vText(person.name)
    for key, value in params.items():
        address.params[key] = value
    return address


def build(event: SessionEvent, *, base_url: str, method: str) -> str:
    """The event as iCalendar text: METHOD:REQUEST (invite or update) or CANCEL."""
    if method not in METHODS:
        raise ValueError(f"unknown iCalendar method {method!r}")
    starts = london.in_london(event.starts_at)
    calendar = Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    vevent = Event()
    vevent.add("uid", event.uid or uid_for(event.booking_id, base_url))
    vevent.add("sequence", event.sequence)
    vevent.add("dtstamp", utcnow())
    vevent.add("dtstart", starts)
    vevent.add("dtend", starts + timedelta(minutes=event.duration_minutes))
    vevent.add("summary", event.summary)
    vevent.add("description", f"{event.description}\n\n{event.link}".strip())
    vevent.add("status", "CANCELLED" if event.cancelled else "CONFIRMED")
    vevent.add("transp", "OPAQUE")
    vevent.add("organizer", _address(event.organizer))
    for person in event.attendees:
        vevent.add(
            "attendee",
            _address(
                person,
                ROLE="REQ-PARTICIPANT",
                PARTSTAT="NEEDS-ACTION",
                RSVP="TRUE" if method == "REQUEST" else "FALSE",
            ),
        )
    where = event.location or event.video_link
    if where:
        vevent.add("location", where)
    vevent.add("url", event.video_link or event.link)
    calendar.add_component(vevent)
    # The zone's rules for the years around the session, so a client needs no lookup.
    calendar.add_missing_timezones(
        first_date=date(starts.year - 1, 1, 1), last_date=date(starts.year + 2, 1, 1)
    )
    return calendar.to_ical().decode("utf-8")
