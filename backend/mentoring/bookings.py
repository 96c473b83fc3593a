"""Sessions booked, not only logged: one side proposes times, the other picks one.

A booking is one row from the proposal to the meeting, so its calendar event keeps one UID;
rescheduling and cancelling raise its SEQUENCE and send both sides an update (METHOD:REQUEST)
or a cancellation (METHOD:CANCEL). Times are read and shown in Europe/London
(``backend.london``) and stored in UTC. Only the two people of an active mentorship may
propose, pick, change or download; anyone else is told there is no such mentorship.
Moves between states are conditional UPDATEs, so a double submission or a race between the
two sides changes a booking once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from email.utils import parseaddr

from sqlalchemy import func, or_, update
from sqlmodel import Session, col, select

from backend import london
from backend.db import utcnow
from backend.errors import Conflict, FieldErrors, Forbidden, Invalid, NotFound
from backend.members import service as member_service
from backend.members.models import Member
from backend.mentoring import calendar
from backend.mentoring.models import (
    SESSION_FORMATS,
    MentoringSession,
    Mentorship,
    SessionBooking,
    SessionTimeOption,
)
from backend.notifications import service as notifications
from backend.settings import get_settings

MAX_TIMES = 3
MIN_MINUTES, MAX_MINUTES = 15, 180
MAX_MESSAGE = 2000
FORMAT_LABELS = {"video": "Video call", "in_person": "In person", "phone": "Phone call"}
DURATION = f"Length must be from {MIN_MINUTES} to {MAX_MINUTES} minutes."
REMINDER_AHEAD = timedelta(hours=24)

_CLOCK = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm)?$")


@dataclass(frozen=True)
class TimeChoice:
    """One time to propose (or to move a booking to), as the member entered it in London."""

    day: date | None
    start: str  # "14:30", "2:30pm", "9am", "midday"
    duration_minutes: int | None
    format: str
    location: str = ""
    video_link: str = ""


@dataclass(frozen=True)
class _Checked:
    starts_at: datetime
    duration_minutes: int
    format: str
    location: str
    video_link: str


def parse_clock(text: str) -> time | None:
    """A London wall-clock time of day typed as '14:30', '2:30pm', '9am' or 'midday'."""
    value = (text or "").strip().lower().replace(" ", "")
    if value in ("midday", "noon"):
        return time(12, 0)
    if value == "midnight":
        return time(0, 0)
    match = _CLOCK.match(value)
    if match is None:
        return None
    hour, minute, suffix = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    if suffix:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    elif match.group(2) is None:
        return None  # "14" alone is too ambiguous to book
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def _check_time(
    choice: TimeChoice, prefix: str, now: datetime, problems: dict[str, str]
) -> _Checked | None:
    """``choice`` validated into UTC, or None with its problems added under ``prefix``."""
    before = len(problems)
    at = parse_clock(choice.start)
    if choice.day is None:
        problems[f"{prefix}date"] = "Enter a real date for the session, like 14 3 2027."
    if at is None:
        problems[f"{prefix}start"] = "Enter a start time in London time, like 14:30 or 2:30pm."
    duration = choice.duration_minutes
    if duration is None or not MIN_MINUTES <= duration <= MAX_MINUTES:
        problems[f"{prefix}duration"] = DURATION
    if choice.format not in SESSION_FORMATS:
        problems[f"{prefix}format"] = "Choose how you will meet: video call, in person or phone."
    location = (choice.location or "").strip()
    link = (choice.video_link or "").strip()
    if choice.format == "in_person" and not location:
        problems[f"{prefix}location"] = "Say where you will meet."
    elif len(location) > 300:
        problems[f"{prefix}location"] = "Place or phone must be 300 characters or fewer."
    if link and (
        not link.startswith("https://") or len(link) > 500 or any(c.isspace() for c in link)
    ):
        problems[f"{prefix}video_link"] = (
            "Enter the video link as a full web address starting https:// (up to 500 characters)."
        )
    starts_at = None
    if choice.day is not None and at is not None:
        try:
            starts_at = london.london_to_utc(choice.day, at)
        except london.NotALondonTime as error:
            problems[f"{prefix}start"] = str(error)
        else:
            if starts_at <= now:
                problems[f"{prefix}date"] = "Choose a time in the future."
            elif starts_at > now + timedelta(days=366):
                problems[f"{prefix}date"] = "Choose a time within the next year."
    if len(problems) > before or starts_at is None or duration is None:
        return None
    return _Checked(
        starts_at=starts_at,
        duration_minutes=duration,
        format=choice.format,
        location=location,
        video_link=link if choice.format == "video" else "",
    )


def _message(text: str, field: str = "message") -> str:
    value = (text or "").strip()
    if len(value) > MAX_MESSAGE:
        raise FieldErrors({field: f"Message must be {MAX_MESSAGE:,} characters or fewer."})
    return value


# Who may see and change a booking ---------------------------------------------------------------


def _pair_mentorship(session: Session, member: Member, mentorship_id: int) -> Mentorship:
    mentorship = session.get(Mentorship, mentorship_id)
    if mentorship is None or member.id not in (mentorship.mentor_id, mentorship.mentee_id):
        raise NotFound("No such mentorship.", field="mentorship_id")
    return mentorship


def _active(mentorship: Mentorship) -> None:
    if mentorship.status != "active":
        raise Conflict("This mentorship has ended, so sessions can no longer be arranged.")


def get_booking(
    *,
    session: Session,
    member: Member | None,
    booking_id: int,
    mentorship_id: int | None = None,
) -> tuple[SessionBooking, Mentorship]:
    """A booking and its mentorship, visible only to the pair (in ``mentorship_id`` if given)."""
    member = member_service.require_member(member)
    booking = session.get(SessionBooking, booking_id)
    if booking is None or (mentorship_id is not None and booking.mentorship_id != mentorship_id):
        raise NotFound("No such session.", field="booking_id")
    try:
        mentorship = _pair_mentorship(session, member, booking.mentorship_id)
    except NotFound:
        raise NotFound("No such session.", field="booking_id") from None
    return booking, mentorship


def bookings_of(
    *, session: Session, member: Member | None, mentorship_id: int
) -> list[SessionBooking]:
    """Every booking and proposal of a mentorship (pair only), soonest time first."""
    member = member_service.require_member(member)
    _pair_mentorship(session, member, mentorship_id)
    return bookings_for(session=session, member=member, mentorship_ids=[mentorship_id])[
        mentorship_id
    ]


def bookings_for(
    *, session: Session, member: Member | None, mentorship_ids: Sequence[int]
) -> dict[int, list[SessionBooking]]:
    """Bookings of many mentorships in one query; only those where ``member`` is of the pair."""
    member = member_service.require_member(member)
    result: dict[int, list[SessionBooking]] = {i: [] for i in mentorship_ids}
    if not mentorship_ids:
        return result
    rows = session.exec(
        select(SessionBooking)
        .join(Mentorship, col(Mentorship.id) == col(SessionBooking.mentorship_id))
        .where(col(SessionBooking.mentorship_id).in_(mentorship_ids))
        .where(or_(col(Mentorship.mentor_id) == member.id, col(Mentorship.mentee_id) == member.id))
        .order_by(col(SessionBooking.starts_at), col(SessionBooking.id))
    ).all()
    for row in rows:
        result[row.mentorship_id].append(row)
    return result


def options_for(
    *, session: Session, booking_ids: Sequence[int]
) -> dict[int, list[SessionTimeOption]]:
    """The proposed times of each booking (callers have checked the booking is the member's)."""
    result: dict[int, list[SessionTimeOption]] = {i: [] for i in booking_ids}
    if not booking_ids:
        return result
    for row in session.exec(
        select(SessionTimeOption)
        .where(col(SessionTimeOption.booking_id).in_(booking_ids))
        .order_by(col(SessionTimeOption.starts_at), col(SessionTimeOption.id))
    ).all():
        result[row.booking_id].append(row)
    return result


def _other_side(session: Session, mentorship: Mentorship, member: Member) -> Member | None:
    other_id = mentorship.mentee_id if member.id == mentorship.mentor_id else mentorship.mentor_id
    return session.get(Member, other_id) if other_id else None


def _move(session: Session, booking_id: int, *, frm: str, **values: object) -> bool:
    """Move a booking out of ``frm`` (only if it is still there); True when this call did."""
    values.setdefault("updated_at", utcnow())
    return bool(
        session.exec(
            update(SessionBooking)
            .where(col(SessionBooking.id) == booking_id)
            .where(col(SessionBooking.status) == frm)
            .values(**values)
        ).rowcount
    )


# Telling both sides, with the calendar event -------------------------------------------------


def page_link(booking: SessionBooking) -> str:
    """The mentorship page's sessions part, where the booking is shown."""
    return f"/mentoring/mentorships/{booking.mentorship_id}#booked-sessions"


def ics_link(booking: SessionBooking) -> str:
    """Where the pair can download the booking's calendar event."""
    return f"/mentoring/mentorships/{booking.mentorship_id}/sessions/{booking.id}.ics"


def where_text(booking: SessionBooking | SessionTimeOption) -> str:
    """How the pair meet, in words: 'Video call: https://...', 'In person: Room 4'."""
    label = FORMAT_LABELS.get(booking.format or "", "")
    detail = booking.video_link if booking.format == "video" else booking.location
    return f"{label}: {detail}" if detail else label


def when_text(starts_at: datetime, duration_minutes: int) -> str:
    """'3 November 2026 at 10:30am to 11:30am (London time)'."""
    ends = starts_at + timedelta(minutes=duration_minutes)
    return f"{london.format_datetime(starts_at)} to {london.format_time(ends)} (London time)"


def _event(
    session: Session, booking: SessionBooking, mentorship: Mentorship, *, cancelled: bool
) -> calendar.SessionEvent:
    settings = get_settings()
    mentor = session.get(Member, mentorship.mentor_id) if mentorship.mentor_id else None
    mentee = session.get(Member, mentorship.mentee_id) if mentorship.mentee_id else None
    people = [p for p in (mentee, mentor) if p is not None]
    names = " and ".join(p.name for p in people) or "your mentoring pair"
    name, address = parseaddr(settings.email_from)
    assert booking.starts_at is not None and booking.duration_minutes is not None
    lines = [f"Mentoring session: {names}.", where_text(booking)]
    if booking.message:
        lines.append(booking.message)
    return calendar.SessionEvent(
        booking_id=booking.id,
        sequence=booking.sequence,
        starts_at=london.as_utc(booking.starts_at),
        duration_minutes=booking.duration_minutes,
        summary=f"Mentoring session: {names}",
        description="\n".join(line for line in lines if line),
        link=f"{settings.base_url.rstrip('/')}{page_link(booking)}",
        organizer=calendar.Attendee(name=name or "peerbridge", email=address),
        attendees=tuple(calendar.Attendee(name=p.name, email=p.email) for p in people),
        location=booking.location if booking.format != "video" else "",
        video_link=booking.video_link,
        cancelled=cancelled,
    )


def ics_text(session: Session, booking: SessionBooking, mentorship: Mentorship) -> str:
    """The booking's calendar event as it stands: a REQUEST, or a CANCEL once cancelled."""
    cancelled = booking.status == "cancelled"
    return calendar.build(
        _event(session, booking, mentorship, cancelled=cancelled),
        base_url=get_settings().base_url,
        method="CANCEL" if cancelled else "REQUEST",
    )


def download_ics(
    *, session: Session, member: Member | None, mentorship_id: int, booking_id: int
) -> str:
    """The .ics file of a booked (or cancelled) session, for the pair only."""
    booking, mentorship = get_booking(
        session=session, member=member, booking_id=booking_id, mentorship_id=mentorship_id
    )
    if booking.starts_at is None:
        raise NotFound("No time has been picked for this session yet.", field="booking_id")
    return ics_text(session, booking, mentorship)


def _tell_both(
    session: Session,
    booking: SessionBooking,
    mentorship: Mentorship,
    *,
    title: str,
    body: str,
    with_calendar: bool,
) -> None:
    """Notify both of the pair (kind ``session``); invitations go by email whatever the
    member's preference, with the event attached, since their calendar depends on it."""
    ics = ics_text(session, booking, mentorship) if with_calendar else None
    method = "CANCEL" if booking.status == "cancelled" else "REQUEST"
    for member_id in (mentorship.mentee_id, mentorship.mentor_id):
        person = session.get(Member, member_id) if member_id else None
        if person is None:
            continue
        notifications.notify(
            session=session,
            member_id=person.id,
            email=person.email,
            kind="session",
            title=title,
            body=body,
            link=page_link(booking),
            calendar_ics=ics,
            calendar_method=method if ics else None,
        )


def _tell(
    session: Session, person: Member | None, booking: SessionBooking, title: str, body: str
) -> None:
    if person is not None:
        notifications.notify_member(
            session=session,
            member=person,
            kind="session",
            title=title,
            body=body,
            link=page_link(booking),
        )


# Proposing and picking ------------------------------------------------------------------------


def propose_times(
    *,
    session: Session,
    member: Member | None,
    mentorship_id: int,
    times: Sequence[TimeChoice],
    message: str = "",
    replaces_id: int | None = None,
) -> SessionBooking:
    """Offer the other side one to three times; ``replaces_id``: instead of their proposal."""
    member = member_service.require_member(member)
    mentorship = _pair_mentorship(session, member, mentorship_id)
    _active(mentorship)
    if not times:
        raise FieldErrors({"time_1_date": "Propose at least one time."})
    if len(times) > MAX_TIMES:
        raise Invalid(f"Propose at most {MAX_TIMES} times.", field="times")
    now = utcnow()
    problems: dict[str, str] = {}
    checked = [_check_time(t, f"time_{i}_", now, problems) for i, t in enumerate(times, 1)]
    text = ""
    try:
        text = _message(message)
    except FieldErrors as error:
        problems.update(error.errors)
    if problems:
        raise FieldErrors(problems)
    replaced: SessionBooking | None = None
    if replaces_id is not None:
        replaced, _ = get_booking(
            session=session, member=member, booking_id=replaces_id, mentorship_id=mentorship_id
        )
        if replaced.proposed_by_id == member.id:
            raise Invalid("Those are your own times: cancel them instead.", field="replaces_id")
        if not _move(
            session,
            replaced.id,
            frm="proposed",
            status="declined",
            closed_by_id=member.id,
            close_reason="Other times proposed.",
        ):
            raise Conflict("Those times are no longer waiting for an answer.")
    booking = SessionBooking(
        mentorship_id=mentorship.id, proposed_by_id=member.id, message=text, status="proposed"
    )
    session.add(booking)
    session.flush()
    for option in checked:
        assert option is not None
        session.add(
            SessionTimeOption(
                booking_id=booking.id,
                starts_at=option.starts_at,
                duration_minutes=option.duration_minutes,
                format=option.format,
                location=option.location,
                video_link=option.video_link,
            )
        )
    listed = "\n".join(
        f"- {when_text(o.starts_at, o.duration_minutes)}" for o in checked if o is not None
    )
    instead = " instead of the ones you proposed" if replaced is not None else ""
    _tell(
        session,
        _other_side(session, mentorship, member),
        booking,
        f"{member.name} has proposed times for a mentoring session",
        f"{member.name} proposed {len(checked)} time{'s' if len(checked) != 1 else ''}{instead}:"
        f"\n{listed}\n\nPick the one that suits you, or propose others."
        + (f'\n\nThey said: "{text}"' if text else ""),
    )
    session.flush()
    session.refresh(booking)
    return booking


def pick_time(
    *, session: Session, member: Member | None, booking_id: int, option_id: int
) -> SessionBooking:
    """The other side picks one proposed time: the session is booked and both are invited."""
    member = member_service.require_member(member)
    booking, mentorship = get_booking(session=session, member=member, booking_id=booking_id)
    _active(mentorship)
    if booking.proposed_by_id == member.id:
        raise Forbidden("You proposed these times: the other side picks one.", field="option_id")
    option = session.get(SessionTimeOption, option_id)
    if option is None or option.booking_id != booking.id:
        raise Invalid("Choose one of the proposed times.", field="option_id")
    if london.as_utc(option.starts_at) <= utcnow():
        raise Invalid(
            "That time has passed: choose another or propose new times.", field="option_id"
        )
    now = utcnow()
    if not _move(
        session,
        booking.id,
        frm="proposed",
        status="booked",
        starts_at=option.starts_at,
        duration_minutes=option.duration_minutes,
        format=option.format,
        location=option.location,
        video_link=option.video_link,
        booked_at=now,
        sequence=0,
    ):
        raise Conflict(f"These times are no longer waiting for an answer (now {booking.status}).")
    session.refresh(booking)
    _answered(session, member, booking)  # before the booking's own notice, which stays unread
    _tell_both(
        session,
        booking,
        mentorship,
        title=f"Mentoring session booked for {london.format_datetime(option.starts_at)}",
        body=f"{member.name} picked {when_text(option.starts_at, option.duration_minutes)}.\n"
        f"{where_text(booking)}\n\nThe invitation is attached: add it to your calendar.",
        with_calendar=True,
    )
    session.flush()
    return booking


def _answered(session: Session, member: Member, booking: SessionBooking) -> None:
    """The member answered proposed times: their notifications asking for it are done."""
    notifications.mark_read_about(session=session, member_id=member.id, link=page_link(booking))


def decline_times(
    *, session: Session, member: Member | None, booking_id: int, reason: str = ""
) -> SessionBooking:
    """The other side turns down every proposed time (to propose others, see ``replaces_id``)."""
    member = member_service.require_member(member)
    booking, _ = get_booking(session=session, member=member, booking_id=booking_id)
    if booking.proposed_by_id == member.id:
        raise Forbidden("You proposed these times: cancel them instead.", field="booking_id")
    text = _message(reason, "reason")
    if not _move(
        session,
        booking.id,
        frm="proposed",
        status="declined",
        closed_by_id=member.id,
        close_reason=text,
    ):
        raise Conflict("These times are no longer waiting for an answer.")
    session.refresh(booking)
    proposer = session.get(Member, booking.proposed_by_id) if booking.proposed_by_id else None
    _tell(
        session,
        proposer,
        booking,
        f"{member.name} cannot make any of the times you proposed",
        f"None of the times suits {member.name}."
        + (f' They said: "{text}"' if text else "")
        + " Propose some others when you can.",
    )
    _answered(session, member, booking)
    session.flush()
    return booking


# Changing a booked session --------------------------------------------------------------------


def reschedule(
    *,
    session: Session,
    member: Member | None,
    booking_id: int,
    new_time: TimeChoice,
    reason: str = "",
) -> SessionBooking:
    """Move a booked session to a new time: the same event, SEQUENCE + 1, both told."""
    member = member_service.require_member(member)
    booking, mentorship = get_booking(session=session, member=member, booking_id=booking_id)
    _active(mentorship)
    problems: dict[str, str] = {}
    checked = _check_time(new_time, "time_1_", utcnow(), problems)
    text = ""
    try:
        text = _message(reason, "reason")
    except FieldErrors as error:
        problems.update(error.errors)
    if problems or checked is None:
        raise FieldErrors(problems)
    if booking.logged_session_id is not None:
        raise Conflict("This session has been logged, so it cannot be moved.")
    if not _move(
        session,
        booking.id,
        frm="booked",
        starts_at=checked.starts_at,
        duration_minutes=checked.duration_minutes,
        format=checked.format,
        location=checked.location,
        video_link=checked.video_link,
        sequence=SessionBooking.sequence + 1,
        reminder_sent_at=None,  # a new time earns a new reminder
    ):
        raise Conflict("Only a booked session can be moved.")
    session.refresh(booking)
    _tell_both(
        session,
        booking,
        mentorship,
        title=f"Mentoring session moved to {london.format_datetime(checked.starts_at)}",
        body=f"{member.name} moved your session to "
        f"{when_text(checked.starts_at, checked.duration_minutes)}.\n{where_text(booking)}"
        + (f'\n\nThey said: "{text}"' if text else "")
        + "\n\nThe updated invitation is attached.",
        with_calendar=True,
    )
    session.flush()
    return booking


def cancel(
    *, session: Session, member: Member | None, booking_id: int, reason: str = ""
) -> SessionBooking:
    """Cancel a booked session (both get METHOD:CANCEL), or withdraw your own proposal."""
    member = member_service.require_member(member)
    booking, mentorship = get_booking(session=session, member=member, booking_id=booking_id)
    text = _message(reason, "reason")
    if booking.status == "proposed":
        if booking.proposed_by_id != member.id:
            raise Forbidden(
                "These times were proposed to you: decline them instead.", field="booking_id"
            )
        if not _move(
            session,
            booking.id,
            frm="proposed",
            status="cancelled",
            closed_by_id=member.id,
            close_reason=text,
        ):
            raise Conflict("These times are no longer waiting for an answer.")
        session.refresh(booking)
        _tell(
            session,
            _other_side(session, mentorship, member),
            booking,
            f"{member.name} withdrew the times they proposed",
            f"{member.name} no longer needs an answer to the times they proposed.",
        )
        session.flush()
        return booking
    if booking.logged_session_id is not None:
        raise Conflict("This session has been logged, so it cannot be cancelled.")
    if not _move(
        session,
        booking.id,
        frm="booked",
        status="cancelled",
        closed_by_id=member.id,
        close_reason=text,
        sequence=SessionBooking.sequence + 1,
    ):
        raise Conflict("This session is not booked, so there is nothing to cancel.")
    session.refresh(booking)
    _announce_cancellation(session, booking, mentorship, by=member.name, reason=text)
    session.flush()
    return booking


def _announce_cancellation(
    session: Session, booking: SessionBooking, mentorship: Mentorship, *, by: str, reason: str
) -> None:
    assert booking.starts_at is not None and booking.duration_minutes is not None
    _tell_both(
        session,
        booking,
        mentorship,
        title=f"Mentoring session cancelled: {london.format_datetime(booking.starts_at)}",
        body=f"{by} cancelled the session of "
        f"{when_text(booking.starts_at, booking.duration_minutes)}."
        + (f' They said: "{reason}"' if reason else "")
        + "\n\nThe cancellation is attached, to take it out of your calendar.",
        with_calendar=True,
    )


def close_for_ended_mentorship(*, session: Session, mentorship_id: int, by: str) -> int:
    """When a mentorship ends: cancel its future booked sessions (both get METHOD:CANCEL) and
    close its open proposals. Returns how many booked sessions were cancelled."""
    mentorship = session.get(Mentorship, mentorship_id)
    if mentorship is None:
        return 0
    now = utcnow()
    session.exec(
        update(SessionBooking)
        .where(col(SessionBooking.mentorship_id) == mentorship_id)
        .where(col(SessionBooking.status) == "proposed")
        .values(status="cancelled", close_reason="The mentorship ended.", updated_at=now)
    )
    future = session.exec(
        select(SessionBooking)
        .where(SessionBooking.mentorship_id == mentorship_id)
        .where(SessionBooking.status == "booked")
        .where(col(SessionBooking.starts_at) > now)
    ).all()
    cancelled = 0
    for booking in future:
        if _move(
            session,
            booking.id,
            frm="booked",
            status="cancelled",
            close_reason="The mentorship ended.",
            sequence=SessionBooking.sequence + 1,
        ):
            session.refresh(booking)
            _announce_cancellation(session, booking, mentorship, by=by, reason="")
            cancelled += 1
    session.flush()
    return cancelled


# After the session ----------------------------------------------------------------------------


def loggable(booking: SessionBooking, now: datetime | None = None) -> bool:
    """True for a booked session whose time has come and that nobody has logged yet."""
    return (
        booking.status == "booked"
        and booking.logged_session_id is None
        and booking.starts_at is not None
        and london.as_utc(booking.starts_at) <= (now or utcnow())
    )


def prefill(booking: SessionBooking) -> dict[str, str]:
    """The log form's values for a booked session: its London date and its length."""
    assert booking.starts_at is not None
    day = london.in_london(booking.starts_at).date()
    return {
        "held_on-day": str(day.day),
        "held_on-month": str(day.month),
        "held_on-year": str(day.year),
        "duration_minutes": str(booking.duration_minutes or ""),
        "booking_id": str(booking.id),
    }


def claim_for_log(
    *, session: Session, mentorship_id: int, booking_id: int, record: MentoringSession
) -> None:
    """Link a just-logged session to its booking, once: a second log of it is refused."""
    booking = session.get(SessionBooking, booking_id)
    if booking is None or booking.mentorship_id != mentorship_id:
        raise NotFound("No such booked session.", field="booking_id")
    if not loggable(booking):
        if booking.logged_session_id is not None:
            raise Conflict("This session has already been logged.", field="booking_id")
        raise Invalid(
            "Only a booked session whose time has passed can be logged.", field="booking_id"
        )
    claimed = session.exec(
        update(SessionBooking)
        .where(col(SessionBooking.id) == booking_id)
        .where(col(SessionBooking.logged_session_id).is_(None))
        .values(logged_session_id=record.id, updated_at=utcnow())
    ).rowcount
    if not claimed:
        raise Conflict("This session has already been logged.", field="booking_id")


# Reminders (the periodic job) -----------------------------------------------------------------


def send_reminders(*, session: Session, now: datetime | None = None) -> int:
    """Remind both sides, once, of a booked session starting within the next day.

    Each booking is claimed by a conditional update of ``reminder_sent_at``, so several
    workers (or two passes) never send one reminder twice.
    """
    now = now or utcnow()
    due = session.exec(
        select(SessionBooking)
        .where(SessionBooking.status == "booked")
        .where(col(SessionBooking.reminder_sent_at).is_(None))
        .where(col(SessionBooking.starts_at) > now)
        .where(col(SessionBooking.starts_at) <= now + REMINDER_AHEAD)
        .order_by(col(SessionBooking.id))
    ).all()
    sent = 0
    for booking in due:
        claimed = session.exec(
            update(SessionBooking)
            .where(col(SessionBooking.id) == booking.id)
            .where(col(SessionBooking.status) == "booked")
            .where(col(SessionBooking.reminder_sent_at).is_(None))
            .values(reminder_sent_at=now)
        ).rowcount
        mentorship = session.get(Mentorship, booking.mentorship_id)
        if not claimed or mentorship is None or booking.starts_at is None:
            continue
        sent += 1
        for member_id in (mentorship.mentee_id, mentorship.mentor_id):
            other_id = (
                mentorship.mentor_id if member_id == mentorship.mentee_id else mentorship.mentee_id
            )
            person = session.get(Member, member_id) if member_id else None
            other = session.get(Member, other_id) if other_id else None
            _tell(
                session,
                person,
                booking,
                f"Reminder: mentoring session {london.format_datetime(booking.starts_at)}",
                f"Your session with {other.name if other else 'your partner'} is "
                f"{when_text(booking.starts_at, booking.duration_minutes or 0)}.\n"
                f"{where_text(booking)}",
            )
    session.flush()
    return sent


# For relationship health ----------------------------------------------------------------------


def last_activity_for(
    *, session: Session, mentorship_ids: Sequence[int]
) -> dict[int, datetime | None]:
    """Each mentorship's latest sign of meeting (UTC): a booked session's time (a future one
    counts: they have a plan), or a logged session's day (London midnight), or when either was
    booked or logged. None where there has been neither. No authorisation: for jobs and
    organiser reports, which must not show the notes."""
    result: dict[int, datetime | None] = dict.fromkeys(mentorship_ids)
    if not mentorship_ids:
        return result
    booked = session.exec(
        select(
            SessionBooking.mentorship_id,
            func.max(SessionBooking.starts_at),
            func.max(SessionBooking.booked_at),
        )
        .where(col(SessionBooking.mentorship_id).in_(mentorship_ids))
        .where(col(SessionBooking.status) == "booked")
        .group_by(col(SessionBooking.mentorship_id))
    ).all()
    logged = session.exec(
        select(
            MentoringSession.mentorship_id,
            func.max(MentoringSession.held_on),
            func.max(MentoringSession.created_at),
        )
        .where(col(MentoringSession.mentorship_id).in_(mentorship_ids))
        .group_by(col(MentoringSession.mentorship_id))
    ).all()

    def later(mentorship_id: int, moment: datetime | date | None) -> None:
        if moment is None:
            return
        if not isinstance(moment, datetime):
            moment = london.london_to_utc(moment, time(0, 0))
        moment = london.as_utc(moment)
        current = result[mentorship_id]
        if current is None or moment > current:
            result[mentorship_id] = moment

    for mentorship_id, starts_at, booked_at in booked:
        later(mentorship_id, starts_at)
        later(mentorship_id, booked_at)
    for mentorship_id, held_on, created_at in logged:
        if isinstance(held_on, str):  # SQLite's MAX over a DATE column gives text
            held_on = date.fromisoformat(held_on)
        later(mentorship_id, held_on)
        if isinstance(created_at, str):
            created_at = datetime.fromisoformat(created_at)
        later(mentorship_id, created_at)
    return result


def last_activity(*, session: Session, mentorship_id: int) -> datetime | None:
    """A mentorship's last booked or logged session (see ``last_activity_for``), in UTC."""
    return last_activity_for(session=session, mentorship_ids=[mentorship_id])[mentorship_id]
