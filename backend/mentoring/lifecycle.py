"""The one mentoring lifecycle: requests, round offers and mentorships as explicit states.

Each kind of row has a state table (which status may become which) and one transition
function that applies it with a conditional UPDATE, so a row never moves from a state the
table does not allow, however callers race; an illegal move is refused with a ``Conflict``
that says what state the row is in.

Every path that starts a mentorship (a mentor accepts a request; both sides accept a round's
offer) goes through ``start_mentorship``. The database keeps the invariants too: at most one
active mentorship per mentee per programme, at most one open offer per mentee per programme
(partial unique indexes), one pair active in one programme at a time, and a mentor's active
mentorships never above capacity (a conditional UPDATE).

Programmes: a mentee may have one mentor in each programme (say one in the open, default
programme and one in an "into management" cohort); a new mentorship closes the mentee's other
open requests and offers in its own programme only. A mentor's places count across every
programme: capacity is the mentor's, not the programme's.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from backend import london
from backend.assessments import invitations as self_assessment
from backend.db import utcnow
from backend.errors import Conflict, NotFound
from backend.matchmaking.version import network_changed
from backend.members.models import Member, MentoringOffer
from backend.mentoring import goals
from backend.mentoring.models import MentoringGroup, MentorRequest, Mentorship
from backend.notifications import service as notifications
from backend.programmes import service as programmes
from backend.programmes.models import Programme
from backend.rounds import figures
from backend.rounds.models import MatchingRound, MatchProposal

# State tables: status -> the statuses it may become. Final states map to nothing.
REQUEST_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "open": ("accepted", "declined", "withdrawn", "expired", "released"),
    "accepted": (),
    "declined": (),
    "withdrawn": (),
    "expired": (),
    "released": (),
}
OFFER_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "proposed": ("offered", "removed", "withdrawn"),
    "unmatched": (),
    "removed": (),
    "offered": ("accepted", "declined", "expired", "withdrawn"),
    "accepted": (),
    "declined": (),
    "expired": (),
    "withdrawn": (),
}
MENTORSHIP_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "active": ("completed", "ended_early"),
    "completed": (),
    "ended_early": (),
}

_OFFER_STATE_WORDS = {
    "proposed": "still in review",
    "unmatched": "not a match",
    "removed": "removed by the organiser",
    "offered": "waiting for an answer",
    "accepted": "accepted",
    "declined": "declined",
    "expired": "closed: the time to answer has passed",
    "withdrawn": "withdrawn: the mentee started a mentorship, or the mentor stepped back",
}


# Why a row closed when an admin suspended an account: plain words that neither blame nor say
# why (the reason code stays in the audit log).
MENTOR_INACTIVE = "The mentor's account is no longer active."
MENTEE_INACTIVE = "The mentee's account is no longer active."


class CapacityReached(Conflict):
    """The mentor has no free place: every place is taken by an active mentorship."""

    code = "capacity_reached"


class AlreadyHasMentor(Conflict):
    """The mentee already has an active mentorship in this programme: one mentor at a time."""

    code = "already_has_mentor"


def _sources(table: dict[str, tuple[str, ...]], to: str, noun: str) -> list[str]:
    sources = [state for state, targets in table.items() if to in targets]
    if not sources:
        # A programming error, not a user's: no state of the table leads there.
        raise ValueError(f"no {noun} may become {to!r}")
    return sources


def _move(
    session: Session,
    model: Any,
    table: dict[str, tuple[str, ...]],
    noun: str,
    row_id: int,
    to: str,
    strict: bool,
    words: dict[str, str],
    values: dict[str, object],
) -> bool:
    sources = _sources(table, to, noun)
    moved = session.exec(
        update(model)
        .where(model.id == row_id)
        .where(model.status.in_(sources))
        .values(status=to, **values)
    ).rowcount
    if moved or not strict:
        return bool(moved)
    current = session.execute(select(model.status).where(model.id == row_id)).scalar()
    if current is None:
        raise NotFound(f"No such {noun}.", field=f"{noun}_id")
    raise Conflict(f"This {noun} is {words.get(current, 'already ' + current)}.")


def move_request(
    *, session: Session, request_id: int, to: str, strict: bool = True, **values: object
) -> bool:
    """Move a request to ``to`` if its state table allows it from the current state.

    Refused with a ``Conflict`` (or, with ``strict=False``, returns False) when not.
    """
    values.setdefault("responded_at", utcnow())
    return _move(
        session, MentorRequest, REQUEST_TRANSITIONS, "request", request_id, to, strict, {}, values
    )


def move_offer(
    *, session: Session, proposal_id: int, to: str, strict: bool = True, **values: object
) -> bool:
    """Move a round's proposal (an offer once published) to ``to``, if its table allows."""
    return _move(
        session,
        MatchProposal,
        OFFER_TRANSITIONS,
        "offer",
        proposal_id,
        to,
        strict,
        _OFFER_STATE_WORDS,
        values,
    )


def move_mentorship(
    *, session: Session, mentorship_id: int, to: str, strict: bool = True, **values: object
) -> bool:
    """End a mentorship (``completed`` or ``ended_early``), if it is still active.

    When it was the last active mentorship of a mentoring group, the group closes too.
    """
    moved = _move(
        session,
        Mentorship,
        MENTORSHIP_TRANSITIONS,
        "mentorship",
        mentorship_id,
        to,
        strict,
        {"completed": "already completed", "ended_early": "already ended"},
        values,
    )
    if moved:
        group_id = session.execute(
            select(Mentorship.group_id).where(col(Mentorship.id) == mentorship_id)
        ).scalar()
        if group_id is not None:
            close_group_if_done(session=session, group_id=group_id)
    return moved


def close_group_if_done(*, session: Session, group_id: int) -> bool:
    """Close the mentoring group once none of its mentorships is active; True if it closed.

    A conditional UPDATE, so two mentorships ending at once close it once. A closed group
    logs no more sessions, and its conversation becomes read-only.
    """
    still_active = (
        select(Mentorship.id)
        .where(col(Mentorship.group_id) == group_id)
        .where(col(Mentorship.status) == "active")
        .exists()
    )
    closed = session.exec(
        update(MentoringGroup)
        .where(col(MentoringGroup.id) == group_id)
        .where(col(MentoringGroup.status) == "active")
        .where(~still_active)
        .values(status="closed")
    ).rowcount
    return bool(closed)


def close_groups_of_programme(*, session: Session, programme_id: int) -> int:
    """Close every active mentoring group of an ended programme; returns how many."""
    return session.exec(
        update(MentoringGroup)
        .where(col(MentoringGroup.programme_id) == programme_id)
        .where(col(MentoringGroup.status) == "active")
        .values(status="closed")
    ).rowcount


def offer_state_words(status: str) -> str:
    """How an offer's state reads in a sentence ("This offer is ...")."""
    return _OFFER_STATE_WORDS.get(status, status)


def lock_mentee(*, session: Session, mentee_id: int) -> None:
    """Serialise every change to one mentee's mentoring state (a row lock on PostgreSQL).

    Taken first by both paths to a mentorship, so a direct accept and an offer accept for one
    mentee queue instead of deadlocking; on SQLite, transactions are serialised already.
    """
    session.execute(select(Member.id).where(Member.id == mentee_id).with_for_update())


def recount_open_requests(*, session: Session, mentee_id: int) -> None:
    """Re-derive the mentee's open-request counter from the rows, in this transaction."""
    open_count = (
        select(func.count())
        .select_from(MentorRequest)
        .where(MentorRequest.mentee_id == mentee_id)
        .where(MentorRequest.status == "open")
        .scalar_subquery()
    )
    session.execute(
        update(Member).where(col(Member.id) == mentee_id).values(open_requests=open_count)
    )


def active_mentorship_of(
    *, session: Session, mentee_id: int, programme_id: int | None = None
) -> Mentorship | None:
    """The mentee's active mentorship in the programme (None: the default programme), if any."""
    if programme_id is None:
        programme_id = programmes.default_programme_id(session=session)
    return session.exec(
        select(Mentorship)
        .where(Mentorship.mentee_id == mentee_id)
        .where(Mentorship.programme_id == programme_id)
        .where(Mentorship.status == "active")
    ).first()


def active_pair(*, session: Session, mentee_id: int, mentor_id: int) -> Mentorship | None:
    """The pair's active mentorship in any programme, if any (one at a time per pair)."""
    return session.exec(
        select(Mentorship)
        .where(Mentorship.mentee_id == mentee_id)
        .where(Mentorship.mentor_id == mentor_id)
        .where(Mentorship.status == "active")
    ).first()


def already_paired(
    session: Session, mentee: Member, mentor: Member, mentorship: Mentorship
) -> Conflict:
    """The refusal for a pair already working together (in this or another programme)."""
    where = in_programme(session, mentorship.programme_id)
    return Conflict(
        f"{mentor.name} already mentors {mentee.name}{where}: a pair works together in one "
        "programme at a time.",
        field="mentor_id",
    )


def in_programme(session: Session, programme_id: int) -> str:
    """ " in <programme name>" where the network runs more than one programme, else ""."""
    several = session.exec(select(func.count()).select_from(Programme)).one() > 1
    if not several:
        return ""
    name = session.execute(select(Programme.name).where(Programme.id == programme_id)).scalar()
    return f" in {name}" if name else ""


def already_has_mentor(session: Session, mentee: Member, programme_id: int) -> AlreadyHasMentor:
    """The refusal for a second active mentorship of ``mentee`` in one programme."""
    where = in_programme(session, programme_id)
    rule = "one mentor at a time in a programme" if where else "one mentor at a time"
    return AlreadyHasMentor(f"{mentee.name} already has a mentor{where}: a member has {rule}.")


def close_mentorship(
    *,
    session: Session,
    mentorship: Mentorship,
    to: str,
    ended_at: object = None,
    ended_by_id: int | None = None,
    end_reason: str = "",
) -> bool:
    """End an active mentorship (``completed`` or ``ended_early``) and free the mentor's place.

    The transition and the place go together: the place is freed only when this call moved
    the mentorship, so two callers racing to end it free it once. Returns True when it moved.
    """
    moved = move_mentorship(
        session=session,
        mentorship_id=mentorship.id,
        to=to,
        strict=False,
        ended_at=ended_at or utcnow(),
        ended_by_id=ended_by_id,
        end_reason=end_reason,
    )
    # A group member's mentorship holds a place in the group, not one of the mentor's places.
    if moved and mentorship.mentor_id is not None and mentorship.group_id is None:
        session.execute(
            update(MentoringOffer)
            .where(col(MentoringOffer.member_id) == mentorship.mentor_id)
            .where(col(MentoringOffer.active_mentees) > 0)
            .values(active_mentees=MentoringOffer.active_mentees - 1)
        )
    if moved:
        _cancel_sessions(session, mentorship.id)
    return bool(moved)


def _cancel_sessions(session: Session, mentorship_id: int) -> None:
    """An ended mentorship's future booked sessions leave both calendars (METHOD:CANCEL)."""
    from backend.mentoring import bookings  # it notifies through services that import us

    bookings.close_for_ended_mentorship(
        session=session, mentorship_id=mentorship_id, by="peerbridge, as the mentorship ended,"
    )


def session_date_problem(held_on: date, *, began_at: datetime, began: str) -> str | None:
    """What is wrong with a session's date (None if nothing): a session is held between the day
    its mentorship or group began (``began_at``; ``began`` says what began) and today, both in
    London, inclusive."""
    if held_on > london.london_today(utcnow()):
        return "The date of the session must be today or in the past."
    first_day = london.in_london(began_at).date()
    if held_on < first_day:
        return (
            f"The date of the session must be on or after {london.format_date(first_day)}, "
            f"when the {began} started."
        )
    return None


def tell(session: Session, member: Member, kind: str, title: str, body: str, link: str) -> None:
    """Notify one member (in the app, and by email if they chose it), in this transaction."""
    notifications.notify_member(
        session=session, member=member, kind=kind, title=title, body=body, link=link
    )


def _programme_of(
    session: Session, *, request: MentorRequest | None, proposal: MatchProposal | None
) -> int:
    """The programme a new mentorship belongs to: its request's, or its round's."""
    if request is not None:
        return request.programme_id
    if proposal is not None:
        matching_round = session.get(MatchingRound, proposal.round_id)
        if matching_round is not None:
            return matching_round.programme_id
    return programmes.default_programme_id(session=session)


def start_mentorship(
    *,
    session: Session,
    mentor_id: int,
    mentee_id: int,
    request: MentorRequest | None = None,
    proposal: MatchProposal | None = None,
    group: MentoringGroup | None = None,
) -> Mentorship:
    """Start a mentorship, whichever path leads here; the caller commits.

    With ``group`` (group mentoring, the group's mentor is ``mentor_id``) the mentee joins
    the group: the group's size in its programme is the mentor's capacity there, so no one of
    the mentor's own places is taken, and the pair is told with a link to the group's page.

    Takes one of the mentor's places atomically, refuses if the mentee already has a mentor in
    the programme (or the programme has ended), closes the mentee's other open requests and
    open offers in the same programme (telling those mentors),
    recounts the mentee's open requests and tells the pair. Nothing is written when refused.
    """
    lock_mentee(session=session, mentee_id=mentee_id)
    mentee = session.get(Member, mentee_id)
    mentor = session.get(Member, mentor_id)
    if mentee is None or mentor is None:
        raise NotFound("A member of this pair no longer exists.")
    programme_id = _programme_of(session, request=request, proposal=proposal)
    programme = session.get(Programme, programme_id)
    if programme is not None and not programme.is_default and programme.status == "ended":
        raise Conflict(f"{programme.name} has ended: no new mentorship can start in it.")
    if (
        active_mentorship_of(session=session, mentee_id=mentee_id, programme_id=programme_id)
        is not None
    ):
        raise already_has_mentor(session, mentee, programme_id)
    paired = active_pair(session=session, mentee_id=mentee_id, mentor_id=mentor_id)
    if paired is not None:
        raise already_paired(session, mentee, mentor, paired)
    if group is not None and (group.mentor_id != mentor_id or group.programme_id != programme_id):
        raise Conflict("This group belongs to another mentor or programme.", field="group_id")
    try:
        with session.begin_nested():
            took_place = (
                group is not None
                or session.exec(
                    update(MentoringOffer)
                    .where(col(MentoringOffer.member_id) == mentor_id)
                    .where(col(MentoringOffer.paused).is_(False))
                    .where(col(MentoringOffer.active_mentees) < col(MentoringOffer.capacity))
                    .values(active_mentees=MentoringOffer.active_mentees + 1)
                ).rowcount
            )
            if not took_place:
                raise CapacityReached(f"{mentor.name} has no free mentoring place left.")
            mentorship = Mentorship(
                programme_id=programme_id,
                mentor_id=mentor_id,
                mentee_id=mentee_id,
                group_id=group.id if group is not None else None,
                request_id=request.id if request is not None else None,
                planned_months=6,
            )
            session.add(mentorship)
            session.flush()
            # The mentee's written goals become the pair's first tracked goals.
            goals.seed_from_text(session=session, mentorship=mentorship, text=mentee.goals)
    except IntegrityError as error:
        # The partial unique index: another transaction gave this mentee a mentor first.
        raise already_has_mentor(session, mentee, programme_id) from error
    if proposal is not None:
        move_offer(
            session=session,
            proposal_id=proposal.id,
            to="accepted",
            mentorship_id=mentorship.id,
        )
    rounds = _close_the_rest(
        session, mentee, programme_id, keep_request=request, keep_proposal=proposal
    )
    recount_open_requests(session=session, mentee_id=mentee_id)
    if proposal is not None:
        rounds.add(proposal.round_id)
    for round_id in sorted(rounds):
        figures.mark_stale(session=session, round_id=round_id)
    link = f"/mentoring/mentorships/{mentorship.id}"
    if group is not None:
        # The mentor hears once per group, from the round's publishing, not once per mentee.
        tell(
            session,
            mentee,
            "mentorship",
            f"You have joined {group.name or 'a mentoring group'}",
            f"You are in a mentoring group with {mentor.name} as your mentor. Meet your group "
            "and see its sessions on the group's page.",
            f"/groups/{group.id}",
        )
    elif proposal is None:
        tell(
            session,
            mentee,
            "request_answered",
            f"{mentor.name} has agreed to mentor you",
            f"{mentor.name} accepted your request. Agree how you will work together and book "
            "your first session.",
            link,
        )
    else:
        for member in (mentee, mentor):
            tell(
                session,
                member,
                "mentorship",
                "Your mentorship has started",
                "You have both accepted the match. Agree how you will work together and book "
                "your first session.",
                link,
            )
    self_assessment.invite(
        session=session, member=mentee, mentorship_id=mentorship.id, occasion="start"
    )
    network_changed(session=session)  # a place is taken: the matcher's view of the network moved
    return mentorship


def _close_the_rest(
    session: Session,
    mentee: Member,
    programme_id: int,
    *,
    keep_request: MentorRequest | None,
    keep_proposal: MatchProposal | None,
) -> set[int]:
    # The mentee has a mentor in this programme now: their other open requests and offers in
    # it close, kindly. Those in other programmes stay open (one mentor per programme).
    requests = session.exec(
        select(MentorRequest)
        .where(MentorRequest.mentee_id == mentee.id)
        .where(MentorRequest.programme_id == programme_id)
        .where(MentorRequest.status == "open")
    ).all()
    for other in requests:
        if keep_request is not None and other.id == keep_request.id:
            continue
        if move_request(
            session=session,
            request_id=other.id,
            to="withdrawn",
            strict=False,
            closed_reason="mentored_elsewhere",
        ):
            other_mentor = session.get(Member, other.mentor_id)
            if other_mentor is not None:
                tell(
                    session,
                    other_mentor,
                    "request_closed",
                    f"{mentee.name} has found a mentor",
                    f"{mentee.name} has started a mentorship with someone else, so their "
                    "request to you is closed. Thank you for considering it.",
                    "/mentoring/requests",
                )
    offers = session.exec(
        select(MatchProposal)
        .join(MatchingRound, col(MatchingRound.id) == col(MatchProposal.round_id))
        .where(MatchProposal.mentee_id == mentee.id)
        .where(MatchingRound.programme_id == programme_id)
        .where(MatchProposal.status == "offered")
    ).all()
    rounds: set[int] = set()
    for offer in offers:
        if keep_proposal is not None and offer.id == keep_proposal.id:
            continue
        rounds.add(offer.round_id)
        closed = move_offer(
            session=session,
            proposal_id=offer.id,
            to="withdrawn",
            strict=False,
            decline_reason="The mentee started a mentorship with someone else.",
        )
        offer_mentor = session.get(Member, offer.mentor_id) if offer.mentor_id else None
        if closed and offer_mentor is not None:
            tell(
                session,
                offer_mentor,
                "round",
                f"{mentee.name} has found a mentor",
                f"{mentee.name} has started a mentorship with someone else, so the proposed "
                "match with you is closed. Your place is free again.",
                f"/mentoring/proposals/{offer.id}",
            )
    return rounds


def free_place(*, session: Session, mentor_id: int | None) -> None:
    """Give back the place an ended mentorship held (never below zero)."""
    if mentor_id is None:
        return
    session.execute(
        update(MentoringOffer)
        .where(col(MentoringOffer.member_id) == mentor_id)
        .where(col(MentoringOffer.active_mentees) > 0)
        .values(active_mentees=MentoringOffer.active_mentees - 1)
    )


def end_for_inactive_account(*, session: Session, member: Member, by: Member) -> int:
    """End the member's active mentorships (as mentor or mentee) early because their account
    is suspended; each frees its mentor's place and the other side is told, kindly. Returns
    how many ended. The caller commits."""
    active = session.exec(
        select(Mentorship)
        .where((col(Mentorship.mentor_id) == member.id) | (col(Mentorship.mentee_id) == member.id))
        .where(Mentorship.status == "active")
        .order_by(col(Mentorship.id))
    ).all()
    ended = 0
    for mentorship in active:
        as_mentor = mentorship.mentor_id == member.id
        if not move_mentorship(
            session=session,
            mentorship_id=mentorship.id,
            to="ended_early",
            strict=False,
            ended_at=utcnow(),
            ended_by_id=by.id,
            end_reason=MENTOR_INACTIVE if as_mentor else MENTEE_INACTIVE,
        ):
            continue  # ended meanwhile by one of the pair
        ended += 1
        if mentorship.group_id is None:  # a group member held no place of the mentor's
            free_place(session=session, mentor_id=mentorship.mentor_id)
        _cancel_sessions(session, mentorship.id)
        other_id = mentorship.mentee_id if as_mentor else mentorship.mentor_id
        other = session.get(Member, other_id) if other_id is not None else None
        if other is None:
            continue
        link = f"/mentoring/mentorships/{mentorship.id}"
        if as_mentor:
            tell(
                session,
                other,
                "mentorship",
                "Your mentorship has ended",
                f"Your mentor's account is no longer active, so your mentorship with "
                f"{member.name} has ended. It is nothing to do with you: you can ask another "
                "mentor, or be matched in the next round.",
                link,
            )
        else:
            tell(
                session,
                other,
                "mentorship",
                "Your mentorship has ended",
                f"Your mentee's account is no longer active, so your mentorship with "
                f"{member.name} has ended. Your place is free again.",
                link,
            )
    return ended


def withdraw_offers_to_inactive_mentee(*, session: Session, mentee: Member) -> int:
    """Withdraw the open offers made to a mentee whose account is suspended (no re-offer: they
    cannot answer one); each mentor is told their place is free. Returns how many."""
    open_offers = session.exec(
        select(MatchProposal)
        .where(MatchProposal.mentee_id == mentee.id)
        .where(MatchProposal.status == "offered")
        .order_by(col(MatchProposal.id))
    ).all()
    withdrawn = 0
    rounds: set[int] = set()
    for offer in open_offers:
        if not move_offer(
            session=session,
            proposal_id=offer.id,
            to="withdrawn",
            strict=False,
            decline_reason=MENTEE_INACTIVE,
            reoffer_pending=False,
        ):
            continue
        withdrawn += 1
        rounds.add(offer.round_id)
        mentor = session.get(Member, offer.mentor_id) if offer.mentor_id else None
        if mentor is not None:
            tell(
                session,
                mentor,
                "round",
                f"The proposed match with {mentee.name} is closed",
                f"{mentee.name}'s account is no longer active, so the proposed match with them "
                "is closed. Your place is free again.",
                f"/mentoring/proposals/{offer.id}",
            )
    for round_id in sorted(rounds):
        figures.mark_stale(session=session, round_id=round_id)
    return withdrawn


def withdraw_uncovered_offers(*, session: Session, mentor: Member, leaving: bool = False) -> int:
    """Withdraw the mentor's open offers that their places no longer cover; returns how many.

    Called when a mentor pauses (no place covers any offer) or lowers their capacity below
    their active mentees plus open offers; ``leaving`` (the account suspended) withdraws every
    open offer. The offers the mentor has already accepted are kept
    first, then the oldest. Each withdrawn offer's mentee is told, and the worker's re-offer
    step (``rounds.reoffer_pending``) looks for another mentor for them; the rounds' figures
    are marked for recounting. The caller commits.
    """
    record = session.get(MentoringOffer, mentor.id)
    places = (
        0 if leaving or record is None or record.paused else record.capacity - record.active_mentees
    )
    open_offers = session.exec(
        select(MatchProposal)
        .where(MatchProposal.mentor_id == mentor.id)
        .where(MatchProposal.status == "offered")
    ).all()
    kept_first = sorted(
        open_offers,
        key=lambda p: (p.mentor_answer != "accepted", p.offered_at or p.created_at, p.id),
    )
    withdrawn = 0
    rounds: set[int] = set()
    for offer in kept_first[max(places, 0) :]:
        if not move_offer(
            session=session,
            proposal_id=offer.id,
            to="withdrawn",
            strict=False,
            decline_reason=MENTOR_INACTIVE
            if leaving
            else "The mentor paused mentoring or reduced their places.",
            reoffer_pending=True,
        ):
            continue
        withdrawn += 1
        rounds.add(offer.round_id)
        mentee = session.get(Member, offer.mentee_id) if offer.mentee_id else None
        if mentee is not None:
            why = (
                f"{mentor.name}'s account is no longer active"
                if leaving
                else f"{mentor.name} has paused mentoring or has fewer places now"
            )
            tell(
                session,
                mentee,
                "round",
                f"{mentor.name} can no longer take on your match",
                f"{why}, so the proposed match with them is closed. It is nothing to do with "
                "you: we are looking for another mentor for you.",
                f"/mentoring/proposals/{offer.id}",
            )
    for round_id in sorted(rounds):
        figures.mark_stale(session=session, round_id=round_id)
    return withdrawn
