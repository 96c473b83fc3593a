"""Event pages: upcoming events for me, an event (RSVP, cancel, the waiting list, the page
after it), and the form for a new event or a change to one, and calling an event off. Rules
live in ``backend.events``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from backend import london
from backend.chapters import service as chapters
from backend.errors import Conflict, Forbidden, Invalid
from backend.events import service as events
from backend.events.models import Event
from backend.members import service as member_service
from backend.programmes import service as programmes
from backend.skills import service as skill_service
from vocabulary import BANDS
from web.accounts import redirect
from web.deps import (
    CheckedVisitor,
    CurrentVisitor,
    Form,
    UnitOfWorkRoute,
    Visitor,
    form_int,
    form_list,
    form_text,
)
from web.mentoring import parse_date, path_id
from web.render import NOTICES, form_errors, render

router = APIRouter(route_class=UnitOfWorkRoute)

NOTICES.update(
    {
        "event-created": "Your event has been created. Members in its audience can now RSVP.",
        "event-updated": "The event has been changed. Everyone going has been sent the "
        "updated invitation.",
        "event-cancelled": "The event has been cancelled. Everyone going or waiting has been "
        "told, with the reason.",
        "rsvp-going": "You are going. We have emailed you the invitation for your calendar.",
        "rsvp-waiting": "The event is full, so you are on the waiting list. If a place comes "
        "up it will be yours and we will email you the invitation.",
        "rsvp-cancelled": "You are no longer going. Your place has gone to the next person "
        "waiting, if anyone was.",
        "attendance-saved": "Attendance has been recorded.",
        "notes-saved": "The notes have been saved.",
        "link-added": "The link has been added.",
        "comment-added": "Your comment has been added.",
    }
)

FIELDS = (
    "kind",
    "title",
    "description",
    "day-day",
    "day-month",
    "day-year",
    "start",
    "end",
    "location",
    "video_link",
    "capacity",
    "audience",
    "band_min",
    "band_max",
)
KIND_OPTIONS = list(events.KIND_LABELS.items())
BAND_OPTIONS = [
    (band, f"Band {band}" if band != "VSM" else "Very senior manager") for band in BANDS
]


@router.get("/events", response_class=HTMLResponse)
def events_list(visitor: CurrentVisitor) -> Response:
    """Upcoming events for me, with the places left in words, and the ones I'm going to."""
    member = member_service.require_member(visitor.member)
    upcoming = events.upcoming_for(session=visitor.db, member=member)
    mine = events.rsvps_for(session=visitor.db, member=member, event_ids=[e.id for e in upcoming])
    return render(
        visitor,
        "events/list.html",
        upcoming=upcoming,
        mine=mine,
        events=events,
        can_create=events.may_create(visitor.db, member),
    )


def _audience_options(visitor: Visitor, *, as_member: bool) -> list[tuple[str, str]]:
    if as_member:
        member = member_service.require_member(visitor.member)
        return [("network", "Everyone in the network")] + [
            (f"chapter-{c.id}", f"Members of {c.name}")
            for c in events.member_chapters(visitor.db, member)
        ]
    network, chapter_list = programmes.chapter_choices(session=visitor.db, organiser=visitor.member)
    options = [("network", "Everyone in the network")] if network else []
    options += [(f"chapter-{c.id}", f"Members of {c.name}") for c in chapter_list]
    options += [
        (f"programme-{p.id}", f"Participants in {p.name}")
        for p in programmes.organised_programmes(session=visitor.db, organiser=visitor.member)
    ]
    return options


def _values_of(event: Event) -> dict[str, Any]:
    """The event as the form shows it: London date and times."""
    starts, ends = london.in_london(event.starts_at), london.in_london(event.ends_at)
    audience = (
        f"programme-{event.programme_id}"
        if event.programme_id is not None
        else f"chapter-{event.chapter_id}"
        if event.chapter_id is not None
        else "network"
    )
    return {
        "kind": event.kind,
        "title": event.title,
        "description": event.description,
        "day-day": str(starts.day),
        "day-month": str(starts.month),
        "day-year": str(starts.year),
        "start": starts.strftime("%H:%M"),
        "end": ends.strftime("%H:%M"),
        "location": event.location,
        "video_link": event.video_link,
        "capacity": str(event.capacity),
        "audience": audience,
        "band_min": event.band_min or "",
        "band_max": event.band_max or "",
    }


def _form_page(
    visitor: Visitor,
    *,
    event_id: int | None = None,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    selected: list[str] | None = None,
) -> HTMLResponse:
    """The event form: for a new event, or (with ``event_id``) to change one."""
    db, member = visitor.db, visitor.member
    if event_id is None:
        as_member = events.members_may_create(db, member)
        if not as_member:
            chapters.require_scope(session=db, member=member)
        values = values or {"kind": "webinar", "audience": "network"}
        selected = selected or []
    else:
        event = events.changeable_event(session=db, member=member, event_id=path_id(event_id))
        as_member = not events.can_organise(db, event, member)
        values = values or _values_of(event)
        if selected is None:
            selected = events.skills_of(session=db, event_ids=[event.id])[event.id]
    return render(
        visitor,
        "events/new.html",
        status_code=status_code,
        errors=errors,
        values=values,
        event_id=event_id,
        kind_options=[
            (kind, label)
            for kind, label in KIND_OPTIONS
            if not as_member or kind in events.MEMBER_KINDS
        ],
        band_options=BAND_OPTIONS,
        audience_options=_audience_options(visitor, as_member=as_member),
        skill_groups=skill_service.grouped(session=db, held=selected),
        selected=selected,
    )


@router.get("/events/new", response_class=HTMLResponse)
def event_new(visitor: CurrentVisitor) -> Response:
    """The form for a new event (times in London)."""
    return _form_page(visitor)


def _audience(value: str) -> tuple[int | None, int | None]:
    kind, _, number = value.partition("-")
    if kind in ("chapter", "programme") and number.isdigit():
        the_id = int(number)
        return (the_id, None) if kind == "chapter" else (None, the_id)
    return None, None


def _settings_of(form: Any) -> tuple[dict[str, str], events.EventSettings]:
    """The form's values (to show again) and the event they describe."""
    values = {name: form_text(form, name) for name in FIELDS}
    day = parse_date(form, "day")
    capacity = form_int(form, "capacity")
    chapter_id, programme_id = _audience(values["audience"])
    return values, events.EventSettings(
        kind=values["kind"],
        title=values["title"],
        description=values["description"],
        day=day if isinstance(day, date) else None,
        start=values["start"],
        end=values["end"],
        capacity=capacity if isinstance(capacity, int) else None,
        location=values["location"],
        video_link=values["video_link"],
        chapter_id=chapter_id,
        programme_id=programme_id,
        band_min=values["band_min"] or None,
        band_max=values["band_max"] or None,
        skill_ids=tuple(form_list(form, "skill_ids")),
    )


def _save_event(
    visitor: Visitor,
    form: Any,
    save: Callable[[events.EventSettings], Event],
    notice: str,
    event_id: int | None = None,
) -> Response:
    values, settings = _settings_of(form)
    try:
        event = save(settings)
    except (Invalid, Forbidden, Conflict) as error:
        errors = form_errors(
            error,
            default_field="audience",
            fields={"chapter_id": "audience", "programme_id": "audience"},
        )
        if isinstance(error, Conflict) and event_id is not None:
            return _event_page(visitor, event_id, status_code=400, errors={"change": str(error)})
        return _form_page(
            visitor,
            event_id=event_id,
            status_code=400,
            errors=errors,
            values=values,
            selected=list(settings.skill_ids or ()),
        )
    return redirect(f"/events/{event.id}?notice={notice}")


@router.post("/events/new", response_class=HTMLResponse)
def event_create(visitor: CheckedVisitor, form: Form) -> Response:
    """Create the event, or show the form again with an error summary."""
    return _save_event(
        visitor,
        form,
        lambda settings: events.create_event(
            session=visitor.db, organiser=visitor.member, settings=settings
        ),
        "event-created",
    )


@router.get("/events/{event_id:int}/edit", response_class=HTMLResponse)
def event_edit(visitor: CurrentVisitor, event_id: int) -> Response:
    """The event's form, filled in, for whoever may change it."""
    return _form_page(visitor, event_id=event_id)


@router.post("/events/{event_id:int}/edit", response_class=HTMLResponse)
def event_update(visitor: CheckedVisitor, event_id: int, form: Form) -> Response:
    """Change the event, or show the form again with an error summary."""
    return _save_event(
        visitor,
        form,
        lambda settings: events.update_event(
            session=visitor.db,
            organiser=visitor.member,
            event_id=path_id(event_id),
            settings=settings,
        ),
        "event-updated",
        event_id,
    )


def _event_page(
    visitor: Visitor,
    event_id: int,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> HTMLResponse:
    member = member_service.require_member(visitor.member)
    db = visitor.db
    event = events.get_event(session=db, member=member, event_id=path_id(event_id))
    rsvp = events.rsvps_for(session=db, member=member, event_ids=[event.id]).get(event.id)
    organiser = events.can_organise(db, event, member)
    return render(
        visitor,
        "events/event.html",
        status_code=status_code,
        errors=errors,
        values=values or {"notes": event.notes},
        event=event,
        events=events,
        rsvp=rsvp,
        position=events.waiting_position(db, rsvp) if rsvp else None,
        in_audience=events.in_audience(db, event, member),
        started=events.has_started(event),
        organiser=organiser,
        can_change=events.can_change(db, event, member),
        attendees=events.attendees_of(session=db, organiser=member, event_id=event.id)
        if organiser
        else [],
        links=events.links_of(session=db, event_ids=[event.id])[event.id],
        comments=events.comments_of(session=db, event_id=event.id),
        audience=events.audience_words(db, event),
        skills=_skills_named(visitor, events.skills_of(session=db, event_ids=[event.id])[event.id]),
    )


def _skills_named(visitor: Visitor, skill_ids: list[str]) -> list[tuple[str, str]]:
    """(id, name) of the skills an event develops, in name order."""
    names = {s.id: s.name for s in skill_service.list_skills(session=visitor.db)}
    return sorted(((i, names[i]) for i in skill_ids if i in names), key=lambda pair: pair[1])


@router.get("/events/{event_id:int}", response_class=HTMLResponse)
def event_detail(visitor: CurrentVisitor, event_id: int) -> Response:
    """An event: when, where, for whom, places left; RSVP or cancel; after it, the notes,
    links and discussion."""
    return _event_page(visitor, event_id)


def _act(
    visitor: Visitor,
    event_id: int,
    action: Callable[[], Any],
    notice: str | Callable[[Any], str],
    default_field: str,
    values: dict[str, Any] | None = None,
) -> Response:
    try:
        result = action()
    except (Invalid, Conflict) as error:
        errors = form_errors(error, default_field=default_field)
        return _event_page(visitor, event_id, status_code=400, errors=errors, values=values)
    return redirect(f"/events/{event_id}?notice={notice(result) if callable(notice) else notice}")


@router.post("/events/{event_id:int}/rsvp", response_class=HTMLResponse)
def event_rsvp(visitor: CheckedVisitor, event_id: int) -> Response:
    """Say I'm going (or join the waiting list)."""
    return _act(
        visitor,
        event_id,
        lambda: events.rsvp(session=visitor.db, member=visitor.member, event_id=path_id(event_id)),
        lambda row: f"rsvp-{row.status}",
        "rsvp",
    )


@router.post("/events/{event_id:int}/cancel", response_class=HTMLResponse)
def event_cancel(visitor: CheckedVisitor, event_id: int) -> Response:
    """Say I'm not going after all."""
    return _act(
        visitor,
        event_id,
        lambda: events.cancel_rsvp(
            session=visitor.db, member=visitor.member, event_id=path_id(event_id)
        ),
        "rsvp-cancelled",
        "rsvp",
    )


@router.post("/events/{event_id:int}/cancel-event", response_class=HTMLResponse)
def event_call_off(visitor: CheckedVisitor, event_id: int, form: Form) -> Response:
    """Cancel the event, saying why (the organisers, or the member who created it)."""
    reason = form_text(form, "reason")
    return _act(
        visitor,
        event_id,
        lambda: events.cancel_event(
            session=visitor.db,
            organiser=visitor.member,
            event_id=path_id(event_id),
            reason=reason,
        ),
        "event-cancelled",
        "reason",
        {"reason": reason},
    )


@router.post("/events/{event_id:int}/attendance", response_class=HTMLResponse)
def event_attendance(visitor: CheckedVisitor, event_id: int, form: Form) -> Response:
    """The organiser records who came."""
    came = [int(x) for x in form_list(form, "attended_ids") if x.isdigit()]
    return _act(
        visitor,
        event_id,
        lambda: events.record_attendance(
            session=visitor.db,
            organiser=visitor.member,
            event_id=path_id(event_id),
            attended_member_ids=came,
        ),
        "attendance-saved",
        "attended_ids",
    )


@router.post("/events/{event_id:int}/notes", response_class=HTMLResponse)
def event_notes(visitor: CheckedVisitor, event_id: int, form: Form) -> Response:
    """The organiser's notes after the event."""
    notes = form_text(form, "notes")
    return _act(
        visitor,
        event_id,
        lambda: events.set_notes(
            session=visitor.db, organiser=visitor.member, event_id=path_id(event_id), notes=notes
        ),
        "notes-saved",
        "notes",
        {"notes": notes},
    )


@router.post("/events/{event_id:int}/links", response_class=HTMLResponse)
def event_link(visitor: CheckedVisitor, event_id: int, form: Form) -> Response:
    """A link to the slides or a recording."""
    values = {"link_title": form_text(form, "link_title"), "link_url": form_text(form, "link_url")}
    return _act(
        visitor,
        event_id,
        lambda: events.add_link(
            session=visitor.db,
            organiser=visitor.member,
            event_id=path_id(event_id),
            title=values["link_title"],
            url=values["link_url"],
        ),
        "link-added",
        "link_url",
        values,
    )


@router.post("/events/{event_id:int}/comments", response_class=HTMLResponse)
def event_comment(visitor: CheckedVisitor, event_id: int, form: Form) -> Response:
    """A comment in the discussion."""
    body = form_text(form, "body")
    return _act(
        visitor,
        event_id,
        lambda: events.add_comment(
            session=visitor.db, member=visitor.member, event_id=path_id(event_id), body=body
        ),
        "comment-added",
        "body",
        {"body": body},
    )
