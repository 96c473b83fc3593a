"""Mentoring rules: requests, the mentor's inbox, mentorships, sessions, endings.

The limits that must hold under concurrency (a mentor's capacity, one open request per pair,
at most three open requests per mentee) are kept by conditional UPDATEs and database
constraints, never by reading and then writing in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from backend import london
from backend.assessments import invitations as self_assessment
from backend.db import utcnow
from backend.errors import Conflict, FieldErrors, Forbidden, Invalid, NotFound
from backend.matchmaking import rules as pair_rules
from backend.matchmaking.version import network_changed
from backend.members import service as member_service
from backend.members.models import Member, MentoringOffer
from backend.mentoring import bookings, lifecycle
from backend.mentoring.lifecycle import CapacityReached
from backend.mentoring.models import (
    END_CATEGORIES,
    MAX_OPEN_REQUESTS,
    MentoringSession,
    MentorRequest,
    Mentorship,
    MentorshipFeedback,
)
from backend.notifications import service as notifications
from backend.programmes.models import Programme
from backend.rounds.models import MatchProposal
from backend.settings import get_settings

MAX_MESSAGE = 2000
MAX_REQUEST_SKILLS = 10


PLANNED_MONTHS = "Planned length must be from 6 to 12 months."
DURATION = "Duration must be from 5 to 480 minutes."
RATING = "Rating must be a whole number from 1 to 5."


class DuplicateRequest(Conflict):
    """The mentee already has an open request to this mentor."""

    code = "duplicate_request"


class TooManyOpenRequests(Conflict):
    """The mentee already has the most open requests allowed at once."""

    code = "too_many_open_requests"


# Requests -------------------------------------------------------------------------------------


def _recount_open_requests(session: Session, mentee_id: int) -> None:
    lifecycle.recount_open_requests(session=session, mentee_id=mentee_id)


def _active_mentorship_as_mentee(
    session: Session, mentee_id: int, programme_id: int | None = None
) -> Mentorship | None:
    return lifecycle.active_mentorship_of(
        session=session, mentee_id=mentee_id, programme_id=programme_id
    )


def free_places(*, offer: MentoringOffer) -> int:
    """Places a mentor can still fill: none while paused, else capacity less active mentees."""
    return 0 if offer.paused else max(offer.capacity - offer.active_mentees, 0)


def _sent_with_key(session: Session, mentee_id: int | None, key: str) -> MentorRequest | None:
    """The mentee's request sent earlier with this idempotency key, if any (a retried send)."""
    return session.exec(
        select(MentorRequest)
        .where(MentorRequest.mentee_id == mentee_id)
        .where(MentorRequest.idempotency_key == key)
    ).first()


def request_mentor(
    *,
    session: Session,
    mentee: Member | None,
    mentor_id: int,
    message: str,
    skills: Sequence[str] = (),
    idempotency_key: str | None = None,
    programme_id: int | None = None,
) -> MentorRequest:
    """Ask a mentor for mentoring, with a message and the skills to work on.

    In ``programme_id`` (None: the network's default programme, open to everyone). In another
    programme the mentee must be one of its accepted mentees, and its pairing must let members
    ask mentors (``backend.programmes.pairing.check_requests_allowed``). One mentor at a time
    in each programme: a mentor in another programme does not stop the request.
    """
    from backend.programmes import pairing

    mentee = member_service.require_member(mentee)
    if idempotency_key:
        if len(idempotency_key) > 100:
            raise Invalid(
                "Idempotency key must be 100 characters or fewer.", field="idempotency_key"
            )
        earlier = _sent_with_key(session, mentee.id, idempotency_key)
        if earlier is not None:
            return earlier
    problems: dict[str, str] = {}
    text = (message or "").strip()
    if not text:
        problems["message"] = "Write a short message saying what you would like help with."
    elif len(text) > MAX_MESSAGE:
        problems["message"] = f"Message must be {MAX_MESSAGE:,} characters or fewer."
    skill_list = list(dict.fromkeys(skills))
    if len(skill_list) > MAX_REQUEST_SKILLS:
        problems["skills"] = f"Choose at most {MAX_REQUEST_SKILLS} skills."
    else:
        from backend.skills import service as skill_service

        problem = skill_service.unknown_skills(session=session, skills=skill_list)
        if problem:
            problems["skills"] = problem
    if problems:
        raise FieldErrors(problems)
    mentor = session.get(Member, mentor_id)
    if mentor is None or not mentor.is_active:
        raise NotFound("No member with that id.", field="mentor_id")
    programme = pairing.get_programme(session=session, programme_id=programme_id)
    pairing.check_requests_allowed(
        session=session, programme=programme, mentee=mentee, mentor=mentor
    )
    _refuse_rule_breaking_pair(session, mentee, mentor, programme)
    offer = member_service.offer_of(session=session, member_id=mentor.id)
    if offer.paused:
        raise Conflict(f"{mentor.name} has paused mentoring for now.", field="mentor_id")
    if free_places(offer=offer) == 0:
        raise CapacityReached(f"{mentor.name} has no free mentoring places at the moment.")
    if _active_mentorship_as_mentee(session, mentee.id, programme.id) is not None:
        where = lifecycle.in_programme(session, programme.id)
        raise lifecycle.AlreadyHasMentor(
            f"You already have a mentor{where}. End that mentorship before asking another"
            f"{' in it' if where else ''}."
        )
    paired = lifecycle.active_pair(session=session, mentee_id=mentee.id, mentor_id=mentor.id)
    if paired is not None:
        raise lifecycle.already_paired(session, mentee, mentor, paired)
    existing = session.exec(
        select(MentorRequest.id)
        .where(MentorRequest.mentee_id == mentee.id)
        .where(MentorRequest.mentor_id == mentor.id)
        .where(MentorRequest.status == "open")
    ).first()
    if existing is not None:
        raise DuplicateRequest(f"You already have an open request to {mentor.name}.")
    now = utcnow()
    request = MentorRequest(
        created_at=now,
        mentee_id=mentee.id,
        mentor_id=mentor.id,
        message=text,
        programme_id=programme.id,
        skills=";".join(skill_list),
        idempotency_key=idempotency_key,
        expires_at=now + timedelta(days=get_settings().request_expiry_days),
    )
    try:
        with session.begin_nested():  # the slot and the request, or neither
            # Take one of the three slots atomically: racing sends cannot both take the last.
            took_slot = session.exec(
                update(Member)
                .where(col(Member.id) == mentee.id)
                .where(col(Member.open_requests) < MAX_OPEN_REQUESTS)
                .values(open_requests=Member.open_requests + 1)
            ).rowcount
            if not took_slot:
                raise TooManyOpenRequests(
                    f"You have {MAX_OPEN_REQUESTS} open requests. Wait for an answer or "
                    "withdraw one before asking someone else."
                )
            session.add(request)
            session.flush()
    except IntegrityError as error:
        if idempotency_key:
            earlier = _sent_with_key(session, mentee.id, idempotency_key)
            if earlier is not None:
                return earlier
        raise DuplicateRequest(f"You already have an open request to {mentor.name}.") from error
    lifecycle.tell(
        session,
        mentor,
        "request_received",
        f"{mentee.name} has asked you to be their mentor",
        f"{mentee.name} ({mentee.job_title or 'member'}) asked you for mentoring. "
        f"Please answer within {get_settings().request_expiry_days} days.",
        f"/mentoring/requests/{request.id}",
    )
    session.flush()
    session.refresh(request)
    return request


def _refuse_rule_breaking_pair(
    session: Session, mentee: Member, mentor: Member, programme: Programme
) -> None:
    # The matcher's hard rules, checked for this one pair (they live once, in matching/), with
    # the band rule of the programme's type.
    violation = pair_rules.pair_violation(
        session=session,
        mentee_id=mentee.id,
        mentor_id=mentor.id,
        band_rule=pair_rules.band_rule_of(programme.type),
        programme_id=programme.id,
    )
    if violation is None:
        return
    if violation == pair_rules.VIOLATION_SELF:
        raise Invalid("You cannot ask yourself to be your mentor.", field="mentor_id")
    if violation == pair_rules.VIOLATION_CHAIN:
        raise Forbidden(
            "You cannot ask someone in your own line-management chain: a mentor should be "
            "independent of your line management.",
            field="mentor_id",
        )
    if violation == pair_rules.VIOLATION_NOT_OFFERING:
        raise Invalid(f"{mentor.name} is not offering mentoring.", field="mentor_id")
    if violation == pair_rules.VIOLATION_BAND:
        raise Invalid(
            f"{mentor.name} is not at a higher band than you: a mentor's band must be above "
            "their mentee's.",
            field="mentor_id",
        )
    if violation == pair_rules.VIOLATION_NOT_SENIOR_LEADER:
        raise Invalid(
            f"{programme.name} is reciprocal mentoring: {mentor.name} is not a senior leader "
            "(band 8a or above), so cannot be your partner in it.",
            field="mentor_id",
        )
    if violation == pair_rules.VIOLATION_NOT_FLAGGED:
        raise Invalid(
            f"{programme.name} is reciprocal mentoring: it pairs senior leaders with members "
            "who have widening-access priority in it, and you do not have it there.",
            field="mentor_id",
        )
    if violation == pair_rules.VIOLATION_OWN_ORGANISATION:
        raise Invalid(
            f"{mentor.name} works in your organisation, and your profile asks for a mentor "
            "from another one. Change that in your profile to ask them.",
            field="mentor_id",
        )
    raise Invalid(f"You cannot ask {mentor.name}: {violation}.", field="mentor_id")


def _own_request(session: Session, request_id: int, *, member: Member, side: str) -> MentorRequest:
    request = session.get(MentorRequest, request_id)
    owner = None if request is None else getattr(request, f"{side}_id")
    if request is None or owner != member.id:
        raise NotFound("No such request.", field="request_id")
    return request


def _close_open(session: Session, request_id: int, status: str, **values: object) -> bool:
    return lifecycle.move_request(
        session=session, request_id=request_id, to=status, strict=False, **values
    )


def withdraw_request(*, session: Session, mentee: Member | None, request_id: int) -> MentorRequest:
    """The mentee takes back an open request."""
    mentee = member_service.require_member(mentee)
    request = _own_request(session, request_id, member=mentee, side="mentee")
    if not _close_open(session, request.id, "withdrawn", closed_reason="by_mentee"):
        raise Conflict("This request is no longer open.")
    _recount_open_requests(session, mentee.id)
    mentor = session.get(Member, request.mentor_id)
    if mentor is not None:
        lifecycle.tell(
            session,
            mentor,
            "request_closed",
            f"{mentee.name} withdrew their request",
            f"{mentee.name} no longer needs an answer to their mentoring request.",
            "/mentoring/requests",
        )
    session.flush()
    session.refresh(request)
    return request


@dataclass
class Acceptance:
    """The result of accepting: the request and the new mentorship."""

    request: MentorRequest
    mentorship: Mentorship


def respond_to_request(
    *, session: Session, mentor: Member | None, request_id: int, accept: bool, reason: str = ""
) -> MentorRequest:
    """The mentor accepts (taking a place, atomically) or declines with an optional reason."""
    mentor = member_service.require_member(mentor)
    request = _own_request(session, request_id, member=mentor, side="mentor")
    reason = (reason or "").strip()
    if len(reason) > 1000:
        raise Invalid("Reason must be 1,000 characters or fewer.", field="reason")
    if request.status != "open":
        raise Conflict(f"This request is already {request.status}.")
    mentee = session.get(Member, request.mentee_id)
    if mentee is None:
        raise NotFound("The member who asked no longer exists.")
    if accept:
        accept_request(session=session, mentor=mentor, request=request, mentee=mentee)
    else:
        if not _close_open(session, request.id, "declined", decline_reason=reason):
            raise Conflict("This request is no longer open.")
        _recount_open_requests(session, mentee.id)
        kind_reason = f' They said: "{reason}"' if reason else ""
        lifecycle.tell(
            session,
            mentee,
            "request_answered",
            f"{mentor.name} cannot mentor you at the moment",
            f"{mentor.name} declined your request.{kind_reason} Here are other mentors who "
            "could help.",
            "/mentoring/suggestions",
        )
        session.flush()
    # Answered: the mentor's notifications asking for an answer are done.
    notifications.mark_read_about(
        session=session, member_id=mentor.id, link=f"/mentoring/requests/{request.id}"
    )
    session.refresh(request)
    return request


def accept_request(
    *, session: Session, mentor: Member, request: MentorRequest, mentee: Member
) -> Acceptance:
    """Accept a request: close it and start the mentorship (``lifecycle.start_mentorship``)."""
    lifecycle.lock_mentee(session=session, mentee_id=mentee.id)
    try:
        with session.begin_nested():  # accepted and started, or neither
            lifecycle.move_request(session=session, request_id=request.id, to="accepted")
            mentorship = lifecycle.start_mentorship(
                session=session,
                mentor_id=mentor.id,
                mentee_id=mentee.id,
                request=request,
            )
    except CapacityReached:
        raise CapacityReached(
            "All your mentoring places are taken. End a mentorship or raise your capacity first."
        ) from None
    session.flush()
    session.refresh(mentorship)
    return Acceptance(request=request, mentorship=mentorship)


def _close_each(
    session: Session, requests: Sequence[MentorRequest], status: str, **values: object
) -> list[tuple[MentorRequest, Member | None]]:
    """Close each request still open with ``status`` and recount its mentee's open requests.

    The requests closed here (one closed meanwhile by a racing answer is skipped), each with
    its mentee.
    """
    closed: list[tuple[MentorRequest, Member | None]] = []
    for request in requests:
        if _close_open(session, request.id, status, **values):
            _recount_open_requests(session, request.mentee_id)
            closed.append((request, session.get(Member, request.mentee_id)))
    return closed


def release_open_requests(*, session: Session, mentor: Member, leaving: bool = False) -> int:
    """Close a pausing mentor's open requests, kindly, so mentees can ask someone else;
    ``leaving``: the mentor's account is suspended (the mentees are told so, in plain words)."""
    open_requests = session.exec(
        select(MentorRequest)
        .where(MentorRequest.mentor_id == mentor.id)
        .where(MentorRequest.status == "open")
        .order_by(col(MentorRequest.id))
    ).all()
    closed = _close_each(
        session,
        open_requests,
        "released",
        closed_reason="mentor_unavailable",
        **({"decline_reason": lifecycle.MENTOR_INACTIVE} if leaving else {}),
    )
    for _, mentee in closed:
        if mentee is None:
            continue
        if leaving:
            title = f"Your request to {mentor.name} is closed"
            why = f"{mentor.name}'s account is no longer active"
        else:
            title = f"{mentor.name} is taking a break from mentoring"
            why = f"{mentor.name} has paused mentoring for now"
        lifecycle.tell(
            session,
            mentee,
            "request_closed",
            title,
            f"{why}, so your request is closed. It is nothing to do with you: here are other "
            "mentors who could help.",
            "/mentoring/suggestions",
        )
    return len(closed)


def withdraw_sent_requests(*, session: Session, mentee: Member) -> int:
    """Withdraw the open requests of a mentee whose account is suspended; each mentor is told
    they need not answer. Returns how many."""
    open_requests = session.exec(
        select(MentorRequest)
        .where(MentorRequest.mentee_id == mentee.id)
        .where(MentorRequest.status == "open")
        .order_by(col(MentorRequest.id))
    ).all()
    closed = _close_each(
        session,
        open_requests,
        "withdrawn",
        decline_reason=lifecycle.MENTEE_INACTIVE,
        closed_reason="mentee_inactive",
    )
    for request, _ in closed:
        mentor = session.get(Member, request.mentor_id)
        if mentor is not None:
            lifecycle.tell(
                session,
                mentor,
                "request_closed",
                f"{mentee.name}'s request is closed",
                f"{mentee.name}'s account is no longer active, so their request to you is "
                "closed. You do not need to answer it.",
                "/mentoring/requests",
            )
    return len(closed)


@dataclass(frozen=True)
class ClosedForSuspension:
    """What closed when a member's account was suspended (counts, for the audit log)."""

    mentorships_ended: int
    requests_released: int  # received: the mentees can ask someone else
    requests_withdrawn: int  # sent by the member
    offers_withdrawn: int  # round offers with them as mentor or as mentee


def open_for_suspension(*, session: Session, member: Member) -> ClosedForSuspension:
    """What ``close_for_suspension`` would close now (for the admin's confirmation page)."""

    def count(statement: SelectOfScalar[int]) -> int:
        return session.exec(statement).one()

    either = (col(Mentorship.mentor_id) == member.id) | (col(Mentorship.mentee_id) == member.id)
    either_offer = (col(MatchProposal.mentor_id) == member.id) | (
        col(MatchProposal.mentee_id) == member.id
    )
    return ClosedForSuspension(
        mentorships_ended=count(
            select(func.count())
            .select_from(Mentorship)
            .where(either, Mentorship.status == "active")
        ),
        requests_released=count(
            select(func.count())
            .select_from(MentorRequest)
            .where(MentorRequest.mentor_id == member.id, MentorRequest.status == "open")
        ),
        requests_withdrawn=count(
            select(func.count())
            .select_from(MentorRequest)
            .where(MentorRequest.mentee_id == member.id, MentorRequest.status == "open")
        ),
        offers_withdrawn=count(
            select(func.count())
            .select_from(MatchProposal)
            .where(either_offer, MatchProposal.status == "offered")
        ),
    )


def close_for_suspension(*, session: Session, member: Member, by: Member) -> ClosedForSuspension:
    """Close everything open in a suspended member's mentoring, in the caller's unit of work:
    active mentorships end early (their places freed), requests sent and received close, and
    open round offers either side are withdrawn; the other side of each is told in plain
    words that do not say why. Reactivating the account reopens none of it."""
    return ClosedForSuspension(
        mentorships_ended=lifecycle.end_for_inactive_account(session=session, member=member, by=by),
        requests_released=release_open_requests(session=session, mentor=member, leaving=True),
        requests_withdrawn=withdraw_sent_requests(session=session, mentee=member),
        offers_withdrawn=lifecycle.withdraw_uncovered_offers(
            session=session, mentor=member, leaving=True
        )
        + lifecycle.withdraw_offers_to_inactive_mentee(session=session, mentee=member),
    )


def _requests_statement(
    member: Member, direction: str, status: str | None
) -> SelectOfScalar[MentorRequest]:
    if direction not in ("sent", "received"):
        raise Invalid("Direction must be sent or received.", field="direction")
    column = MentorRequest.mentee_id if direction == "sent" else MentorRequest.mentor_id
    statement = select(MentorRequest).where(column == member.id)
    if status is not None:
        statement = statement.where(MentorRequest.status == status)
    return statement.order_by(col(MentorRequest.created_at).desc(), col(MentorRequest.id).desc())


def list_requests(
    *, session: Session, member: Member | None, direction: str, status: str | None = None
) -> list[MentorRequest]:
    """Requests the member sent (direction 'sent') or received ('received'), newest first."""
    member = member_service.require_member(member)
    return list(session.exec(_requests_statement(member, direction, status)).all())


def requests_page(
    *,
    session: Session,
    member: Member | None,
    direction: str,
    status: str | None = None,
    offset: int = 0,
    limit: int = 20,
) -> tuple[list[MentorRequest], bool]:
    """One page of ``list_requests`` (newest first), and whether more follow."""
    member = member_service.require_member(member)
    statement = _requests_statement(member, direction, status)
    rows = session.exec(statement.offset(max(offset, 0)).limit(limit + 1)).all()
    return list(rows[:limit]), len(rows) > limit


def get_request(*, session: Session, member: Member | None, request_id: int) -> MentorRequest:
    """One request, visible only to its mentee and its mentor."""
    member = member_service.require_member(member)
    request = session.get(MentorRequest, request_id)
    if request is None or member.id not in (request.mentee_id, request.mentor_id):
        raise NotFound("No such request.", field="request_id")
    return request


# Expiry and nudges (background jobs) ----------------------------------------------------------


@dataclass(frozen=True)
class RequestClosure:
    """How a request that closed unanswered reads to one side: a short status and a sentence."""

    status: str
    explanation: str


# Per reason: (the status, the sentence to the mentee, the sentence to the mentor).
_CLOSURES: dict[str, tuple[str, str, str]] = {
    "by_mentee": (
        "Withdrawn",
        "You withdrew this request.",
        "They withdrew this request.",
    ),
    "no_answer": (
        "Closed: no answer",
        "This request closed because it was not answered in time.",
        "This request closed because it was not answered in time.",
    ),
    "mentored_elsewhere": (
        "Closed: you found a mentor",
        "This request closed when you started a mentorship with another mentor.",
        "This request closed when they started a mentorship with another mentor.",
    ),
    "mentee_inactive": (
        "Closed",
        "This request closed when your account was closed.",
        "This request closed because their account is no longer active.",
    ),
    "mentor_unavailable": (
        "Closed: mentor not available",
        "This request closed because the mentor is not taking new mentees now.",
        "This request closed when you stopped taking new mentees.",
    ),
    "programme_ended": (
        "Closed: programme ended",
        "This request closed because its programme ended.",
        "This request closed because its programme ended.",
    ),
}
# Requests closed before reasons were recorded: what their status alone can say.
_REASON_OF_STATUS = {"expired": "no_answer", "released": "mentor_unavailable"}


def request_closure(request: MentorRequest, *, for_mentor: bool) -> RequestClosure | None:
    """Why a request closed without the mentor's answer, in words for the mentee (or, with
    ``for_mentor``, the mentor); None while it is open or once the mentor answered."""
    reason = request.closed_reason or _REASON_OF_STATUS.get(request.status)
    if reason is None or reason not in _CLOSURES:
        return None
    status, to_mentee, to_mentor = _CLOSURES[reason]
    return RequestClosure(status=status, explanation=to_mentor if for_mentor else to_mentee)


def expire_requests(*, session: Session, now: datetime | None = None) -> int:
    """Expire unanswered requests past their date; both sides are told."""
    now = now or utcnow()
    due = session.exec(
        select(MentorRequest)
        .where(MentorRequest.status == "open")
        .where(MentorRequest.expires_at <= now)
    ).all()
    closed = _close_each(session, due, "expired", closed_reason="no_answer")
    for request, mentee in closed:
        mentor = session.get(Member, request.mentor_id)
        if mentee is not None and mentor is not None:
            lifecycle.tell(
                session,
                mentee,
                "request_closed",
                f"Your request to {mentor.name} has expired",
                f"{mentor.name} did not answer in time, so your request has closed. Here are "
                "other mentors with free places.",
                "/mentoring/suggestions",
            )
            lifecycle.tell(
                session,
                mentor,
                "request_closed",
                f"{mentee.name}'s request has expired",
                f"The request from {mentee.name} was not answered in time and has closed.",
                "/mentoring/requests",
            )
    session.flush()
    return len(closed)


def nudge_mentors(*, session: Session, now: datetime | None = None) -> int:
    """Remind mentors, once, of requests left unanswered for a week."""
    now = now or utcnow()
    cutoff = now - timedelta(days=get_settings().request_nudge_days)
    due = session.exec(
        select(MentorRequest)
        .where(MentorRequest.status == "open")
        .where(col(MentorRequest.nudged_at).is_(None))
        .where(MentorRequest.created_at <= cutoff)
    ).all()
    nudged = 0
    for request in due:
        claimed = session.exec(
            update(MentorRequest)
            .where(col(MentorRequest.id) == request.id)
            .where(col(MentorRequest.nudged_at).is_(None))
            .values(nudged_at=now)
        ).rowcount
        mentor = session.get(Member, request.mentor_id)
        mentee = session.get(Member, request.mentee_id)
        if claimed and mentor is not None and mentee is not None:
            nudged += 1
            days_left = max((request.expires_at - now).days, 0)
            lifecycle.tell(
                session,
                mentor,
                "request_reminder",
                f"{mentee.name} is waiting for your answer",
                f"{mentee.name} asked you for mentoring a week ago. Please accept or decline: "
                f"the request closes in {days_left} days.",
                f"/mentoring/requests/{request.id}",
            )
    session.flush()
    return nudged


# Mentorships ----------------------------------------------------------------------------------


def _own_mentorship(session: Session, member: Member, mentorship_id: int) -> Mentorship:
    mentorship = session.get(Mentorship, mentorship_id)
    if mentorship is None or member.id not in (mentorship.mentor_id, mentorship.mentee_id):
        raise NotFound("No such mentorship.", field="mentorship_id")
    return mentorship


def list_mentorships(
    *, session: Session, member: Member | None, status: str | None = None
) -> list[Mentorship]:
    """The member's mentorships, as mentor or mentee, newest first."""
    member = member_service.require_member(member)
    statement = select(Mentorship).where(
        or_(col(Mentorship.mentor_id) == member.id, col(Mentorship.mentee_id) == member.id)
    )
    if status is not None:
        statement = statement.where(Mentorship.status == status)
    return list(session.exec(statement.order_by(col(Mentorship.started_at).desc())).all())


def get_mentorship(*, session: Session, member: Member | None, mentorship_id: int) -> Mentorship:
    """One mentorship, visible only to its pair."""
    member = member_service.require_member(member)
    return _own_mentorship(session, member, mentorship_id)


@dataclass(frozen=True)
class AgreementUpdate:
    """What the pair agreed (a command, typed by the edge that read the form or input).

    ``goals`` is the free text of before goals were tracked (``backend.mentoring.goals``):
    when given, each new non-empty line becomes an open goal.
    """

    meeting_rhythm: str
    planned_months: int
    goals: str | None = None


def update_agreement(
    *, session: Session, member: Member | None, mentorship_id: int, agreement: AgreementUpdate
) -> Mentorship:
    """Record what the pair agreed: how often they meet, and for how long (6-12 months)."""
    goals, meeting_rhythm = agreement.goals or "", agreement.meeting_rhythm
    planned_months = agreement.planned_months
    member = member_service.require_member(member)
    mentorship = _own_mentorship(session, member, mentorship_id)
    if mentorship.status != "active":
        raise Conflict("This mentorship has ended.")
    problems: dict[str, str] = {}
    if len(goals) > 4000:
        problems["goals"] = "Goals must be 4,000 characters or fewer."
    if len(meeting_rhythm) > 200:
        problems["meeting_rhythm"] = "Meeting rhythm must be 200 characters or fewer."
    if not 6 <= planned_months <= 12:
        problems["planned_months"] = PLANNED_MONTHS
    if problems:
        raise FieldErrors(problems)
    if goals.strip():
        from backend.mentoring import goals as goal_service

        goal_service.add_lines_as_goals(
            session=session, member=member, mentorship=mentorship, text=goals
        )
    mentorship.meeting_rhythm = meeting_rhythm.strip()
    mentorship.planned_months = planned_months
    session.add(mentorship)
    session.flush()
    session.refresh(mentorship)
    return mentorship


def sessions_of(
    *, session: Session, member: Member | None, mentorship_id: int
) -> list[MentoringSession]:
    """The sessions logged for a mentorship (notes included: only the pair may ask)."""
    member = member_service.require_member(member)
    _own_mentorship(session, member, mentorship_id)
    return list(
        session.exec(
            select(MentoringSession)
            .where(MentoringSession.mentorship_id == mentorship_id)
            .order_by(col(MentoringSession.held_on).desc(), col(MentoringSession.id).desc())
        ).all()
    )


def sessions_for(
    *, session: Session, member: Member | None, mentorship_ids: Sequence[int]
) -> dict[int, list[MentoringSession]]:
    """Sessions of many mentorships in one query; only those where ``member`` is one of the pair."""
    member = member_service.require_member(member)
    result: dict[int, list[MentoringSession]] = {i: [] for i in mentorship_ids}
    if not mentorship_ids:
        return result
    rows = session.exec(
        select(MentoringSession)
        .join(Mentorship, col(Mentorship.id) == col(MentoringSession.mentorship_id))
        .where(col(MentoringSession.mentorship_id).in_(mentorship_ids))
        .where(or_(col(Mentorship.mentor_id) == member.id, col(Mentorship.mentee_id) == member.id))
        .order_by(col(MentoringSession.held_on).desc(), col(MentoringSession.id).desc())
    ).all()
    for row in rows:
        result[row.mentorship_id].append(row)
    return result


def own_feedback_for(
    *, session: Session, member: Member | None, mentorship_ids: Sequence[int]
) -> dict[int, MentorshipFeedback | None]:
    """The feedback ``member`` gave on each of their mentorships (None where not yet given)."""
    member = member_service.require_member(member)
    result: dict[int, MentorshipFeedback | None] = dict.fromkeys(mentorship_ids)
    if not mentorship_ids:
        return result
    rows = session.exec(
        select(MentorshipFeedback, Mentorship)
        .join(Mentorship, col(Mentorship.id) == col(MentorshipFeedback.mentorship_id))
        .where(col(MentorshipFeedback.mentorship_id).in_(mentorship_ids))
        .where(or_(col(Mentorship.mentor_id) == member.id, col(Mentorship.mentee_id) == member.id))
    ).all()
    for feedback, mentorship in rows:
        role = "mentor" if mentorship.mentor_id == member.id else "mentee"
        if feedback.author_role == role:
            result[feedback.mentorship_id] = feedback
    return result


@dataclass(frozen=True)
class SessionLog:
    """A meeting of the pair to log (a command, typed by the edge that read the form or input)."""

    held_on: date
    duration_minutes: int
    notes: str = ""
    booking_id: int | None = None  # the booked session this logs, if any


def log_session(
    *, session: Session, member: Member | None, mentorship_id: int, log: SessionLog
) -> MentoringSession:
    """Log a meeting of the pair: when, how long, and notes only the two of them can read.

    With ``log.booking_id`` it is the log of that booked session (once its time has passed),
    and the booking shows it was held; a booked session is logged once.
    """
    held_on, duration_minutes, notes = log.held_on, log.duration_minutes, log.notes
    member = member_service.require_member(member)
    mentorship = _own_mentorship(session, member, mentorship_id)
    if mentorship.status != "active":
        raise Conflict("This mentorship has ended; sessions can no longer be logged.")
    problems: dict[str, str] = {}
    date_problem = lifecycle.session_date_problem(
        held_on, began_at=mentorship.started_at, began="mentorship"
    )
    if date_problem:
        problems["held_on"] = date_problem
    if not 5 <= duration_minutes <= 480:
        problems["duration_minutes"] = DURATION
    if len(notes or "") > 10000:
        problems["notes"] = "Notes must be 10,000 characters or fewer."
    if problems:
        raise FieldErrors(problems)
    record = MentoringSession(
        mentorship_id=mentorship.id,
        held_on=held_on,
        duration_minutes=duration_minutes,
        notes=(notes or "").strip(),
        logged_by_id=member.id,
    )
    with session.begin_nested():  # the log and its booking's link, or neither
        session.add(record)
        session.flush()
        if log.booking_id is not None:
            bookings.claim_for_log(
                session=session,
                mentorship_id=mentorship.id,
                booking_id=log.booking_id,
                record=record,
            )
    other_id = mentorship.mentee_id if member.id == mentorship.mentor_id else mentorship.mentor_id
    # The pair has met: the quiet nudge ("log the last one if you have met") is done for both.
    for side_id in (member.id, other_id):
        if side_id is not None:
            notifications.mark_read_about(
                session=session,
                member_id=side_id,
                link=f"/mentoring/mentorships/{mentorship.id}",
                kind="checkin",
            )
    other = session.get(Member, other_id) if other_id else None
    if other is not None:
        lifecycle.tell(
            session,
            other,
            "mentorship",
            f"{member.name} logged a mentoring session",
            f"{member.name} logged your session of {london.format_date(held_on)} "
            f"({duration_minutes} minutes).",
            f"/mentoring/mentorships/{mentorship.id}",
        )
    session.flush()
    session.refresh(record)
    return record


OUTCOMES = ("completed", "ended_early")


@dataclass(frozen=True)
class MentorshipEnding:
    """How a side ends the mentorship (a command, typed by the edge that read the input)."""

    outcome: str
    rating: int | None = None
    feedback: str = ""
    reason: str = ""
    # Why it ended early, one of END_CATEGORIES; optional here (the page asks for it).
    category: str | None = None


END_CATEGORY = "Choose why the mentorship is ending early from the list."


def end_mentorship(
    *, session: Session, member: Member | None, mentorship_id: int, ending: MentorshipEnding
) -> Mentorship:
    """End a mentorship (completed, or early), freeing the mentor's place; feedback optional."""
    outcome, rating, feedback, reason = (
        ending.outcome,
        ending.rating,
        ending.feedback,
        ending.reason,
    )
    member = member_service.require_member(member)
    mentorship = _own_mentorship(session, member, mentorship_id)
    problems: dict[str, str] = {}
    if outcome not in OUTCOMES:
        problems["outcome"] = "Choose how the mentorship ended: completed, or ended early."
    if rating is not None and not 1 <= rating <= 5:
        problems["rating"] = RATING
    elif rating is None and (feedback or "").strip():
        # Feedback is stored with its rating; words alone would be silently lost.
        problems["rating"] = "Choose a rating to go with your feedback."
    if len(feedback or "") > 4000:
        problems["feedback"] = "Feedback must be 4,000 characters or fewer."
    if len(reason or "") > 1000:
        problems["reason"] = "Reason must be 1,000 characters or fewer."
    category = ending.category or None
    if category is not None and category not in END_CATEGORIES:
        problems["category"] = END_CATEGORY
    elif category is not None and outcome == "completed":
        problems["category"] = "A reason category is only for a mentorship that ended early."
    if problems:
        raise FieldErrors(problems)
    lifecycle.move_mentorship(
        session=session,
        mentorship_id=mentorship.id,
        to=outcome,
        ended_at=utcnow(),
        ended_by_id=member.id,
        end_reason=(reason or "").strip(),
        end_category=category,
    )
    if mentorship.group_id is None:  # a group member held no place of the mentor's
        lifecycle.free_place(session=session, mentor_id=mentorship.mentor_id)
    bookings.close_for_ended_mentorship(
        session=session, mentorship_id=mentorship.id, by=member.name
    )
    if rating is not None:
        _save_feedback(session, mentorship, member, rating, feedback)
    other_id = mentorship.mentee_id if member.id == mentorship.mentor_id else mentorship.mentor_id
    other = session.get(Member, other_id) if other_id else None
    if other is not None:
        what = "completed" if outcome == "completed" else "ended"
        lifecycle.tell(
            session,
            other,
            "mentorship",
            f"{member.name} has marked your mentorship as {what}",
            f"Your mentorship with {member.name} has {what}. Tell us how it went: your "
            "feedback helps match future pairs well.",
            f"/mentoring/mentorships/{mentorship.id}",
        )
    mentee = session.get(Member, mentorship.mentee_id) if mentorship.mentee_id else None
    if mentee is not None:
        self_assessment.invite(
            session=session, member=mentee, mentorship_id=mentorship.id, occasion="end"
        )
    network_changed(session=session)  # the matcher's view of the network moved
    session.flush()
    session.refresh(mentorship)
    return mentorship


def _save_feedback(
    session: Session, mentorship: Mentorship, member: Member, rating: int, text: str
) -> None:
    role = "mentor" if member.id == mentorship.mentor_id else "mentee"
    existing = session.exec(
        select(MentorshipFeedback)
        .where(MentorshipFeedback.mentorship_id == mentorship.id)
        .where(MentorshipFeedback.author_role == role)
    ).first()
    if existing is not None:
        raise Conflict("You have already given feedback on this mentorship.")
    session.add(
        MentorshipFeedback(
            mentorship_id=mentorship.id,
            author_role=role,
            rating=rating,
            text=(text or "").strip(),
        )
    )


@dataclass(frozen=True)
class FeedbackGiven:
    """A side's rating (1-5) of an ended mentorship, with optional words (a command)."""

    rating: int
    feedback: str = ""


def give_feedback(
    *, session: Session, member: Member | None, mentorship_id: int, given: FeedbackGiven
) -> MentorshipFeedback:
    """Rate an ended mentorship (1-5) with optional words; once per side."""
    rating, feedback = given.rating, given.feedback
    member = member_service.require_member(member)
    mentorship = _own_mentorship(session, member, mentorship_id)
    if mentorship.status == "active":
        raise Conflict("Feedback is given when the mentorship ends.")
    if not 1 <= rating <= 5:
        raise FieldErrors({"rating": RATING})
    if len(feedback or "") > 4000:
        raise FieldErrors({"feedback": "Feedback must be 4,000 characters or fewer."})
    try:
        with session.begin_nested():
            _save_feedback(session, mentorship, member, rating, feedback)
            session.flush()
    except IntegrityError as error:
        raise Conflict("You have already given feedback on this mentorship.") from error
    return session.exec(
        select(MentorshipFeedback)
        .where(MentorshipFeedback.mentorship_id == mentorship_id)
        .where(
            MentorshipFeedback.author_role
            == ("mentor" if member.id == mentorship.mentor_id else "mentee")
        )
    ).one()
