"""Events: organisers create webinars, meetups and learning sets; members RSVP.

An event is for an audience: the whole network, a chapter's members or a programme's
accepted participants, optionally only some bands. Organisers create events in their scope
(a chapter organiser for their chapters and their programmes). Times are entered and shown in
Europe/London (``backend.london``) and stored in UTC.

Places are counted on the event row (``places_taken``): an RSVP takes one by a conditional
UPDATE, so two RSVPs for the last place never both get it. When the event is full the RSVP
joins the waiting list; a cancellation gives its place back and the first person waiting
takes it (and is told, with the invitation). Each RSVP's calendar event has one UID; its
SEQUENCE rises with each invitation or cancellation sent.

Whoever may change an event (its organisers, and the member who created it: members create
events when the network allows, ``members_create_events``) may edit it before it starts
(everyone going gets the updated invitation; a larger capacity goes to those waiting) or
cancel it (everyone going gets the calendar cancellation, everyone waiting is told).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.utils import parseaddr
from urllib.parse import urlsplit

import numpy as np
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from backend import london
from backend.chapters import service as chapters
from backend.chapters.models import Chapter
from backend.db import utcnow
from backend.errors import Conflict, FieldErrors, Forbidden, NotFound
from backend.events.models import (
    EVENT_KINDS,
    Event,
    EventComment,
    EventLink,
    EventRsvp,
    EventSkill,
)
from backend.members import service as member_service
from backend.members.models import Member
from backend.mentoring import calendar
from backend.mentoring.bookings import parse_clock
from backend.notifications import service as notifications
from backend.programmes.models import Programme, ProgrammeApplication
from backend.settings import get_settings
from backend.skills import service as skill_service
from backend.text import text_problem
from vocabulary import BAND_RANK, BANDS

KIND_LABELS = {"webinar": "Webinar", "meetup": "Meetup", "learning_set": "Learning set"}
MAX_TITLE, MAX_DESCRIPTION, MAX_PLACE, MAX_LINK = 200, 5000, 300, 500
MAX_CAPACITY = 10000
MAX_COMMENT = 2000
MAX_SKILLS = 5
MAX_AHEAD = timedelta(days=731)
REMINDER_AHEAD = timedelta(hours=24)
NO_SUCH_EVENT = "No such event."


@dataclass(frozen=True)
class EventSettings:
    """An event as the organiser entered it (times in London)."""

    kind: str
    title: str
    description: str
    day: date | None
    start: str  # "18:00", "6pm"
    end: str
    capacity: int | None
    location: str = ""
    video_link: str = ""
    chapter_id: int | None = None
    programme_id: int | None = None
    band_min: str | None = None
    band_max: str | None = None
    # Framework skills it develops (optional); None: none for a new event, unchanged on a change.
    skill_ids: tuple[str, ...] | None = None


# Words -----------------------------------------------------------------------------------------


def places_left(event: Event) -> int:
    """Places not yet taken."""
    return max(event.capacity - event.places_taken, 0)


def places_words(event: Event) -> str:
    """'12 places left', '1 place left', 'Full: you can join the waiting list'."""
    left = places_left(event)
    if left == 0:
        return "Full: you can join the waiting list"
    return f"{left} place left" if left == 1 else f"{left} places left"


def when_words(event: Event) -> str:
    """'3 March 2027, 6pm to 7:30pm (London time)'."""
    return (
        f"{london.format_date(event.starts_at)}, {london.format_time(event.starts_at)} to "
        f"{london.format_time(event.ends_at)} (London time)"
    )


def bands_words(event: Event) -> str:
    """'Bands 2 to 4', 'Band 4 and above', '' for every band."""
    low, high = event.band_min, event.band_max
    if low and high:
        return f"Band {low}" if low == high else f"Bands {low} to {high}"
    if low:
        return f"Band {low} and above"
    if high:
        return f"Band {high} and below"
    return ""


def audience_words(session: Session, event: Event) -> str:
    """Who the event is for, in words: 'Everyone in the network', 'Members of ... (bands 2
    to 4)'."""
    if event.programme_id is not None:
        programme = session.get(Programme, event.programme_id)
        who = f"Participants in {programme.name if programme else 'a programme'}"
    elif event.chapter_id is not None:
        chapter = session.get(Chapter, event.chapter_id)
        who = f"Members of {chapter.name if chapter else 'a chapter'}"
    else:
        who = "Everyone in the network"
    bands = bands_words(event)
    return f"{who} ({bands[0].lower()}{bands[1:]})" if bands else who


def page_link(event: Event) -> str:
    """The event's page."""
    return f"/events/{event.id}"


def has_started(event: Event, now: datetime | None = None) -> bool:
    """True once the event has begun (RSVPs close; attendance and notes open)."""
    return london.as_utc(event.starts_at) <= (now or utcnow())


# Creating ---------------------------------------------------------------------------------------


def _link_problem(link: str) -> str | None:
    if link and (
        not link.startswith("https://")
        or len(link) > MAX_LINK
        or any(c.isspace() for c in link)
        or not urlsplit(link).hostname
    ):
        return (
            f"Enter the link as a full web address starting https:// (up to {MAX_LINK} characters)."
        )
    return None


def _times(settings: EventSettings, now: datetime, problems: dict[str, str]):
    start, end = parse_clock(settings.start), parse_clock(settings.end)
    if settings.day is None:
        problems["day"] = "Enter a real date for the event, like 3 3 2027."
    if start is None:
        problems["start"] = "Enter a start time in London time, like 18:00 or 6pm."
    if end is None:
        problems["end"] = "Enter an end time in London time, like 19:30 or 7:30pm."
    if settings.day is None or start is None or end is None:
        return None
    try:
        starts_at = london.london_to_utc(settings.day, start)
    except london.NotALondonTime as error:
        problems["start"] = str(error)
        return None
    try:
        ends_at = london.london_to_utc(settings.day, end)
    except london.NotALondonTime as error:
        problems["end"] = str(error)
        return None
    if ends_at <= starts_at:
        problems["end"] = "The end time must be after the start time, on the same day."
    elif starts_at <= now:
        problems["day"] = "Choose a date and time in the future."
    elif starts_at > now + MAX_AHEAD:
        problems["day"] = "Choose a date within the next 2 years."
    return None if problems.get("day") or problems.get("end") else (starts_at, ends_at)


def event_problems(
    settings: EventSettings, *, now: datetime | None = None
) -> tuple[dict[str, str], tuple[datetime, datetime] | None]:
    """What is wrong with ``settings``, by field (empty when fine), and the UTC times."""
    now = now or utcnow()
    problems: dict[str, str] = {}
    if settings.kind not in EVENT_KINDS:
        problems["kind"] = "Choose what kind of event it is: webinar, meetup or learning set."
    for name, value, label, maximum, required in (
        ("title", settings.title, "title", MAX_TITLE, True),
        ("description", settings.description, "description", MAX_DESCRIPTION, False),
        ("location", settings.location, "place", MAX_PLACE, False),
    ):
        problem = text_problem(
            value or "",
            label=label,
            maximum=maximum,
            required=required,
            one_line=name != "description",
        )
        if problem:
            problems[name] = problem
    link = (settings.video_link or "").strip()
    if problem := _link_problem(link):
        problems["video_link"] = problem
    if not (settings.location or "").strip() and not link and "location" not in problems:
        problems["location"] = "Enter a place, a video link, or both."
    if settings.capacity is None or not 1 <= settings.capacity <= MAX_CAPACITY:
        problems["capacity"] = f"Enter the number of places, from 1 to {MAX_CAPACITY:,}."
    for name, band in (("band_min", settings.band_min), ("band_max", settings.band_max)):
        if band is not None and band not in BANDS:
            problems[name] = "Choose a band from the list."
    if (
        settings.band_min in BANDS
        and settings.band_max in BANDS
        and BAND_RANK[settings.band_min or ""] > BAND_RANK[settings.band_max or ""]
    ):
        problems["band_max"] = "The highest band must be the same as or above the lowest band."
    if settings.chapter_id is not None and settings.programme_id is not None:
        problems["programme_id"] = "Choose a chapter or a programme for the audience, not both."
    times = _times(settings, now, problems)
    return problems, times


MEMBER_KINDS = ("webinar", "meetup")
MAX_REASON = 1000
NOT_YOURS = "Only the event's organisers and the member who created it can change it."


def members_may_create(session: Session, member: Member | None) -> bool:
    """True when ``member`` is not an organiser but the network lets members create events."""
    return (
        get_settings().members_create_events
        and member is not None
        and member.is_verified
        and not chapters.scope_of(session=session, member=member).is_organiser
    )


def may_create(session: Session, member: Member | None) -> bool:
    """True when ``member`` may create events: an organiser, or any member when allowed."""
    return chapters.scope_of(session=session, member=member).is_organiser or members_may_create(
        session, member
    )


def member_chapters(session: Session, member: Member) -> list[Chapter]:
    """The chapters ``member`` belongs to, by name: where they may put their own events."""
    ids = chapters.chapter_ids_of(session=session, members=[member]).get(member.id, set())
    if not ids:
        return []
    return list(
        session.exec(
            select(Chapter)
            .where(col(Chapter.id).in_(sorted(ids)))
            .order_by(col(Chapter.name), col(Chapter.id))
        ).all()
    )


def _check_member_audience(session: Session, member: Member, settings: EventSettings) -> Member:
    """A member's own event: a webinar or meetup, for the network or a chapter of theirs."""
    if settings.kind in EVENT_KINDS and settings.kind not in MEMBER_KINDS:
        raise FieldErrors({"kind": "Choose a webinar or a meetup: organisers run learning sets."})
    if settings.programme_id is not None:
        raise FieldErrors({"programme_id": "Choose the whole network or a chapter you belong to."})
    if settings.chapter_id is not None:
        if session.get(Chapter, settings.chapter_id) is None:
            raise FieldErrors({"chapter_id": "Choose a chapter from the list."})
        if settings.chapter_id not in {c.id for c in member_chapters(session, member)}:
            raise Forbidden("You can create events only for the network or a chapter you are in.")
    return member


def _check_audience_scope(
    session: Session,
    organiser: Member | None,
    settings: EventSettings,
    *,
    as_member: bool = False,
) -> Member:
    if as_member:
        return _check_member_audience(session, member_service.require_verified(organiser), settings)
    member, scope = chapters.require_scope(session=session, member=organiser)
    if settings.programme_id is not None:
        if session.get(Programme, settings.programme_id) is None:
            raise FieldErrors({"programme_id": "Choose a programme from the list."})
        if not chapters.covers_programme(
            session=session, scope=scope, programme_id=settings.programme_id
        ):
            raise Forbidden(chapters.OUTSIDE_SCOPE)
    elif settings.chapter_id is not None:
        if session.get(Chapter, settings.chapter_id) is None:
            raise FieldErrors({"chapter_id": "Choose a chapter from the list."})
        if not scope.covers_chapter(settings.chapter_id):
            raise Forbidden(chapters.OUTSIDE_SCOPE)
    elif not scope.network:
        raise Forbidden("Only network organisers can create events for the whole network.")
    return member


def _checked_times(
    settings: EventSettings, now: datetime | None, extra: dict[str, str] | None = None
) -> tuple[datetime, datetime]:
    problems, times = event_problems(settings, now=now)
    problems = {**(extra or {}), **problems}
    if problems or times is None:
        raise FieldErrors(problems)
    return times


def _apply(event: Event, settings: EventSettings, times: tuple[datetime, datetime]) -> None:
    event.kind = settings.kind
    event.title = settings.title.strip()
    event.description = (settings.description or "").strip()
    event.starts_at, event.ends_at = times
    event.location = (settings.location or "").strip()
    event.video_link = (settings.video_link or "").strip()
    event.capacity = settings.capacity or 1
    event.chapter_id = settings.chapter_id
    event.programme_id = settings.programme_id
    event.band_min = settings.band_min
    event.band_max = settings.band_max


def _skill_problems(
    session: Session, settings: EventSettings, kept: Iterable[str] = ()
) -> dict[str, str]:
    """What is wrong with the skills chosen (none is fine; a retired one it has may stay)."""
    chosen = list(dict.fromkeys(settings.skill_ids or ()))
    if len(chosen) > MAX_SKILLS:
        return {"skill_ids": f"Choose at most {MAX_SKILLS} skills it develops."}
    problem = skill_service.unknown_skills(session=session, skills=chosen, kept=kept)
    return {"skill_ids": problem} if problem else {}


def _set_skills(session: Session, event: Event, skill_ids: Sequence[str]) -> None:
    session.exec(delete(EventSkill).where(col(EventSkill.event_id) == event.id))
    for skill_id in dict.fromkeys(skill_ids):
        session.add(EventSkill(event_id=event.id, skill_id=skill_id))
    session.flush()


def skills_of(*, session: Session, event_ids: Sequence[int]) -> dict[int, list[str]]:
    """The skills each event develops (ids, in name order), in one query."""
    found: dict[int, list[str]] = {event_id: [] for event_id in event_ids}
    if not event_ids:
        return found
    for event_id, skill_id in session.exec(
        select(EventSkill.event_id, EventSkill.skill_id)
        .where(col(EventSkill.event_id).in_(list(event_ids)))
        .order_by(col(EventSkill.event_id), col(EventSkill.skill_id))
    ).all():
        found[event_id].append(skill_id)
    return found


def create_event(
    *,
    session: Session,
    organiser: Member | None,
    settings: EventSettings,
    now: datetime | None = None,
) -> Event:
    """A new event, by an organiser whose scope covers its audience (or, when the network
    allows it, by a member for the network or a chapter they belong to)."""
    member = _check_audience_scope(
        session, organiser, settings, as_member=members_may_create(session, organiser)
    )
    times = _checked_times(settings, now, _skill_problems(session, settings))
    event = Event(kind=settings.kind, title="", starts_at=times[0], ends_at=times[1], capacity=1)
    _apply(event, settings, times)
    event.organiser_id = member.id
    session.add(event)
    session.flush()
    _set_skills(session, event, settings.skill_ids or ())
    return event


# Who sees an event --------------------------------------------------------------------------


def _programme_ids_of(session: Session, member: Member) -> set[int]:
    return set(
        session.exec(
            select(ProgrammeApplication.programme_id)
            .where(ProgrammeApplication.member_id == member.id)
            .where(ProgrammeApplication.status == "accepted")
        ).all()
    )


@dataclass(frozen=True)
class Belonging:
    """The chapters and programmes a member belongs to, and their band: enough to tell which
    events are for them without a query per event."""

    band: str
    chapter_ids: frozenset[int]
    programme_ids: frozenset[int]

    def includes(self, event: Event) -> bool:
        """True when the member is in the event's audience."""
        if event.chapter_id is not None and event.chapter_id not in self.chapter_ids:
            return False
        if event.programme_id is not None and event.programme_id not in self.programme_ids:
            return False
        rank = BAND_RANK.get(self.band, -1)
        if event.band_min is not None and rank < BAND_RANK[event.band_min]:
            return False
        return not (event.band_max is not None and rank > BAND_RANK[event.band_max])


@dataclass(frozen=True)
class Belongings:
    """``Belonging`` for a whole population, as columns (one entry per member, in one order):
    ``includes`` answers for everyone at once, one pass per event (the reach tables)."""

    band_ranks: np.ndarray  # BAND_RANK of each member's band, -1 for none
    chapters: Mapping[int, np.ndarray]  # chapter id -> True where it covers the member
    programmes: Mapping[int, np.ndarray]  # programme id -> True where it accepted them

    def includes(self, event: Event) -> np.ndarray:
        """True where the member is in the event's audience (``Belonging.includes``' rule)."""
        nobody = np.zeros(len(self.band_ranks), dtype=bool)
        mask = ~nobody
        if event.chapter_id is not None:
            mask &= self.chapters.get(event.chapter_id, nobody)
        if event.programme_id is not None:
            mask &= self.programmes.get(event.programme_id, nobody)
        if event.band_min is not None:
            mask &= self.band_ranks >= BAND_RANK[event.band_min]
        if event.band_max is not None:
            mask &= self.band_ranks <= BAND_RANK[event.band_max]
        return mask


def belonging_of(session: Session, member: Member) -> Belonging:
    """What ``member`` belongs to, in two queries."""
    chapter_ids = chapters.chapter_ids_of(session=session, members=[member]).get(member.id, set())
    return Belonging(
        band=member.band,
        chapter_ids=frozenset(chapter_ids),
        programme_ids=frozenset(_programme_ids_of(session, member)),
    )


def in_audience(session: Session, event: Event, member: Member) -> bool:
    """True when ``member`` is one of the people the event is for."""
    return belonging_of(session, member).includes(event)


def can_organise(session: Session, event: Event, member: Member | None) -> bool:
    """True when ``member`` organises the event's audience (chapter, programme or network)."""
    scope = chapters.scope_of(session=session, member=member)
    if not scope.is_organiser:
        return False
    if event.programme_id is not None:
        return chapters.covers_programme(
            session=session, scope=scope, programme_id=event.programme_id
        )
    return scope.covers_chapter(event.chapter_id)


def _rsvp_of(session: Session, event_id: int, member_id: int) -> EventRsvp | None:
    return session.exec(
        select(EventRsvp)
        .where(EventRsvp.event_id == event_id)
        .where(EventRsvp.member_id == member_id)
    ).first()


def get_event(*, session: Session, member: Member | None, event_id: int) -> Event:
    """The event, for its audience, its organisers and anyone who RSVPed; NotFound otherwise."""
    member = member_service.require_member(member)
    event = session.get(Event, event_id)
    if event is None:
        raise NotFound(NO_SUCH_EVENT, field="event_id")
    if (
        in_audience(session, event, member)
        or _rsvp_of(session, event.id, member.id) is not None
        or can_organise(session, event, member)
    ):
        return event
    raise NotFound(NO_SUCH_EVENT, field="event_id")


def upcoming_for(
    *,
    session: Session,
    member: Member | None,
    now: datetime | None = None,
    limit: int = 100,
    skill: str | None = None,
) -> list[Event]:
    """Scheduled events not yet over whose audience includes ``member``, soonest first (only
    those developing ``skill``, when given)."""
    member = member_service.require_member(member)
    now = now or utcnow()
    belonging = belonging_of(session, member)
    statement = select(Event)
    if skill is not None:
        statement = statement.where(
            col(Event.id).in_(select(EventSkill.event_id).where(EventSkill.skill_id == skill))
        )
    rows = session.exec(
        statement.where(Event.status == "scheduled")
        .where(col(Event.ends_at) > now)
        .where(
            col(Event.chapter_id).is_(None)
            | col(Event.chapter_id).in_(sorted(belonging.chapter_ids))
        )
        .where(
            col(Event.programme_id).is_(None)
            | col(Event.programme_id).in_(sorted(belonging.programme_ids))
        )
        .order_by(col(Event.starts_at), col(Event.id))
    ).all()
    return [event for event in rows if belonging.includes(event)][:limit]


def rsvps_for(
    *, session: Session, member: Member | None, event_ids: Sequence[int]
) -> dict[int, EventRsvp]:
    """The member's RSVPs to these events, in one query, by event id."""
    member = member_service.require_member(member)
    if not event_ids:
        return {}
    rows = session.exec(
        select(EventRsvp)
        .where(EventRsvp.member_id == member.id)
        .where(col(EventRsvp.event_id).in_(list(event_ids)))
    ).all()
    return {row.event_id: row for row in rows}


def my_events(
    *, session: Session, member: Member | None, include_past: bool = False
) -> list[tuple[Event, EventRsvp]]:
    """The events the member is going to or waiting for, soonest first."""
    member = member_service.require_member(member)
    query = (
        select(Event, EventRsvp)
        .join(EventRsvp, col(EventRsvp.event_id) == col(Event.id))
        .where(EventRsvp.member_id == member.id)
        .where(col(EventRsvp.status).in_(["going", "waiting"]))
        .order_by(col(Event.starts_at), col(Event.id))
    )
    if not include_past:
        query = query.where(col(Event.ends_at) > utcnow())
    return [(event, rsvp) for event, rsvp in session.exec(query).all()]


def waiting_position(session: Session, rsvp: EventRsvp) -> int | None:
    """Where the RSVP is on the waiting list (1 is next), or None when not waiting."""
    if rsvp.status != "waiting":
        return None
    ahead = session.exec(
        select(EventRsvp.id)
        .where(EventRsvp.event_id == rsvp.event_id)
        .where(EventRsvp.status == "waiting")
        .where(
            (col(EventRsvp.joined_at) < rsvp.joined_at)
            | ((col(EventRsvp.joined_at) == rsvp.joined_at) & (col(EventRsvp.id) < rsvp.id))
        )
    ).all()
    return len(ahead) + 1


def waiting_positions(session: Session, rsvps: Iterable[EventRsvp]) -> dict[int, int]:
    """Waiting list positions of many RSVPs (by RSVP id) in one query; only those waiting."""
    waiting = [r for r in rsvps if r.status == "waiting"]
    if not waiting:
        return {}
    queue = session.exec(
        select(EventRsvp.id, EventRsvp.event_id)
        .where(col(EventRsvp.event_id).in_(sorted({r.event_id for r in waiting})))
        .where(EventRsvp.status == "waiting")
        .order_by(col(EventRsvp.event_id), col(EventRsvp.joined_at), col(EventRsvp.id))
    ).all()
    places: dict[int, int] = {}
    counts: dict[int, int] = {}
    for rsvp_id, event_id in queue:
        counts[event_id] = counts.get(event_id, 0) + 1
        places[rsvp_id] = counts[event_id]
    wanted = {r.id for r in waiting}
    return {i: n for i, n in places.items() if i in wanted}


# Invitations -----------------------------------------------------------------------------------


def uid_for(rsvp: EventRsvp) -> str:
    """One RSVP's calendar UID: the same for its invitation, updates and cancellation."""
    host = urlsplit(get_settings().base_url).hostname or "peerbridge.invalid"
    return f"event-{rsvp.event_id}-rsvp-{rsvp.id}@{host}"


def _calendar_method(event: Event, rsvp: EventRsvp) -> str:
    """REQUEST while the person is going to a scheduled event; CANCEL otherwise."""
    return "REQUEST" if rsvp.status == "going" and event.status == "scheduled" else "CANCEL"


def ics_text(session: Session, event: Event, rsvp: EventRsvp, person: Member) -> str:
    """The RSVP's calendar event: a REQUEST while going, a CANCEL otherwise."""
    settings = get_settings()
    name, address = parseaddr(settings.email_from)
    cancelled = _calendar_method(event, rsvp) == "CANCEL"
    starts = london.as_utc(event.starts_at)
    minutes = int((london.as_utc(event.ends_at) - starts).total_seconds() // 60)
    return calendar.build(
        calendar.SessionEvent(
            booking_id=event.id,
            uid=uid_for(rsvp),
            sequence=rsvp.sequence,
            starts_at=starts,
            duration_minutes=minutes,
            summary=f"{KIND_LABELS.get(event.kind, 'Event')}: {event.title}",
            description=event.description,
            link=f"{settings.base_url.rstrip('/')}{page_link(event)}",
            organizer=calendar.Attendee(name=name or "peerbridge", email=address),
            attendees=(calendar.Attendee(name=person.name, email=person.email),),
            location=event.location,
            video_link=event.video_link,
            cancelled=cancelled,
        ),
        base_url=settings.base_url,
        method="CANCEL" if cancelled else "REQUEST",
    )


def _tell(
    session: Session,
    event: Event,
    rsvp: EventRsvp,
    *,
    title: str,
    body: str,
    with_calendar: bool,
) -> None:
    person = session.get(Member, rsvp.member_id)
    if person is None:
        return
    ics = None
    if with_calendar:
        rsvp.sequence += 1
        session.add(rsvp)
        ics = ics_text(session, event, rsvp, person)
    notifications.notify(
        session=session,
        member_id=person.id,
        email=person.email,
        kind="event",
        title=title,
        body=body,
        link=page_link(event),
        calendar_ics=ics,
        calendar_method=_calendar_method(event, rsvp) if ics else None,
    )


def _where(event: Event) -> str:
    return "\n".join(
        line
        for line in (
            f"Place: {event.location}" if event.location else "",
            f"Video link: {event.video_link}" if event.video_link else "",
        )
        if line
    )


def _invite(session: Session, event: Event, rsvp: EventRsvp, *, promoted: bool) -> None:
    opening = (
        f"A place has come up at {event.title} and it is yours."
        if promoted
        else f"You have a place at {event.title}."
    )
    _tell(
        session,
        event,
        rsvp,
        title=f"{'A place for you' if promoted else 'You are going'}: {event.title}",
        body=f"{opening}\n{when_words(event)}\n{_where(event)}\n\n"
        "The invitation is attached: add it to your calendar. If you cannot come, cancel on "
        "the event's page so someone on the waiting list can have your place.",
        with_calendar=True,
    )


# Places and the waiting list ----------------------------------------------------------------


def _lock(session: Session, event: Event) -> None:
    """Hold the event's row until commit (a no-op write: a row lock on PostgreSQL, the write
    lock on SQLite), so RSVPs and cancellations of one event happen one after another and a
    place freed while someone joins the waiting list is never left idle."""
    session.exec(
        update(Event).where(col(Event.id) == event.id).values(sequence=col(Event.sequence))
    )
    session.refresh(event)


def _take_place(session: Session, event_id: int) -> bool:
    """Take one place, if one is left: a conditional UPDATE, so the last place goes once."""
    taken = session.exec(
        update(Event)
        .where(col(Event.id) == event_id)
        .where(col(Event.status) == "scheduled")
        .where(col(Event.places_taken) < col(Event.capacity))
        .values(places_taken=col(Event.places_taken) + 1)
    ).rowcount
    return bool(taken)


def _give_back_place(session: Session, event_id: int) -> None:
    session.exec(
        update(Event)
        .where(col(Event.id) == event_id)
        .where(col(Event.places_taken) > 0)
        .values(places_taken=col(Event.places_taken) - 1)
    )


def _fill_from_waiting(session: Session, event: Event) -> list[EventRsvp]:
    """Give free places to the people waiting, first come first served; returns them."""
    promoted: list[EventRsvp] = []
    while True:
        first = session.exec(
            select(EventRsvp)
            .where(EventRsvp.event_id == event.id)
            .where(EventRsvp.status == "waiting")
            .order_by(col(EventRsvp.joined_at), col(EventRsvp.id))
            .limit(1)
        ).first()
        if first is None or not _take_place(session, event.id):
            break
        moved = session.exec(
            update(EventRsvp)
            .where(col(EventRsvp.id) == first.id)
            .where(col(EventRsvp.status) == "waiting")
            .values(status="going")
        ).rowcount
        session.refresh(first)
        if not moved:  # someone else moved them (a cancellation, another promotion)
            _give_back_place(session, event.id)
            continue
        promoted.append(first)
    session.refresh(event)
    return promoted


def _open_for_rsvp(event: Event, now: datetime) -> None:
    if event.status != "scheduled":
        raise Conflict("This event has been cancelled.")
    if has_started(event, now):
        raise Conflict("This event has already started, so RSVPs have closed.")


def rsvp(
    *, session: Session, member: Member | None, event_id: int, now: datetime | None = None
) -> EventRsvp:
    """Say the member will come: a place if one is left, else the waiting list.

    Saying so again changes nothing (a double submission takes one place).
    """
    member = member_service.require_verified(member)
    now = now or utcnow()
    event = get_event(session=session, member=member, event_id=event_id)
    if not in_audience(session, event, member):
        raise Forbidden(f"This event is for: {audience_words(session, event)}.")
    _open_for_rsvp(event, now)
    _lock(session, event)
    existing = _rsvp_of(session, event.id, member.id)
    if existing is not None:
        session.refresh(existing)
    if existing is not None and existing.status in ("going", "waiting"):
        return existing
    took = _take_place(session, event.id)
    status = "going" if took else "waiting"
    if existing is not None:
        changed = session.exec(
            update(EventRsvp)
            .where(col(EventRsvp.id) == existing.id)
            .where(col(EventRsvp.status) == "cancelled")
            .values(status=status, joined_at=now, attended=None, reminder_sent_at=None)
        ).rowcount
        session.refresh(existing)
        row = existing
    else:
        row = EventRsvp(event_id=event.id, member_id=member.id, status=status, joined_at=now)
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            changed = 0
            row = _rsvp_of(session, event.id, member.id)  # type: ignore[assignment]
        else:
            changed = 1
    if not changed:  # the same member's other request answered first
        if took:
            _give_back_place(session, event.id)
        session.refresh(event)
        if row is None:
            raise Conflict("Your RSVP changed while this one was saved: try again.")
        return row
    if took:
        session.refresh(event)
        _invite(session, event, row, promoted=False)
    else:
        # A place may have come free between the count and joining the list.
        promoted = _fill_from_waiting(session, event)
        for person in promoted:
            _invite(session, event, person, promoted=person.id != row.id)
        session.refresh(row)
        if row.status == "waiting":
            position = waiting_position(session, row)
            _tell(
                session,
                event,
                row,
                title=f"On the waiting list: {event.title}",
                body=f"{event.title} is full. You are number {position} on the waiting list; "
                "if a place comes up it will be yours and we will send you the invitation.",
                with_calendar=False,
            )
    session.flush()
    return row


def cancel_rsvp(
    *, session: Session, member: Member | None, event_id: int, now: datetime | None = None
) -> EventRsvp:
    """Say the member will not come after all; their place goes to the first person waiting."""
    member = member_service.require_member(member)
    now = now or utcnow()
    event = get_event(session=session, member=member, event_id=event_id)
    _lock(session, event)
    row = _rsvp_of(session, event.id, member.id)
    if row is not None:
        session.refresh(row)
    if row is None or row.status == "cancelled":
        raise Conflict("You have not said you are going to this event.")
    if has_started(event, now):
        raise Conflict("This event has already started.")
    was = row.status
    changed = session.exec(
        update(EventRsvp)
        .where(col(EventRsvp.id) == row.id)
        .where(col(EventRsvp.status) == was)
        .values(status="cancelled")
    ).rowcount
    session.refresh(row)
    if not changed:
        return row
    if was == "going":
        _give_back_place(session, event.id)
        session.refresh(event)
        _tell(
            session,
            event,
            row,
            title=f"Cancelled: {event.title}",
            body=f"You are no longer going to {event.title} ({when_words(event)}). "
            "The cancellation is attached, to take it out of your calendar.",
            with_calendar=True,
        )
        for person in _fill_from_waiting(session, event):
            _invite(session, event, person, promoted=True)
    session.flush()
    return row


# Changing and cancelling an event -----------------------------------------------------------


def can_change(session: Session, event: Event, member: Member | None) -> bool:
    """True when ``member`` may edit or cancel the event: its organisers, and the member who
    created it."""
    if member is None or member.id is None or not member.is_active:
        return False
    return event.organiser_id == member.id or can_organise(session, event, member)


def changeable_event(
    *, session: Session, member: Member | None, event_id: int, now: datetime | None = None
) -> Event:
    """The event, for someone who may change it, while it can still change (scheduled and not
    started); NotFound for those who may not see it, Forbidden for others who may, Conflict
    once it has started or been cancelled."""
    member = member_service.require_verified(member)
    event = session.get(Event, event_id)
    if event is None:
        raise NotFound(NO_SUCH_EVENT, field="event_id")
    if can_organise(session, event, member):
        chapters.require_scope(session=session, member=member)  # staff: their second factor
    elif event.organiser_id != member.id:
        get_event(session=session, member=member, event_id=event_id)
        raise Forbidden(NOT_YOURS)
    _check_changeable(event, now)
    return event


def _check_changeable(event: Event, now: datetime | None) -> None:
    if event.status == "cancelled":
        raise Conflict("This event has already been cancelled.")
    if has_started(event, now):
        raise Conflict("This event has already started, so it can no longer be changed.")


def _going_and_waiting(session: Session, event: Event) -> list[EventRsvp]:
    return list(
        session.exec(
            select(EventRsvp)
            .where(EventRsvp.event_id == event.id)
            .where(col(EventRsvp.status).in_(["going", "waiting"]))
            .order_by(col(EventRsvp.joined_at), col(EventRsvp.id))
        ).all()
    )


def _what_changed(before: dict[str, object], event: Event) -> list[str]:
    """The changes people must know about, in sentences: the time and the place."""
    changes = []
    if (before["starts_at"], before["ends_at"]) != (event.starts_at, event.ends_at):
        changes.append(f"The time has changed: it is now {when_words(event)}.")
    if before["location"] != event.location:
        changes.append(
            f"The place has changed: it is now {event.location}."
            if event.location
            else "There is no longer a place to go to: it is online only."
        )
    if before["video_link"] != event.video_link:
        changes.append(
            "The video link has changed."
            if event.video_link
            else "There is no longer a video link: come in person."
        )
    return changes


CALENDAR_FIELDS = (
    "kind",
    "title",
    "description",
    "starts_at",
    "ends_at",
    "location",
    "video_link",
)


def update_event(
    *,
    session: Session,
    organiser: Member | None,
    event_id: int,
    settings: EventSettings,
    now: datetime | None = None,
) -> Event:
    """Change an event before it starts (same rules as creating it; the capacity never below
    the places taken). Everyone going gets the updated invitation, told what changed when the
    time or the place did; those waiting hear of a new time or place; a larger capacity goes
    to those waiting, first come first served."""
    now = now or utcnow()
    event = changeable_event(session=session, member=organiser, event_id=event_id, now=now)
    _lock(session, event)
    _check_changeable(event, now)
    _check_audience_scope(
        session, organiser, settings, as_member=not can_organise(session, event, organiser)
    )
    extra = _skill_problems(
        session, settings, kept=skills_of(session=session, event_ids=[event.id])[event.id]
    )
    if settings.capacity is not None and settings.capacity < event.places_taken:
        taken = event.places_taken
        extra["capacity"] = (
            f"Capacity cannot be less than the {taken} "
            f"{'person' if taken == 1 else 'people'} already going."
        )
    times = _checked_times(settings, now, extra)
    before = {name: getattr(event, name) for name in CALENDAR_FIELDS}
    _apply(event, settings, times)
    event.sequence += 1
    session.add(event)
    session.flush()
    if settings.skill_ids is not None:
        _set_skills(session, event, settings.skill_ids)
    changes = _what_changed(before, event)
    for_calendar = any(before[name] != getattr(event, name) for name in CALENDAR_FIELDS)
    promoted = {row.id for row in _fill_from_waiting(session, event)}
    for row in _going_and_waiting(session, event):
        if row.id in promoted:
            _invite(session, event, row, promoted=True)
        elif row.status == "going" and for_calendar:
            _tell(
                session,
                event,
                row,
                title=f"Changed: {event.title}",
                body="\n".join(changes or [f"The details of {event.title} have been updated."])
                + f"\n{when_words(event)}\n{_where(event)}\n\n"
                "The updated invitation is attached: it replaces the one in your calendar.",
                with_calendar=True,
            )
        elif row.status == "waiting" and changes:
            _tell(
                session,
                event,
                row,
                title=f"Changed: {event.title}",
                body="\n".join(changes) + "\n\nYou are still on the waiting list.",
                with_calendar=False,
            )
    session.flush()
    return event


def cancel_event(
    *,
    session: Session,
    organiser: Member | None,
    event_id: int,
    reason: str,
    now: datetime | None = None,
) -> Event:
    """Call the event off, saying why: everyone going gets the calendar cancellation, everyone
    waiting is told, and nobody can RSVP any more."""
    event = changeable_event(session=session, member=organiser, event_id=event_id, now=now)
    reason = (reason or "").strip()
    problem = text_problem(reason, label="reason", maximum=MAX_REASON)
    if not reason and not problem:
        problem = "Enter why the event is cancelled."
    if problem:
        raise FieldErrors({"reason": problem})
    _lock(session, event)
    _check_changeable(event, now)
    event.status = "cancelled"
    event.cancel_reason = reason
    event.cancelled_at = now or utcnow()
    event.sequence += 1
    session.add(event)
    session.flush()
    for row in _going_and_waiting(session, event):
        going = row.status == "going"
        _tell(
            session,
            event,
            row,
            title=f"Event cancelled: {event.title}",
            body=f"{event.title} ({when_words(event)}) has been cancelled.\n"
            f"The reason given: {reason}\n\n"
            + (
                "The cancellation is attached, to take it out of your calendar."
                if going
                else "You were on the waiting list; there is nothing more you need to do."
            ),
            with_calendar=going,
        )
    session.flush()
    return event


# After the event -------------------------------------------------------------------------------


def _organised(session: Session, organiser: Member | None, event_id: int) -> tuple[Member, Event]:
    member, _scope = chapters.require_scope(session=session, member=organiser)
    event = session.get(Event, event_id)
    if event is None:
        raise NotFound(NO_SUCH_EVENT, field="event_id")
    if not can_organise(session, event, member):
        raise Forbidden(chapters.OUTSIDE_SCOPE)
    return member, event


def attendees_of(*, session: Session, organiser: Member | None, event_id: int):
    """Who is going (and who waits), with their RSVPs, for the event's organisers."""
    _member, event = _organised(session, organiser, event_id)
    rows = session.exec(
        select(EventRsvp, Member)
        .join(Member, col(Member.id) == col(EventRsvp.member_id))
        .where(EventRsvp.event_id == event.id)
        .where(col(EventRsvp.status).in_(["going", "waiting"]))
        .order_by(col(EventRsvp.status), col(EventRsvp.joined_at), col(EventRsvp.id))
    ).all()
    return [(r, m) for r, m in rows]


def record_attendance(
    *,
    session: Session,
    organiser: Member | None,
    event_id: int,
    attended_member_ids: Iterable[int],
    now: datetime | None = None,
) -> int:
    """Record who came (everyone else going did not); only once the event has started."""
    _member, event = _organised(session, organiser, event_id)
    if not has_started(event, now):
        raise Conflict("Attendance can be recorded once the event has started.")
    came = set(attended_member_ids)
    rows = session.exec(
        select(EventRsvp).where(EventRsvp.event_id == event.id).where(EventRsvp.status == "going")
    ).all()
    for row in rows:
        row.attended = row.member_id in came
        session.add(row)
    session.flush()
    return sum(1 for row in rows if row.attended)


def set_notes(*, session: Session, organiser: Member | None, event_id: int, notes: str) -> Event:
    """The organiser's notes on the event's page after it."""
    _member, event = _organised(session, organiser, event_id)
    if problem := text_problem(notes or "", label="notes", maximum=MAX_DESCRIPTION):
        raise FieldErrors({"notes": problem})
    event.notes = (notes or "").strip()
    session.add(event)
    session.flush()
    return event


def add_link(
    *, session: Session, organiser: Member | None, event_id: int, title: str, url: str
) -> EventLink:
    """A link to slides, a recording or a reading, on the event's page."""
    member, event = _organised(session, organiser, event_id)
    problems: dict[str, str] = {}
    if problem := text_problem(
        title or "", label="link title", maximum=MAX_TITLE, required=True, one_line=True
    ):
        problems["link_title"] = problem
    url = (url or "").strip()
    if not url:
        problems["link_url"] = "Enter the link's web address, starting https://."
    elif problem := _link_problem(url):
        problems["link_url"] = problem
    if problems:
        raise FieldErrors(problems)
    link = EventLink(event_id=event.id, title=title.strip(), url=url, added_by_id=member.id)
    session.add(link)
    session.flush()
    return link


def links_of(*, session: Session, event_ids: Sequence[int]) -> dict[int, list[EventLink]]:
    """Links of many events in one query."""
    result: dict[int, list[EventLink]] = {i: [] for i in event_ids}
    if event_ids:
        for link in session.exec(
            select(EventLink)
            .where(col(EventLink.event_id).in_(list(event_ids)))
            .order_by(col(EventLink.id))
        ).all():
            result[link.event_id].append(link)
    return result


def add_comment(
    *, session: Session, member: Member | None, event_id: int, body: str
) -> EventComment:
    """A comment in the event's discussion, by someone who may see the event."""
    member = member_service.require_verified(member)
    event = get_event(session=session, member=member, event_id=event_id)
    if problem := text_problem(body or "", label="comment", maximum=MAX_COMMENT, required=True):
        raise FieldErrors({"body": problem})
    comment = EventComment(event_id=event.id, member_id=member.id, body=body.strip())
    session.add(comment)
    session.flush()
    return comment


def comments_of(*, session: Session, event_id: int) -> list[tuple[EventComment, Member]]:
    """The discussion, oldest first, with each comment's author."""
    return [
        (c, m)
        for c, m in session.exec(
            select(EventComment, Member)
            .join(Member, col(Member.id) == col(EventComment.member_id))
            .where(EventComment.event_id == event_id)
            .order_by(col(EventComment.created_at), col(EventComment.id))
        ).all()
    ]


# The day before -----------------------------------------------------------------------------


def send_reminders(*, session: Session, now: datetime | None = None) -> int:
    """Remind each person going, once, of an event starting within the next day.

    Each RSVP is claimed by a conditional update of ``reminder_sent_at``, so several workers
    (or two passes) never send one reminder twice.
    """
    now = now or utcnow()
    due = session.exec(
        select(EventRsvp, Event)
        .join(Event, col(Event.id) == col(EventRsvp.event_id))
        .where(Event.status == "scheduled")
        .where(EventRsvp.status == "going")
        .where(col(EventRsvp.reminder_sent_at).is_(None))
        .where(col(Event.starts_at) > now)
        .where(col(Event.starts_at) <= now + REMINDER_AHEAD)
        .order_by(col(EventRsvp.id))
    ).all()
    sent = 0
    for row, event in due:
        claimed = session.exec(
            update(EventRsvp)
            .where(col(EventRsvp.id) == row.id)
            .where(col(EventRsvp.status) == "going")
            .where(col(EventRsvp.reminder_sent_at).is_(None))
            .values(reminder_sent_at=now)
        ).rowcount
        if not claimed:
            continue
        sent += 1
        _tell(
            session,
            event,
            row,
            title=f"Reminder: {event.title} {london.format_datetime(event.starts_at)}",
            body=f"{event.title} is {when_words(event)}.\n{_where(event)}\n\n"
            "If you cannot come, cancel on the event's page so someone else can have your place.",
            with_calendar=False,
        )
    session.flush()
    return sent


# Their data -------------------------------------------------------------------------------------


def export_for(*, session: Session, member_id: int) -> dict[str, list[dict[str, object]]]:
    """The member's RSVPs (with the event's title and time) and comments, for their export."""
    rsvps = session.exec(
        select(EventRsvp, Event)
        .join(Event, col(Event.id) == col(EventRsvp.event_id))
        .where(EventRsvp.member_id == member_id)
        .order_by(col(EventRsvp.id))
    ).all()
    comments = session.exec(
        select(EventComment)
        .where(EventComment.member_id == member_id)
        .order_by(col(EventComment.id))
    ).all()
    return {
        "event_rsvps": [
            {
                "event_id": row.event_id,
                "event_title": event.title,
                "event_starts_at": london.as_utc(event.starts_at).isoformat(),
                "status": row.status,
                "joined_at": london.as_utc(row.joined_at).isoformat(),
                "attended": row.attended,
            }
            for row, event in rsvps
        ],
        "event_comments": [
            {
                "event_id": c.event_id,
                "body": c.body,
                "created_at": london.as_utc(c.created_at).isoformat(),
            }
            for c in comments
        ],
    }


def erase_for(*, session: Session, member_id: int) -> None:
    """Before an account is erased: its places at events to come go to those waiting, then its
    RSVPs and comments are deleted."""
    going = session.exec(
        select(EventRsvp, Event)
        .join(Event, col(Event.id) == col(EventRsvp.event_id))
        .where(EventRsvp.member_id == member_id)
        .where(EventRsvp.status == "going")
        .where(col(Event.starts_at) > utcnow())
    ).all()
    for row, event in going:
        _lock(session, event)
        row.status = "cancelled"
        session.add(row)
        session.flush()
        _give_back_place(session, event.id)
        for person in _fill_from_waiting(session, event):
            _invite(session, event, person, promoted=True)
    session.execute(delete(EventComment).where(col(EventComment.member_id) == member_id))
    session.execute(delete(EventRsvp).where(col(EventRsvp.member_id) == member_id))
    session.flush()
