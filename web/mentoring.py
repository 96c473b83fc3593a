"""Mentoring pages: suggestions, the mentor directory, requests, mentorships, round offers."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from backend import london
from backend.db import utcnow
from backend.errors import Conflict, DomainError, FieldErrors, Forbidden, Invalid, NotFound
from backend.members import directory
from backend.members import service as member_service
from backend.members.models import Member, MentoringOffer
from backend.members.service import MAX_ID
from backend.mentoring import bookings
from backend.mentoring import check_ins as check_in_service
from backend.mentoring import goals as goal_service
from backend.mentoring import service as mentoring
from backend.mentoring.models import MentorRequest, Mentorship, SessionBooking
from backend.mentoring.suggestions import suggest_mentors
from backend.organisations.models import ORGANISATION_TYPES
from backend.programmes import pairing
from backend.rounds import service as rounds
from backend.settings import get_settings
from backend.skills import service as skill_service
from backend.surveys import service as surveys
from vocabulary import humanise
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
from web.render import NOTICES, form_errors, render, templates

router = APIRouter(route_class=UnitOfWorkRoute)

PAGE_SIZE = 20
SUGGESTIONS = 10

NOTICES.update(
    {
        "request-sent": "Your request has been sent. We will tell you when they answer.",
        "request-withdrawn": "Your request has been withdrawn.",
        "request-declined": "You have declined the request. We have let them know.",
        "mentorship-started": "You have accepted. Your mentorship has started.",
        "agreement-saved": "Your agreement has been saved.",
        "session-logged": "The session has been logged.",
        "mentorship-ended": "The mentorship has ended. Thank you for mentoring together.",
        "feedback-saved": "Thank you for your feedback.",
        "proposal-accepted": "You have accepted the proposed match.",
        "proposal-declined": "You have declined the proposed match.",
    }
)

_NUMBER_WORDS = (
    "no",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
)


def number_words(n: int) -> str:
    """A small count in words ('three'); larger ones as digits."""
    return _NUMBER_WORDS[n] if 0 <= n < len(_NUMBER_WORDS) else str(n)


def free_places_text(offer: MentoringOffer | None) -> str:
    """A mentor's free places in words, for people and screen readers alike."""
    if offer is None or offer.capacity == 0:
        return "Not offering mentoring"
    if offer.paused:
        return "Not taking new mentees at the moment"
    free = mentoring.free_places(offer=offer)
    total = f"out of {number_words(offer.capacity)}"
    if free == 0:
        return f"No free places at the moment (all {number_words(offer.capacity)} taken)"
    place = "place" if free == 1 else "places"
    return f"{number_words(free).capitalize()} free {place} {total}"


templates.env.filters["free_places"] = free_places_text
templates.env.globals["ORGANISATION_TYPE_OPTIONS"] = [
    (value, humanise(value)) for value in ORGANISATION_TYPES
]

REQUEST_STATUS = {
    "open": ("Waiting for an answer", "blue"),
    "accepted": ("Accepted", "green"),
    "declined": ("Declined", "red"),
    "withdrawn": ("Withdrawn", "grey"),
    "expired": ("Expired", "grey"),
    "released": ("Closed", "grey"),
}
MENTORSHIP_STATUS = {
    "active": ("Active", "green"),
    "completed": ("Completed", "blue"),
    "ended_early": ("Ended early", "grey"),
}
PROPOSAL_STATUS = {
    "proposed": ("In review", "blue"),
    "unmatched": ("No match found", "orange"),
    "removed": ("Removed", "grey"),
    "offered": ("Waiting for answers", "yellow"),
    "accepted": ("Accepted", "green"),
    "declined": ("Declined", "red"),
    "expired": ("Expired", "grey"),
    "withdrawn": ("Closed: mentored elsewhere", "grey"),
}
RATINGS = [
    ("5", "5 – Very good"),
    ("4", "4 – Good"),
    ("3", "3 – Neither good nor poor"),
    ("2", "2 – Poor"),
    ("1", "1 – Very poor"),
]
OUTCOMES = [
    ("completed", "Completed: we met our goals or reached the planned end"),
    ("ended_early", "Ended early"),
]
PLANNED_MONTHS = [(str(n), f"{n} months") for n in range(6, 13)]


def request_status(request: MentorRequest, *, for_mentor: bool) -> tuple[str, str]:
    """A request's status tag (words, colour): why it closed when it closed unanswered
    (mentoring.request_closure), so nothing closed for the mentee reads "Withdrawn"."""
    closure = mentoring.request_closure(request, for_mentor=for_mentor)
    return (closure.status, "grey") if closure else REQUEST_STATUS[request.status]


templates.env.globals.update(
    request_status=request_status,
    REQUEST_STATUS=REQUEST_STATUS,
    MENTORSHIP_STATUS=MENTORSHIP_STATUS,
    PROPOSAL_STATUS=PROPOSAL_STATUS,
)


def path_id(value: int) -> int:
    """An id from the address; ids no database could hold are simply not found."""
    if not 0 < value <= MAX_ID:
        raise NotFound("Not found.")
    return value


def _skill_names(visitor: Visitor) -> dict[str, str]:
    return {skill.id: skill.name for skill in skill_service.list_skills(session=visitor.db)}


def _people(visitor: Visitor, ids: Iterable[int | None]) -> dict[int, Member]:
    """Members by id; erased or deactivated members are left out (shown as 'Former member')."""
    found = member_service.get_many(session=visitor.db, member_ids=[i for i in set(ids) if i])
    return {i: m for i, m in found.items() if m.is_active}


def _mentor_cards(visitor: Visitor, ids: list[int]) -> dict[str, Any]:
    """What a list of mentor cards needs: the people, their offers and skills."""
    return {
        "people": _people(visitor, ids),
        "offers": member_service.offers_for(session=visitor.db, member_ids=ids),
        "skills": member_service.skills_for(session=visitor.db, member_ids=ids),
        "skill_names": _skill_names(visitor),
    }


def _page_number(page: str) -> int:
    return int(page) if page.isdigit() and 0 < int(page) <= 10_000 else 1


# Overview -------------------------------------------------------------------------------------


@router.get("/mentoring", response_class=HTMLResponse)
def overview(visitor: CurrentVisitor) -> Response:
    """My mentor, my mentees, open requests and offers from matching rounds."""
    member = member_service.require_member(visitor.member)
    mentorships = mentoring.list_mentorships(session=visitor.db, member=member)
    sent = mentoring.list_requests(
        session=visitor.db, member=member, direction="sent", status="open"
    )
    received = mentoring.list_requests(
        session=visitor.db, member=member, direction="received", status="open"
    )
    offers = rounds.my_proposals(session=visitor.db, member=member)
    people = _people(
        visitor,
        [m.mentor_id for m in mentorships]
        + [m.mentee_id for m in mentorships]
        + [p.mentor_id for p in offers]
        + [p.mentee_id for p in offers],
    )
    return render(
        visitor,
        "mentoring/overview.html",
        as_mentee=[m for m in mentorships if m.mentee_id == member.id],
        as_mentor=[m for m in mentorships if m.mentor_id == member.id],
        sent_open=len(sent),
        received_open=len(received),
        offers=offers,
        people=people,
        offer=member_service.offer_of(session=visitor.db, member_id=member.id),
        programme_names=pairing.names_of(
            session=visitor.db, programme_ids={m.programme_id for m in mentorships}
        ),
    )


# Finding a mentor -----------------------------------------------------------------------------


@router.get("/mentoring/suggestions", response_class=HTMLResponse)
def suggestions(visitor: CurrentVisitor, programme: int = 0) -> Response:
    """Mentors with a free place who fit the member, best first, with reasons; in a programme
    (``?programme=ID``) under its type's rule."""
    member = member_service.require_member(visitor.member)
    in_programme = (
        pairing.get_programme(session=visitor.db, programme_id=path_id(programme))
        if programme
        else None
    )
    if (
        in_programme is not None
        and not in_programme.is_default
        and not pairing.is_accepted(
            session=visitor.db, programme_id=in_programme.id, member_id=member.id, role="mentee"
        )
    ):
        raise NotFound("No such programme.")  # only its accepted mentees: names do not leak
    suggested = suggest_mentors(
        session=visitor.db,
        member=member,
        k=SUGGESTIONS,
        programme_id=in_programme.id if in_programme is not None else None,
    )
    active = mentoring.list_mentorships(session=visitor.db, member=member, status="active")
    has_mentor = any(m.mentee_id == member.id for m in active)
    return render(
        visitor,
        "mentoring/suggestions.html",
        suggestions=suggested,
        in_programme=None if in_programme is None or in_programme.is_default else in_programme,
        has_mentor=has_mentor,
        has_skills=bool(
            member_service.skills_of(session=visitor.db, member_id=member.id)["sought"]
        ),
        **_mentor_cards(visitor, [s.member_id for s in suggested]),
    )


DIRECTORY_FIELDS = (
    "text",
    "skill",
    "region",
    "band",
    "role_family",
    "organisation_type",
    "meeting_format",
)


@router.get("/mentors", response_class=HTMLResponse)
def mentor_directory(visitor: CurrentVisitor) -> Response:
    """Find mentors with a free place by skill, region, band, role, organisation type and
    meeting format."""
    member = member_service.require_member(visitor.member)
    query = visitor.request.query_params
    values: dict[str, Any] = {name: query.get(name, "")[:200] for name in DIRECTORY_FIELDS}
    page = _page_number(query.get("page", "1"))
    search = directory.DirectoryFilter(
        text=values["text"],
        skill_offered=values["skill"] or None,
        region=values["region"] or None,
        band=values["band"] or None,
        role_family=values["role_family"] or None,
        organisation_type=values["organisation_type"] or None,
        meeting_format=values["meeting_format"] or None,
        # Only members offering mentoring who can take someone now: a full or paused mentor
        # is not offered to a mentee, whatever the words searched for.
        mentors_with_free_capacity=True,
        exclude_self=True,
    )
    errors: dict[str, str] = {}
    try:
        found, has_more = directory.search(
            session=visitor.db,
            viewer=member,
            filter=search,
            offset=(page - 1) * PAGE_SIZE,
            limit=PAGE_SIZE,
        )
    except Invalid as error:
        errors = form_errors(error, default_field="text")
        found, has_more = [], False
    base = {k: v for k, v in values.items() if v}
    base.update(searched="yes")

    def href(n: int) -> str:
        return "/mentors?" + urlencode({**base, "page": n})

    return render(
        visitor,
        "mentoring/directory.html",
        status_code=400 if errors else 200,
        errors=errors,
        values=values,
        results=found,
        page=page,
        has_more=has_more,
        href=href,
        skill_options=[
            (s.id, s.name) for s in skill_service.list_skills(session=visitor.db, retired=False)
        ],
        **_mentor_cards(visitor, [m.id for m in found]),
    )


# Requests -------------------------------------------------------------------------------------


def _request_form(
    visitor: Visitor,
    mentor_id: int,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    selected: Iterable[str] | None = None,
    programme_id: int | None = None,
) -> HTMLResponse:
    member = member_service.require_member(visitor.member)
    programme = (
        None
        if programme_id is None
        else pairing.get_programme(session=visitor.db, programme_id=programme_id)
    )
    view = member_service.profile_view(session=visitor.db, member_id=mentor_id, viewer=member)
    own = member_service.skills_of(session=visitor.db, member_id=member.id)["sought"]
    names = _skill_names(visitor)
    # The mentor's skills first, then the mentee's own that the mentor does not list.
    offered = [s.id for s in view.skills_offered]
    choices = list(dict.fromkeys(offered + own)) or list(names)
    return render(
        visitor,
        "mentoring/request_new.html",
        status_code=status_code,
        errors=errors,
        values=values or {"idempotency_key": secrets.token_urlsafe(16)},
        view=view,
        skill_options=[(s, names.get(s, s)) for s in choices],
        selected=set(own if selected is None else selected),
        expiry_days=get_settings().request_expiry_days,
        programme=None if programme is None or programme.is_default else programme,
        # A full or paused mentor: the page says so instead of offering a form that would
        # only refuse after the message is written.
        free=mentoring.free_places(offer=view.offer),
    )


@router.get("/mentoring/requests/new", response_class=HTMLResponse)
def request_form(visitor: CurrentVisitor, mentor: int = 0, programme: int = 0) -> Response:
    """Ask a mentor: a message and the skills to work on (your own pre-ticked); within a
    programme with ``?programme=ID``."""
    member_service.require_member(visitor.member)
    return _request_form(
        visitor, path_id(mentor), programme_id=path_id(programme) if programme else None
    )


@router.post("/mentoring/requests/new", response_class=HTMLResponse)
def request_submit(visitor: CheckedVisitor, form: Form) -> Response:
    """Send the request; a double submit (same form key) creates one request."""
    mentor_id = form_int(form, "mentor")
    if not isinstance(mentor_id, int):
        raise NotFound("No member with that id.")
    path_id(mentor_id)
    chosen = form_int(form, "programme")
    programme_id = path_id(chosen) if isinstance(chosen, int) else None
    message = form_text(form, "message")
    values = {
        "message": message,
        "idempotency_key": form_text(form, "idempotency_key")[:100] or None,
    }
    skills = form_list(form, "skills")
    try:
        request = mentoring.request_mentor(
            session=visitor.db,
            mentee=visitor.member,
            mentor_id=mentor_id,
            message=message,
            skills=skills,
            idempotency_key=values["idempotency_key"],
            programme_id=programme_id,
        )
    except NotFound:
        raise
    except DomainError as error:
        errors = form_errors(
            error,
            default_field="mentor",
            fields={"mentor_id": "mentor", "programme_id": "mentor"},
        )
        return _request_form(
            visitor,
            mentor_id,
            status_code=403 if isinstance(error, Forbidden) else 400,
            errors=errors,
            values=values,
            selected=skills,
            programme_id=programme_id,
        )
    return redirect(f"/mentoring/requests/{request.id}?notice=request-sent")


@router.get("/mentoring/requests", response_class=HTMLResponse)
def requests_list(visitor: CurrentVisitor) -> Response:
    """Requests I sent and requests I received, newest first."""
    member = member_service.require_member(visitor.member)
    sent = mentoring.list_requests(session=visitor.db, member=member, direction="sent")
    received = mentoring.list_requests(session=visitor.db, member=member, direction="received")
    return render(
        visitor,
        "mentoring/requests.html",
        sent=sent,
        received=received,
        people=_people(visitor, [r.mentor_id for r in sent] + [r.mentee_id for r in received]),
        skill_names=_skill_names(visitor),
    )


def _request_page(
    visitor: Visitor,
    request_id: int,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> HTMLResponse:
    member = member_service.require_member(visitor.member)
    request = mentoring.get_request(session=visitor.db, member=member, request_id=request_id)
    mentorship = None
    if request.status == "accepted":
        mentorship = next(
            (
                m
                for m in mentoring.list_mentorships(session=visitor.db, member=member)
                if m.request_id == request.id
            ),
            None,
        )
    return render(
        visitor,
        "mentoring/request.html",
        status_code=status_code,
        errors=errors,
        values=values,
        mentor_request=request,
        is_mentor=request.mentor_id == member.id,
        closure=mentoring.request_closure(request, for_mentor=request.mentor_id == member.id),
        people=_people(visitor, [request.mentor_id, request.mentee_id]),
        skill_names=_skill_names(visitor),
        mentorship=mentorship,
    )


@router.get("/mentoring/requests/{request_id:int}", response_class=HTMLResponse)
def request_detail(visitor: CurrentVisitor, request_id: int) -> Response:
    """One request: the mentor answers it here; the mentee can withdraw it."""
    return _request_page(visitor, path_id(request_id))


def _accepted_mentorship(visitor: Visitor, request: MentorRequest) -> Mentorship | None:
    return next(
        (
            m
            for m in mentoring.list_mentorships(
                session=visitor.db, member=visitor.member, status="active"
            )
            if m.request_id == request.id
        ),
        None,
    )


@router.post("/mentoring/requests/{request_id:int}/accept", response_class=HTMLResponse)
def request_accept(visitor: CheckedVisitor, request_id: int) -> Response:
    """The mentor accepts: a place is taken and the mentorship starts."""
    try:
        request = mentoring.respond_to_request(
            session=visitor.db, mentor=visitor.member, request_id=path_id(request_id), accept=True
        )
    except (Invalid, Conflict) as error:
        return _request_page(visitor, request_id, status_code=400, errors={"answer": error.message})
    mentorship = _accepted_mentorship(visitor, request)
    if mentorship is None:
        return redirect(f"/mentoring/requests/{request_id}")
    return redirect(f"/mentoring/mentorships/{mentorship.id}?notice=mentorship-started")


@router.post("/mentoring/requests/{request_id:int}/decline", response_class=HTMLResponse)
def request_decline(visitor: CheckedVisitor, request_id: int, form: Form) -> Response:
    """The mentor declines, with an optional reason the mentee will see."""
    reason = form_text(form, "reason")
    try:
        mentoring.respond_to_request(
            session=visitor.db,
            mentor=visitor.member,
            request_id=path_id(request_id),
            accept=False,
            reason=reason,
        )
    except (Invalid, Conflict) as error:
        return _request_page(
            visitor,
            request_id,
            status_code=400,
            errors=form_errors(error, default_field="answer"),
            values={"reason": reason},
        )
    return redirect(f"/mentoring/requests/{request_id}?notice=request-declined")


@router.post("/mentoring/requests/{request_id:int}/withdraw", response_class=HTMLResponse)
def request_withdraw(visitor: CheckedVisitor, request_id: int) -> Response:
    """The mentee takes back an open request."""
    try:
        mentoring.withdraw_request(
            session=visitor.db, mentee=visitor.member, request_id=path_id(request_id)
        )
    except Conflict as error:
        return _request_page(visitor, request_id, status_code=400, errors={"answer": error.message})
    return redirect(f"/mentoring/requests/{request_id}?notice=request-withdrawn")


# Mentorships ----------------------------------------------------------------------------------


def _agreement_values(mentorship: Mentorship) -> dict[str, Any]:
    return {
        "meeting_rhythm": mentorship.meeting_rhythm,
        "planned_months": mentorship.planned_months,
    }


def _mentorship_page(
    visitor: Visitor,
    mentorship_id: int,
    *,
    template: str = "mentoring/mentorship.html",
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> HTMLResponse:
    member = member_service.require_member(visitor.member)
    mentorship = mentoring.get_mentorship(
        session=visitor.db, member=member, mentorship_id=mentorship_id
    )
    role = "mentor" if mentorship.mentor_id == member.id else "mentee"
    partner_id = mentorship.mentee_id if role == "mentor" else mentorship.mentor_id
    feedback = mentoring.own_feedback_for(
        session=visitor.db, member=member, mentorship_ids=[mentorship_id]
    )[mentorship_id]
    return render(
        visitor,
        template,
        status_code=status_code,
        errors=errors,
        values={**_agreement_values(mentorship), **(values or {})},
        mentorship=mentorship,
        role=role,
        partner=_people(visitor, [partner_id]).get(partner_id) if partner_id else None,
        sessions=mentoring.sessions_of(
            session=visitor.db, member=member, mentorship_id=mentorship_id
        ),
        feedback=feedback,
        programme_name=pairing.names_of(
            session=visitor.db, programme_ids={mentorship.programme_id}
        ).get(mentorship.programme_id, ""),
        planned_months_options=PLANNED_MONTHS,
        ratings=RATINGS,
        outcomes=OUTCOMES,
        **_booked_sessions(visitor, member, mentorship),
        end_categories=END_CATEGORY_OPTIONS,
        **goals_context(visitor, member, mentorship_id),
        surveys_waiting=surveys.pending_for(
            session=visitor.db, member=member, mentorship_id=mentorship_id
        ),
    )


END_CATEGORY_OPTIONS = [
    ("goals_met_early", "Goals met early"),
    ("no_time", "No time"),
    ("not_a_good_fit", "Not a good fit"),
    ("changed_job", "Changed job or left the NHS"),
    ("mentor_unavailable", "Mentor unavailable"),
    ("other", "Other"),
]
GOAL_STATUS = {
    "open": ("Open", "blue"),
    "achieved": ("Achieved", "green"),
    "dropped": ("Dropped", "grey"),
}
templates.env.globals["GOAL_STATUS"] = GOAL_STATUS
CHECK_IN_SCORES = [
    ("5", "5 – Very well"),
    ("4", "4 – Well"),
    ("3", "3 – All right"),
    ("2", "2 – Not so well"),
    ("1", "1 – Not well at all"),
]


def goals_context(visitor: Visitor, member: Member, mentorship_id: int) -> dict[str, Any]:
    """What the goals and check-ins section of the mentorship page needs (pair only)."""
    return {
        "goals": goal_service.goals_for(
            session=visitor.db, member=member, mentorship_ids=[mentorship_id]
        )[mentorship_id],
        "pending_check_ins": check_in_service.pending_for(
            session=visitor.db, member=member, mentorship_ids=[mentorship_id]
        )[mentorship_id],
        "check_in_scores": CHECK_IN_SCORES,
    }


@router.get("/mentoring/mentorships/{mentorship_id:int}", response_class=HTMLResponse)
def mentorship_detail(visitor: CurrentVisitor, mentorship_id: int, log: int = 0) -> Response:
    """A mentorship: the agreement, the session log, and ending or feedback.

    ``log``: a booked session whose time has passed, to log with its date and length filled in.
    """
    return _mentorship_page(
        visitor, path_id(mentorship_id), values=_log_prefill(visitor, mentorship_id, log)
    )


@router.post("/mentoring/mentorships/{mentorship_id:int}/agreement", response_class=HTMLResponse)
def agreement_submit(visitor: CheckedVisitor, mentorship_id: int, form: Form) -> Response:
    """Save what the pair agreed: meeting rhythm, planned length (goals are tracked apart)."""
    values = {
        "meeting_rhythm": form_text(form, "meeting_rhythm"),
        "planned_months": form_text(form, "planned_months"),
    }
    planned_months = form_int(form, "planned_months")
    try:
        if not isinstance(planned_months, int):
            raise FieldErrors({"planned_months": mentoring.PLANNED_MONTHS})
        mentoring.update_agreement(
            session=visitor.db,
            member=visitor.member,
            mentorship_id=path_id(mentorship_id),
            agreement=mentoring.AgreementUpdate(
                meeting_rhythm=values["meeting_rhythm"],
                planned_months=planned_months,
            ),
        )
    except (Invalid, Conflict) as error:
        return _mentorship_page(
            visitor,
            mentorship_id,
            status_code=400,
            errors=form_errors(error, default_field="meeting_rhythm"),
            values=values,
        )
    return redirect(f"/mentoring/mentorships/{mentorship_id}?notice=agreement-saved")


BAD_DATE = "The date of the session must be a real date, like 14 3 2026."
WHOLE_MINUTES = "Duration must be a whole number of minutes, like 45."
NO_MINUTES = "Enter how long the session was, in minutes, like 45."


def parse_date(form: FormData, name: str) -> date | str:
    """The NHS.UK date input's three boxes as a date; anything else is passed on as typed."""
    parts = [form_text(form, f"{name}-{part}").strip() for part in ("day", "month", "year")]
    try:
        day, month, year = (int(p) for p in parts)
        return date(year, month, day)
    except ValueError:
        return "/".join(parts)


def read_session_form(form: FormData) -> tuple[date, int]:
    """A logged session's date and length from its form (a pair's or a group's), or
    FieldErrors naming the boxes that cannot be read."""
    held_on = parse_date(form, "held_on")
    duration = form_int(form, "duration_minutes")
    unreadable = {
        **({} if isinstance(held_on, date) else {"held_on": BAD_DATE}),
        **(
            {}
            if isinstance(duration, int)
            else {"duration_minutes": NO_MINUTES if duration == "" else WHOLE_MINUTES}
        ),
    }
    if unreadable or not isinstance(held_on, date) or not isinstance(duration, int):
        raise FieldErrors(unreadable)
    return held_on, duration


SESSION_FIELDS = ("held_on-day", "held_on-month", "held_on-year", "duration_minutes", "notes")


@router.post("/mentoring/mentorships/{mentorship_id:int}/sessions", response_class=HTMLResponse)
def session_submit(visitor: CheckedVisitor, mentorship_id: int, form: Form) -> Response:
    """Log a session: its date, how long it took, and notes private to the pair."""
    values = {name: form_text(form, name) for name in (*SESSION_FIELDS, "booking_id")}
    booking_id = form_int(form, "booking_id")
    try:
        held_on, duration = read_session_form(form)
        mentoring.log_session(
            session=visitor.db,
            member=visitor.member,
            mentorship_id=path_id(mentorship_id),
            log=mentoring.SessionLog(
                held_on=held_on,
                duration_minutes=duration,
                notes=values["notes"],
                booking_id=booking_id if isinstance(booking_id, int) and booking_id > 0 else None,
            ),
        )
    except (Invalid, Conflict, NotFound) as error:
        errors = form_errors(error, default_field="held_on", fields={"booking_id": "held_on"})
        return _mentorship_page(
            visitor, mentorship_id, status_code=400, errors=errors, values=values
        )
    return redirect(f"/mentoring/mentorships/{mentorship_id}?notice=session-logged#sessions")


@router.get("/mentoring/mentorships/{mentorship_id:int}/end", response_class=HTMLResponse)
def end_form(visitor: CurrentVisitor, mentorship_id: int) -> Response:
    """End a mentorship: completed or early, with a rating and words if wished."""
    return _mentorship_page(visitor, path_id(mentorship_id), template="mentoring/end.html")


def _rating(form: FormData) -> int | None:
    """The chosen rating, None when none was chosen; anything else is explained here."""
    rating = form_int(form, "rating")
    if rating == "":
        return None
    if not isinstance(rating, int):
        raise FieldErrors({"rating": mentoring.RATING})
    return rating


@router.post("/mentoring/mentorships/{mentorship_id:int}/end", response_class=HTMLResponse)
def end_submit(visitor: CheckedVisitor, mentorship_id: int, form: Form) -> Response:
    """End the mentorship; the mentor's place is freed and the other side told."""
    values = {
        name: form_text(form, name)
        for name in ("outcome", "rating", "feedback", "reason", "category")
    }
    try:
        if values["outcome"] == "ended_early" and not values["category"]:
            # Optional in the API (older clients), asked for on the page.
            raise FieldErrors({"category": "Choose why the mentorship is ending early."})
        mentoring.end_mentorship(
            session=visitor.db,
            member=visitor.member,
            mentorship_id=path_id(mentorship_id),
            ending=mentoring.MentorshipEnding(
                outcome=values["outcome"],
                rating=_rating(form),
                feedback=values["feedback"],
                reason=values["reason"],
                category=values["category"] or None,
            ),
        )
    except (Invalid, Conflict) as error:
        return _mentorship_page(
            visitor,
            mentorship_id,
            template="mentoring/end.html",
            status_code=400,
            errors=form_errors(error, default_field="outcome"),
            values=values,
        )
    return redirect(f"/mentoring/mentorships/{mentorship_id}?notice=mentorship-ended")


@router.post("/mentoring/mentorships/{mentorship_id:int}/feedback", response_class=HTMLResponse)
def feedback_submit(visitor: CheckedVisitor, mentorship_id: int, form: Form) -> Response:
    """Rate an ended mentorship, once per side."""
    values = {name: form_text(form, name) for name in ("rating", "feedback")}
    try:
        rating = _rating(form)
        if rating is None:
            raise FieldErrors({"rating": mentoring.RATING})
        mentoring.give_feedback(
            session=visitor.db,
            member=visitor.member,
            mentorship_id=path_id(mentorship_id),
            given=mentoring.FeedbackGiven(rating=rating, feedback=values["feedback"]),
        )
    except (Invalid, Conflict) as error:
        return _mentorship_page(
            visitor,
            mentorship_id,
            status_code=400,
            errors=form_errors(error, default_field="rating"),
            values=values,
        )
    return redirect(f"/mentoring/mentorships/{mentorship_id}?notice=feedback-saved")


# Offers from matching rounds ------------------------------------------------------------------


def _proposal_page(
    visitor: Visitor,
    proposal_id: int,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    member = member_service.require_member(visitor.member)
    proposal = rounds.get_proposal(session=visitor.db, member=member, proposal_id=proposal_id)
    if member.id not in (proposal.mentee_id, proposal.mentor_id):
        # An organiser looking at someone else's offer: the review page shows both sides.
        return redirect(f"/organise/rounds/{proposal.round_id}/proposals/{proposal.id}")
    side = "mentee" if member.id == proposal.mentee_id else "mentor"
    other_id = proposal.mentor_id if side == "mentee" else proposal.mentee_id
    other = (
        member_service.profile_view(session=visitor.db, member_id=other_id, viewer=member)
        if other_id
        else None
    )
    return render(
        visitor,
        "mentoring/proposal.html",
        status_code=status_code,
        errors=errors,
        values=values,
        proposal=proposal,
        side=side,
        my_answer=getattr(proposal, f"{side}_answer"),
        other=other,
    )


@router.get("/mentoring/proposals/{proposal_id:int}", response_class=HTMLResponse)
def proposal_detail(visitor: CurrentVisitor, proposal_id: int) -> Response:
    """A match a round proposed: the other person, the score and why; accept or decline."""
    return _proposal_page(visitor, path_id(proposal_id))


def _answer_proposal(visitor: Visitor, proposal_id: int, *, accept: bool, reason: str) -> Response:
    try:
        proposal = rounds.respond_to_proposal(
            session=visitor.db,
            member=visitor.member,
            proposal_id=path_id(proposal_id),
            accept=accept,
            reason=reason,
        )
    except (Invalid, Conflict) as error:
        return _proposal_page(
            visitor,
            proposal_id,
            status_code=400,
            errors=form_errors(error, default_field="answer"),
            values={"reason": reason},
        )
    if proposal.mentorship_id:
        return redirect(
            f"/mentoring/mentorships/{proposal.mentorship_id}?notice=mentorship-started"
        )
    notice = "proposal-accepted" if accept else "proposal-declined"
    return redirect(f"/mentoring/proposals/{proposal_id}?notice={notice}")


@router.post("/mentoring/proposals/{proposal_id:int}/accept", response_class=HTMLResponse)
def proposal_accept(visitor: CheckedVisitor, proposal_id: int) -> Response:
    """Accept a proposed match (the mentorship starts once both sides have)."""
    return _answer_proposal(visitor, proposal_id, accept=True, reason="")


@router.post("/mentoring/proposals/{proposal_id:int}/decline", response_class=HTMLResponse)
def proposal_decline(visitor: CheckedVisitor, proposal_id: int, form: Form) -> Response:
    """Decline a proposed match, with an optional reason."""
    return _answer_proposal(visitor, proposal_id, accept=False, reason=form_text(form, "reason"))


# Booked sessions: propose times, pick one, reschedule, cancel, the .ics ----------------------

NOTICES.update(
    {
        "times-proposed": "Your times have been sent. We will tell you when one is picked.",
        "session-booked": "The session is booked. You both have an invitation by email.",
        "times-declined": "You have turned down those times. We have let them know.",
        "session-moved": "The session has moved. You both have the updated invitation.",
        "session-cancelled": "The session is cancelled. You both have been told by email.",
        "times-withdrawn": "Your proposed times have been withdrawn.",
    }
)
SESSION_FORMAT_OPTIONS = [
    ("video", "Video call"),
    ("in_person", "In person"),
    ("phone", "Phone call"),
]
SESSION_DURATION_OPTIONS = [(str(n), f"{n} minutes") for n in (15, 30, 45, 60, 90, 120, 180)]
_TIME_FIELDS = ("start", "duration", "format", "location", "video_link")
_DATE_PARTS = ("day", "month", "year")


def _booked_sessions(visitor: Visitor, member: Member, mentorship: Mentorship) -> dict[str, Any]:
    """What the mentorship page's booked-sessions part shows (London times via the filters)."""
    rows = bookings.bookings_of(session=visitor.db, member=member, mentorship_id=mentorship.id)
    now = utcnow()
    upcoming = [
        b for b in rows if b.status == "booked" and b.starts_at and london.as_utc(b.starts_at) > now
    ]
    return {
        "booked_upcoming": upcoming,
        "booked_to_log": [b for b in rows if bookings.loggable(b, now)],
        "proposals": [b for b in rows if b.status == "proposed"],
        "proposal_options": bookings.options_for(
            session=visitor.db, booking_ids=[b.id for b in rows if b.status == "proposed"]
        ),
        "where_text": bookings.where_text,
    }


def _log_prefill(visitor: Visitor, mentorship_id: int, booking_id: int) -> dict[str, str]:
    """The log form filled in from a booked session whose time has passed (else nothing)."""
    if booking_id <= 0 or booking_id > MAX_ID:
        return {}
    try:
        booking, _ = bookings.get_booking(
            session=visitor.db,
            member=visitor.member,
            booking_id=booking_id,
            mentorship_id=mentorship_id,
        )
    except NotFound:
        return {}
    return bookings.prefill(booking) if bookings.loggable(booking) else {}


def _time_values(form: FormData, count: int) -> dict[str, str]:
    values = {}
    for i in range(1, count + 1):
        for part in _DATE_PARTS:
            values[f"time_{i}_date-{part}"] = form_text(form, f"time_{i}_date-{part}")
        for name in _TIME_FIELDS:
            values[f"time_{i}_{name}"] = form_text(form, f"time_{i}_{name}")
    return values


def _time_choices(form: FormData, count: int) -> list[bookings.TimeChoice]:
    """The time blocks the member filled in (the first always counts), as service commands."""
    choices = []
    for i in range(1, count + 1):
        prefix = f"time_{i}_"
        typed = [form_text(form, f"{prefix}date-{p}").strip() for p in _DATE_PARTS] + [
            form_text(form, f"{prefix}{n}").strip() for n in ("start", "location", "video_link")
        ]
        if i > 1 and not any(typed):
            continue  # an optional block left empty (its duration and format have defaults)
        day = parse_date(form, f"{prefix}date")
        duration = form_int(form, f"{prefix}duration")
        choices.append(
            bookings.TimeChoice(
                day=day if isinstance(day, date) else None,
                start=form_text(form, f"{prefix}start"),
                duration_minutes=duration if isinstance(duration, int) else None,
                format=form_text(form, f"{prefix}format"),
                location=form_text(form, f"{prefix}location"),
                video_link=form_text(form, f"{prefix}video_link"),
            )
        )
    return choices


def _sessions_page(
    visitor: Visitor,
    mentorship_id: int,
    template: str,
    *,
    booking_id: int | None = None,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> HTMLResponse:
    member = member_service.require_member(visitor.member)
    mentorship = mentoring.get_mentorship(
        session=visitor.db, member=member, mentorship_id=mentorship_id
    )
    booking = options = None
    if booking_id is not None:
        booking, _ = bookings.get_booking(
            session=visitor.db, member=member, booking_id=booking_id, mentorship_id=mentorship_id
        )
        options = bookings.options_for(session=visitor.db, booking_ids=[booking.id])[booking.id]
    role = "mentor" if mentorship.mentor_id == member.id else "mentee"
    partner_id = mentorship.mentee_id if role == "mentor" else mentorship.mentor_id
    defaults = {f"time_{i}_{k}": v for i in (1, 2, 3) for k, v in (("duration", "60"),)}
    return render(
        visitor,
        template,
        status_code=status_code,
        errors=errors,
        values={**defaults, **(values or {})},
        mentorship=mentorship,
        booking=booking,
        options=options or [],
        role=role,
        partner=_people(visitor, [partner_id]).get(partner_id) if partner_id else None,
        format_options=SESSION_FORMAT_OPTIONS,
        duration_options=SESSION_DURATION_OPTIONS,
        where_text=bookings.where_text,
        max_times=bookings.MAX_TIMES,
    )


def _sessions_url(mentorship_id: int, notice: str) -> Response:
    return redirect(f"/mentoring/mentorships/{mentorship_id}?notice={notice}#booked-sessions")


@router.get(
    "/mentoring/mentorships/{mentorship_id:int}/sessions/propose", response_class=HTMLResponse
)
def propose_form(visitor: CurrentVisitor, mentorship_id: int, replaces: int = 0) -> Response:
    """Propose one to three times (London time) for the other side to pick from."""
    values = {"replaces": str(replaces)} if 0 < replaces <= MAX_ID else {}
    return _sessions_page(
        visitor, path_id(mentorship_id), "mentoring/session_propose.html", values=values
    )


@router.post(
    "/mentoring/mentorships/{mentorship_id:int}/sessions/propose", response_class=HTMLResponse
)
def propose_submit(visitor: CheckedVisitor, mentorship_id: int, form: Form) -> Response:
    """Send the proposed times; the other side is told and picks one."""
    mentorship_id = path_id(mentorship_id)
    values = {
        **_time_values(form, bookings.MAX_TIMES),
        "message": form_text(form, "message"),
        "replaces": form_text(form, "replaces"),
    }
    replaces = form_int(form, "replaces")
    try:
        bookings.propose_times(
            session=visitor.db,
            member=visitor.member,
            mentorship_id=mentorship_id,
            times=_time_choices(form, bookings.MAX_TIMES),
            message=values["message"],
            replaces_id=replaces if isinstance(replaces, int) and 0 < replaces <= MAX_ID else None,
        )
    except (Invalid, Conflict, Forbidden) as error:
        return _sessions_page(
            visitor,
            mentorship_id,
            "mentoring/session_propose.html",
            status_code=400,
            errors=form_errors(error, default_field="time_1_date", fields={"times": "time_1_date"}),
            values=values,
        )
    return _sessions_url(mentorship_id, "times-proposed")


@router.get(
    "/mentoring/mentorships/{mentorship_id:int}/sessions/{booking_id:int}/pick",
    response_class=HTMLResponse,
)
def pick_form(visitor: CurrentVisitor, mentorship_id: int, booking_id: int) -> Response:
    """The other side's page: pick one of the proposed times, turn them down, or propose others."""
    return _sessions_page(
        visitor,
        path_id(mentorship_id),
        "mentoring/session_pick.html",
        booking_id=path_id(booking_id),
    )


@router.post(
    "/mentoring/mentorships/{mentorship_id:int}/sessions/{booking_id:int}/pick",
    response_class=HTMLResponse,
)
def pick_submit(
    visitor: CheckedVisitor, mentorship_id: int, booking_id: int, form: Form
) -> Response:
    """Book the picked time: both get the invitation."""
    option = form_int(form, "option")

    def pick(booking: SessionBooking) -> str:
        if not isinstance(option, int):
            raise FieldErrors({"option": "Choose one of the proposed times."})
        bookings.pick_time(
            session=visitor.db, member=visitor.member, booking_id=booking.id, option_id=option
        )
        return "session-booked"

    return _booking_action(
        visitor,
        mentorship_id,
        booking_id,
        "mentoring/session_pick.html",
        pick,
        fields={"option_id": "option"},
    )


@router.post(
    "/mentoring/mentorships/{mentorship_id:int}/sessions/{booking_id:int}/decline",
    response_class=HTMLResponse,
)
def decline_submit(
    visitor: CheckedVisitor, mentorship_id: int, booking_id: int, form: Form
) -> Response:
    """Turn down every proposed time, with an optional reason."""
    values = {"reason": form_text(form, "reason")}

    def decline(booking: SessionBooking) -> str:
        bookings.decline_times(
            session=visitor.db, member=visitor.member, booking_id=booking.id, **values
        )
        return "times-declined"

    return _booking_action(
        visitor, mentorship_id, booking_id, "mentoring/session_pick.html", decline, values=values
    )


@router.get(
    "/mentoring/mentorships/{mentorship_id:int}/sessions/{booking_id:int}/reschedule",
    response_class=HTMLResponse,
)
def reschedule_form(visitor: CurrentVisitor, mentorship_id: int, booking_id: int) -> Response:
    """Move a booked session to a new time."""
    mentorship_id, booking_id = path_id(mentorship_id), path_id(booking_id)
    booking, _ = bookings.get_booking(
        session=visitor.db,
        member=visitor.member,
        booking_id=booking_id,
        mentorship_id=mentorship_id,
    )
    values = {
        "time_1_duration": str(booking.duration_minutes or 60),
        "time_1_format": booking.format or "",
        "time_1_location": booking.location,
        "time_1_video_link": booking.video_link,
    }
    return _sessions_page(
        visitor,
        mentorship_id,
        "mentoring/session_reschedule.html",
        booking_id=booking_id,
        values=values,
    )


@router.post(
    "/mentoring/mentorships/{mentorship_id:int}/sessions/{booking_id:int}/reschedule",
    response_class=HTMLResponse,
)
def reschedule_submit(
    visitor: CheckedVisitor, mentorship_id: int, booking_id: int, form: Form
) -> Response:
    """Save the new time: the same calendar event, updated for both."""
    values = {**_time_values(form, 1), "reason": form_text(form, "reason")}

    def move(booking: SessionBooking) -> str:
        bookings.reschedule(
            session=visitor.db,
            member=visitor.member,
            booking_id=booking.id,
            new_time=_time_choices(form, 1)[0],
            reason=values["reason"],
        )
        return "session-moved"

    return _booking_action(
        visitor,
        mentorship_id,
        booking_id,
        "mentoring/session_reschedule.html",
        move,
        values=values,
        default_field="time_1_date",
    )


@router.get(
    "/mentoring/mentorships/{mentorship_id:int}/sessions/{booking_id:int}/cancel",
    response_class=HTMLResponse,
)
def cancel_form(visitor: CurrentVisitor, mentorship_id: int, booking_id: int) -> Response:
    """Ask to confirm: cancel a booked session, or withdraw your own proposed times."""
    return _sessions_page(
        visitor,
        path_id(mentorship_id),
        "mentoring/session_cancel.html",
        booking_id=path_id(booking_id),
    )


@router.post(
    "/mentoring/mentorships/{mentorship_id:int}/sessions/{booking_id:int}/cancel",
    response_class=HTMLResponse,
)
def cancel_submit(
    visitor: CheckedVisitor, mentorship_id: int, booking_id: int, form: Form
) -> Response:
    """Cancel (both calendars get METHOD:CANCEL) or withdraw, once confirmed."""
    values = {"reason": form_text(form, "reason")}

    def cancel(booking: SessionBooking) -> str:
        was = booking.status
        bookings.cancel(session=visitor.db, member=visitor.member, booking_id=booking.id, **values)
        return "times-withdrawn" if was == "proposed" else "session-cancelled"

    return _booking_action(
        visitor, mentorship_id, booking_id, "mentoring/session_cancel.html", cancel, values=values
    )


def _booking_action(
    visitor: Visitor,
    mentorship_id: int,
    booking_id: int,
    template: str,
    action: Callable[[SessionBooking], str],
    *,
    values: dict[str, str] | None = None,
    default_field: str = "reason",
    fields: dict[str, str] | None = None,
) -> Response:
    """Do ``action`` on the pair's booking (it names the notice to show), or show the form
    again with what went wrong."""
    mentorship_id, booking_id = path_id(mentorship_id), path_id(booking_id)
    try:
        booking, _ = bookings.get_booking(
            session=visitor.db,
            member=visitor.member,
            booking_id=booking_id,
            mentorship_id=mentorship_id,
        )
        notice = action(booking)
    except (Invalid, Conflict, Forbidden) as error:
        return _sessions_page(
            visitor,
            mentorship_id,
            template,
            booking_id=booking_id,
            status_code=400,
            errors=form_errors(
                error,
                default_field=default_field,
                fields={"booking_id": default_field, **(fields or {})},
            ),
            values=values,
        )
    return _sessions_url(mentorship_id, notice)


@router.get("/mentoring/mentorships/{mentorship_id:int}/sessions/{booking_id:int}.ics")
def session_ics(visitor: CurrentVisitor, mentorship_id: int, booking_id: int) -> Response:
    """The booked session's calendar event, for the pair only."""
    ics = bookings.download_ics(
        session=visitor.db,
        member=visitor.member,
        mentorship_id=path_id(mentorship_id),
        booking_id=path_id(booking_id),
    )
    return Response(
        content=ics,
        media_type="text/calendar; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="session-{booking_id}.ics"',
            "Cache-Control": "no-store",
        },
    )
