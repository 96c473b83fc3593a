"""Tracked goals of a mentorship (what, by when, how we'll know) and their progress notes.

Only the two people of the mentorship read or change them: every function here finds the
goal through a mentorship the member is part of, and says "not found" to anyone else
(organisers included), so an id tells an outsider nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, col, or_, select

from backend.db import utcnow
from backend.errors import Conflict, FieldErrors, NotFound
from backend.members import service as member_service
from backend.members.models import Member
from backend.mentoring.models import GOAL_STATUSES, GoalNote, Mentorship, MentorshipGoal
from backend.notifications import service as notifications

MAX_TITLE = 500
MAX_MEASURE = 1000
MAX_NOTE = 4000
MAX_GOALS = 30  # per mentorship: a plan, not a backlog
SEED_TITLE = 1000  # goals carried over from text (the mentee's profile, old agreements)


def _pair_mentorship(session: Session, member: Member, mentorship_id: int) -> Mentorship:
    mentorship = session.get(Mentorship, mentorship_id)
    if mentorship is None or member.id not in (mentorship.mentor_id, mentorship.mentee_id):
        raise NotFound("No such mentorship.", field="mentorship_id")
    return mentorship


def _pair_goal(session: Session, member: Member, goal_id: int) -> tuple[MentorshipGoal, Mentorship]:
    goal = session.get(MentorshipGoal, goal_id)
    mentorship = session.get(Mentorship, goal.mentorship_id) if goal is not None else None
    if (
        goal is None
        or mentorship is None
        or member.id not in (mentorship.mentor_id, mentorship.mentee_id)
    ):
        raise NotFound("No such goal.", field="goal_id")
    return goal, mentorship


def _other_side(session: Session, mentorship: Mentorship, member: Member) -> Member | None:
    other_id = mentorship.mentee_id if member.id == mentorship.mentor_id else mentorship.mentor_id
    other = session.get(Member, other_id) if other_id else None
    return other if other is not None and other.is_active else None


def _tell_other(
    session: Session,
    mentorship: Mentorship,
    member: Member,
    goal: MentorshipGoal,
    title: str,
    body: str,
) -> None:
    """Tell the other side what ``member`` did to a goal, with a link to the goal's page."""
    other = _other_side(session, mentorship, member)
    if other is not None:
        notifications.notify_member(
            session=session,
            member=other,
            kind="mentorship",
            title=f"{member.name} {title}",
            body=f"{member.name} {body}: {goal.title[:200]}",
            link=f"/mentoring/goals/{goal.id}",
        )


def seed_from_text(*, session: Session, mentorship: Mentorship, text: str) -> int:
    """One open goal per non-empty line of ``text`` (the mentee's written goals at the start)."""
    made = 0
    for line in (text or "").splitlines():
        title = line.strip()[:SEED_TITLE]
        if title and made < MAX_GOALS:
            session.add(
                MentorshipGoal(mentorship_id=mentorship.id, title=title, created_at=utcnow())
            )
            made += 1
    return made


@dataclass(frozen=True)
class GoalDraft:
    """A goal as a side writes it (a command, typed by the edge that read the form or input).

    ``None`` in an update leaves that part as it is.
    """

    title: str | None = None
    due_on: date | None = None
    measure: str | None = None
    status: str | None = None
    clear_due_on: bool = False


def goal_problems(draft: GoalDraft, *, creating: bool) -> dict[str, str]:
    """What is wrong with a goal as written, by field (empty when nothing is)."""
    problems: dict[str, str] = {}
    if draft.title is not None or creating:
        title = (draft.title or "").strip()
        if not title:
            problems["title"] = "Say what the goal is."
        elif len(title) > MAX_TITLE:
            problems["title"] = f"The goal must be {MAX_TITLE} characters or fewer."
    if draft.measure is not None and len(draft.measure) > MAX_MEASURE:
        problems["measure"] = f"How you will know must be {MAX_MEASURE:,} characters or fewer."
    if draft.status is not None and draft.status not in GOAL_STATUSES:
        problems["status"] = "Status must be open, achieved or dropped."
    if draft.due_on is not None and not date(2000, 1, 1) <= draft.due_on <= date(2100, 12, 31):
        problems["due_on"] = "The date must be a real date, like 30 6 2027."
    return problems


def add_goal(
    *, session: Session, member: Member | None, mentorship_id: int, draft: GoalDraft
) -> MentorshipGoal:
    """Either side adds a goal to an active mentorship; the other side is told."""
    member = member_service.require_member(member)
    mentorship = _pair_mentorship(session, member, mentorship_id)
    if mentorship.status != "active":
        raise Conflict("This mentorship has ended; goals can no longer be added.")
    problems = goal_problems(draft, creating=True)
    if problems:
        raise FieldErrors(problems)
    count = len(
        session.exec(
            select(MentorshipGoal.id).where(MentorshipGoal.mentorship_id == mentorship.id)
        ).all()
    )
    if count >= MAX_GOALS:
        raise Conflict(f"A mentorship can have at most {MAX_GOALS} goals.", field="title")
    now = utcnow()
    goal = MentorshipGoal(
        mentorship_id=mentorship.id,
        title=(draft.title or "").strip(),
        due_on=draft.due_on,
        measure=(draft.measure or "").strip(),
        status=draft.status or "open",
        created_by_id=member.id,
        created_at=now,
        updated_at=now,
    )
    session.add(goal)
    session.flush()
    _tell_other(
        session, mentorship, member, goal, "added a goal to your mentorship", "added a goal"
    )
    session.flush()
    session.refresh(goal)
    return goal


def update_goal(
    *, session: Session, member: Member | None, goal_id: int, draft: GoalDraft
) -> MentorshipGoal:
    """Either side changes a goal: what, by when, how we'll know, or its status."""
    member = member_service.require_member(member)
    goal, mentorship = _pair_goal(session, member, goal_id)
    if mentorship.status != "active":
        raise Conflict("This mentorship has ended; its goals can no longer be changed.")
    problems = goal_problems(draft, creating=False)
    if problems:
        raise FieldErrors(problems)
    if draft.title is not None:
        goal.title = draft.title.strip()
    if draft.measure is not None:
        goal.measure = draft.measure.strip()
    if draft.due_on is not None or draft.clear_due_on:
        goal.due_on = draft.due_on
    if draft.status is not None:
        goal.status = draft.status
    goal.updated_at = utcnow()
    session.add(goal)
    session.flush()
    session.refresh(goal)
    return goal


def add_note(*, session: Session, member: Member | None, goal_id: int, text: str) -> GoalNote:
    """Either side adds a dated progress note to a goal; the other side is told."""
    member = member_service.require_member(member)
    goal, mentorship = _pair_goal(session, member, goal_id)
    if mentorship.status != "active":
        raise Conflict("This mentorship has ended; notes can no longer be added.")
    words = (text or "").strip()
    if not words:
        raise FieldErrors({"text": "Write the progress note."})
    if len(words) > MAX_NOTE:
        raise FieldErrors({"text": f"The note must be {MAX_NOTE:,} characters or fewer."})
    note = GoalNote(goal_id=goal.id, author_id=member.id, text=words, created_at=utcnow())
    session.add(note)
    goal.updated_at = note.created_at
    session.add(goal)
    _tell_other(
        session,
        mentorship,
        member,
        goal,
        "noted progress on a goal",
        "added a progress note to the goal",
    )
    session.flush()
    session.refresh(note)
    return note


def get_goal(*, session: Session, member: Member | None, goal_id: int) -> MentorshipGoal:
    """One goal, visible only to the pair."""
    member = member_service.require_member(member)
    return _pair_goal(session, member, goal_id)[0]


def goals_for(
    *, session: Session, member: Member | None, mentorship_ids: Sequence[int]
) -> dict[int, list[MentorshipGoal]]:
    """Goals of many mentorships in one query, oldest first; only where ``member`` is one of
    the pair (others get an empty list)."""
    member = member_service.require_member(member)
    result: dict[int, list[MentorshipGoal]] = {i: [] for i in mentorship_ids}
    if not mentorship_ids:
        return result
    rows = session.exec(
        select(MentorshipGoal)
        .join(Mentorship, col(Mentorship.id) == col(MentorshipGoal.mentorship_id))
        .where(col(MentorshipGoal.mentorship_id).in_(mentorship_ids))
        .where(or_(col(Mentorship.mentor_id) == member.id, col(Mentorship.mentee_id) == member.id))
        .order_by(col(MentorshipGoal.id))
    ).all()
    for row in rows:
        result[row.mentorship_id].append(row)
    return result


def notes_for(
    *, session: Session, member: Member | None, goal_ids: Sequence[int]
) -> dict[int, list[GoalNote]]:
    """Progress notes of many goals in one query, newest first; pair only."""
    member = member_service.require_member(member)
    result: dict[int, list[GoalNote]] = {i: [] for i in goal_ids}
    if not goal_ids:
        return result
    rows = session.exec(
        select(GoalNote)
        .join(MentorshipGoal, col(MentorshipGoal.id) == col(GoalNote.goal_id))
        .join(Mentorship, col(Mentorship.id) == col(MentorshipGoal.mentorship_id))
        .where(col(GoalNote.goal_id).in_(goal_ids))
        .where(or_(col(Mentorship.mentor_id) == member.id, col(Mentorship.mentee_id) == member.id))
        .order_by(col(GoalNote.created_at).desc(), col(GoalNote.id).desc())
    ).all()
    for row in rows:
        result[row.goal_id].append(row)
    return result


def add_lines_as_goals(
    *, session: Session, member: Member, mentorship: Mentorship, text: str
) -> int:
    """Each non-empty line of ``text`` not already a goal's title becomes an open goal (the
    deprecated free-text ``goals`` of the agreement input, kept for older clients)."""
    existing = {
        g.title
        for g in session.exec(
            select(MentorshipGoal).where(MentorshipGoal.mentorship_id == mentorship.id)
        ).all()
    }
    made = 0
    for line in text.splitlines():
        title = line.strip()
        if title and title not in existing:
            add_goal(
                session=session,
                member=member,
                mentorship_id=mentorship.id,
                draft=GoalDraft(title=title),
            )
            existing.add(title)
            made += 1
    return made


def export_for(
    *, session: Session, member_id: int, mentorship_ids: Sequence[int]
) -> dict[str, Any]:
    """The member's goals data for their export: their mentorships' goals and notes (shared
    with the partner, so both get them) and their own check-ins."""
    from backend.mentoring.models import CheckIn

    def plain(row: Any) -> dict[str, Any]:
        data = row.model_dump()
        return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items()}

    goals = (
        session.exec(
            select(MentorshipGoal)
            .where(col(MentorshipGoal.mentorship_id).in_(mentorship_ids))
            .order_by(col(MentorshipGoal.id))
        ).all()
        if mentorship_ids
        else []
    )
    goal_ids = [g.id for g in goals]
    notes = (
        session.exec(
            select(GoalNote).where(col(GoalNote.goal_id).in_(goal_ids)).order_by(col(GoalNote.id))
        ).all()
        if goal_ids
        else []
    )
    check_ins = session.exec(
        select(CheckIn).where(CheckIn.member_id == member_id).order_by(col(CheckIn.id))
    ).all()
    return {
        "mentorship_goals": [plain(g) for g in goals],
        "goal_notes": [plain(n) for n in notes],
        "check_ins": [plain(c) for c in check_ins],
    }
