"""Believable events for the demo network (the demo wires ``seed_demo_events`` in)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from sqlmodel import Session

from backend import london
from backend.db import utcnow
from backend.events.models import Event, EventSkill
from backend.members.models import Member

# (kind, title, description, days ahead, London start, minutes, place, link, places, bands)
DEMO_EVENTS: tuple[
    tuple[str, str, str, int, time, int, str, str, int, tuple[str, str] | None], ...
] = (
    (
        "webinar",
        "Getting started with quality improvement",
        "An hour with a QI lead on plan-do-study-act cycles and run charts, for new managers.",
        9,
        time(12, 30),
        60,
        "",
        "https://meet.example.org/qi-basics",
        80,
        None,
    ),
    (
        "meetup",
        "Band 2 to 4 administrators' meetup",
        "Meet other administrators and coordinators, share what works on rotas and waiting lists, "
        "and hear from two people who moved into management.",
        16,
        time(17, 30),
        90,
        "Education Centre, St James's University Hospital, Leeds",
        "",
        25,
        ("2", "4"),
    ),
    (
        "learning_set",
        "Action learning set: leading through winter pressures",
        "Six managers, one problem each, structured questions. Come with a real challenge.",
        23,
        time(9, 30),
        150,
        "",
        "https://meet.example.org/winter-set",
        6,
        ("5", "8a"),
    ),
    (
        "webinar",
        "Demand and capacity: the basics",
        "How to measure demand, capacity and backlog for an outpatient service.",
        37,
        time(13, 0),
        60,
        "",
        "https://meet.example.org/demand-capacity",
        100,
        None,
    ),
)

# The skills each demo event develops: it shows on those skills' community pages.
DEMO_SKILLS: dict[str, tuple[str, ...]] = {
    "Getting started with quality improvement": ("quality-improvement", "performance-measurement"),
    "Band 2 to 4 administrators' meetup": ("rota-management", "career-progression"),
    "Action learning set: leading through winter pressures": (
        "operational-planning",
        "team-leadership",
    ),
    "Demand and capacity: the basics": ("operational-planning", "performance-measurement"),
}


def seed_demo_events(
    session: Session, *, organiser: Member, now: datetime | None = None
) -> Sequence[Event]:
    """The demo's upcoming events, organised by ``organiser`` (a network organiser)."""
    today = london.london_today(now or utcnow())
    made = []
    for kind, title, description, ahead, start, minutes, place, link, places, bands in DEMO_EVENTS:
        day: date = today + timedelta(days=ahead)
        starts = london.london_to_utc(day, start)
        event = Event(
            kind=kind,
            title=title,
            description=description,
            starts_at=starts,
            ends_at=starts + timedelta(minutes=minutes),
            location=place,
            video_link=link,
            capacity=places,
            band_min=bands[0] if bands else None,
            band_max=bands[1] if bands else None,
            organiser_id=organiser.id,
        )
        session.add(event)
        made.append(event)
    session.flush()
    for event in made:
        for skill_id in DEMO_SKILLS.get(event.title, ()):
            session.add(EventSkill(event_id=event.id, skill_id=skill_id))
    session.flush()
    return made
