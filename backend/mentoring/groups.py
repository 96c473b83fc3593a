"""Group mentoring: one mentor and a group of mentees, formed by a programme's round.

In a group mentoring programme (``Programme.type == "group"``) the round assigns mentees to
mentors with the programme's group size as each mentor's capacity there (less the members
their group already has): the matcher's optimiser decides who joins whom by each mentee's fit
with the mentor (skills sought that the mentor offers first), so a group gathers mentees who
seek what its mentor offers. There is no pairwise cohesion term between mentees (it would make
the assignment quadratic); the group's shared ground is its mentor's skills.

Publishing a group round makes no offers: it forms the groups (one active group per mentor
per programme, a round adds to it) and starts each mentee's own mentorship through the one
lifecycle (``lifecycle.start_mentorship(group=...)``), so one active mentorship per mentee per
programme and one programme per pair still hold. A group member's mentorship takes no place of
the mentor's own capacity: the group size is the mentor's capacity in that programme.

Group sessions are the group's own table (``group_session`` with attendance), not a
``MentoringSession`` per member: one meeting is one row with one set of notes shared with the
group, and who came is a list; the mentor or any member of the group may log one.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from backend import london
from backend.chapters import service as chapters
from backend.db import utcnow
from backend.errors import Conflict, DomainError, FieldErrors, NotFound
from backend.matchmaking import frames
from backend.members import service as member_service
from backend.members.models import Member
from backend.mentoring import lifecycle
from backend.mentoring.models import (
    GroupSession,
    GroupSessionAttendance,
    MentoringGroup,
    Mentorship,
)
from backend.programmes.models import Programme
from backend.rounds.models import MatchingRound, MatchProposal

MAX_NOTES = 10000
DURATION = "Duration must be from 5 to 480 minutes."


def is_group_programme(programme: Programme | None) -> bool:
    """True for a group mentoring programme."""
    return programme is not None and programme.type == "group"


def _members_now(session: Session, group_ids: Collection[int]) -> dict[int, int]:
    if not group_ids:
        return {}
    rows = session.exec(
        select(Mentorship.group_id, func.count())
        .where(col(Mentorship.group_id).in_(list(group_ids)))
        .where(Mentorship.status == "active")
        .group_by(col(Mentorship.group_id))
    ).all()
    return {group_id: count for group_id, count in rows if group_id is not None}


def group_places(
    *, session: Session, programme: Programme, mentor_ids: Collection[int] | None
) -> dict[int, int]:
    """Free places of each mentor in a group programme: the group size less the active members
    of their group there. ``mentor_ids`` None: every mentor offering places in the network."""
    size = programme.group_size or 0
    if mentor_ids is None:
        mentor_ids = set(frames.free_places(session=session))
    groups = session.exec(
        select(MentoringGroup)
        .where(MentoringGroup.programme_id == programme.id)
        .where(MentoringGroup.status == "active")
    ).all()
    group_of = {g.mentor_id: g.id for g in groups}
    members = _members_now(session, list(group_of.values()))
    places = {m: size - members.get(group_of.get(m, -1), 0) for m in mentor_ids}
    return {m: free for m, free in places.items() if free > 0}


def _group_for(session: Session, programme: Programme, mentor: Member) -> MentoringGroup:
    """The mentor's active group in the programme, made if missing (one per mentor per
    programme, a partial unique index, so two publishers racing get the one group)."""
    found = session.exec(
        select(MentoringGroup)
        .where(MentoringGroup.programme_id == programme.id)
        .where(MentoringGroup.mentor_id == mentor.id)
        .where(MentoringGroup.status == "active")
    ).first()
    if found is not None:
        return found
    group = MentoringGroup(
        programme_id=programme.id, mentor_id=mentor.id, name=f"{mentor.name}'s group"
    )
    try:
        with session.begin_nested():
            session.add(group)
            session.flush()
    except IntegrityError:
        return _group_for(session, programme, mentor)
    return group


def form_groups(
    *, session: Session, matching_round: MatchingRound, proposals: Sequence[MatchProposal]
) -> int:
    """Publish a group round's proposed pairs: groups formed, each mentee's mentorship started
    through the lifecycle; a pair the lifecycle refuses is withdrawn with its reason. Returns
    how many mentees joined a group."""
    programme = session.get(Programme, matching_round.programme_id)
    assert programme is not None
    joined = 0
    told: set[int] = set()
    for proposal in proposals:
        mentor = session.get(Member, proposal.mentor_id) if proposal.mentor_id else None
        mentee_id = proposal.mentee_id
        why = None
        if mentor is None or mentee_id is None or not mentor.is_active:
            why = lifecycle.MENTOR_INACTIVE
        else:
            group = _group_for(session, programme, mentor)
            try:
                with session.begin_nested():
                    lifecycle.move_offer(
                        session=session,
                        proposal_id=proposal.id,
                        to="offered",
                        offered_at=utcnow(),
                    )
                    lifecycle.start_mentorship(
                        session=session,
                        mentor_id=mentor.id,
                        mentee_id=mentee_id,
                        proposal=proposal,
                        group=group,
                    )
            except (DomainError, IntegrityError) as error:
                why = str(error)[:1000] or "The mentee could not join the group."
            else:
                joined += 1
                told.add(group.id)
        if why is not None:
            lifecycle.move_offer(
                session=session,
                proposal_id=proposal.id,
                to="withdrawn",
                strict=False,
                decline_reason=why,
            )
    for group_id in sorted(told):
        formed = session.get(MentoringGroup, group_id)
        mentor = session.get(Member, formed.mentor_id) if formed and formed.mentor_id else None
        if formed is not None and mentor is not None:
            lifecycle.tell(
                session,
                mentor,
                "mentorship",
                f"Your mentoring group in {programme.name} is ready",
                f"The organisers have formed your mentoring group in {programme.name}. Meet its "
                "members and log your group sessions on the group's page.",
                f"/groups/{formed.id}",
            )
    return joined


# The group's page -----------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupView:
    """A group as its mentor and members see it: who is in it, and its sessions.

    ``notes_shown`` False: an organiser's read-only view (members and session dates; the
    session notes are the group's own and are not shown)."""

    group: MentoringGroup
    programme_name: str
    mentor: Member | None
    members: list[Member]
    sessions: list[GroupSession]
    attended: dict[int, list[int]] = field(default_factory=dict)  # session id -> member ids
    notes_shown: bool = True

    @property
    def for_organiser(self) -> bool:
        """An organiser's read-only view."""
        return not self.notes_shown


def _member_ids(session: Session, group_id: int) -> list[int]:
    return _members_of(session, [group_id])[group_id]


def _members_of(session: Session, group_ids: Collection[int]) -> dict[int, list[int]]:
    """The mentee ids of each group: those whose mentorship in it is active (one query)."""
    found: dict[int, list[int]] = {i: [] for i in group_ids}
    if not found:
        return found
    for group_id, mentee_id in session.exec(
        select(Mentorship.group_id, Mentorship.mentee_id)
        .where(col(Mentorship.group_id).in_(list(found)))
        .where(Mentorship.status == "active")
        .order_by(col(Mentorship.id))
    ).all():
        if group_id is not None and mentee_id is not None:
            found[group_id].append(mentee_id)
    return found


def _require_group(session: Session, member: Member, group_id: int) -> MentoringGroup:
    """The group, if ``member`` is its mentor or one of its members; NotFound otherwise (so a
    group's existence does not leak)."""
    group = session.get(MentoringGroup, group_id)
    if group is None or (
        group.mentor_id != member.id and member.id not in _member_ids(session, group.id)
    ):
        raise NotFound("No such mentoring group.", field="group_id")
    return group


def _organiser_may_see(session: Session, member: Member, group: MentoringGroup) -> bool:
    """Whether ``member`` organises a scope covering the group's programme (read-only)."""
    scope = chapters.scope_of(session=session, member=member)
    if not scope.is_organiser or not chapters.covers_programme(
        session=session, scope=scope, programme_id=group.programme_id
    ):
        return False
    chapters.require_scope(session=session, member=member)  # staff: the second factor
    return True


def _views(
    session: Session, found: Sequence[MentoringGroup], *, notes_shown: bool = True
) -> list[GroupView]:
    """Views of ``found`` in a fixed number of queries, however many groups there are."""
    if not found:
        return []
    group_ids = [g.id for g in found]
    members_of = _members_of(session, group_ids)
    people = member_service.get_many(
        session=session,
        member_ids=sorted(
            {i for ids in members_of.values() for i in ids}
            | {g.mentor_id for g in found if g.mentor_id is not None}
        ),
    )
    sessions_of: dict[int, list[GroupSession]] = {i: [] for i in group_ids}
    for row in session.exec(
        select(GroupSession)
        .where(col(GroupSession.group_id).in_(group_ids))
        .order_by(col(GroupSession.held_on).desc(), col(GroupSession.id).desc())
    ).all():
        sessions_of[row.group_id].append(row)
    attended: dict[int, list[int]] = {s.id: [] for rows in sessions_of.values() for s in rows}
    if attended:
        for session_id, member_id in session.exec(
            select(GroupSessionAttendance.session_id, GroupSessionAttendance.member_id)
            .where(col(GroupSessionAttendance.session_id).in_(list(attended)))
            .order_by(col(GroupSessionAttendance.member_id))
        ).all():
            attended[session_id].append(member_id)
    names = dict(
        session.exec(
            select(Programme.id, Programme.name).where(
                col(Programme.id).in_(sorted({g.programme_id for g in found}))
            )
        ).all()
    )
    return [
        GroupView(
            group=g,
            programme_name=names.get(g.programme_id, ""),
            mentor=people.get(g.mentor_id) if g.mentor_id is not None else None,
            members=[people[i] for i in members_of[g.id] if i in people],
            sessions=sessions_of[g.id],
            attended={s.id: attended[s.id] for s in sessions_of[g.id]},
            notes_shown=notes_shown,
        )
        for g in found
    ]


def get_group(
    *, session: Session, member: Member | None, group_id: int, as_organiser: bool = False
) -> GroupView:
    """A group, for its mentor and its members: members and sessions, latest first.

    ``as_organiser``: an organiser whose scope covers the group's programme (and who is not in
    the group) gets a read-only view without the session notes; anyone else, NotFound.
    """
    member = member_service.require_member(member)
    try:
        group = _require_group(session, member, group_id)
    except NotFound:
        seen = session.get(MentoringGroup, group_id)
        if not as_organiser or seen is None or not _organiser_may_see(session, member, seen):
            raise
        return _views(session, [seen], notes_shown=False)[0]
    return _views(session, [group])[0]


def my_groups(*, session: Session, member: Member | None) -> list[MentoringGroup]:
    """The groups the member mentors or belongs to (an active mentorship in it), newest first."""
    member = member_service.require_member(member)
    as_member = select(Mentorship.group_id).where(
        Mentorship.mentee_id == member.id,
        Mentorship.status == "active",
        col(Mentorship.group_id).is_not(None),
    )
    return list(
        session.exec(
            select(MentoringGroup)
            .where(
                (col(MentoringGroup.mentor_id) == member.id) | col(MentoringGroup.id).in_(as_member)
            )
            .order_by(col(MentoringGroup.created_at).desc(), col(MentoringGroup.id).desc())
        ).all()
    )


def my_group_views(*, session: Session, member: Member | None) -> list[GroupView]:
    """``my_groups`` with their members and sessions, in a fixed number of queries."""
    return _views(session, my_groups(session=session, member=member))


@dataclass(frozen=True)
class GroupSessionLog:
    """A group meeting to log: when, how long, notes for the group, and who came."""

    held_on: date
    duration_minutes: int
    notes: str = ""
    attended_ids: tuple[int, ...] = ()


def log_group_session(
    *, session: Session, member: Member | None, group_id: int, log: GroupSessionLog
) -> GroupSession:
    """Log a meeting of the group (its mentor or any member may); the others are told."""
    member = member_service.require_member(member)
    group = _require_group(session, member, group_id)
    if group.status != "active":
        raise Conflict("This group has closed; sessions can no longer be logged.")
    in_group = set(_member_ids(session, group.id)) | (
        {group.mentor_id} if group.mentor_id else set()
    )
    problems: dict[str, str] = {}
    date_problem = lifecycle.session_date_problem(
        log.held_on, began_at=group.created_at, began="group"
    )
    if date_problem:
        problems["held_on"] = date_problem
    if not 5 <= log.duration_minutes <= 480:
        problems["duration_minutes"] = DURATION
    if len(log.notes or "") > MAX_NOTES:
        problems["notes"] = "Notes must be 10,000 characters or fewer."
    attended = set(log.attended_ids)
    if not attended:
        problems["attended_ids"] = "Choose who came to the session."
    elif attended - in_group:
        problems["attended_ids"] = "Choose only people in this group."
    if problems:
        raise FieldErrors(problems)
    record = GroupSession(
        group_id=group.id,
        held_on=log.held_on,
        duration_minutes=log.duration_minutes,
        notes=(log.notes or "").strip(),
        logged_by_id=member.id,
    )
    session.add(record)
    session.flush()
    for member_id in sorted(attended):
        session.add(GroupSessionAttendance(session_id=record.id, member_id=member_id))
    others = session.exec(
        select(Member).where(col(Member.id).in_(sorted(in_group - {member.id})))
    ).all()
    for other in others:
        lifecycle.tell(
            session,
            other,
            "session",
            f"{member.name} logged a group session",
            f"{member.name} logged your group's session of {london.format_date(log.held_on)} "
            f"({log.duration_minutes} minutes).",
            f"/groups/{group.id}",
        )
    session.flush()
    session.refresh(record)
    return record
